// The reconciliation planner: desired services vs the kernel's table → the fewest IpvsOperations
// that make the kernel match. Pure (no I/O, the clock is an input).
//
// Rules:
// - Only services kubelvs owns are changed or deleted; a desired service whose key is held by
//   someone else's service is a conflict, reported and left alone. Never a flush.
// - What can be edited is edited: scheduler, flags, persistence, weights, thresholds and
//   forwarding all change in place (SET_SERVICE / SET_DEST), so established connections keep
//   their entries. A service or destination is only added when missing and only deleted when no
//   longer wanted.
// - Graceful drain: an unwanted destination with active connections first goes to weight 0 and is
//   deleted once they reach zero or its service's drain timeout has passed since the drain started;
//   an unwanted service drains the same way as a whole, with the timeout it had when it was last
//   wanted. An idle one, or one whose timeout is 0, is deleted at once. Wanting it back cancels the
//   drain.
// - Drains record when they started, not a deadline: the deadline follows the service's current
//   timeout, so shortening it (to 0 even) ends drains under way sooner and lengthening it gives
//   them longer — the timeout always bounds how long a removed server stays, counted from its removal.
import type { IpvsOperation } from "../../native/ipvs/requests.js";
import type { DesiredService, DesiredTable } from "./desired.js";
import {
  sameDestination,
  sameService,
  type KernelTable,
  type TableDestination,
  type TableService,
} from "./table.js";

/** Drains under way in one service: when each started (ms on the caller's clock). */
export interface ServiceDrain {
  /** Set while the whole service drains (it is no longer wanted): when that started. */
  readonly serviceSince?: number;
  /** When each draining destination started draining, by destinationId. */
  readonly destinations: ReadonlyMap<string, number>;
}

/** Drains by service id. */
export type DrainTable = ReadonlyMap<string, ServiceDrain>;

/** A drain this plan starts. */
export interface DrainStart {
  readonly service: string;
  /** The destinationId; absent when the whole service drains. */
  readonly destination?: string;
  /** The timeout it drains with (ms). */
  readonly timeoutMs: number;
}

export interface PlanInput {
  readonly desired: DesiredTable;
  /** The kernel's table; owned services must have their destinations read. */
  readonly kernel: KernelTable;
  /** Service ids kubelvs owns (see ownership.ts). */
  readonly owned: ReadonlySet<string>;
  readonly drains: DrainTable;
  readonly now: number;
  /** Drain timeout (ms) of services whose DesiredService sets none. */
  readonly drainTimeoutMs: number;
  /**
   * The drain timeout each service had when it was last desired, for those that set one: a service
   * no longer desired drains with it (the desired table no longer says). Absent: drainTimeoutMs.
   */
  readonly lastDrainTimeouts?: ReadonlyMap<string, number>;
  /** Plan only these service ids (event-driven reconcile); every desired and owned service when absent. */
  readonly scope?: Iterable<string>;
}

export interface Plan {
  readonly operations: IpvsOperation[];
  /** The drain table after this plan (started drains added, finished or cancelled ones removed). */
  readonly drains: Map<string, ServiceDrain>;
  /** Desired service ids held in the kernel by a service kubelvs does not own. */
  readonly conflicts: string[];
  /** Service ids this plan adds (the caller records ownership before applying). */
  readonly addedServices: string[];
  /** Owned service ids this plan deletes. */
  readonly deletedServices: string[];
  /** Destinations and services this plan started draining. */
  readonly drainsStarted: DrainStart[];
}

export function planReconcile(input: PlanInput): Plan {
  const { desired, kernel, owned } = input;
  const drains = new Map(input.drains);
  const plan: Plan = {
    operations: [],
    drains,
    conflicts: [],
    addedServices: [],
    deletedServices: [],
    drainsStarted: [],
  };
  const scope = input.scope ?? new Set([...desired.keys(), ...owned]);
  for (const id of scope) {
    const want = desired.get(id);
    const have = kernel.get(id);
    if (want !== undefined) {
      if (have === undefined) addService(plan, want);
      else if (owned.has(id)) updateService(plan, input, want, have);
      else plan.conflicts.push(id);
    } else if (have !== undefined && owned.has(id)) {
      drainService(plan, input, id, have);
    } else {
      drains.delete(id);
    }
  }
  return plan;
}

function addService(plan: Plan, want: DesiredService): void {
  const key = want.service.key;
  plan.operations.push({ kind: "add-service", service: want.service });
  for (const destination of want.destinations.values())
    plan.operations.push({ kind: "add-destination", service: key, destination });
  plan.addedServices.push(want.id);
  plan.drains.delete(want.id);
}

function updateService(plan: Plan, input: PlanInput, want: DesiredService, have: TableService): void {
  const key = want.service.key;
  const present = have.destinations;
  if (present === undefined)
    throw new Error(`planner: destinations of owned service ${want.id} were not read`);
  if (!sameService(want.service, have.service))
    plan.operations.push({ kind: "edit-service", service: want.service });

  const timeoutMs = want.drainTimeoutMs ?? input.drainTimeoutMs;
  const previous = plan.drains.get(want.id);
  const draining = new Map(previous?.destinations ?? []);
  for (const [id, destination] of want.destinations) {
    const current = present.get(id);
    if (current === undefined) plan.operations.push({ kind: "add-destination", service: key, destination });
    else if (!sameDestination(destination, current))
      plan.operations.push({ kind: "edit-destination", service: key, destination });
    draining.delete(id); // wanted again: the drain, if any, is over
  }
  for (const [id, current] of present) {
    if (want.destinations.has(id)) continue;
    const since = draining.get(id);
    if (current.activeConnections === 0 || drainOver(input.now, since, timeoutMs)) {
      plan.operations.push({ kind: "delete-destination", service: key, destination: current });
      draining.delete(id);
      continue;
    }
    if (since === undefined) {
      draining.set(id, input.now);
      plan.drainsStarted.push({ service: want.id, destination: id, timeoutMs });
    }
    if (current.weight !== 0) plan.operations.push(drainEdit(key, current));
  }
  // Destinations drained away by hand (or already deleted) no longer need a deadline.
  for (const id of draining.keys()) if (!present.has(id)) draining.delete(id);
  if (draining.size === 0) plan.drains.delete(want.id);
  else plan.drains.set(want.id, { destinations: draining });
}

function drainService(plan: Plan, input: PlanInput, id: string, have: TableService): void {
  const key = have.service.key;
  const destinations = [...(have.destinations?.values() ?? [])];
  const active = destinations.reduce((sum, d) => sum + d.activeConnections, 0);
  const timeoutMs = input.lastDrainTimeouts?.get(id) ?? input.drainTimeoutMs;
  const since = plan.drains.get(id)?.serviceSince;
  if (active === 0 || drainOver(input.now, since, timeoutMs)) {
    plan.operations.push({ kind: "delete-service", service: key });
    plan.deletedServices.push(id);
    plan.drains.delete(id);
    return;
  }
  if (since === undefined) {
    plan.drains.set(id, { serviceSince: input.now, destinations: new Map() });
    plan.drainsStarted.push({ service: id, timeoutMs });
  }
  for (const destination of destinations)
    if (destination.weight !== 0) plan.operations.push(drainEdit(key, destination));
}

/** A drain started at `since` (undefined: it would start now) has run its course; a timeout of 0 ends it at once. */
const drainOver = (now: number, since: number | undefined, timeoutMs: number): boolean =>
  now >= (since ?? now) + timeoutMs;

function drainEdit(service: TableService["service"]["key"], current: TableDestination): IpvsOperation {
  const { address, port, forwarding, upperThreshold, lowerThreshold, tunnel } = current;
  return {
    kind: "edit-destination",
    service,
    destination: {
      address,
      port,
      forwarding,
      weight: 0,
      upperThreshold,
      lowerThreshold,
      ...(tunnel !== undefined ? { tunnel } : {}),
    },
  };
}
