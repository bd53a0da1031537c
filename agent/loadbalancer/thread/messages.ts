// The messages between the agent's event loop and the load balancer's thread (worker.ts). Plain
// data only: they cross the thread boundary by structured clone.
import type { NodeVirtualService, NodeVirtualServiceStatus } from "../../../crds/schema/node-state.js";
import type { LogFields, LogLevel } from "../../../core/log.js";
import type { SyncGroupInput } from "../../ipvs/sync-daemons.js";
import type { LoadBalancerOptions } from "../load-balancer.js";

/** What the thread is started with (workerData). */
export interface ThreadSetup {
  readonly instance: string;
  /** Where the IPVS ownership record lives. */
  readonly runDir: string;
  /** Lines below this level are not sent to the agent's log at all. */
  readonly logLevel: LogLevel;
  readonly options: LoadBalancerOptions;
}

export type Request =
  | {
      readonly op: "apply";
      readonly entries: readonly NodeVirtualService[];
      readonly groupsOnNode: readonly string[];
    }
  | { readonly op: "sync-daemons"; readonly groups: readonly SyncGroupInput[] }
  | { readonly op: "vrrp-changed"; readonly groups: readonly SyncGroupInput[] }
  | { readonly op: "status" }
  | { readonly op: "metrics" }
  | { readonly op: "stop" };

export type ToThread = { readonly id: number; readonly request: Request };

export type FromThread =
  /** IPVS is open and the load balancer runs. */
  | { readonly kind: "ready" }
  /** The load balancer could not start (no IPVS in the kernel, no permission); the thread ends. */
  | { readonly kind: "failed"; readonly message: string }
  | {
      readonly kind: "reply";
      readonly id: number;
      readonly error?: string;
      /** The virtual services' status after the request (apply, status). */
      readonly status?: NodeVirtualServiceStatus[];
      /** Prometheus text of the thread's registry (metrics). */
      readonly metrics?: string;
    }
  /** A log line, its fields already serialised (errors as plain objects). */
  | { readonly kind: "log"; readonly level: LogLevel; readonly msg: string; readonly fields: LogFields };
