import assert from "node:assert/strict";
import { test } from "node:test";
import type { NodeGroupStatus } from "../crds/schema/node-state.js";
import type { VirtualServiceSpec } from "../crds/schema/virtual-service.js";
import type { Problem } from "../core/render/render.js";
import {
  buildCondition,
  conditionEvents,
  kubeTime,
  mergeConditions,
  splitBrainCondition,
} from "./conditions.js";
import {
  serviceEndpoint,
  virtualServiceStatus,
  vrrpGroupStatus,
  type GroupReport,
} from "./status-aggregation.js";

const now = new Date("2025-03-01T12:00:00Z");
const secondsAgo = (s: number) => kubeTime(new Date(now.getTime() - s * 1000));

function report(node: string, state: NodeGroupStatus["state"], priority: number, age = 5): GroupReport {
  return {
    node,
    group: { name: "web", state, priority, address: "198.51.100.1" },
    reportTime: secondsAgo(age),
  };
}

const base = {
  generation: 3,
  problem: undefined,
  existing: undefined,
  now,
  staleAfterMs: 100_000,
};

test("group status: nodes with state and priority, the single Master, nodes ready", () => {
  const { status, masters } = vrrpGroupStatus({
    ...base,
    selectedNodes: ["node-a", "node-b", "node-c"],
    reports: [report("node-b", "Backup", 100), report("node-a", "Master", 150)],
  });
  assert.deepEqual(masters, ["node-a"]);
  assert.equal(status.master, "node-a");
  assert.equal(status.nodesReady, "2/3");
  assert.equal(status.observedGeneration, 3);
  assert.deepEqual(
    status.nodes?.map((n) => [n.name, n.state, n.priority]),
    [
      ["node-a", "Master", 150],
      ["node-b", "Backup", 100],
      ["node-c", "Unknown", undefined],
    ],
  );
  const conditions = Object.fromEntries((status.conditions ?? []).map((c) => [c.type, c]));
  assert.equal(conditions.Accepted?.status, "True");
  assert.equal(conditions.SplitBrain?.status, "False");
  assert.equal(conditions.SplitBrain?.reason, "SingleMaster");
  assert.equal(conditions.Accepted?.observedGeneration, 3);
});

test("two Masters: no master, SplitBrain=True naming both", () => {
  const { status } = vrrpGroupStatus({
    ...base,
    selectedNodes: ["node-a", "node-b"],
    reports: [report("node-a", "Master", 150), report("node-b", "Master", 100)],
  });
  assert.equal(status.master, "");
  const splitBrain = status.conditions?.find((c) => c.type === "SplitBrain");
  assert.equal(splitBrain?.status, "True");
  assert.equal(splitBrain?.reason, "MultipleMasters");
  assert.match(splitBrain?.message ?? "", /node-a, node-b/);
});

test("a Master claim made before another node became Master is a failover, not a split brain", () => {
  // node-a's agent died while Master (its last report, 8 s ago, still says Master); node-b became
  // Master 3 s ago and reported it 1 s ago.
  const dead = report("node-a", "Master", 150, 8);
  const successor = {
    ...report("node-b", "Master", 100, 1),
    group: { ...report("node-b", "Master", 100).group, since: secondsAgo(3) },
  };
  const { status, masters } = vrrpGroupStatus({
    ...base,
    selectedNodes: ["node-a", "node-b"],
    reports: [dead, successor],
  });
  assert.deepEqual(masters, ["node-b"]);
  assert.equal(status.master, "node-b");
  const a = status.nodes?.find((n) => n.name === "node-a");
  assert.equal(a?.state, "Unknown");
  assert.match(a?.message ?? "", /node-b became Master after that/);
  assert.equal(status.conditions?.find((c) => c.type === "SplitBrain")?.status, "False");
  // both confirming Master after the other became Master is a split brain
  const both = [
    { ...dead, reportTime: secondsAgo(1), group: { ...dead.group, since: secondsAgo(4) } },
    successor,
  ];
  assert.equal(
    vrrpGroupStatus({ ...base, selectedNodes: ["node-a", "node-b"], reports: both }).status.master,
    "",
  );
});

test("a stale report counts as Unknown; a recheck is due when the next fresh one goes stale", () => {
  const { status, masters, recheckAfterMs } = vrrpGroupStatus({
    ...base,
    selectedNodes: ["node-a", "node-b"],
    reports: [report("node-a", "Master", 150, 500), report("node-b", "Master", 100, 40)],
  });
  assert.deepEqual(masters, ["node-b"], "node-a's agent stopped reporting: its Master is history");
  assert.equal(status.master, "node-b");
  assert.equal(status.nodesReady, "1/2");
  assert.equal(status.nodes?.[0]?.state, "Unknown");
  assert.match(status.nodes?.[0]?.message ?? "", /no report from the agent since/);
  assert.equal(recheckAfterMs, 60_000);
});

test("a node reporting a group it is no longer selected for still shows (and counts as Master)", () => {
  const { status } = vrrpGroupStatus({
    ...base,
    selectedNodes: ["node-a"],
    reports: [report("node-a", "Backup", 100), report("node-z", "Master", 100)],
  });
  assert.deepEqual(
    status.nodes?.map((n) => n.name),
    ["node-a", "node-z"],
  );
  assert.equal(status.master, "node-z");
  assert.equal(status.nodesReady, "1/1");
});

test("a problem makes Accepted=False with the renderer's reason and message", () => {
  const problem: Problem = {
    kind: "VrrpGroup",
    name: "web",
    reason: "VRIDConflict",
    message: "VRID 51 (IPv4) is already used on the same interface by VrrpGroup db",
  };
  const { status } = vrrpGroupStatus({ ...base, problem, selectedNodes: [], reports: [] });
  const accepted = status.conditions?.find((c) => c.type === "Accepted");
  assert.deepEqual(
    { status: accepted?.status, reason: accepted?.reason, message: accepted?.message },
    { status: "False", reason: "VRIDConflict", message: problem.message },
  );
  assert.equal(status.nodesReady, "0/0");
});

test("recomputing an unchanged status gives the identical object (lastTransitionTime kept)", () => {
  const input = { ...base, selectedNodes: ["node-a"], reports: [report("node-a", "Master", 150)] };
  const first = vrrpGroupStatus(input).status;
  const later = vrrpGroupStatus({ ...input, existing: first, now: new Date(now.getTime() + 30_000) }).status;
  assert.deepEqual(later, first);
});

test("conditions: transition time moves only on a status flip; other types are kept", () => {
  const t0 = new Date("2025-01-01T00:00:00Z");
  const t1 = new Date("2025-01-01T00:05:00Z");
  const first = buildCondition(splitBrainCondition(["a"]), undefined, 1, t0);
  assert.equal(first.lastTransitionTime, "2025-01-01T00:00:00Z");
  const sameStatus = buildCondition(splitBrainCondition([]), [first], 2, t1);
  assert.equal(sameStatus.lastTransitionTime, first.lastTransitionTime, "False → False: no transition");
  assert.equal(sameStatus.reason, "NoMaster");
  const flipped = buildCondition(splitBrainCondition(["a", "b"]), [sameStatus], 2, t1);
  assert.equal(flipped.lastTransitionTime, "2025-01-01T00:05:00Z");
  const foreign = { ...first, type: "Ready" };
  assert.deepEqual(
    mergeConditions([foreign, first], [flipped]).map((c) => c.type),
    ["Ready", "SplitBrain"],
  );
});

test("Events only for conditions that changed, none for a first Accepted=True", () => {
  const accepted = buildCondition(
    { type: "Accepted", status: "True", reason: "Accepted", message: "ok" },
    [],
    1,
    now,
  );
  const rejected = buildCondition(
    { type: "Accepted", status: "False", reason: "VIPConflict", message: "taken" },
    [],
    1,
    now,
  );
  const split = buildCondition(splitBrainCondition(["a", "b"]), [], 1, now);
  const single = buildCondition(splitBrainCondition(["a"]), [], 1, now);
  assert.deepEqual(conditionEvents(undefined, [accepted, single]), []);
  assert.deepEqual(conditionEvents([accepted, single], [accepted, single]), []);
  assert.deepEqual(
    conditionEvents([accepted, single], [rejected, split]).map((e) => [e.type, e.reason]),
    [
      ["Warning", "VIPConflict"],
      ["Warning", "SplitBrain"],
    ],
  );
  assert.deepEqual(
    conditionEvents([rejected, split], [accepted, single]).map((e) => [e.type, e.reason]),
    [
      ["Normal", "Accepted"],
      ["Normal", "SplitBrainResolved"],
    ],
  );
});

const webSpec: VirtualServiceSpec = {
  virtualIP: "198.51.100.254",
  port: 80,
  protocol: "TCP",
  realServers: [
    { address: "198.51.100.101", port: 80 },
    { address: "198.51.100.102", port: 80 },
    { address: "198.51.100.103", port: 80 },
  ],
};

test("service endpoint text for IPv4, IPv6 and firewall marks", () => {
  assert.equal(serviceEndpoint(webSpec), "198.51.100.254:80/TCP");
  assert.equal(
    serviceEndpoint({ virtualIP: "2001:db8::10", port: 443, protocol: "UDP", realServers: [] }),
    "[2001:db8::10]:443/UDP",
  );
  assert.equal(serviceEndpoint({ firewallMark: 7, vrrpGroup: "web", realServers: [] }), "fwmark:7");
});

test("service status: healthy/total from the Master's report, totals from the spec before it", () => {
  const input = {
    spec: webSpec,
    generation: 2,
    problem: undefined,
    vrrpGroup: "lvs-vip",
    master: "node-a",
    existing: undefined,
    now,
  };
  const before = virtualServiceStatus({ ...input, masterReport: undefined });
  assert.equal(before.realServersReady, "0/3");
  assert.equal(before.totalRealServers, 3);
  assert.equal(before.master, "node-a");
  assert.equal(before.vrrpGroup, "lvs-vip");
  assert.equal(before.endpoint, "198.51.100.254:80/TCP");
  const after = virtualServiceStatus({
    ...input,
    masterReport: {
      namespace: "web",
      name: "web",
      active: true,
      realServers: [
        { address: "198.51.100.101", port: 80, healthy: true },
        { address: "198.51.100.102", port: 80, healthy: false },
        { address: "198.51.100.103", port: 80, healthy: true },
      ],
    },
  });
  assert.equal(after.realServersReady, "2/3");
  assert.equal(after.healthyRealServers, 2);
  assert.equal(after.realServers?.length, 3);
});

test("a service that is not rendered has no group and no master, and Accepted=False", () => {
  const status = virtualServiceStatus({
    spec: webSpec,
    generation: 1,
    problem: {
      kind: "VirtualService",
      namespace: "web",
      name: "web",
      reason: "NamespaceNotAllowed",
      message: "VrrpGroup lvs-vip does not allow VirtualServices from namespace web",
    },
    vrrpGroup: undefined,
    master: "node-a",
    masterReport: undefined,
    existing: undefined,
    now,
  });
  assert.equal(status.vrrpGroup, "");
  assert.equal(status.master, "");
  assert.equal(status.conditions?.[0]?.reason, "NamespaceNotAllowed");
});
