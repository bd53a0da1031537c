// The operator's Prometheus metrics, in a registry of its own (not prom-client's global one) so
// several operators in one test process never mix their series.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ProblemReason } from "../core/render/render.js";

const CONTROLLERS = ["render", "nodestate", "vrrpgroup", "virtualservice"] as const;
export type Controller = (typeof CONTROLLERS)[number];
const NODESTATE_WRITES = ["create", "update", "delete"] as const;
export type NodeStateWrite = (typeof NODESTATE_WRITES)[number];

const PROBLEM_REASONS: readonly ProblemReason[] = [
  "VRIDConflict",
  "VIPConflict",
  "EndpointConflict",
  "NamespaceNotAllowed",
  "UnknownVIP",
  "UnknownGroup",
  "SecretMissing",
];

export class OperatorMetrics {
  readonly registry = new Registry();
  private readonly reconciles: Counter<"controller">;
  private readonly reconcileErrors: Counter<"controller">;
  private readonly reconcileDuration: Histogram<"controller">;
  private readonly queueDepth: Gauge;
  private readonly conflicts: Gauge<"reason">;
  private readonly nodeStateWrites: Counter<"operation">;
  private readonly statusWrites: Counter<"kind">;
  private readonly leader: Gauge;
  private readonly cacheObjects: Gauge<"resource">;

  constructor(options: { queueDepth?: () => number; cacheSizes?: () => Record<string, number> } = {}) {
    const registers = [this.registry];
    // Process and Node.js runtime metrics (CPU, RSS, heap, event loop lag, GC).
    collectDefaultMetrics({ register: this.registry, prefix: "kubelvs_operator_" });
    this.reconciles = new Counter({
      name: "kubelvs_operator_reconciles_total",
      help: "Reconciles run, by controller",
      labelNames: ["controller"],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: "kubelvs_operator_reconcile_errors_total",
      help: "Reconciles that failed and were retried, by controller",
      labelNames: ["controller"],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: "kubelvs_operator_reconcile_duration_seconds",
      help: "Time one reconcile took, by controller",
      labelNames: ["controller"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    const depth = options.queueDepth;
    this.queueDepth = new Gauge({
      name: "kubelvs_operator_queue_depth",
      help: "Keys waiting in the work queue",
      registers,
      ...(depth === undefined ? {} : { collect: () => this.queueDepth.set(depth()) }),
    });
    this.conflicts = new Gauge({
      name: "kubelvs_operator_conflicts",
      help: "Objects the last render left out, by reason",
      labelNames: ["reason"],
      registers,
    });
    for (const reason of PROBLEM_REASONS) this.conflicts.set({ reason }, 0);
    this.nodeStateWrites = new Counter({
      name: "kubelvs_operator_nodestate_writes_total",
      help: "NodeState writes, by operation",
      labelNames: ["operation"],
      registers,
    });
    this.statusWrites = new Counter({
      name: "kubelvs_operator_status_writes_total",
      help: "Status writes of VrrpGroups and VirtualServices",
      labelNames: ["kind"],
      registers,
    });
    this.leader = new Gauge({
      name: "kubelvs_operator_leader",
      help: "1 while this operator holds the leader Lease",
      registers,
    });
    this.leader.set(0);
    this.zero();
    const sizes = options.cacheSizes;
    this.cacheObjects = new Gauge({
      name: "kubelvs_operator_cache_objects",
      help: "Objects in the informer caches, by resource",
      labelNames: ["resource"],
      registers,
      ...(sizes === undefined
        ? {}
        : {
            collect: () => {
              for (const [resource, n] of Object.entries(sizes())) this.cacheObjects.set({ resource }, n);
            },
          }),
    });
  }

  /** Every series starts at 0, so a scrape shows the counters before anything happened. */
  private zero(): void {
    for (const controller of CONTROLLERS) {
      this.reconciles.inc({ controller }, 0);
      this.reconcileErrors.inc({ controller }, 0);
    }
    for (const operation of NODESTATE_WRITES) this.nodeStateWrites.inc({ operation }, 0);
    for (const kind of ["VrrpGroup", "VirtualService"]) this.statusWrites.inc({ kind }, 0);
  }

  reconciled(controller: Controller, seconds: number, failed: boolean): void {
    this.reconciles.inc({ controller });
    this.reconcileDuration.observe({ controller }, seconds);
    if (failed) this.reconcileErrors.inc({ controller });
  }

  setConflicts(counts: ReadonlyMap<string, number>): void {
    for (const reason of PROBLEM_REASONS) this.conflicts.set({ reason }, counts.get(reason) ?? 0);
  }

  nodeStateWritten(operation: NodeStateWrite): void {
    this.nodeStateWrites.inc({ operation });
  }

  statusWritten(kind: "VrrpGroup" | "VirtualService"): void {
    this.statusWrites.inc({ kind });
  }

  setLeader(leader: boolean): void {
    this.leader.set(leader ? 1 : 0);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
