// What the VrrpGroup and VirtualService status say, computed from the renderer's verdict and the
// agents' reports in NodeState.status. Pure: the controllers feed it cached objects and compare its
// answer with the stored status, writing only when they differ.
import type { Condition } from "../crds/schema/common.js";
import type { NodeGroupStatus, NodeVirtualServiceStatus } from "../crds/schema/node-state.js";
import type { VirtualServiceSpec, VirtualServiceStatus } from "../crds/schema/virtual-service.js";
import type { VrrpGroupNodeStatus, VrrpGroupStatus } from "../crds/schema/vrrp-group.js";
import type { Problem, RealServerNode } from "../core/render/render.js";
import {
  acceptedCondition,
  buildCondition,
  mergeConditions,
  REAL_SERVER_NODES_PREPARED,
  realServerNodesCondition,
  splitBrainCondition,
  type WantedCondition,
} from "./conditions.js";

/** One node's report about one group, with the time of the report it came in. */
export interface GroupReport {
  node: string;
  group: NodeGroupStatus;
  /** NodeState.status.lastReportTime of that node. */
  reportTime: string | undefined;
}

export interface GroupStatusInput {
  generation: number | undefined;
  problem: Problem | undefined;
  /** Nodes the group selects (empty when the group is not rendered). */
  selectedNodes: readonly string[];
  reports: readonly GroupReport[];
  existing: VrrpGroupStatus | undefined;
  now: Date;
  /** A report older than this no longer counts: its agent is presumed gone. */
  staleAfterMs: number;
}

export interface GroupStatusResult {
  status: VrrpGroupStatus;
  /** Nodes whose fresh report says Master, sorted. */
  masters: string[];
  /** When the next fresh report goes stale (ms from now), so the status is recomputed then. */
  recheckAfterMs: number | undefined;
}

const READY_STATES = new Set(["Master", "Backup"]);

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function conditionsFor(
  wanted: WantedCondition[],
  existing: readonly Condition[] | undefined,
  generation: number | undefined,
  now: Date,
): Condition[] {
  return mergeConditions(
    existing,
    wanted.map((w) => buildCondition(w, existing, generation, now)),
  );
}

/**
 * A node whose last report says Master, made before another node became Master, has not confirmed
 * its claim since: its agent died or lost the election and has not reported yet (a crashed agent's
 * NodeState keeps "Master" until it comes back). That is a failover, not a split brain — two nodes
 * are in split brain only when each has reported Master after the other became Master.
 */
function supersedeStaleMasters(
  nodes: Map<string, VrrpGroupNodeStatus>,
  reports: readonly GroupReport[],
): void {
  const reportTime = new Map(
    reports.map((r) => [r.node, r.reportTime === undefined ? Number.NaN : Date.parse(r.reportTime)]),
  );
  const claims = [...nodes.values()].filter((n) => n.state === "Master");
  for (const claim of claims) {
    const reported = reportTime.get(claim.name) ?? Number.NaN;
    const newer = claims.find(
      (other) => other !== claim && other.since !== undefined && Date.parse(other.since) > reported,
    );
    if (newer !== undefined) {
      nodes.set(claim.name, {
        ...claim,
        state: "Unknown",
        message: `last reported Master at ${new Date(reported).toISOString()}; ${newer.name} became Master after that`,
      });
    }
  }
}

export function vrrpGroupStatus(input: GroupStatusInput): GroupStatusResult {
  const { now, staleAfterMs } = input;
  const selected = new Set(input.selectedNodes);
  const nodes = new Map<string, VrrpGroupNodeStatus>();
  let recheckAfterMs: number | undefined;
  for (const report of input.reports) {
    const reportedAt = report.reportTime === undefined ? Number.NaN : Date.parse(report.reportTime);
    const age = now.getTime() - reportedAt;
    const fresh = Number.isFinite(age) && age < staleAfterMs;
    if (fresh) {
      const left = staleAfterMs - age;
      recheckAfterMs = recheckAfterMs === undefined ? left : Math.min(recheckAfterMs, left);
      const g = report.group;
      nodes.set(report.node, {
        name: report.node,
        state: g.state,
        priority: g.priority,
        ...(g.address === undefined ? {} : { address: g.address }),
        ...(g.since === undefined ? {} : { since: g.since }),
        ...(g.message === undefined ? {} : { message: g.message }),
      });
    } else if (selected.has(report.node)) {
      nodes.set(report.node, {
        name: report.node,
        state: "Unknown",
        message: `no report from the agent since ${report.reportTime ?? "it started"}`,
      });
    }
  }
  for (const node of selected) {
    if (!nodes.has(node))
      nodes.set(node, { name: node, state: "Unknown", message: "the agent has not reported this group yet" });
  }
  supersedeStaleMasters(nodes, input.reports);
  const list = [...nodes.values()].sort(byName);
  const masters = list.filter((n) => n.state === "Master").map((n) => n.name);
  const ready = list.filter((n) => selected.has(n.name) && READY_STATES.has(n.state)).length;
  const status: VrrpGroupStatus = {
    ...(input.generation === undefined ? {} : { observedGeneration: input.generation }),
    master: masters.length === 1 ? masters[0]! : "",
    nodesReady: `${ready}/${selected.size}`,
    nodes: list,
    conditions: conditionsFor(
      [acceptedCondition(input.problem, "VrrpGroup"), splitBrainCondition(masters)],
      input.existing?.conditions,
      input.generation,
      now,
    ),
  };
  return { status, masters, recheckAfterMs };
}

/** "VIP:port/PROTO" ([v6]:port/PROTO) or "fwmark:N". */
export function serviceEndpoint(spec: VirtualServiceSpec): string {
  if (spec.firewallMark !== undefined) return `fwmark:${spec.firewallMark}`;
  const vip = spec.virtualIP ?? "";
  const host = vip.includes(":") ? `[${vip}]` : vip;
  return `${host}:${spec.port ?? 0}/${spec.protocol ?? "TCP"}`;
}

export interface ServiceStatusInput {
  spec: VirtualServiceSpec;
  generation: number | undefined;
  problem: Problem | undefined;
  /** The group that carries the service when it is rendered. */
  vrrpGroup: string | undefined;
  /** The carrying group's single Master, "" when none or several. */
  master: string;
  /** The Master node's report of this service, if it has one. */
  masterReport: NodeVirtualServiceStatus | undefined;
  /** The service's DR/TUN real servers on cluster nodes, as rendered (prepared or left out). */
  realServerNodes?: readonly RealServerNode[];
  existing: VirtualServiceStatus | undefined;
  now: Date;
}

export function virtualServiceStatus(input: ServiceStatusInput): VirtualServiceStatus {
  const reported = input.masterReport?.realServers;
  // Until the Master reports health, the total comes from the spec and nothing counts as healthy.
  const total = reported?.length ?? input.spec.realServers.length;
  const healthy = reported?.filter((r) => r.healthy).length ?? 0;
  const realServers = realServerNodesCondition(input.realServerNodes);
  return {
    ...(input.generation === undefined ? {} : { observedGeneration: input.generation }),
    endpoint: serviceEndpoint(input.spec),
    vrrpGroup: input.vrrpGroup ?? "",
    master: input.vrrpGroup === undefined ? "" : input.master,
    realServersReady: `${healthy}/${total}`,
    healthyRealServers: healthy,
    totalRealServers: total,
    ...(reported === undefined ? {} : { realServers: reported }),
    conditions: conditionsFor(
      [
        acceptedCondition(input.problem, "VirtualService"),
        ...(realServers === undefined ? [] : [realServers]),
      ],
      // A service no longer forwarding DR/TUN to a cluster node loses the condition altogether.
      realServers === undefined
        ? input.existing?.conditions?.filter((c) => c.type !== REAL_SERVER_NODES_PREPARED)
        : input.existing?.conditions,
      input.generation,
      input.now,
    ),
  };
}
