// What a VirtualService means in the kernel's IPVS vocabulary: its service key and attributes, and
// each real server (or the sorry server) as a destination. Pure translation of the API's defaults
// (crds/schema/virtual-service.ts); which destinations are present and with what weight is decided
// by the load balancer from health and quorum (agent/loadbalancer), not here.
import type { RealServer, VirtualServiceSpec } from "../../crds/schema/virtual-service.js";
import { normalizeIp } from "../../native/ip-address.js";
import {
  hostNetmask,
  ipv4Netmask,
  NO_SERVICE_FLAGS,
  serviceFamily,
  serviceKeyId,
  type DestinationTunnel,
  type ForwardingMethod,
  type IpvsDestination,
  type IpvsService,
  type ServiceKey,
} from "../../native/ipvs/model.js";

/** A service as kubelvs wants it in the kernel: attributes plus destinations by destinationId. */
export interface DesiredService {
  /** serviceKeyId(service.key). */
  readonly id: string;
  /** "namespace/name" of the VirtualService, for logs and status. */
  readonly owner: string;
  readonly service: IpvsService;
  readonly destinations: ReadonlyMap<string, IpvsDestination>;
  /**
   * Longest a destination removed from this service, or the service once no longer wanted, drains
   * before it is deleted (spec.drainTimeoutSeconds); 0: deleted at once. Absent: the reconciler's.
   */
  readonly drainTimeoutMs?: number;
}

/** Desired services by id. */
export type DesiredTable = ReadonlyMap<string, DesiredService>;

/**
 * A destination's id inside its service: canonical address and port. Addresses in desired and
 * kernel tables are canonical already (normalized here, formatted canonically by the codec), so
 * the id is plain concatenation — no parsing in the planner's inner loop.
 */
export const destinationId = (destination: Pick<IpvsDestination, "address" | "port">): string =>
  `${destination.address}/${destination.port}`;

export function serviceKeyOf(spec: VirtualServiceSpec): ServiceKey {
  if (spec.firewallMark !== undefined) {
    return { kind: "fwmark", family: spec.addressFamily === "IPv6" ? 6 : 4, fwmark: spec.firewallMark };
  }
  if (spec.virtualIP === undefined || spec.port === undefined) {
    throw new TypeError("VirtualService: set virtualIP and port, or firewallMark");
  }
  return {
    kind: "address",
    protocol: (spec.protocol ?? "TCP").toLowerCase() as "tcp" | "udp" | "sctp",
    address: normalizeIp(spec.virtualIP, "virtualIP"),
    port: spec.port,
  };
}

/** The service's own attributes with the API's defaults (wlc, no persistence). */
export function ipvsServiceOf(spec: VirtualServiceSpec): IpvsService {
  const key = serviceKeyOf(spec);
  const family = serviceFamily(key);
  const persistence = spec.persistence;
  const granularity = persistence?.granularityPrefixLength;
  return {
    key,
    scheduler: spec.scheduler ?? "wlc",
    flags: {
      ...NO_SERVICE_FLAGS,
      persistent: persistence !== undefined,
      onePacket: spec.onePacketScheduling === true,
      sched1: spec.schedulerFlags?.fallback === true,
      sched2: spec.schedulerFlags?.port === true,
    },
    timeout: persistence?.timeoutSeconds ?? 0,
    // A non-persistent service still carries a netmask: the host mask, as ipvsadm sends it.
    netmask:
      granularity === undefined ? hostNetmask(family) : family === 4 ? ipv4Netmask(granularity) : granularity,
    ...(persistence?.engine !== undefined ? { persistenceEngine: persistence.engine } : {}),
  };
}

const FORWARDING: Record<"NAT" | "DR" | "TUN", ForwardingMethod> = {
  NAT: "masq",
  DR: "route",
  TUN: "tunnel",
};
const TUNNEL_CHECKSUM = { None: "nocsum", Checksum: "csum", RemoteChecksum: "remcsum" } as const;

type ForwardingSpec = NonNullable<VirtualServiceSpec["forwarding"]>;

/**
 * The forwarding part of a destination. A tunnel is always spelled out (IPIP, port 0, no checksum
 * by default) because that is how the kernel reports it back: the planner compares like with like.
 */
function forwardingOf(
  forwarding: ForwardingSpec | undefined,
): Pick<IpvsDestination, "forwarding"> & { tunnel?: DestinationTunnel } {
  const method = FORWARDING[forwarding?.method ?? "NAT"];
  if (method !== "tunnel") return { forwarding: method };
  const tunnel = forwarding?.tunnel;
  return {
    forwarding: method,
    tunnel: {
      type: (tunnel?.type ?? "IPIP").toLowerCase() as DestinationTunnel["type"],
      port: tunnel?.port ?? 0,
      checksum: TUNNEL_CHECKSUM[tunnel?.checksum ?? "None"],
    },
  };
}

/** The configured weight of a real server (API default 1). */
export const configuredWeight = (server: RealServer): number => server.weight ?? 1;

/** A real server as a destination with the given weight (health decides it: configured, dynamic or 0). */
export function realServerDestination(
  spec: VirtualServiceSpec,
  server: RealServer,
  weight: number,
): IpvsDestination {
  return {
    address: normalizeIp(server.address, "realServers[].address"),
    port: server.port,
    ...forwardingOf(server.forwarding ?? spec.forwarding),
    weight,
    upperThreshold: server.upperThreshold ?? 0,
    lowerThreshold: server.lowerThreshold ?? 0,
  };
}

/** The sorry server as a destination: the virtual port unless it names one. */
export function sorryServerDestination(
  spec: VirtualServiceSpec,
  weight: number,
): IpvsDestination | undefined {
  const sorry = spec.sorryServer;
  if (sorry === undefined) return undefined;
  return {
    address: normalizeIp(sorry.address, "sorryServer.address"),
    port: sorry.port ?? spec.port ?? 0,
    ...forwardingOf(sorry.forwarding ?? spec.forwarding),
    weight,
    upperThreshold: 0,
    lowerThreshold: 0,
  };
}

/** The service's drain timeout in ms, undefined when the spec leaves it to the agent. */
export const drainTimeoutMsOf = (spec: VirtualServiceSpec): number | undefined =>
  spec.drainTimeoutSeconds === undefined ? undefined : spec.drainTimeoutSeconds * 1000;

/** A DesiredService from its attributes and destinations. */
export function desiredService(
  owner: string,
  service: IpvsService,
  destinations: Iterable<IpvsDestination>,
  options: { readonly drainTimeoutMs?: number | undefined } = {},
): DesiredService {
  return {
    id: serviceKeyId(service.key),
    owner,
    service,
    destinations: new Map([...destinations].map((d) => [destinationId(d), d])),
    ...(options.drainTimeoutMs !== undefined ? { drainTimeoutMs: options.drainTimeoutMs } : {}),
  };
}
