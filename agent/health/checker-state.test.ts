// keepalived's checker semantics, rule by rule: retries and their delay, down without retries,
// alpha (initially unhealthy), first-verdict notifications, dynamic weight.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CheckerState } from "./checker-state.js";
import { checkTiming } from "./probe.js";

const timing = checkTiming({ type: "TCP", intervalMillis: 1000, retries: 2, retryDelayMillis: 200 });
const ok = { healthy: true, message: "ok" };
const bad = { healthy: false, message: "refused" };

test("API defaults are keepalived's: 6 s interval, 5 s timeout, 1 retry after 1 s, no warmup", () => {
  assert.deepEqual(checkTiming({ type: "TCP" }), {
    intervalMs: 6000,
    timeoutMs: 5000,
    retries: 1,
    retryDelayMs: 1000,
    warmupMs: undefined,
  });
});

test("a healthy server is marked down after 1 + retries failures, retried after the retry delay", () => {
  const state = new CheckerState(timing, true);
  assert.deepEqual(state.record(ok), { weightChanged: false, nextDelayMs: 1000 });
  assert.deepEqual(state.record(bad), { weightChanged: false, nextDelayMs: 200 });
  assert.equal(state.lastMessage, "refused (retry 1 of 2)");
  assert.deepEqual(state.record(bad), { weightChanged: false, nextDelayMs: 200 });
  assert.equal(state.healthy, true);
  assert.deepEqual(state.record(bad), { notify: "down", weightChanged: false, nextDelayMs: 1000 });
  assert.equal(state.healthy, false);
  // While down: no retries, no repeated notification.
  assert.deepEqual(state.record(bad), { weightChanged: false, nextDelayMs: 1000 });
  // One success brings it back.
  assert.deepEqual(state.record(ok), { notify: "up", weightChanged: false, nextDelayMs: 1000 });
  assert.equal(state.healthy, true);
});

test("a success between failures resets the retries", () => {
  const state = new CheckerState(timing, true);
  state.record(bad);
  state.record(bad);
  state.record(ok);
  state.record(bad);
  state.record(bad);
  assert.equal(state.healthy, true);
});

test("retries 0: the first failure marks the server down", () => {
  const state = new CheckerState(checkTiming({ type: "TCP", retries: 0 }), true);
  assert.equal(state.record(bad).notify, "down");
});

test("initially unhealthy (alpha): down until the first success; a first failure notifies down once", () => {
  const up = new CheckerState(timing, false);
  assert.equal(up.healthy, false);
  assert.deepEqual(up.record(ok), { notify: "up", weightChanged: false, nextDelayMs: 1000 });

  const down = new CheckerState(timing, false);
  assert.equal(down.record(bad).nextDelayMs, 200, "the first verdict uses the retries, as keepalived");
  down.record(bad);
  assert.deepEqual(down.record(bad), { notify: "down", weightChanged: false, nextDelayMs: 1000 });
  assert.deepEqual(down.record(bad), { weightChanged: false, nextDelayMs: 1000 });
});

test("initially healthy: a first success does not notify", () => {
  const state = new CheckerState(timing, true);
  assert.equal(state.record(ok).notify, undefined);
  assert.ok(state.checked);
});

test("dynamic weight: a healthy result with a weight changes it; a failure forgets it", () => {
  const state = new CheckerState(timing, true);
  assert.equal(state.record({ healthy: true, message: "exit 7", weight: 5 }).weightChanged, true);
  assert.equal(state.weight, 5);
  assert.equal(state.record({ healthy: true, message: "exit 7", weight: 5 }).weightChanged, false);
  assert.equal(state.record(ok).weightChanged, true);
  assert.equal(state.weight, undefined);
});
