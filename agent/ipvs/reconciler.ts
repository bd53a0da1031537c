// Keeps the kernel's IPVS table equal to the desired services, through IpvsControl.
//
// - A full pass reads the whole table (one service dump, one destination dump per service kubelvs
//   manages), adopts what it owns, reports what was changed behind its back (drift: `ipvsadm -d`,
//   `-e`, `-D` by hand), and plans every service. It runs at start, every resyncIntervalMs, and when
//   the caller asks (VRRP transitions).
// - An incremental pass plans only the services marked changed (configuration, health, quorum)
//   against the table as last read plus the operations applied since, so a one-weight change costs
//   one planned operation and one kernel write, whatever the size of the table.
// - Operations go to the kernel in batches (IpvsControl.apply); each failure is logged with the
//   operation and errno, kept for the service's status, and retried after retryDelayMs with that
//   service re-read from the kernel.
// - Draining destinations and services are re-read every drainPollMs until their drain ends. Each
//   service drains with its own timeout (DesiredService.drainTimeoutMs, else drainTimeoutMs); a
//   service no longer desired with the one it last had, remembered here.
// Passes never overlap. stop() leaves the table as it is.
import type { Logger } from "../../core/log.js";
import type { IpvsControl, IpvsOperationResult } from "../../native/ipvs/control.js";
import { describeDestination, describeService, serviceKeyId } from "../../native/ipvs/model.js";
import { describeOperation } from "../../native/ipvs/requests.js";
import type { DesiredService, DesiredTable } from "./desired.js";
import type { OwnershipStore } from "./ownership.js";
import { planReconcile, type Plan, type ServiceDrain } from "./plan.js";
import {
  applyOperation,
  destinationDifferences,
  keyOf,
  readDestinations,
  readKernelTable,
  sameService,
  serviceDifferences,
  type KernelTable,
  type TableDestination,
} from "./table.js";

/** What the reconciler reports to metrics. */
export interface ReconcilerMetrics {
  operation(kind: string, ok: boolean): void;
  driftRepaired(service: string, changes: number): void;
  pass(kind: "full" | "incremental", seconds: number): void;
}

export interface ReconcilerOptions {
  readonly ipvs: IpvsControl;
  readonly ownership: OwnershipStore;
  readonly log: Logger;
  readonly metrics?: ReconcilerMetrics;
  /** Full read and repair period; default 30 s. */
  readonly resyncIntervalMs?: number;
  /**
   * Longest a removed destination or service drains before it is deleted anyway, for services that
   * set no timeout of their own (DesiredService.drainTimeoutMs); default 120 s.
   */
  readonly drainTimeoutMs?: number;
  /** How often draining entries are re-read for their connection counts; default 1 s. */
  readonly drainPollMs?: number;
  /** Delay before a failed service is re-read and retried; default 5 s. */
  readonly retryDelayMs?: number;
  /** Monotonic clock in ms (tests inject one); default performance.now. */
  readonly now?: () => number;
}

/** The reconciler's view of one desired service, for status. */
export interface ServiceReconcileState {
  /** The service is in the kernel and owned by this agent. */
  readonly programmed: boolean;
  /** Another tool's service holds the key; kubelvs leaves it alone. */
  readonly conflict: boolean;
  /** The last failure of an operation on this service, until one succeeds. */
  readonly error?: string;
}

export interface PassResult {
  readonly kind: "full" | "incremental";
  readonly operations: number;
  readonly failed: number;
  readonly driftRepaired: number;
  readonly durationMs: number;
}

export class IpvsReconciler {
  private desired: DesiredTable = new Map();
  private kernel: KernelTable | undefined;
  private owned: Set<string>;
  private drains = new Map<string, ServiceDrain>();
  /** Each service's own drain timeout as last desired: what it drains with once no longer desired. */
  private readonly lastDrainTimeouts = new Map<string, number>();
  private readonly dirty = new Set<string>();
  private readonly conflicts = new Set<string>();
  private readonly errors = new Map<string, string>();
  private fullPending = true;
  private queue: Promise<unknown> = Promise.resolve();
  private scheduled = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private drainTimer: NodeJS.Timeout | undefined;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private readonly now: () => number;
  private readonly resyncIntervalMs: number;
  private readonly drainTimeoutMs: number;
  private readonly drainPollMs: number;
  private readonly retryDelayMs: number;

  constructor(private readonly options: ReconcilerOptions) {
    this.now = options.now ?? (() => performance.now());
    this.resyncIntervalMs = options.resyncIntervalMs ?? 30_000;
    this.drainTimeoutMs = options.drainTimeoutMs ?? 120_000;
    this.drainPollMs = options.drainPollMs ?? 1000;
    this.retryDelayMs = options.retryDelayMs ?? 5000;
    this.owned = options.ownership.load();
  }

  /**
   * Sets the desired table. `changed` names the services that differ from the previous table
   * (an incremental pass plans only those); absent, every service is planned again.
   */
  setDesired(table: DesiredTable, changed?: Iterable<string>): void {
    const ids = changed ?? [...this.desired.keys(), ...table.keys()];
    for (const id of ids) {
      this.dirty.add(id);
      this.rememberDrainTimeout(id, table);
    }
    this.desired = table;
    this.schedule();
  }

  /** Asks for a full read and repair soon (e.g. after a VRRP transition). */
  resyncSoon(): void {
    this.fullPending = true;
    this.schedule();
  }

  /** Runs the pending work now (a full pass if one is due, else an incremental one) and reports it. */
  reconcile(): Promise<PassResult> {
    const pass = this.queue.then(() => this.pass());
    this.queue = pass.catch(() => undefined);
    return pass;
  }

  /** Status of a desired service. */
  serviceState(id: string): ServiceReconcileState {
    const error = this.errors.get(id);
    return {
      programmed: this.owned.has(id) && this.kernel?.has(id) === true,
      conflict: this.conflicts.has(id),
      ...(error !== undefined ? { error } : {}),
    };
  }

  /** The kernel's weight of a destination as last read or set, undefined when absent. */
  kernelWeight(serviceId: string, destinationId: string): number | undefined {
    return this.kernel?.get(serviceId)?.destinations?.get(destinationId)?.weight;
  }

  /** Stops timers; the kernel's table stays as it is. Waits for a running pass. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.resyncTimer);
    clearTimeout(this.drainTimer);
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    await this.queue;
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    // Coalesces a burst of changes (many health results in one tick) into one pass.
    setImmediate(() => {
      this.scheduled = false;
      if (this.stopped) return;
      this.reconcile().catch((error: unknown) =>
        this.options.log.error("IPVS reconcile failed; retrying", {
          err: error,
          retryInMs: this.retryDelayMs,
        }),
      );
    });
  }

  private async pass(): Promise<PassResult> {
    if (this.stopped)
      return { kind: "incremental", operations: 0, failed: 0, driftRepaired: 0, durationMs: 0 };
    const started = this.now();
    const full = this.fullPending || this.kernel === undefined;
    let driftRepaired = 0;
    let scope: Iterable<string> | undefined;
    try {
      if (full) {
        this.fullPending = false;
        driftRepaired = await this.readAll();
        this.dirty.clear();
      } else {
        scope = [...this.dirty];
        this.dirty.clear();
        await this.reread(this.removingFromKernel(scope));
      }
    } catch (error) {
      this.fullPending = true;
      this.retryLater();
      throw error;
    } finally {
      if (full) this.armResync();
    }
    const plan = planReconcile({
      desired: this.desired,
      kernel: this.kernel!,
      owned: this.owned,
      drains: this.drains,
      now: this.now(),
      drainTimeoutMs: this.drainTimeoutMs,
      lastDrainTimeouts: this.lastDrainTimeouts,
      ...(scope !== undefined ? { scope } : {}),
    });
    const failed = await this.execute(plan);
    const durationMs = this.now() - started;
    this.options.metrics?.pass(full ? "full" : "incremental", durationMs / 1000);
    if (plan.operations.length > 0) {
      this.options.log.info("IPVS table reconciled", {
        pass: full ? "full" : "incremental",
        operations: plan.operations.length,
        failed,
        durationMs: Math.round(durationMs * 100) / 100,
      });
    }
    return {
      kind: full ? "full" : "incremental",
      operations: plan.operations.length,
      failed,
      driftRepaired,
      durationMs,
    };
  }

  /** Reads the kernel's table, reports drift against what we believed, prunes and adopts ownership. */
  private async readAll(): Promise<number> {
    const { log } = this.options;
    const fresh = await readKernelTable(
      this.options.ipvs,
      (id) => this.owned.has(id) || this.desired.has(id),
    );
    let driftRepaired = 0;
    const previous = this.kernel;
    if (previous !== undefined) {
      for (const id of this.owned) {
        const changes = describeDrift(previous, fresh, id);
        if (changes.length === 0) continue;
        driftRepaired += changes.length;
        const owner = this.desired.get(id)?.owner;
        log.warn("IPVS table changed outside kubelvs; repairing", {
          service: describeService(previous.get(id)?.service.key ?? fresh.get(id)!.service.key),
          ...(owner !== undefined ? { virtualService: owner } : {}),
          changes: changes.join("; "),
        });
        this.options.metrics?.driftRepaired(owner ?? id, changes.length);
      }
    }
    let ownershipChanged = false;
    for (const id of [...this.owned]) {
      if (fresh.has(id)) continue;
      this.owned.delete(id); // gone from the kernel: re-added (and re-owned) if still desired
      if (!this.desired.has(id)) this.lastDrainTimeouts.delete(id);
      ownershipChanged = true;
    }
    this.conflicts.clear();
    for (const [id, want] of this.desired) {
      const have = fresh.get(id);
      if (have === undefined || this.owned.has(id)) continue;
      if (sameService(want.service, have.service)) {
        // Exactly what we would have created: ours from a run whose record was lost, or identical.
        this.owned.add(id);
        ownershipChanged = true;
        log.info("adopted an existing IPVS service matching the configuration", {
          service: describeService(want.service.key),
          virtualService: want.owner,
        });
      } else {
        this.conflicts.add(id);
        log.warn("an IPVS service with this key exists and was not created by kubelvs; leaving it alone", {
          service: describeService(want.service.key),
          virtualService: want.owner,
          differences: serviceDifferences(want.service, have.service).join("; "),
          hint: "delete it (ipvsadm -D) or change the VirtualService",
        });
      }
    }
    if (ownershipChanged) this.saveOwnership();
    this.kernel = fresh;
    return driftRepaired;
  }

  /** Applies a plan: ownership written ahead, operations batched, the view and status updated. */
  private async execute(plan: Plan): Promise<number> {
    const { log } = this.options;
    const kernel = this.kernel!;
    for (const id of plan.conflicts) this.conflicts.add(id);
    this.drains = plan.drains;
    this.armDrainPoll();
    if (plan.operations.length === 0) return 0;
    if (plan.addedServices.length > 0) {
      for (const id of plan.addedServices) this.owned.add(id);
      this.saveOwnership();
    }
    for (const started of plan.drainsStarted) {
      const entry = kernel.get(started.service)!;
      const destination =
        started.destination === undefined ? undefined : entry.destinations?.get(started.destination);
      const owner = this.desired.get(started.service)?.owner;
      log.info(destination === undefined ? "draining removed IPVS service" : "draining removed real server", {
        service: describeService(entry.service.key),
        ...(owner !== undefined ? { virtualService: owner } : {}),
        ...(destination !== undefined ? { realServer: describeDestination(destination) } : {}),
        timeoutMs: started.timeoutMs,
      });
    }

    // Each operation at debug level for small plans; large ones (a first sync) by kind only.
    log.debug("applying IPVS operations", {
      ...(plan.operations.length <= DEBUG_OPERATION_LIST_LIMIT
        ? { operations: plan.operations.map(describeOperation) }
        : { operations: countByKind(plan) }),
    });
    // In slices: a first sync of 100,000 operations would otherwise hold every encoded request and
    // its promise at once, and the garbage collector's work grows with that live heap.
    const results: IpvsOperationResult[] = [];
    for (let start = 0; start < plan.operations.length; start += APPLY_SLICE)
      results.push(...(await this.options.ipvs.apply(plan.operations.slice(start, start + APPLY_SLICE))));
    const failedServices = new Set<string>();
    const succeededServices = new Set<string>();
    for (const result of results) {
      const id = serviceKeyId(keyOf(result.operation));
      this.options.metrics?.operation(result.operation.kind, result.ok);
      if (result.ok) {
        succeededServices.add(id);
        try {
          applyOperation(kernel, result.operation);
        } catch {
          failedServices.add(id); // our view was wrong: re-read this service
        }
        continue;
      }
      failedServices.add(id);
      this.errors.set(id, result.error.message);
      log.error("IPVS operation failed", {
        operation: describeOperation(result.operation),
        virtualService: this.desired.get(id)?.owner,
        code: result.error.code,
        errno: result.error.errno,
        err: result.error,
      });
    }
    for (const id of succeededServices) if (!failedServices.has(id)) this.errors.delete(id);

    let ownershipChanged = false;
    for (const id of plan.deletedServices) {
      if (kernel.has(id)) continue;
      this.owned.delete(id);
      this.errors.delete(id);
      if (!this.desired.has(id)) this.lastDrainTimeouts.delete(id);
      ownershipChanged = true;
    }
    for (const id of plan.addedServices) {
      if (kernel.has(id)) continue;
      this.owned.delete(id); // the add failed: not ours
      ownershipChanged = true;
    }
    if (ownershipChanged) this.saveOwnership();
    if (failedServices.size > 0) {
      this.retryLater(failedServices);
      await this.reread(failedServices);
    }
    return results.filter((r) => !r.ok).length;
  }

  /**
   * Owned services in scope that lose destinations (or are no longer desired at all) and are not
   * draining yet. Whether they drain or go at once depends on their active connections, which the
   * view only has as of the last full read: these are re-read first. Draining services are re-read
   * by the drain poll; a change that removes nothing reads nothing.
   */
  private removingFromKernel(scope: Iterable<string>): string[] {
    const kernel = this.kernel!;
    const removing: string[] = [];
    for (const id of scope) {
      const have = kernel.get(id);
      if (have?.destinations === undefined || !this.owned.has(id) || this.drains.has(id)) continue;
      if (losesDestinations(have.destinations, this.desired.get(id))) removing.push(id);
    }
    return removing;
  }

  /** Refreshes some services from the kernel (after a failure, before removals, or for drain counts). */
  private async reread(ids: Iterable<string>): Promise<void> {
    const kernel = this.kernel!;
    for (const id of ids) {
      const key = this.desired.get(id)?.service.key ?? kernel.get(id)?.service.key;
      if (key === undefined) continue;
      const state = await this.options.ipvs.getService(key);
      if (state === undefined) {
        kernel.delete(id);
        continue;
      }
      const { stats: _stats, ...service } = state;
      kernel.set(id, {
        service,
        destinations:
          this.owned.has(id) || this.desired.has(id)
            ? await readDestinations(this.options.ipvs, key)
            : undefined,
      });
    }
  }

  private retryLater(ids?: Iterable<string>): void {
    if (this.stopped) return;
    const retry = [...(ids ?? [])];
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      for (const id of retry) this.dirty.add(id);
      this.schedule();
    }, this.retryDelayMs);
    timer.unref();
    this.retryTimers.add(timer);
  }

  private armResync(): void {
    clearTimeout(this.resyncTimer);
    if (this.stopped) return;
    this.resyncTimer = setTimeout(() => this.resyncSoon(), this.resyncIntervalMs);
    this.resyncTimer.unref();
  }

  private armDrainPoll(): void {
    if (this.drains.size === 0 || this.drainTimer !== undefined || this.stopped) return;
    this.drainTimer = setTimeout(() => {
      this.drainTimer = undefined;
      const draining = [...this.drains.keys()];
      this.queue = this.queue
        .then(() => this.reread(draining))
        .then(() => {
          for (const id of draining) this.dirty.add(id);
          this.schedule();
        })
        .catch((error: unknown) => {
          this.options.log.error("reading draining IPVS services failed", { err: error });
          this.armDrainPoll();
        });
    }, this.drainPollMs);
    this.drainTimer.unref();
  }

  /**
   * Keeps a service's own drain timeout while it is desired, and past that for as long as the
   * service may still drain (owned): the desired table forgets a service as soon as it is removed.
   */
  private rememberDrainTimeout(id: string, table: DesiredTable): void {
    const want = table.get(id);
    if (want?.drainTimeoutMs !== undefined) this.lastDrainTimeouts.set(id, want.drainTimeoutMs);
    else if (want !== undefined || !this.owned.has(id)) this.lastDrainTimeouts.delete(id);
  }

  private saveOwnership(): void {
    try {
      this.options.ownership.save(this.owned);
    } catch (error) {
      // The table is still right; only a restart's adoption falls back to exact matches.
      this.options.log.error("cannot record IPVS ownership", { err: error });
    }
  }
}

const DEBUG_OPERATION_LIST_LIMIT = 100;
/** Operations per IpvsControl.apply() call (each is sent in batches of the connection's size). */
const APPLY_SLICE = 2048;

function countByKind(plan: Plan): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const operation of plan.operations) counts[operation.kind] = (counts[operation.kind] ?? 0) + 1;
  return counts;
}

/** The kernel holds a destination the desired service does not want (or the service is unwanted). */
function losesDestinations(
  present: ReadonlyMap<string, TableDestination>,
  want: DesiredService | undefined,
): boolean {
  if (want === undefined) return true;
  for (const id of present.keys()) if (!want.destinations.has(id)) return true;
  return false;
}

/** What differs for an owned service between what we believed and what the kernel holds. */
function describeDrift(believed: KernelTable, actual: KernelTable, id: string): string[] {
  const was = believed.get(id);
  const is = actual.get(id);
  if (was === undefined) return [];
  if (is === undefined) return ["service deleted"];
  // The difference helpers read "have → want"; here "have" is what we believed.
  const changes = serviceDifferences(is.service, was.service).map((c) => `service ${c}`);
  const before = was.destinations ?? new Map<string, TableDestination>();
  const now = is.destinations ?? new Map<string, TableDestination>();
  for (const [id, then] of before) {
    const current = now.get(id);
    if (current === undefined) changes.push(`real server ${describeDestination(then)} deleted`);
    else
      for (const c of destinationDifferences(current, then))
        changes.push(`real server ${describeDestination(then)} ${c}`);
  }
  for (const [id, current] of now)
    if (!before.has(id)) changes.push(`real server ${describeDestination(current)} added`);
  return changes;
}
