import assert from "node:assert/strict";
import { test } from "node:test";
import type { AgentStatus } from "../agent/runtime/agent.js";
import { formatStatus } from "./status.js";

const base: AgentStatus = {
  instance: "web",
  pid: 42,
  startedAt: "2026-11-25T06:00:00.000Z",
  groups: [],
  failedGroups: [],
};

test("a node that is a DR/TUN real server shows its prepared VIPs and what went wrong", () => {
  const text = formatStatus({
    ...base,
    realServer: { prepared: ["198.51.100.201", "2001:db8::201"], message: "tunl0: no ipip module" },
  });
  assert.match(text, /^real server: VIPs prepared 198\.51\.100\.201,2001:db8::201; tunl0: no ipip module$/m);
  assert.match(formatStatus({ ...base, realServer: { prepared: [] } }), /^real server: VIPs prepared none$/m);
  assert.doesNotMatch(formatStatus(base), /real server/);
});
