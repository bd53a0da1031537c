// The lab's address plan: documentation prefixes only (RFC 5737 / RFC 3849), deterministic MACs.
//   LAN      198.51.100.0/24, 2001:db8::/64      node i → .i, client → .100, LAN backend j → .(200+j)
//   backend  203.0.113.0/24,  2001:db8:0:2::/64  node i (eth1) → .i, backend j → .(100+j)
// MACs are 02:00:00:00:<lan>:<host> (locally administered), so a neighbour entry tells which host answered.

export type LanId = 1 | 2;

export interface LanPlan {
  readonly id: LanId;
  readonly ipv4Prefix: string; // first three octets
  readonly ipv6Prefix: string; // up to the "::"
  readonly ipv4PrefixLength: 24;
  readonly ipv6PrefixLength: 64;
}

export const LANS: Readonly<Record<LanId, LanPlan>> = {
  1: { id: 1, ipv4Prefix: "198.51.100", ipv6Prefix: "2001:db8:", ipv4PrefixLength: 24, ipv6PrefixLength: 64 },
  2: {
    id: 2,
    ipv4Prefix: "203.0.113",
    ipv6Prefix: "2001:db8:0:2:",
    ipv4PrefixLength: 24,
    ipv6PrefixLength: 64,
  },
};

export interface InterfacePlan {
  /** Interface name inside the host's namespace: eth0 on the LAN, eth1 on the backend LAN. */
  readonly name: string;
  /** Port name on the bridge (inside the LAN's own namespace). */
  readonly bridgePort: string;
  readonly lan: LanId;
  readonly ipv4: string;
  readonly ipv6: string;
  readonly mac: string;
}

export type HostRole = "node" | "client" | "backend";

export interface HostPlan {
  /** Short name: n1..nN, client, b1..bM. */
  readonly name: string;
  readonly role: HostRole;
  readonly interfaces: readonly InterfacePlan[];
}

export interface LabPlanOptions {
  /** Number of node namespaces (1..50); default 3. */
  readonly nodes?: number;
  /** A client namespace on the LAN; default true. */
  readonly client?: boolean;
  /** Number of backend namespaces (0..50); default 0. */
  readonly backends?: number;
  /** Put backends on a second LAN (203.0.113.0/24) that every node also joins (eth1); default false. */
  readonly backendLan?: boolean;
}

function hostInterface(name: string, bridgePort: string, lan: LanId, hostNumber: number): InterfacePlan {
  const plan = LANS[lan];
  return {
    name,
    bridgePort,
    lan,
    ipv4: `${plan.ipv4Prefix}.${hostNumber}`,
    ipv6: `${plan.ipv6Prefix}:${hostNumber.toString(16)}`,
    mac: `02:00:00:00:${lan.toString(16).padStart(2, "0")}:${hostNumber.toString(16).padStart(2, "0")}`,
  };
}

/** The hosts of a lab and their interfaces. */
export function planLab(options: LabPlanOptions = {}): HostPlan[] {
  const nodes = options.nodes ?? 3;
  const backends = options.backends ?? 0;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 50)
    throw new RangeError(`lab nodes must be 1..50, got ${nodes}`);
  if (!Number.isInteger(backends) || backends < 0 || backends > 50)
    throw new RangeError(`lab backends must be 0..50, got ${backends}`);
  const hosts: HostPlan[] = [];
  for (let i = 1; i <= nodes; i++) {
    const interfaces = [hostInterface("eth0", `p-n${i}`, 1, i)];
    if (options.backendLan) interfaces.push(hostInterface("eth1", `p-n${i}`, 2, i));
    hosts.push({ name: `n${i}`, role: "node", interfaces });
  }
  if (options.client ?? true)
    hosts.push({ name: "client", role: "client", interfaces: [hostInterface("eth0", "p-client", 1, 100)] });
  for (let j = 1; j <= backends; j++) {
    const interfaces = options.backendLan
      ? [hostInterface("eth0", `p-b${j}`, 2, 100 + j)]
      : [hostInterface("eth0", `p-b${j}`, 1, 200 + j)];
    hosts.push({ name: `b${j}`, role: "backend", interfaces });
  }
  return hosts;
}
