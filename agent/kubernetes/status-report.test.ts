import assert from "node:assert/strict";
import { test } from "node:test";
import type { NodeStateSpec } from "../../crds/schema/node-state.js";
import type { AgentStatus } from "../runtime/agent.js";
import type { GroupStatus } from "../runtime/vrrp-group-runner.js";
import { nodeStateStatus, significantFingerprint } from "./status-report.js";

function group(name: string, state: GroupStatus["state"], extra: Partial<GroupStatus> = {}): GroupStatus {
  return {
    name,
    state,
    vrid: 51,
    version: 3,
    interface: "eth0",
    address: "198.51.100.11",
    priority: 150,
    basePriority: 150,
    advertIntervalMs: 1000,
    since: "2025-03-01T11:59:00.000Z",
    transitions: 2,
    advertsSent: 60,
    advertsWithheld: 0,
    advertsMissed: 0,
    advertsReceived: 3,
    packetsDropped: 0,
    drops: {},
    faults: {},
    virtualIPs: ["198.51.100.254/24"],
    ...extra,
  };
}

const agentStatus: AgentStatus = {
  instance: "kubelvs",
  pid: 1,
  startedAt: "2025-03-01T11:58:00.000Z",
  groups: [
    group("web", "Master", { masterAddress: "198.51.100.11" }),
    group("db", "Backup", { address: "" }),
  ],
  failedGroups: [{ name: "broken", error: "interface eth9 not found" }],
};

const spec: NodeStateSpec = {
  vrrpGroups: [],
  virtualServices: [
    {
      namespace: "web",
      name: "http",
      vrrpGroup: "web",
      spec: { virtualIP: "198.51.100.254", port: 80, realServers: [] },
    },
    {
      namespace: "db",
      name: "pg",
      vrrpGroup: "db",
      spec: { virtualIP: "198.51.100.253", port: 5432, realServers: [] },
    },
  ],
};

test("the report lists groups (failed ones as Fault), masterOf and the services' activity", () => {
  const status = nodeStateStatus({
    agent: agentStatus,
    spec,
    observedContentHash: "abc",
    agentVersion: "0.1.0",
    now: new Date("2025-03-01T12:00:00.123Z"),
  });
  assert.equal(status.lastReportTime, "2025-03-01T12:00:00Z");
  assert.equal(status.observedContentHash, "abc");
  assert.equal(status.masterOf, "web");
  assert.deepEqual(
    status.vrrpGroups?.map((g) => [g.name, g.state, g.priority, g.address]),
    [
      ["broken", "Fault", 0, undefined],
      ["db", "Backup", 150, undefined],
      ["web", "Master", 150, "198.51.100.11"],
    ],
  );
  assert.match(status.vrrpGroups?.[0]?.message ?? "", /interface eth9 not found/);
  assert.deepEqual(
    status.virtualServices?.map((s) => [s.name, s.active]),
    [
      ["http", true],
      ["pg", false],
    ],
  );
});

test("the significant fingerprint ignores counters but not states or priorities", () => {
  const base = significantFingerprint(agentStatus);
  const counted = {
    ...agentStatus,
    groups: agentStatus.groups.map((g) => ({ ...g, advertsSent: g.advertsSent + 10 })),
  };
  assert.equal(significantFingerprint(counted), base);
  const lowered = { ...agentStatus, groups: agentStatus.groups.map((g) => ({ ...g, priority: 90 })) };
  assert.notEqual(significantFingerprint(lowered), base);
});

test("status.realServer is the agent's report, and a change in it is worth an immediate write", () => {
  const realServer = { prepared: ["198.51.100.200"], message: "create tunl0 (ipip): EOPNOTSUPP" };
  const status = nodeStateStatus({
    agent: { ...agentStatus, realServer },
    spec: { vrrpGroups: [] },
    observedContentHash: "h",
    agentVersion: "test",
    now: new Date("2025-03-01T12:00:00Z"),
  });
  assert.deepEqual(status.realServer, realServer);
  const without = nodeStateStatus({
    agent: agentStatus,
    spec: { vrrpGroups: [] },
    observedContentHash: "h",
    agentVersion: "test",
    now: new Date("2025-03-01T12:00:00Z"),
  });
  assert.equal("realServer" in without, false);
  assert.notEqual(
    significantFingerprint({ ...agentStatus, realServer }),
    significantFingerprint(agentStatus),
  );
});
