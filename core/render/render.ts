// The renderer: cluster objects in, one desired NodeState spec per node out, plus the problems the
// schema cannot see (VRID clashes, VIPs or endpoints claimed twice, namespaces a group does not
// admit). Pure and deterministic: the operator runs it on informer caches, the standalone agent on
// objects imported from a keepalived.conf, and both get the same answer for the same input.
//
// Conflicts are settled like Gateway API settles them: the older object (then the name) keeps
// working, the newer one is reported and left out, so creating a clashing object never breaks a
// running service.
import type {
  NodeRealServerVIP,
  NodeStateSpec,
  NodeVirtualService,
  NodeVrrpGroup,
} from "../../crds/schema/node-state.js";
import type { VirtualServiceSpec } from "../../crds/schema/virtual-service.js";
import type { VrrpGroupSpec } from "../../crds/schema/vrrp-group.js";
import { ipFamilyOf, normalizeIp } from "../../native/ip-address.js";
import { selectorMatches } from "./label-selector.js";

export interface NodeInfo {
  name: string;
  labels: Record<string, string>;
  /** The node's InternalIP addresses (status.addresses), IPv4 and/or IPv6. */
  internalIPs: string[];
  /** The node's ExternalIP addresses: a real server's address may be one of these too. */
  externalIPs?: string[];
}

export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
}

export interface GroupInput {
  name: string;
  creationTimestamp?: string;
  spec: VrrpGroupSpec;
}

export interface ServiceInput {
  namespace: string;
  name: string;
  creationTimestamp?: string;
  spec: VirtualServiceSpec;
}

export interface SecretKey {
  namespace: string;
  name: string;
  key: string;
}

export interface RenderInput {
  nodes: NodeInfo[];
  namespaces?: NamespaceInfo[];
  groups: GroupInput[];
  services: ServiceInput[];
  /** Resolves a v2 password Secret; undefined when the Secret or key is missing. */
  secretValue?: (ref: SecretKey) => string | undefined;
}

export type ProblemReason =
  | "VRIDConflict"
  | "VIPConflict"
  | "EndpointConflict"
  | "NamespaceNotAllowed"
  | "UnknownVIP"
  | "UnknownGroup"
  | "SecretMissing";

export interface Problem {
  kind: "VrrpGroup" | "VirtualService";
  namespace?: string;
  name: string;
  reason: ProblemReason;
  message: string;
}

/** A DR/TUN real server (or sorry server) of a rendered service whose address is a cluster node's. */
export interface RealServerNode {
  node: string;
  /** The real server's address, as the service spells it. */
  address: string;
  vip: string;
  forwarding: "DR" | "TUN";
  /** Why the node is not prepared (it is a director of the VIP); absent when it is. */
  excluded?: string;
}

export interface RenderOutput {
  /** Desired NodeState spec of every node, including nodes that carry nothing. */
  nodeStates: Map<string, NodeStateSpec>;
  /** Rendered groups and the nodes each selects. */
  groupNodes: Map<string, string[]>;
  /** Rendered services ("namespace/name") and the group that carries each. */
  serviceGroups: Map<string, string>;
  /** Rendered services ("namespace/name") with real servers on cluster nodes, sorted by node then address. */
  realServerNodes: Map<string, RealServerNode[]>;
  problems: Problem[];
}

export type Family = "IPv4" | "IPv6";

export function familyOf(address: string): Family {
  return address.includes(":") ? "IPv6" : "IPv4";
}

function groupFamily(spec: VrrpGroupSpec): Family {
  return familyOf(spec.virtualIPs[0]?.address ?? "0.0.0.0");
}

function byAgeThenName<T extends { creationTimestamp?: string; name: string; namespace?: string }>(
  a: T,
  b: T,
): number {
  const ta = a.creationTimestamp ?? "";
  const tb = b.creationTimestamp ?? "";
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.namespace ?? ""}/${a.name}`;
  const kb = `${b.namespace ?? ""}/${b.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Canonical text of an address so 2001:db8::1 and 2001:DB8:0::1 compare equal. */
export function canonicalAddress(address: string): string {
  // IPv4, and the rare IPv4-embedded IPv6 forms, compare as written.
  if (!address.includes(":") || address.includes(".")) return address.toLowerCase();
  const [head = "", tail = ""] = address.toLowerCase().split("::", 2) as [string, string?];
  const h = head === "" ? [] : head.split(":");
  const t = address.includes("::") ? (tail === "" ? [] : tail.split(":")) : [];
  const groups = address.includes("::")
    ? [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t]
    : h;
  return groups.map((g) => Number.parseInt(g, 16).toString(16)).join(":");
}

function cidrsOverlap(a: string, b: string): boolean {
  const parse = (c: string) => {
    const [addr = "", len = "0"] = c.split("/");
    return { bits: addressBits(addr), len: Number(len) };
  };
  const x = parse(a);
  const y = parse(b);
  if (x.bits.length !== y.bits.length) return false;
  const n = Math.min(x.len, y.len);
  return x.bits.slice(0, n) === y.bits.slice(0, n);
}

function addressBits(address: string): string {
  if (!address.includes(":")) {
    return address
      .split(".")
      .map((o) => Number(o).toString(2).padStart(8, "0"))
      .join("");
  }
  return canonicalAddress(address)
    .split(":")
    .map((g) => Number.parseInt(g, 16).toString(2).padStart(16, "0"))
    .join("");
}

function sameLan(a: VrrpGroupSpec, aNodes: string[], b: VrrpGroupSpec, bNodes: string[]): boolean {
  if (a.interface.cidr !== undefined && b.interface.cidr !== undefined)
    return cidrsOverlap(a.interface.cidr, b.interface.cidr);
  if (a.interface.name !== undefined && a.interface.name === b.interface.name)
    return aNodes.some((n) => bNodes.includes(n));
  // One by name, one by subnet: which interface a CIDR picks is only known on the node; the agent
  // reports a clash it sees on the wire.
  return false;
}

function allVIPs(spec: VrrpGroupSpec): string[] {
  return [...spec.virtualIPs, ...(spec.excludedVirtualIPs ?? [])].map((v) => canonicalAddress(v.address));
}

function namespaceAllowed(
  spec: VrrpGroupSpec,
  namespace: string,
  namespaces: NamespaceInfo[] | undefined,
): boolean {
  const allowed = spec.allowedNamespaces ?? { from: "All" };
  if (allowed.from === "All") return true;
  if (allowed.from === "None") return false;
  const labels = namespaces?.find((n) => n.name === namespace)?.labels ?? {};
  return selectorMatches(allowed.selector, labels);
}

function endpointKey(spec: VirtualServiceSpec, group: string): string {
  if (spec.firewallMark !== undefined)
    return `fwmark ${spec.firewallMark} ${spec.addressFamily ?? "IPv4"} (group ${group})`;
  return `${spec.protocol ?? "TCP"} ${canonicalAddress(spec.virtualIP ?? "")}:${spec.port ?? 0}`;
}

/** Drops undefined members so rendered objects hash and compare canonically. */
function compact<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

function nodeGroup(
  group: GroupInput,
  node: NodeInfo,
  selected: NodeInfo[],
  password: string | undefined,
): NodeVrrpGroup {
  const s = group.spec;
  const family = groupFamily(s);
  const perNode = s.priority?.nodes?.find((p) => p.nodeName === node.name)?.priority;
  let unicastPeers: string[] | undefined;
  if (s.unicast !== undefined) {
    const fromNodes =
      s.unicast.fromSelectedNodes === false
        ? []
        : selected
            .filter((n) => n.name !== node.name)
            .flatMap((n) => n.internalIPs.filter((ip) => familyOf(ip) === family));
    unicastPeers = [...new Set([...fromNodes, ...(s.unicast.extraPeers ?? [])])].sort();
  }
  const unicastSourceAddress =
    s.unicast !== undefined ? node.internalIPs.find((ip) => familyOf(ip) === family) : undefined;
  return compact<NodeVrrpGroup>({
    name: group.name,
    vrid: s.vrid,
    version: s.version,
    advertIntervalMillis: s.advertIntervalMillis,
    virtualIPs: s.virtualIPs,
    excludedVirtualIPs: s.excludedVirtualIPs,
    interface: s.interface,
    priority: perNode ?? s.priority?.default ?? 100,
    preempt: s.preempt,
    preemptDelayMillis: s.preemptDelayMillis,
    acceptMode: s.acceptMode,
    track: s.track,
    gratuitousARP: s.gratuitousARP,
    syncGroup: s.syncGroup,
    notify: s.notify,
    checksum: s.checksum,
    connectionSync: s.connectionSync,
    unicastPeers,
    unicastSourceAddress,
    authPassword: password,
  });
}

export function render(input: RenderInput): RenderOutput {
  const problems: Problem[] = [];
  const nodes = [...input.nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  // 1. Groups, oldest first: each either renders or is reported.
  const accepted: { group: GroupInput; selected: NodeInfo[]; password?: string }[] = [];
  const vipOwner = new Map<string, string>();
  for (const group of [...input.groups].sort(byAgeThenName)) {
    const s = group.spec;
    const selected = nodes.filter((n) => selectorMatches(s.nodeSelector, n.labels));
    const names = selected.map((n) => n.name);
    const clash = accepted.find(
      (a) =>
        a.group.spec.vrid === s.vrid &&
        groupFamily(a.group.spec) === groupFamily(s) &&
        sameLan(
          a.group.spec,
          a.selected.map((n) => n.name),
          s,
          names,
        ),
    );
    if (clash) {
      problems.push({
        kind: "VrrpGroup",
        name: group.name,
        reason: "VRIDConflict",
        message: `VRID ${s.vrid} (${groupFamily(s)}) is already used on the same interface by VrrpGroup ${clash.group.name}`,
      });
      continue;
    }
    const taken = allVIPs(s).find((v) => vipOwner.has(v));
    if (taken !== undefined) {
      problems.push({
        kind: "VrrpGroup",
        name: group.name,
        reason: "VIPConflict",
        message: `virtual IP ${taken} already belongs to VrrpGroup ${vipOwner.get(taken)}`,
      });
      continue;
    }
    let password: string | undefined;
    if (s.authentication !== undefined) {
      const ref = s.authentication.passwordSecretRef;
      const key = { namespace: ref.namespace, name: ref.name, key: ref.key ?? "password" };
      password = input.secretValue?.(key);
      if (password === undefined) {
        problems.push({
          kind: "VrrpGroup",
          name: group.name,
          reason: "SecretMissing",
          message: `authentication: key ${key.key} of Secret ${key.namespace}/${key.name} not found`,
        });
        continue;
      }
      // VRRP v2 carries 8 bytes of password; longer ones are cut like keepalived does.
      password = Buffer.from(password, "utf8").subarray(0, 8).toString("utf8");
    }
    for (const v of allVIPs(s)) vipOwner.set(v, group.name);
    accepted.push({ group, selected, ...(password === undefined ? {} : { password }) });
  }
  const acceptedByName = new Map(accepted.map((a) => [a.group.name, a]));
  const allGroupNames = new Set(input.groups.map((g) => g.name));

  // 2. Services, oldest first: find the carrying group, check admission and endpoint uniqueness.
  const servicesByGroup = new Map<string, NodeVirtualService[]>();
  const serviceGroups = new Map<string, string>();
  const endpoints = new Map<string, string>();
  for (const svc of [...input.services].sort(byAgeThenName)) {
    const s = svc.spec;
    const id = `${svc.namespace}/${svc.name}`;
    const report = (reason: ProblemReason, message: string) =>
      problems.push({ kind: "VirtualService", namespace: svc.namespace, name: svc.name, reason, message });
    let groupName: string | undefined;
    if (s.vrrpGroup !== undefined) {
      if (!acceptedByName.has(s.vrrpGroup)) {
        report(
          "UnknownGroup",
          allGroupNames.has(s.vrrpGroup)
            ? `VrrpGroup ${s.vrrpGroup} is not rendered (it has a conflict of its own)`
            : `VrrpGroup ${s.vrrpGroup} does not exist`,
        );
        continue;
      }
      groupName = s.vrrpGroup;
      if (s.virtualIP !== undefined && vipOwner.get(canonicalAddress(s.virtualIP)) !== groupName) {
        report("UnknownVIP", `virtual IP ${s.virtualIP} is not one of VrrpGroup ${groupName}'s virtualIPs`);
        continue;
      }
    } else {
      groupName = vipOwner.get(canonicalAddress(s.virtualIP ?? ""));
      if (groupName === undefined) {
        report("UnknownVIP", `no VrrpGroup carries virtual IP ${s.virtualIP ?? "(none)"}`);
        continue;
      }
    }
    const carrier = acceptedByName.get(groupName)!;
    if (!namespaceAllowed(carrier.group.spec, svc.namespace, input.namespaces)) {
      report(
        "NamespaceNotAllowed",
        `VrrpGroup ${groupName} does not allow VirtualServices from namespace ${svc.namespace}`,
      );
      continue;
    }
    const key = endpointKey(s, groupName);
    const holder = endpoints.get(key);
    if (holder !== undefined) {
      report("EndpointConflict", `${key} is already served by VirtualService ${holder}`);
      continue;
    }
    endpoints.set(key, id);
    serviceGroups.set(id, groupName);
    const list = servicesByGroup.get(groupName) ?? [];
    list.push({ namespace: svc.namespace, name: svc.name, vrrpGroup: groupName, spec: s });
    servicesByGroup.set(groupName, list);
  }

  const { vipsByNode, realServerNodes } = realServersOnNodes(nodes, servicesByGroup, acceptedByName);

  // 3. Per node: the groups selecting it, the services those groups carry and the VIPs it receives
  // as a real server.
  const nodeStates = new Map<string, NodeStateSpec>();
  for (const node of nodes) {
    const groups: NodeVrrpGroup[] = [];
    const services: NodeVirtualService[] = [];
    for (const a of accepted) {
      if (!a.selected.some((n) => n.name === node.name)) continue;
      groups.push(nodeGroup(a.group, node, a.selected, a.password));
      services.push(...(servicesByGroup.get(a.group.name) ?? []));
    }
    groups.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    services.sort((x, y) => {
      const kx = `${x.namespace}/${x.name}`;
      const ky = `${y.namespace}/${y.name}`;
      return kx < ky ? -1 : kx > ky ? 1 : 0;
    });
    const vips = vipsByNode.get(node.name);
    nodeStates.set(node.name, {
      nodeName: node.name,
      vrrpGroups: groups,
      virtualServices: services,
      ...(vips === undefined ? {} : { realServer: { vips } }),
    });
  }

  const groupNodes = new Map(accepted.map((a) => [a.group.name, a.selected.map((n) => n.name)]));
  return { nodeStates, groupNodes, serviceGroups, realServerNodes, problems };
}

/** RFC 5952 text of an address (what the agent and `ip addr` print); undefined for a non-address. */
function addressKey(address: string): string | undefined {
  return ipFamilyOf(address) === undefined ? undefined : normalizeIp(address);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The forwarding method of each real server and the sorry server: its own, else the service's. */
function forwardedServers(spec: VirtualServiceSpec): { address: string; method: "NAT" | "DR" | "TUN" }[] {
  const serviceMethod = spec.forwarding?.method ?? "NAT";
  const servers = [...spec.realServers, ...(spec.sorryServer === undefined ? [] : [spec.sorryServer])];
  return servers.map((r) => ({ address: r.address, method: r.forwarding?.method ?? serviceMethod }));
}

/**
 * DR and TUN deliver packets still addressed to the VIP, so a real server that is a cluster node
 * must hold the VIP as a local address (without answering ARP for it): this finds those nodes and
 * the VIPs each must hold. A node that is a director of the VIP (selected by the carrying group) is
 * left out and reported: with the VIP on its loopback, a Backup director takes the packets the
 * Master forwards to it as addressed to itself, and its own IPVS table forwards them again, back
 * and forth between the directors. Firewall-mark services have no VIP to render (the marking rules
 * decide which addresses they catch): their real servers are prepared by hand (kubelvs realserver).
 */
function realServersOnNodes(
  nodes: readonly NodeInfo[],
  servicesByGroup: ReadonlyMap<string, readonly NodeVirtualService[]>,
  groups: ReadonlyMap<string, { selected: NodeInfo[] }>,
): { vipsByNode: Map<string, NodeRealServerVIP[]>; realServerNodes: Map<string, RealServerNode[]> } {
  const nodeByAddress = new Map<string, string>();
  for (const node of nodes)
    for (const ip of [...node.internalIPs, ...(node.externalIPs ?? [])]) {
      const key = addressKey(ip);
      if (key !== undefined && !nodeByAddress.has(key)) nodeByAddress.set(key, node.name);
    }

  // node → canonical VIP → what it receives there
  const wanted = new Map<string, Map<string, { forwarding: "DR" | "TUN"; services: Set<string> }>>();
  const realServerNodes = new Map<string, RealServerNode[]>();
  for (const [groupName, services] of servicesByGroup) {
    const directors = new Set(groups.get(groupName)?.selected.map((n) => n.name) ?? []);
    for (const service of services) {
      const vip = addressKey(service.spec.virtualIP ?? "");
      if (vip === undefined) continue;
      const id = `${service.namespace}/${service.name}`;
      const found = new Map<string, RealServerNode>();
      for (const server of forwardedServers(service.spec)) {
        if (server.method === "NAT") continue;
        const address = addressKey(server.address);
        const node = address === undefined ? undefined : nodeByAddress.get(address);
        if (node === undefined) continue;
        const key = `${node} ${address}`;
        const previous = found.get(key);
        // The same address as real server and sorry server: TUN needs the most, so it wins.
        const forwarding = previous?.forwarding === "TUN" ? "TUN" : server.method;
        if (directors.has(node)) {
          found.set(key, {
            node,
            address: server.address,
            vip,
            forwarding,
            excluded: `node ${node} (${server.address}) is a director of VIP ${vip} (VrrpGroup ${groupName}) and is not prepared as a ${forwarding} real server: with the VIP on its own interface, a Backup director would take the packets the Master forwards to it as its own and its IPVS table would forward them again; use NAT for this real server or a node outside the group`,
          });
          continue;
        }
        found.set(key, { node, address: server.address, vip, forwarding });
        const byVip =
          wanted.get(node) ?? new Map<string, { forwarding: "DR" | "TUN"; services: Set<string> }>();
        const entry = byVip.get(vip) ?? { forwarding, services: new Set<string>() };
        if (forwarding === "TUN") entry.forwarding = "TUN";
        entry.services.add(id);
        byVip.set(vip, entry);
        wanted.set(node, byVip);
      }
      if (found.size > 0)
        realServerNodes.set(
          id,
          [...found.values()].sort(
            (a, b) => compareText(a.node, b.node) || compareText(a.address, b.address),
          ),
        );
    }
  }
  const vipsByNode = new Map<string, NodeRealServerVIP[]>();
  for (const [node, byVip] of wanted)
    vipsByNode.set(
      node,
      [...byVip]
        .map(([address, entry]) => ({
          address,
          forwarding: entry.forwarding,
          virtualServices: [...entry.services].sort(compareText),
        }))
        .sort((a, b) => compareText(a.address, b.address)),
    );
  return { vipsByNode, realServerNodes };
}
