import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualScheduler } from "../../operator/testing/manual-scheduler.js";
import { ReportScheduler } from "./report-scheduler.js";

/** Lets the scheduler's promise chains run (the write itself is synchronous here). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function harness(options: { failUntil?: number } = {}) {
  const scheduler = new ManualScheduler();
  const writes: number[] = [];
  const errors: number[] = [];
  let calls = 0;
  const reporter = new ReportScheduler({
    scheduler,
    minIntervalMs: 200,
    heartbeatMs: 30_000,
    retry: { initialMs: 500, maxMs: 4000 },
    onError: (_e, retryInMs) => errors.push(retryInMs),
    write: async () => {
      calls++;
      if (calls <= (options.failUntil ?? 0)) throw new Error("API server unreachable");
      writes.push(scheduler.now());
    },
  });
  return { scheduler, writes, errors, reporter };
}

test("changes within the minimum interval are coalesced into one write", async () => {
  const { scheduler, writes, reporter } = harness();
  reporter.start();
  scheduler.advance(0);
  await settle();
  assert.deepEqual(writes, [0]);
  for (let t = 0; t < 5; t++) {
    scheduler.advance(10);
    reporter.request();
  }
  await settle();
  assert.deepEqual(writes, [0], "no second write before 200 ms");
  scheduler.advance(150);
  await settle();
  assert.deepEqual(writes, [0, 200], "one write for five changes, at the interval");
  await reporter.stop();
});

test("a change after a quiet period is written at once; otherwise a heartbeat every 30 s", async () => {
  const { scheduler, writes, reporter } = harness();
  reporter.start();
  scheduler.advance(0);
  await settle();
  scheduler.advance(5000);
  reporter.request();
  scheduler.advance(0);
  await settle();
  assert.deepEqual(writes, [0, 5000]);
  scheduler.advance(30_000);
  await settle();
  scheduler.advance(30_000);
  await settle();
  assert.deepEqual(writes, [0, 5000, 35_000, 65_000]);
  await reporter.stop();
  scheduler.advance(60_000);
  await settle();
  assert.equal(writes.length, 4, "no write after stop()");
});

test("failed writes are retried with backoff, and a success resets it", async () => {
  const { scheduler, writes, errors, reporter } = harness({ failUntil: 3 });
  reporter.start();
  scheduler.advance(0);
  await settle();
  for (const step of [500, 1000, 2000]) {
    scheduler.advance(step);
    await settle();
  }
  assert.equal(errors.length, 3);
  assert.ok(
    errors.every((delay, i) => delay <= 500 * 2 ** i && delay >= 0.8 * 500 * 2 ** i),
    errors.join(", "),
  );
  assert.equal(writes.length, 1, "the fourth attempt succeeded");
  await reporter.stop();
});

test("flush writes now, even within the minimum interval", async () => {
  const { scheduler, writes, reporter } = harness();
  reporter.start();
  scheduler.advance(0);
  await settle();
  scheduler.advance(50);
  await reporter.flush();
  assert.deepEqual(writes, [0, 50]);
  await reporter.stop();
});
