// The check scheduler on a fake clock: one timer for thousands of checks, bounded concurrency,
// each check's own next delay, removal aborting a running check, first runs spread by jitter.
import assert from "node:assert/strict";
import { test } from "node:test";
import { setImmediate as tick } from "node:timers/promises";
import { CheckScheduler, firstDelay, type SchedulerClock } from "./scheduler.js";

class FakeClock implements SchedulerClock {
  time = 0;
  private timers = new Map<number, { at: number; callback: () => void }>();
  private next = 0;
  maxArmed = 0;

  now(): number {
    return this.time;
  }
  setTimer(callback: () => void, delayMs: number): unknown {
    const id = this.next++;
    this.timers.set(id, { at: this.time + Math.max(0, delayMs), callback });
    this.maxArmed = Math.max(this.maxArmed, this.timers.size);
    return id;
  }
  clearTimer(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get armed(): number {
    return this.timers.size;
  }
  /** Moves time forward in steps, firing due timers and letting promise callbacks run. */
  async advance(ms: number, step = 10): Promise<void> {
    const end = this.time + ms;
    while (this.time < end) {
      this.time = Math.min(end, this.time + step);
      for (const [id, timer] of [...this.timers].sort((a, b) => a[1].at - b[1].at)) {
        if (timer.at > this.time) continue;
        this.timers.delete(id);
        timer.callback();
      }
      for (let i = 0; i < 5; i++) await tick();
    }
  }
}

test("5,000 checks run on their interval from one timer, never more than maxConcurrent at once", async () => {
  const clock = new FakeClock();
  const scheduler = new CheckScheduler({ clock, maxConcurrent: 64 });
  const runs = new Map<string, number[]>();
  let concurrent = 0;
  let maxConcurrent = 0;
  for (let i = 0; i < 5000; i++) {
    const id = `check-${i}`;
    runs.set(id, []);
    scheduler.add(
      {
        id,
        run: async () => {
          concurrent++;
          maxConcurrent = Math.max(maxConcurrent, concurrent);
          runs.get(id)!.push(clock.now());
          await tick();
          concurrent--;
          return 1000;
        },
      },
      firstDelay(1000, undefined, () => i / 5000),
    );
  }
  await clock.advance(5000);
  assert.equal(clock.maxArmed, 1, "one timer at a time");
  assert.ok(maxConcurrent <= 64, `concurrency ${maxConcurrent}`);
  assert.ok(maxConcurrent > 1, "checks do run in parallel");
  for (const [id, times] of runs) {
    assert.ok(times.length >= 4 && times.length <= 6, `${id} ran ${times.length} times`);
    for (let i = 1; i < times.length; i++) {
      const gap = times[i]! - times[i - 1]!;
      assert.ok(gap >= 1000 && gap <= 1100, `${id}: gap ${gap}`);
    }
  }
  assert.equal(scheduler.stats().checks, 5000);
  scheduler.stop();
  assert.equal(clock.armed, 0);
});

test("a check's returned delay is its next due time (retry delay vs interval)", async () => {
  const clock = new FakeClock();
  const scheduler = new CheckScheduler({ clock });
  const times: number[] = [];
  const delays = [200, 200, 1000, 1000];
  scheduler.add(
    { id: "a", run: () => (times.push(clock.now()), Promise.resolve(delays.shift() ?? 1000)) },
    0,
  );
  await clock.advance(2500);
  assert.deepEqual(times, [10, 210, 410, 1410, 2410]);
  scheduler.stop();
});

test("saturation queues checks in order and reports the lag", async () => {
  const clock = new FakeClock();
  const scheduler = new CheckScheduler({ clock, maxConcurrent: 2 });
  const releases: (() => void)[] = [];
  const started: string[] = [];
  for (const id of ["a", "b", "c", "d"]) {
    scheduler.add(
      {
        id,
        run: () =>
          new Promise<number>((resolve) => {
            started.push(id);
            releases.push(() => resolve(10_000));
          }),
      },
      0,
    );
  }
  await clock.advance(10);
  assert.deepEqual(started, ["a", "b"]);
  assert.deepEqual(
    { running: scheduler.stats().running, waiting: scheduler.stats().waiting },
    { running: 2, waiting: 2 },
  );
  await clock.advance(500);
  releases.shift()!();
  await clock.advance(10);
  assert.deepEqual(started, ["a", "b", "c"]);
  assert.ok(scheduler.stats().maxLagMs >= 500);
  scheduler.stop();
});

test("removing a check aborts its run and it never runs again; re-adding replaces it", async () => {
  const clock = new FakeClock();
  const scheduler = new CheckScheduler({ clock });
  let aborted = false;
  let runs = 0;
  scheduler.add(
    {
      id: "x",
      run: (signal) =>
        new Promise<number>((resolve) => {
          runs++;
          signal.addEventListener("abort", () => {
            aborted = true;
            resolve(100);
          });
        }),
    },
    0,
  );
  await clock.advance(20);
  scheduler.remove("x");
  await clock.advance(500);
  assert.equal(aborted, true);
  assert.equal(runs, 1);
  assert.equal(scheduler.has("x"), false);
  assert.equal(clock.armed, 0);

  let replaced = 0;
  scheduler.add({ id: "x", run: () => (replaced++, Promise.resolve(100)) }, 0);
  await clock.advance(250);
  assert.equal(replaced, 3);
  scheduler.stop();
});

test("a check that throws is reported and kept, at a slow pace", async () => {
  const clock = new FakeClock();
  const errors: string[] = [];
  const scheduler = new CheckScheduler({
    clock,
    onError: (id, e) => errors.push(`${id}: ${(e as Error).message}`),
  });
  scheduler.add({ id: "bug", run: () => Promise.reject(new Error("boom")) }, 0);
  await clock.advance(10_050, 50);
  assert.deepEqual(errors, ["bug: boom", "bug: boom"]);
  scheduler.stop();
});

test("first delays: within warmup when set, else within min(interval, 1 s)", () => {
  assert.equal(
    firstDelay(6000, undefined, () => 0.999),
    999,
  );
  assert.equal(
    firstDelay(200, undefined, () => 0.5),
    100,
  );
  assert.equal(
    firstDelay(6000, 30_000, () => 0.5),
    15_000,
  );
  assert.equal(
    firstDelay(6000, 0, () => 0.5),
    0,
  );
});
