// Several nodes' keepalived.conf files → one set of objects. Instances with the same name become
// one VrrpGroup with a priority per node. What VRRP requires to be equal on every router (VRID,
// addresses, advert interval, version, authentication, interface) must agree: a difference is an
// error, since no single VrrpGroup can express it and the routers would not have interoperated
// correctly. Per-router behaviour kubelvs makes group-wide (preempt, tracking, notify, GARP) may
// differ: the first node's setting is used and the difference is a warning. Virtual servers must
// be identical on every node that has them, because whichever node is Master serves them.
import type { SourceLocation } from "./ast.js";
import type { VrrpGroupSpec } from "../crds/schema/vrrp-group.js";
import { type DiagnosticSink, formatLocation } from "./diagnostics.js";
import type { GroupSpecCommon, ImportedGroup } from "./map-vrrp.js";
import type { ImportedService } from "./map-lvs.js";

export interface NodeImport {
  /** The node's name (--node NAME=FILE); undefined for a single configuration. */
  node?: string;
  file: string;
  routerId?: string;
  groups: ImportedGroup[];
  services: ImportedService[];
}

export interface MergedGroup {
  name: string;
  spec: VrrpGroupSpec;
  /** One "node=file:line" (or "file:line") per source. */
  sources: string[];
  routerIds: string[];
}

export interface MergedService {
  name: string;
  service: ImportedService;
  sources: string[];
}

const MUST_AGREE: { field: keyof GroupSpecCommon; what: string; why: string }[] = [
  { field: "vrid", what: "virtual_router_id", why: "one VrrpGroup has one VRID" },
  {
    field: "version",
    what: "VRRP version",
    why: "routers of different versions do not understand each other's adverts",
  },
  {
    field: "advertIntervalMillis",
    what: "advert_int",
    why: "VRRPv2 routers drop adverts with another interval, and the master-down timer depends on it",
  },
  {
    field: "interface",
    what: "interface",
    why: "a VrrpGroup uses one interface name on every node (or selects the interface by CIDR: edit spec.interface.cidr)",
  },
  {
    field: "virtualIPs",
    what: "virtual_ipaddress",
    why: "the addresses must be the same on every router of a VRRP instance",
  },
  {
    field: "excludedVirtualIPs",
    what: "virtual_ipaddress_excluded",
    why: "the addresses must be the same on every router of a VRRP instance",
  },
  {
    field: "authentication",
    what: "authentication",
    why: "routers drop adverts whose authentication differs",
  },
  {
    field: "checksum",
    what: "v3_checksum_as_v2",
    why: "routers drop adverts whose checksum they compute differently",
  },
];

const MAY_DIFFER: { field: keyof GroupSpecCommon; what: string }[] = [
  { field: "preempt", what: "nopreempt" },
  { field: "preemptDelayMillis", what: "preempt_delay" },
  { field: "acceptMode", what: "accept/no_accept" },
  { field: "track", what: "track_interface/track_script" },
  { field: "gratuitousARP", what: "garp settings" },
  { field: "syncGroup", what: "vrrp_sync_group membership" },
  { field: "notify", what: "notify scripts" },
  { field: "connectionSync", what: "lvs_sync_daemon" },
];

function show(value: unknown): string {
  if (value === undefined) return "(not set)";
  if (Array.isArray(value))
    return (
      value
        .map((v) =>
          typeof v === "object" && v !== null && "address" in v
            ? formatVip(v as { address: string; prefixLength?: number })
            : JSON.stringify(v),
        )
        .join(", ") || "(none)"
    );
  if (typeof value === "object" && value !== null) {
    const named = value as { name?: unknown };
    if (typeof named.name === "string" && Object.keys(value).length === 1) return named.name;
    return JSON.stringify(value);
  }
  return JSON.stringify(value);
}

function formatVip(v: { address: string; prefixLength?: number }): string {
  return v.prefixLength === undefined ? v.address : `${v.address}/${v.prefixLength}`;
}

function canonical(value: unknown): string {
  // VIP lists are sets: order does not matter between routers.
  if (Array.isArray(value)) {
    const items = value as unknown[];
    if (items.every((v) => typeof v === "object" && v !== null && "address" in v)) {
      return JSON.stringify(items.map((v) => JSON.stringify(v)).sort());
    }
  }
  return JSON.stringify(value ?? null);
}

function source(node: NodeImport, loc: SourceLocation): string {
  return node.node === undefined ? formatLocation(loc) : `${node.node}=${formatLocation(loc)}`;
}

/** Finishes a group from a single configuration (no node names known). */
function singleGroup(node: NodeImport, group: ImportedGroup, sink: DiagnosticSink): MergedGroup | undefined {
  const spec: VrrpGroupSpec = { ...group.spec };
  const title = `vrrp_instance ${group.instanceName}`;
  if (group.priority.value === 255) {
    sink.error(
      group.priority.loc,
      `${title}: priority 255 marks the address owner, which only one node can be; with a single configuration every node would get it — import each node's file with --node NAME=FILE`,
    );
    return undefined;
  }
  spec.priority = { default: group.priority.value };
  const state =
    group.state === undefined
      ? ""
      : ` "state ${group.state.value}" is only keepalived's start-up hint, the election goes by priority.`;
  sink.warning(
    group.loc,
    `${title}: one configuration describes one node, so every selected node gets priority ${group.priority.value} and the group has no nodeSelector (it runs on every node).${state} Import each node's keepalived.conf with --node NAME=FILE to keep per-node priorities and select those nodes`,
  );
  if (group.unicast !== undefined) {
    spec.unicast = { fromSelectedNodes: true };
    sink.warning(
      group.unicast.loc,
      `${title}: unicast peers ${group.unicast.peers.map((p) => p.text).join(", ")} are taken to be the group's other nodes: kubelvs sends to the selected nodes' InternalIPs; add any peer outside the cluster to spec.unicast.extraPeers`,
    );
  }
  return {
    name: group.name,
    spec,
    sources: [source(node, group.loc)],
    routerIds: node.routerId ? [node.routerId] : [],
  };
}

function mergeGroups(
  entries: { node: NodeImport; group: ImportedGroup }[],
  sink: DiagnosticSink,
): MergedGroup | undefined {
  const [first, ...others] = entries;
  const base = first!.group;
  const title = `vrrp_instance ${base.instanceName}`;
  const errorsBefore = sink.errors.length;
  for (const { node, group } of others) {
    for (const { field, what, why } of MUST_AGREE) {
      if (canonical(group.spec[field]) !== canonical(base.spec[field])) {
        sink.error(
          group.fieldLocations[field] ?? group.loc,
          `${title}: ${what} ${show(group.spec[field])} on node ${node.node} differs from ${show(base.spec[field])} on node ${first!.node.node} (${formatLocation(base.fieldLocations[field] ?? base.loc)}); ${why}`,
        );
      }
    }
    for (const { field, what } of MAY_DIFFER) {
      if (canonical(group.spec[field]) !== canonical(base.spec[field])) {
        sink.warning(
          group.fieldLocations[field] ?? group.loc,
          `${title}: ${what} differs between node ${node.node} and node ${first!.node.node} (${formatLocation(base.fieldLocations[field] ?? base.loc)}); a VrrpGroup has one setting for all nodes: node ${first!.node.node}'s is used`,
        );
      }
    }
  }
  // Priorities: one per node; 255 (address owner) at most once; ties make the election depend on
  // addresses, which is rarely what was meant.
  const owners = entries.filter((e) => e.group.priority.value === 255);
  for (const extra of owners.slice(1)) {
    sink.error(
      extra.group.priority.loc,
      `${title}: priority 255 (address owner) on node ${extra.node.node} and on node ${owners[0]!.node.node} (${formatLocation(owners[0]!.group.priority.loc)}); only the one node that owns the addresses may use 255`,
    );
  }
  const byPriority = new Map<number, string>();
  for (const { node, group } of entries) {
    const other = byPriority.get(group.priority.value);
    if (other !== undefined && group.priority.value !== 255) {
      sink.warning(
        group.priority.loc,
        `${title}: node ${node.node} has the same priority (${group.priority.value}) as node ${other}; VRRP then elects the node with the higher primary address — give each node its own priority`,
      );
    } else byPriority.set(group.priority.value, node.node!);
  }
  const highest = Math.max(...entries.map((e) => e.group.priority.value));
  for (const { node, group } of entries) {
    if (group.state?.value === "MASTER" && group.priority.value < highest) {
      sink.warning(
        group.state.loc,
        `${title}: node ${node.node} starts as MASTER but has priority ${group.priority.value}, below ${highest}; kubelvs (like keepalived after its first election) makes the highest priority Master`,
      );
    }
  }
  // Unicast: all routers must agree on multicast versus unicast.
  const unicastNodes = entries.filter((e) => e.group.unicast !== undefined);
  if (unicastNodes.length > 0 && unicastNodes.length < entries.length) {
    const multicast = entries.find((e) => e.group.unicast === undefined)!;
    sink.error(
      unicastNodes[0]!.group.unicast!.loc,
      `${title}: node ${unicastNodes[0]!.node.node} uses unicast_peer but node ${multicast.node.node} (${formatLocation(multicast.group.loc)}) uses multicast; they would not hear each other`,
    );
  }
  if (sink.errors.length > errorsBefore) return undefined;

  const spec: VrrpGroupSpec = { ...base.spec };
  const nodes = entries.map((e) => e.node.node!);
  spec.nodeSelector = {
    matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: nodes }],
  };
  spec.priority = {
    nodes: entries.map((e) => ({ nodeName: e.node.node!, priority: e.group.priority.value })),
  };
  if (unicastNodes.length > 0) {
    const own = new Set(
      entries.map((e) => e.group.unicast?.sourceAddress?.text).filter((a) => a !== undefined),
    );
    const extra = new Set<string>();
    for (const { group } of entries) {
      for (const peer of group.unicast!.peers) if (!own.has(peer.text)) extra.add(peer.text);
    }
    spec.unicast = { fromSelectedNodes: true };
    if (extra.size > 0) spec.unicast.extraPeers = [...extra];
    const missingSource = entries.filter((e) => e.group.unicast!.sourceAddress === undefined);
    for (const { node, group } of missingSource) {
      sink.warning(
        group.unicast!.loc,
        `${title}: node ${node.node} has no unicast_src_ip, so its address cannot be recognised in the other nodes' unicast_peer lists; kubelvs sends to the selected nodes' InternalIPs`,
      );
    }
    if (extra.size > 0) {
      sink.warning(
        unicastNodes[0]!.group.unicast!.loc,
        `${title}: unicast peers ${[...extra].join(", ")} are no imported node's unicast_src_ip; they are kept as spec.unicast.extraPeers (routers outside the cluster)`,
      );
    }
  }
  return {
    name: base.name,
    spec,
    sources: entries.map((e) => source(e.node, e.group.loc)),
    routerIds: entries.flatMap((e) => (e.node.routerId ? [`${e.node.node}=${e.node.routerId}`] : [])),
  };
}

/** The first difference between two JSON values, as a path and the two values. */
export function firstDifference(
  a: unknown,
  b: unknown,
  path = "",
): { path: string; a: unknown; b: unknown } | undefined {
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
  if (
    typeof a === "object" &&
    a !== null &&
    typeof b === "object" &&
    b !== null &&
    Array.isArray(a) === Array.isArray(b)
  ) {
    if (Array.isArray(a) && Array.isArray(b) && a.length !== b.length) {
      return { path: `${path}.length`, a: a.length, b: b.length };
    }
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      const sub = Array.isArray(a) ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`;
      const d = firstDifference(
        (a as Record<string, unknown>)[key],
        (b as Record<string, unknown>)[key],
        sub,
      );
      if (d !== undefined) return d;
    }
  }
  return { path, a, b };
}

export function mergeNodes(
  nodes: NodeImport[],
  sink: DiagnosticSink,
): { groups: MergedGroup[]; services: MergedService[] } {
  const groups: MergedGroup[] = [];
  const services: MergedService[] = [];
  if (nodes.length === 1 && nodes[0]!.node === undefined) {
    const node = nodes[0]!;
    for (const group of node.groups) {
      const merged = singleGroup(node, group, sink);
      if (merged !== undefined) groups.push(merged);
    }
    for (const service of node.services)
      services.push({ name: service.name, service, sources: [source(node, service.loc)] });
    return { groups, services };
  }

  const instances = new Map<string, { node: NodeImport; group: ImportedGroup }[]>();
  for (const node of nodes) {
    for (const group of node.groups) {
      const list = instances.get(group.instanceName) ?? [];
      list.push({ node, group });
      instances.set(group.instanceName, list);
    }
  }
  for (const [name, entries] of instances) {
    if (entries.length < nodes.length) {
      const present = entries.map((e) => e.node.node).join(", ");
      sink.warning(
        entries[0]!.group.loc,
        `vrrp_instance ${name} is only in the configuration of node(s) ${present}; the group runs on those nodes only`,
      );
    }
    const merged = mergeGroups(entries, sink);
    if (merged !== undefined) groups.push(merged);
  }

  const byName = new Map<string, { node: NodeImport; service: ImportedService }[]>();
  for (const node of nodes) {
    for (const service of node.services) {
      const list = byName.get(service.name) ?? [];
      list.push({ node, service });
      byName.set(service.name, list);
    }
  }
  for (const [name, entries] of byName) {
    const [first, ...others] = entries;
    let consistent = true;
    for (const { node, service } of others) {
      const d = firstDifference(first!.service.spec, service.spec);
      if (d !== undefined) {
        consistent = false;
        sink.error(
          service.loc,
          `${service.title} differs between node ${node.node} and node ${first!.node.node} (${formatLocation(first!.service.loc)}) at ${d.path || "(spec)"}: ${JSON.stringify(d.b)} versus ${JSON.stringify(d.a)}; whichever node is Master serves it, so it must be the same everywhere`,
        );
      }
    }
    if (entries.length < nodes.length) {
      sink.warning(
        first!.service.loc,
        `${first!.service.title} is only in the configuration of node(s) ${entries.map((e) => e.node.node).join(", ")}; kubelvs serves it on whichever node is Master of its VIP`,
      );
    }
    if (consistent)
      services.push({
        name,
        service: first!.service,
        sources: entries.map((e) => source(e.node, e.service.loc)),
      });
  }
  return { groups, services };
}
