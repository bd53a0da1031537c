// The kernel edge for IPVS: what the agent's reconciler needs from the kernel, as an interface.
// IpvsClient implements it over generic netlink; tests of pure logic implement it in memory.
import type { IpvsOperationError } from "./errors.js";
import type {
  IpvsDestination,
  IpvsDestinationState,
  IpvsInfo,
  IpvsService,
  IpvsServiceState,
  IpvsTimeouts,
  ServiceKey,
  SyncDaemon,
  SyncDaemonState,
} from "./model.js";
import type { IpvsOperation } from "./requests.js";

export type { IpvsOperation } from "./requests.js";

export type IpvsOperationResult =
  | { readonly operation: IpvsOperation; readonly ok: true }
  | { readonly operation: IpvsOperation; readonly ok: false; readonly error: IpvsOperationError };

export interface IpvsControl {
  /** IPVS version and connection table size. */
  info(): Promise<IpvsInfo>;

  /** Every virtual service of the network namespace, with statistics. */
  listServices(): Promise<IpvsServiceState[]>;
  /** One service, or undefined when it does not exist. */
  getService(key: ServiceKey): Promise<IpvsServiceState | undefined>;
  /** The destinations of one service, with connection counts and statistics. */
  listDestinations(service: ServiceKey): Promise<IpvsDestinationState[]>;

  /** Single operations; each rejects with IpvsOperationError on failure. */
  addService(service: IpvsService): Promise<void>;
  editService(service: IpvsService): Promise<void>;
  deleteService(key: ServiceKey): Promise<void>;
  addDestination(service: ServiceKey, destination: IpvsDestination): Promise<void>;
  editDestination(service: ServiceKey, destination: IpvsDestination): Promise<void>;
  deleteDestination(
    service: ServiceKey,
    destination: Pick<IpvsDestination, "address" | "port">,
  ): Promise<void>;

  /**
   * Performs the operations in order, many per system call where the kernel allows, and reports
   * one result per operation. A failed operation does not stop the ones after it.
   */
  apply(operations: readonly IpvsOperation[]): Promise<IpvsOperationResult[]>;

  getTimeouts(): Promise<IpvsTimeouts>;
  /** Sets the given timeouts (seconds); absent or 0 leaves one unchanged. */
  setTimeouts(timeouts: Partial<IpvsTimeouts>): Promise<void>;

  listSyncDaemons(): Promise<SyncDaemon[]>;
  startSyncDaemon(daemon: SyncDaemon): Promise<void>;
  stopSyncDaemon(state: SyncDaemonState): Promise<void>;

  /** Zeroes the counters of one service, or of all services. */
  zero(service?: ServiceKey): Promise<void>;
  /** Removes every service. In the API for completeness; the product never flushes. */
  flush(): Promise<void>;

  close(): void;
}
