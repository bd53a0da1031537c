// The IPVS objects as TypeScript sees them: virtual services, their destinations (real servers),
// statistics, timeouts, sync daemons and general info. Field meanings follow the kernel's
// include/uapi/linux/ip_vs.h; names follow ipvsadm's vocabulary where it has one.
import { ipFamilyOf, normalizeIp, type IpFamily } from "../ip-address.js";
import { formatEndpoint } from "./address.js";

export type { IpFamily } from "../ip-address.js";

export type IpvsProtocol = "tcp" | "udp" | "sctp";

/** A service is found by protocol + address + port, or by firewall mark (and address family). */
export type ServiceKey =
  | {
      readonly kind: "address";
      readonly protocol: IpvsProtocol;
      readonly address: string;
      readonly port: number;
    }
  | { readonly kind: "fwmark"; readonly family: IpFamily; readonly fwmark: number };

/** Service flags (IP_VS_SVC_F_*); the kernel's HASHED bit is internal and never exposed. */
export interface ServiceFlags {
  /** Persistent port: a client sticks to one destination for `timeout` seconds. */
  readonly persistent: boolean;
  /** One-packet scheduling (UDP): schedule every datagram anew, keep no connection entry. */
  readonly onePacket: boolean;
  /** Scheduler flag 1: sh/mh fall back to another server when the chosen one is unavailable. */
  readonly sched1: boolean;
  /** Scheduler flag 2: sh/mh hash the source port as well as the address. */
  readonly sched2: boolean;
  /** Scheduler flag 3: meaning depends on the scheduler (none of the in-tree ones uses it). */
  readonly sched3: boolean;
}

export const NO_SERVICE_FLAGS: ServiceFlags = {
  persistent: false,
  onePacket: false,
  sched1: false,
  sched2: false,
  sched3: false,
};

/** What the caller sets on a virtual service. */
export interface IpvsService {
  readonly key: ServiceKey;
  /** Scheduler name: rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh (the module must exist). */
  readonly scheduler: string;
  readonly flags: ServiceFlags;
  /** Persistence timeout in seconds (used when flags.persistent). */
  readonly timeout: number;
  /**
   * Persistence granularity: for IPv4 a dotted netmask ("255.255.255.0"), for IPv6 a prefix length
   * (0-128), as the kernel and ipvsadm treat them. Clients in the same masked network stick together.
   */
  readonly netmask: string | number;
  /** Persistence engine (e.g. "sip"); absent for none. */
  readonly persistenceEngine?: string;
}

/** A service as read back from the kernel. */
export interface IpvsServiceState extends IpvsService {
  /** Statistics (64-bit counters and rates). */
  readonly stats: IpvsStats;
}

export type ForwardingMethod = "masq" | "local" | "tunnel" | "route" | "bypass";
export type TunnelType = "ipip" | "gue" | "gre";
/** Tunnel checksum mode (IP_VS_TUNNEL_ENCAP_FLAG_*): none, outer checksum, remote checksum offload. */
export type TunnelChecksum = "nocsum" | "csum" | "remcsum";

export interface DestinationTunnel {
  readonly type: TunnelType;
  /** Destination UDP port of the encapsulation (GUE only; 0 otherwise). */
  readonly port: number;
  readonly checksum: TunnelChecksum;
}

/** What the caller sets on a destination (real server) of a service. */
export interface IpvsDestination {
  /** Address of the real server; its family may differ from the service's only with tunnelling. */
  readonly address: string;
  readonly port: number;
  readonly forwarding: ForwardingMethod;
  /** 0 drains the server (no new connections). */
  readonly weight: number;
  /** Stop sending new connections above this many active ones (0 = no limit). */
  readonly upperThreshold: number;
  /** Resume below this many (0 = resume below upperThreshold * 3/4, the kernel's default). */
  readonly lowerThreshold: number;
  /** Encapsulation of the tunnel method; absent means IPIP without checksum. */
  readonly tunnel?: DestinationTunnel;
}

/** A destination as read back from the kernel. */
export interface IpvsDestinationState extends IpvsDestination {
  readonly activeConnections: number;
  readonly inactiveConnections: number;
  readonly persistentConnections: number;
  readonly stats: IpvsStats;
}

/** Counters since creation (or the last zero) and rates estimated by the kernel (per second). */
export interface IpvsStats {
  readonly connections: bigint;
  readonly inPackets: bigint;
  readonly outPackets: bigint;
  readonly inBytes: bigint;
  readonly outBytes: bigint;
  readonly connectionRate: bigint;
  readonly inPacketRate: bigint;
  readonly outPacketRate: bigint;
  readonly inByteRate: bigint;
  readonly outByteRate: bigint;
}

export const ZERO_STATS: IpvsStats = {
  connections: 0n,
  inPackets: 0n,
  outPackets: 0n,
  inBytes: 0n,
  outBytes: 0n,
  connectionRate: 0n,
  inPacketRate: 0n,
  outPacketRate: 0n,
  inByteRate: 0n,
  outByteRate: 0n,
};

/** Connection timeouts in seconds (ipvsadm --set tcp tcpfin udp). 0 in a set request: unchanged. */
export interface IpvsTimeouts {
  readonly tcp: number;
  readonly tcpFin: number;
  readonly udp: number;
}

export type SyncDaemonState = "master" | "backup";

/** A connection synchronisation daemon (ipvsadm --start-daemon). */
export interface SyncDaemon {
  readonly state: SyncDaemonState;
  /** Interface the sync messages go out of / come in on. */
  readonly interface: string;
  readonly syncId: number;
  /** Maximum sync message payload (bytes); the kernel picks from the MTU when absent or 0. */
  readonly maxLength?: number;
  /** Multicast group (IPv4 or IPv6); the kernel's default is 224.0.0.81. */
  readonly group?: string;
  /** UDP port of the group; the kernel's default is 8848. */
  readonly port?: number;
  /** Multicast TTL; the kernel's default is 1. */
  readonly ttl?: number;
}

export interface IpvsInfo {
  /** e.g. "1.2.1" */
  readonly version: string;
  /** Size of the connection hash table. */
  readonly connectionTableSize: number;
}

/** Thrown for values that cannot be sent to the kernel (bad address, port out of range, ...). */
export class IpvsValidationError extends TypeError {
  constructor(what: string, problem: string) {
    super(`${what}: ${problem}`);
    this.name = "IpvsValidationError";
  }
}

/** The schedulers Linux ships (net/netfilter/ipvs/ip_vs_*.c). */
export const SCHEDULERS: readonly string[] = [
  "rr",
  "wrr",
  "lc",
  "wlc",
  "lblc",
  "lblcr",
  "dh",
  "sh",
  "sed",
  "nq",
  "fo",
  "ovf",
  "mh",
];

/** Address family of a service (from its address, or stated for a firewall-mark service). */
export function serviceFamily(key: ServiceKey): IpFamily {
  if (key.kind === "fwmark") return key.family;
  const family = ipFamilyOf(key.address);
  if (family === undefined) throw new IpvsValidationError("service", `not an IP address: '${key.address}'`);
  return family;
}

/** "TCP 198.51.100.254:80", "UDP [2001:db8::1]:53" or "FWM 7 (IPv6)", as ipvsadm names services. */
export function describeService(key: ServiceKey): string {
  if (key.kind === "fwmark") return `FWM ${key.fwmark}${key.family === 6 ? " (IPv6)" : ""}`;
  return `${key.protocol.toUpperCase()} ${formatEndpoint(key.address, key.port)}`;
}

/** "203.0.113.11:80" or "[2001:db8::11]:80". */
export function describeDestination(destination: Pick<IpvsDestination, "address" | "port">): string {
  return formatEndpoint(destination.address, destination.port);
}

/** A service key with its address in canonical text, so keys compare with `===` on their parts. */
export function canonicalServiceKey(key: ServiceKey): ServiceKey {
  return key.kind === "fwmark" ? key : { ...key, address: normalizeIp(key.address, describeService(key)) };
}

/** A stable string for maps and sets: one value per service the kernel can hold. */
export function serviceKeyId(key: ServiceKey): string {
  const canonical = canonicalServiceKey(key);
  return canonical.kind === "fwmark"
    ? `fwmark/${canonical.family}/${canonical.fwmark}`
    : `${canonical.protocol}/${canonical.address}/${canonical.port}`;
}

/** A stable string naming a destination inside its service. */
export function destinationKeyId(destination: Pick<IpvsDestination, "address" | "port">): string {
  return `${normalizeIp(destination.address, "destination")}/${destination.port}`;
}

/** IPv4 dotted netmask of a prefix length (24 → "255.255.255.0"). */
export function ipv4Netmask(prefixLength: number): string {
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) {
    throw new IpvsValidationError("netmask", `IPv4 prefix length must be 0-32, not ${prefixLength}`);
  }
  const mask = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  return [24, 16, 8, 0].map((shift) => (mask >>> shift) & 0xff).join(".");
}

/** The netmask meaning "each client on its own" for a family: 255.255.255.255 or /128. */
export function hostNetmask(family: IpFamily): string | number {
  return family === 4 ? "255.255.255.255" : 128;
}
