import assert from "node:assert/strict";
import { test } from "node:test";
import type { NodeStateStatus } from "../crds/schema/node-state.js";
import { ReportIndex } from "./report-index.js";

const now = Date.parse("2025-03-01T12:00:00Z");
const at = (secondsAgo: number) => new Date(now - secondsAgo * 1000).toISOString();

function status(
  age: number,
  groups: [string, "Master" | "Backup"][],
  services: string[] = [],
): NodeStateStatus {
  return {
    lastReportTime: at(age),
    vrrpGroups: groups.map(([name, state]) => ({ name, state, priority: 100 })),
    virtualServices: services.map((s) => ({ namespace: "web", name: s, active: true })),
  };
}

test("a report touches only the groups and services whose entries changed", () => {
  const index = new ReportIndex(100_000, () => now);
  let change = index.update(
    "node-a",
    status(
      1,
      [
        ["web", "Master"],
        ["db", "Backup"],
      ],
      ["s1", "s2"],
    ),
  );
  assert.deepEqual([...change.groups].sort(), ["db", "web"]);
  assert.deepEqual([...change.services].sort(), ["web/s1", "web/s2"]);

  change = index.update(
    "node-a",
    status(
      0,
      [
        ["web", "Master"],
        ["db", "Backup"],
      ],
      ["s1", "s2"],
    ),
  );
  assert.equal(change.groups.size + change.services.size, 0, "a heartbeat changes nothing");

  change = index.update(
    "node-a",
    status(
      0,
      [
        ["web", "Backup"],
        ["db", "Backup"],
      ],
      ["s1"],
    ),
  );
  assert.deepEqual([...change.groups], ["web"]);
  assert.deepEqual([...change.services], ["web/s2"]);
  assert.deepEqual(
    index.groupReports("web").map((r) => [r.node, r.group.state]),
    [["node-a", "Backup"]],
  );
  assert.equal(index.serviceReport("node-a", "web", "s1")?.active, true);
  assert.equal(index.serviceReport("node-a", "web", "s2"), undefined);
});

test("a stale report coming back fresh touches every group it names; a deleted NodeState removes its reports", () => {
  const index = new ReportIndex(100_000, () => now);
  index.update("node-b", status(500, [["web", "Master"]]));
  const change = index.update("node-b", status(0, [["web", "Master"]]));
  assert.deepEqual([...change.groups], ["web"]);
  const gone = index.update("node-b", undefined);
  assert.deepEqual([...gone.groups], ["web"]);
  assert.deepEqual(index.groupReports("web"), []);
});
