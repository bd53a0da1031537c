// The kernel's IPVS table as the reconciler knows it: services with their attributes and
// destinations with their connection counts. Comparison of what matters for reconciliation (the
// fields an operation sets, never statistics), a pure simulator of IpvsOperations on a table (the
// reconciler keeps its view current between full reads with it, and the planner's tests use it as
// the kernel), and the read of the real table through IpvsControl.
import type { IpvsControl } from "../../native/ipvs/control.js";
import {
  serviceKeyId,
  type DestinationTunnel,
  type IpvsDestination,
  type IpvsService,
  type IpvsServiceState,
  type ServiceKey,
} from "../../native/ipvs/model.js";
import type { IpvsOperation } from "../../native/ipvs/requests.js";
import { destinationId } from "./desired.js";

/** A destination in the kernel: what was set, plus the counts drains wait on. */
export interface TableDestination extends IpvsDestination {
  readonly activeConnections: number;
  readonly inactiveConnections: number;
}

export interface TableService {
  readonly service: IpvsService;
  /** By destinationId. Undefined when the service's destinations were not read (foreign services). */
  readonly destinations: Map<string, TableDestination> | undefined;
}

/** Services by serviceKeyId. */
export type KernelTable = Map<string, TableService>;

const NO_TUNNEL: DestinationTunnel = { type: "ipip", port: 0, checksum: "nocsum" };

function sameTunnel(a: DestinationTunnel | undefined, b: DestinationTunnel | undefined): boolean {
  const x = a ?? NO_TUNNEL;
  const y = b ?? NO_TUNNEL;
  return x.type === y.type && x.port === y.port && x.checksum === y.checksum;
}

/** The service attributes that differ (empty when an edit is not needed). */
export function serviceDifferences(want: IpvsService, have: IpvsService): string[] {
  const differences: string[] = [];
  if (want.scheduler !== have.scheduler) differences.push(`scheduler ${have.scheduler} → ${want.scheduler}`);
  for (const flag of ["persistent", "onePacket", "sched1", "sched2", "sched3"] as const) {
    if (want.flags[flag] !== have.flags[flag])
      differences.push(`${flag} ${have.flags[flag]} → ${want.flags[flag]}`);
  }
  if (want.timeout !== have.timeout) differences.push(`timeout ${have.timeout} → ${want.timeout}`);
  if (String(want.netmask) !== String(have.netmask))
    differences.push(`netmask ${String(have.netmask)} → ${String(want.netmask)}`);
  if ((want.persistenceEngine ?? "") !== (have.persistenceEngine ?? ""))
    differences.push(
      `persistence engine ${have.persistenceEngine ?? "none"} → ${want.persistenceEngine ?? "none"}`,
    );
  return differences;
}

/** The destination settings that differ (empty when an edit is not needed). */
export function destinationDifferences(want: IpvsDestination, have: IpvsDestination): string[] {
  const differences: string[] = [];
  if (want.forwarding !== have.forwarding)
    differences.push(`forwarding ${have.forwarding} → ${want.forwarding}`);
  else if (want.forwarding === "tunnel" && !sameTunnel(want.tunnel, have.tunnel))
    differences.push("tunnel encapsulation");
  if (want.weight !== have.weight) differences.push(`weight ${have.weight} → ${want.weight}`);
  if (want.upperThreshold !== have.upperThreshold)
    differences.push(`upper threshold ${have.upperThreshold} → ${want.upperThreshold}`);
  if (want.lowerThreshold !== have.lowerThreshold)
    differences.push(`lower threshold ${have.lowerThreshold} → ${want.lowerThreshold}`);
  return differences;
}

export const sameService = (want: IpvsService, have: IpvsService): boolean =>
  want.scheduler === have.scheduler &&
  want.flags.persistent === have.flags.persistent &&
  want.flags.onePacket === have.flags.onePacket &&
  want.flags.sched1 === have.flags.sched1 &&
  want.flags.sched2 === have.flags.sched2 &&
  want.flags.sched3 === have.flags.sched3 &&
  want.timeout === have.timeout &&
  String(want.netmask) === String(have.netmask) &&
  (want.persistenceEngine ?? "") === (have.persistenceEngine ?? "");

export const sameDestination = (want: IpvsDestination, have: IpvsDestination): boolean =>
  want.weight === have.weight &&
  want.forwarding === have.forwarding &&
  want.upperThreshold === have.upperThreshold &&
  want.lowerThreshold === have.lowerThreshold &&
  (want.forwarding !== "tunnel" || sameTunnel(want.tunnel, have.tunnel));

/** A destination as the kernel would hold it right after being set (no connections yet, or kept ones). */
function asTableDestination(destination: IpvsDestination, previous?: TableDestination): TableDestination {
  const { address, port, forwarding, weight, upperThreshold, lowerThreshold } = destination;
  return {
    address,
    port,
    forwarding,
    weight,
    upperThreshold,
    lowerThreshold,
    ...(forwarding === "tunnel" ? { tunnel: destination.tunnel ?? NO_TUNNEL } : {}),
    activeConnections: previous?.activeConnections ?? 0,
    inactiveConnections: previous?.inactiveConnections ?? 0,
  };
}

function serviceAttributes(service: IpvsService): IpvsService {
  const { key, scheduler, flags, timeout, netmask, persistenceEngine } = service;
  return {
    key,
    scheduler,
    flags,
    timeout,
    netmask,
    ...(persistenceEngine !== undefined && persistenceEngine !== "" ? { persistenceEngine } : {}),
  };
}

/** Why an operation cannot apply to a table, as the kernel's errno name. */
export class TableOperationError extends Error {
  constructor(
    readonly code: "EEXIST" | "ESRCH" | "ENOENT",
    operation: IpvsOperation,
  ) {
    super(`${operation.kind} ${serviceKeyId(keyOf(operation))}: ${code}`);
    this.name = "TableOperationError";
  }
}

export const keyOf = (operation: IpvsOperation): ServiceKey =>
  operation.kind === "add-service" || operation.kind === "edit-service"
    ? operation.service.key
    : operation.service;

/**
 * Applies one operation to a table in place, with the kernel's outcome: EEXIST for an add of
 * something present, ESRCH for a missing service, ENOENT for a missing destination.
 */
export function applyOperation(table: KernelTable, operation: IpvsOperation): void {
  const id = serviceKeyId(keyOf(operation));
  const existing = table.get(id);
  switch (operation.kind) {
    case "add-service":
      if (existing !== undefined) throw new TableOperationError("EEXIST", operation);
      table.set(id, { service: serviceAttributes(operation.service), destinations: new Map() });
      return;
    case "edit-service":
      if (existing === undefined) throw new TableOperationError("ESRCH", operation);
      table.set(id, { service: serviceAttributes(operation.service), destinations: existing.destinations });
      return;
    case "delete-service":
      if (existing === undefined) throw new TableOperationError("ESRCH", operation);
      table.delete(id);
      return;
  }
  if (existing === undefined) throw new TableOperationError("ESRCH", operation);
  // Destinations of a service never read are unknown; a change to them is still recorded.
  const destinations = existing.destinations ?? new Map<string, TableDestination>();
  if (existing.destinations === undefined) table.set(id, { service: existing.service, destinations });
  const destination = destinationId(operation.destination);
  const present = destinations.get(destination);
  switch (operation.kind) {
    case "add-destination":
      if (present !== undefined) throw new TableOperationError("EEXIST", operation);
      destinations.set(destination, asTableDestination(operation.destination));
      return;
    case "edit-destination":
      if (present === undefined) throw new TableOperationError("ENOENT", operation);
      destinations.set(destination, asTableDestination(operation.destination, present));
      return;
    case "delete-destination":
      if (present === undefined) throw new TableOperationError("ENOENT", operation);
      destinations.delete(destination);
      return;
  }
}

/** A deep copy (services and destination maps), for callers that must not share state. */
export function copyTable(table: KernelTable): KernelTable {
  return new Map(
    [...table].map(([id, entry]) => [
      id,
      { service: entry.service, destinations: entry.destinations && new Map(entry.destinations) },
    ]),
  );
}

function fromServiceState(state: IpvsServiceState): IpvsService {
  return serviceAttributes(state);
}

/**
 * Reads the kernel's table: every service, and the destinations of those `withDestinations`
 * accepts (one dump per service, so only the services the caller manages).
 */
export async function readKernelTable(
  ipvs: IpvsControl,
  withDestinations: (id: string) => boolean,
): Promise<KernelTable> {
  const table: KernelTable = new Map();
  for (const state of await ipvs.listServices()) {
    const id = serviceKeyId(state.key);
    table.set(id, {
      service: fromServiceState(state),
      destinations: withDestinations(id) ? await readDestinations(ipvs, state.key) : undefined,
    });
  }
  return table;
}

/** One service's destinations with their connection counts. */
export async function readDestinations(
  ipvs: IpvsControl,
  key: ServiceKey,
): Promise<Map<string, TableDestination>> {
  const destinations = new Map<string, TableDestination>();
  for (const state of await ipvs.listDestinations(key)) {
    destinations.set(destinationId(state), {
      ...asTableDestination(state),
      activeConnections: state.activeConnections,
      inactiveConnections: state.inactiveConnections,
    });
  }
  return destinations;
}
