// RealServerNodesPrepared on a VirtualService: True when every DR/TUN real server on a cluster node
// is rendered for preparation, False naming a director left out (with a Warning Event), absent when
// no real server is a cluster node (and removed when that becomes so).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { VirtualServiceSpec } from "../crds/schema/virtual-service.js";
import type { RealServerNode } from "../core/render/render.js";
import { conditionEvents, REAL_SERVER_NODES_PREPARED } from "./conditions.js";
import { virtualServiceStatus } from "./status-aggregation.js";

const spec: VirtualServiceSpec = {
  virtualIP: "198.51.100.200",
  port: 80,
  forwarding: { method: "DR" },
  realServers: [
    { address: "198.51.100.1", port: 80 },
    { address: "198.51.100.3", port: 80 },
  ],
};
const worker: RealServerNode = {
  node: "n3",
  address: "198.51.100.3",
  vip: "198.51.100.200",
  forwarding: "DR",
};
const director: RealServerNode = {
  node: "n1",
  address: "198.51.100.1",
  vip: "198.51.100.200",
  forwarding: "DR",
  excluded: "node n1 (198.51.100.1) is a director of VIP 198.51.100.200 (VrrpGroup web) and is not prepared",
};

const statusWith = (
  realServerNodes: RealServerNode[] | undefined,
  existing?: ReturnType<typeof virtualServiceStatus>,
  now = new Date("2026-03-01T10:00:00Z"),
) =>
  virtualServiceStatus({
    spec,
    generation: 1,
    problem: undefined,
    vrrpGroup: "web",
    master: "n2",
    masterReport: undefined,
    existing,
    now,
    ...(realServerNodes === undefined ? {} : { realServerNodes }),
  });

const condition = (status: ReturnType<typeof virtualServiceStatus>) =>
  status.conditions?.find((c) => c.type === REAL_SERVER_NODES_PREPARED);

test("True when every real server on a node is rendered, naming the nodes and where to look", () => {
  const c = condition(statusWith([worker]));
  assert.equal(c?.status, "True");
  assert.equal(c?.reason, "Rendered");
  assert.match(c?.message ?? "", /VIP 198\.51\.100\.200 .* n3 \(198\.51\.100\.3, DR\); .*status\.realServer/);
});

test("False naming the director, with a Warning Event, and a Normal one when it is resolved", () => {
  const ok = statusWith([worker]);
  const bad = statusWith([director, worker], ok, new Date("2026-03-01T10:01:00Z"));
  const c = condition(bad);
  assert.equal(c?.status, "False");
  assert.equal(c?.reason, "DirectorIsRealServer");
  assert.equal(c?.message, director.excluded);
  assert.deepEqual(conditionEvents(ok.conditions, bad.conditions ?? []), [
    { type: "Warning", reason: "DirectorIsRealServer", action: "Render", note: director.excluded },
  ]);
  const fixed = statusWith([worker], bad, new Date("2026-03-01T10:02:00Z"));
  assert.deepEqual(
    conditionEvents(bad.conditions, fixed.conditions ?? []).map((e) => `${e.type} ${e.reason}`),
    ["Normal RealServerNodesPrepared"],
  );
  // a first True records no Event (as Accepted)
  assert.deepEqual(
    conditionEvents(undefined, ok.conditions ?? []).filter((e) => e.reason !== "Accepted"),
    [],
  );
});

test("absent without real servers on nodes, and removed when they go", () => {
  assert.equal(condition(statusWith(undefined)), undefined);
  const prepared = statusWith([worker]);
  const gone = statusWith(undefined, prepared);
  assert.equal(condition(gone), undefined);
  assert.deepEqual(
    gone.conditions?.map((c) => c.type),
    ["Accepted"],
  );
});
