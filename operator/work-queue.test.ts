import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualScheduler } from "./testing/manual-scheduler.js";
import { WorkQueue } from "./work-queue.js";

test("a key added many times while waiting is handed out once", async () => {
  const queue = new WorkQueue();
  queue.add("a");
  queue.add("b");
  queue.add("a");
  assert.equal(queue.length, 2);
  assert.equal(await queue.get(), "a");
  assert.equal(await queue.get(), "b");
  assert.equal(queue.length, 0);
});

test("a key added while it is processed comes back once, after done()", async () => {
  const queue = new WorkQueue();
  queue.add("a");
  const key = await queue.get();
  queue.add("a");
  queue.add("a");
  assert.equal(queue.length, 0, "not handed to a second worker while the first runs");
  queue.done(key!);
  assert.equal(queue.length, 1);
  assert.equal(await queue.get(), "a");
  queue.done("a");
  assert.equal(queue.busy, false);
});

test("a waiting get() receives the next key added", async () => {
  const queue = new WorkQueue();
  const waiting = queue.get();
  queue.add("x");
  assert.equal(await waiting, "x");
  queue.add("x");
  assert.equal(queue.length, 0, "x is being processed: the add waits for done()");
});

test("failures back off exponentially per key until forget()", () => {
  const scheduler = new ManualScheduler();
  const queue = new WorkQueue({ baseRetryMs: 100, maxRetryMs: 1000, scheduler });
  assert.deepEqual(
    [1, 2, 3, 4, 5].map(() => queue.addRateLimited("k")),
    [100, 200, 400, 800, 1000],
  );
  assert.equal(queue.retries("k"), 5);
  assert.equal(queue.addRateLimited("other"), 100, "keys back off independently");
  queue.forget("k");
  assert.equal(queue.addRateLimited("k"), 100);
});

test("addAfter adds when due, and the earliest of two delayed adds wins", () => {
  const scheduler = new ManualScheduler();
  const queue = new WorkQueue({ scheduler });
  queue.addAfter("k", 500);
  queue.addAfter("k", 200);
  queue.addAfter("k", 900);
  assert.equal(scheduler.pendingTimers, 1);
  scheduler.advance(199);
  assert.equal(queue.length, 0);
  scheduler.advance(1);
  assert.equal(queue.length, 1);
  scheduler.advance(1000);
  assert.equal(queue.length, 1, "the later delayed adds were folded into the first");
});

test("shutDown releases waiting workers and drops delayed keys", async () => {
  const scheduler = new ManualScheduler();
  const queue = new WorkQueue({ scheduler });
  const waiting = queue.get();
  queue.addAfter("k", 100);
  queue.shutDown();
  assert.equal(await waiting, undefined);
  scheduler.advance(200);
  queue.add("k");
  assert.equal(queue.length, 0);
  assert.equal(await queue.get(), undefined);
});

test("urgent keys are handed out before the others", async () => {
  const queue = new WorkQueue({ urgent: (key) => key.startsWith("!") });
  for (const key of ["a", "b", "!x", "c", "!y"]) queue.add(key);
  const order: string[] = [];
  for (let i = 0; i < 5; i++) order.push((await queue.get())!);
  assert.deepEqual(order, ["!x", "!y", "a", "b", "c"]);
});
