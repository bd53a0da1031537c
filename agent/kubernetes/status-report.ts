// What the agent writes into its NodeState's status: each group's state, priority and counters, the
// groups it is Master of, and the virtual services with their real servers' health. Pure: the
// reporter calls it with the agent's status at the moment of writing.
import type {
  NodeGroupStatus,
  NodeStateSpec,
  NodeStateStatus,
  NodeVirtualServiceStatus,
} from "../../crds/schema/node-state.js";
import type { AgentStatus } from "../runtime/agent.js";

export interface StatusReportInput {
  agent: AgentStatus;
  /** The spec the agent runs (the last one applied). */
  spec: NodeStateSpec | undefined;
  /** Content hash of that spec, as the operator annotated it. */
  observedContentHash: string | undefined;
  agentVersion: string;
  now: Date;
}

const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;

/** The CRD types addresses as IPv4/IPv6: an interface without an address yet reports none. */
function ipOrNothing(address: string | undefined): string | undefined {
  if (address === undefined || address === "") return undefined;
  return IPV4.test(address) || address.includes(":") ? address : undefined;
}

function clampPriority(priority: number): number {
  return Math.max(0, Math.min(255, Math.round(priority)));
}

export function groupStatuses(agent: AgentStatus): NodeGroupStatus[] {
  const running: NodeGroupStatus[] = agent.groups.map((g) => {
    const address = ipOrNothing(g.address);
    const masterAddress = ipOrNothing(g.masterAddress);
    const faults = Object.entries(g.faults).map(([what, why]) => `${what}: ${why}`);
    return {
      name: g.name,
      state: g.state,
      priority: clampPriority(g.priority),
      ...(address === undefined ? {} : { address }),
      ...(masterAddress === undefined ? {} : { masterAddress }),
      since: g.since,
      transitions: g.transitions,
      advertsSent: g.advertsSent,
      advertsReceived: g.advertsReceived,
      packetsDropped: g.packetsDropped,
      ...(faults.length === 0 ? {} : { message: faults.join("; ").slice(0, 1024) }),
    };
  });
  const failed: NodeGroupStatus[] = agent.failedGroups.map((f) => ({
    name: f.name,
    state: "Fault",
    priority: 0,
    message: `cannot start: ${f.error}`.slice(0, 1024),
  }));
  return [...running, ...failed].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Services of the spec, active where this node is Master of the carrying group. */
export function activeServices(
  spec: NodeStateSpec | undefined,
  groups: NodeGroupStatus[],
): NodeVirtualServiceStatus[] {
  const masterOf = new Set(groups.filter((g) => g.state === "Master").map((g) => g.name));
  return (spec?.virtualServices ?? []).map((s) => ({
    namespace: s.namespace,
    name: s.name,
    active: masterOf.has(s.vrrpGroup),
  }));
}

export function nodeStateStatus(input: StatusReportInput): NodeStateStatus {
  const vrrpGroups = groupStatuses(input.agent);
  const masterOf = vrrpGroups
    .filter((g) => g.state === "Master")
    .map((g) => g.name)
    .join(",");
  return {
    ...(input.observedContentHash === undefined ? {} : { observedContentHash: input.observedContentHash }),
    agentVersion: input.agentVersion,
    lastReportTime: input.now.toISOString().replace(/\.\d{3}Z$/, "Z"),
    masterOf: masterOf.slice(0, 4096),
    vrrpGroups,
    // The load balancer's own report when the agent has one (IPVS programmed, health checks);
    // otherwise which services this node would carry as Master.
    virtualServices: input.agent.virtualServices ?? activeServices(input.spec, vrrpGroups),
    ...(input.agent.realServer === undefined ? {} : { realServer: input.agent.realServer }),
  };
}

/** The part of a report whose change is worth an immediate write (not counters or times). */
export function significantFingerprint(agent: AgentStatus): string {
  return JSON.stringify([
    agent.groups.map((g) => [
      g.name,
      g.state,
      g.priority,
      g.masterAddress ?? "",
      g.address,
      Object.keys(g.faults),
    ]),
    agent.failedGroups.map((f) => f.name),
    agent.realServer ?? null,
  ]);
}
