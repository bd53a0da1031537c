// MonotonicTimer (timerfd, unprivileged) and its PreciseTimer wrapper: deadlines are never early,
// one fire per arm, re-arm replaces, disarm drops even an expiry already due, argument checks,
// and the event-loop rule (armed keeps Node alive, unarmed does not).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { tierOptions } from "../e2e/requirements.js";
import { addonPath, loadAddon, type MonotonicTimer } from "./addon.js";

const missingAddon = existsSync(addonPath())
  ? undefined
  : `addon not built at ${addonPath()} (npm run build:native)`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A started timer that records the monotonic time of each fire. */
function recordingTimer(): { timer: MonotonicTimer; fires: number[] } {
  const { MonotonicTimer, monotonicNowMs } = loadAddon();
  const timer = new MonotonicTimer();
  const fires: number[] = [];
  timer.start(
    () => fires.push(monotonicNowMs()),
    (error) => assert.fail(error),
  );
  return { timer, fires };
}

/** Runs an ES module snippet in a fresh Node and returns its stdout; throws if it does not exit within 5 s. */
function runSnippet(code: string): string {
  return execFileSync(process.execPath, ["--input-type=module", "-e", code], {
    cwd: fileURLToPath(new URL(".", import.meta.url)),
    encoding: "utf8",
    timeout: 5000,
  });
}

describe("MonotonicTimer", tierOptions(missingAddon), () => {
  test("monotonicNowMs is process.hrtime's clock, not performance.now's", () => {
    const { monotonicNowMs } = loadAddon();
    const hrtime = Number(process.hrtime.bigint()) / 1e6;
    const now = monotonicNowMs();
    assert.ok(Math.abs(now - hrtime) < 50, `${now} vs hrtime ${hrtime}`);
    assert.ok(Math.abs(now - performance.now()) > 1000 || now < 1000, "performance.now is offset");
    assert.ok(monotonicNowMs() >= now);
  });

  test("never fires before its deadline, and fires once per arm", async () => {
    const { monotonicNowMs } = loadAddon();
    const { timer, fires } = recordingTimer();
    try {
      for (let i = 0; i < 40; i++) {
        // sub-millisecond offsets: exactly what setTimeout cannot express
        const deadline = monotonicNowMs() + 0.5 + Math.random() * 3;
        timer.arm(deadline);
        const count = fires.length;
        while (fires.length === count) await sleep(1);
        assert.ok(fires.at(-1)! >= deadline, `fired at ${fires.at(-1)} before deadline ${deadline}`);
      }
      await sleep(20);
      assert.equal(fires.length, 40);
    } finally {
      timer.close();
    }
  });

  test("re-arming replaces the deadline, later or earlier", async () => {
    const { monotonicNowMs } = loadAddon();
    const { timer, fires } = recordingTimer();
    try {
      const start = monotonicNowMs();
      timer.arm(start + 5);
      timer.arm(start + 60);
      await sleep(120);
      assert.equal(fires.length, 1);
      assert.ok(fires[0]! >= start + 60);

      const again = monotonicNowMs();
      timer.arm(again + 10_000);
      timer.arm(again + 5);
      await sleep(100);
      assert.equal(fires.length, 2, "the earlier deadline replaced the later one");
      assert.ok(fires[1]! >= again + 5);
    } finally {
      timer.close();
    }
  });

  test("disarm cancels, even an expiry that is already due but not yet delivered", async () => {
    const { monotonicNowMs } = loadAddon();
    const { timer, fires } = recordingTimer();
    try {
      timer.arm(monotonicNowMs() + 5);
      timer.disarm();
      timer.arm(monotonicNowMs() - 1000); // expires at once, inside the kernel
      const spin = monotonicNowMs() + 2;
      while (monotonicNowMs() < spin); // the event loop has not run: the expiry is pending
      timer.disarm();
      await sleep(50);
      assert.deepEqual(fires, []);
      timer.disarm(); // disarming an unarmed timer is fine
    } finally {
      timer.close();
    }
  });

  test("a deadline in the past, or 0, fires at once", async () => {
    const { monotonicNowMs } = loadAddon();
    const { timer, fires } = recordingTimer();
    try {
      const before = monotonicNowMs();
      timer.arm(before - 500);
      await sleep(30);
      timer.arm(0);
      await sleep(30);
      assert.equal(fires.length, 2);
      assert.ok(fires[0]! - before < 30, `the past deadline fired ${fires[0]! - before} ms later`);
    } finally {
      timer.close();
    }
  });

  test("close is idempotent; a closed timer refuses arm() and ignores disarm()", () => {
    const { timer } = recordingTimer();
    timer.arm(loadAddon().monotonicNowMs() + 1000);
    timer.close();
    timer.close();
    assert.equal(timer.closed, true);
    timer.disarm();
    assert.throws(() => timer.arm(1), /arm\(deadlineMs\): timer timerfd \(CLOCK_MONOTONIC\) is closed/);
  });

  test("bad arguments throw TypeError / RangeError naming the argument and the clock", () => {
    const { MonotonicTimer } = loadAddon();
    const timer = new MonotonicTimer();
    try {
      assert.throws(
        () => timer.arm("5" as unknown as number),
        (e: unknown) =>
          e instanceof TypeError && e.message === "arm(deadlineMs): deadlineMs must be a number",
      );
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -1, 1e13]) {
        assert.throws(
          () => timer.arm(bad),
          (e: unknown) =>
            e instanceof RangeError &&
            e.message.startsWith(
              "arm(deadlineMs): deadlineMs must be a finite number of milliseconds >= 0 on the monotonicNowMs() clock, got ",
            ) &&
            e.message.endsWith(String(bad)),
        );
      }
      assert.throws(() => timer.start(() => undefined, "x" as unknown as () => void), TypeError);
    } finally {
      timer.close();
    }
  });

  test("a worker that ends with an armed timer still polling tears down cleanly", () => {
    const output = runSnippet(`
      import { Worker } from "node:worker_threads";
      const body = \`
        const { parentPort } = await import("node:worker_threads");
        const { loadAddon } = await import(\${JSON.stringify(new URL("./addon.js", import.meta.url).href)});
        const { MonotonicTimer, monotonicNowMs } = loadAddon();
        const timer = new MonotonicTimer();
        timer.start(() => {}, () => {});
        timer.arm(monotonicNowMs() + 60000);
        parentPort.postMessage("armed");\`;
      const worker = new Worker(new URL("data:text/javascript," + encodeURIComponent(body)));
      worker.on("message", async (m) => { console.log(m); await worker.terminate(); console.log("terminated"); });`);
    assert.deepEqual(output.trim().split("\n"), ["armed", "terminated"]);
  });

  test("PreciseTimer: an armed timer keeps Node alive until it fires; an unarmed or disarmed one does not", () => {
    const fired = runSnippet(`
      import { loadAddon } from "./addon.js";
      import { MonotonicPreciseTimer } from "./monotonic-timer.js";
      const { monotonicNowMs } = loadAddon();
      const deadline = monotonicNowMs() + 100;
      const timer = new MonotonicPreciseTimer(() => console.log(monotonicNowMs() >= deadline ? "fired" : "early"));
      timer.arm(deadline);`);
    assert.equal(fired.trim(), "fired", "the process waited for the armed timer and then exited");

    const idle = runSnippet(`
      import { MonotonicPreciseTimer } from "./monotonic-timer.js";
      const timer = new MonotonicPreciseTimer(() => console.log("fired"));
      const other = new MonotonicPreciseTimer(() => console.log("fired"));
      other.arm(Number(process.hrtime.bigint()) / 1e6 + 60_000);
      other.disarm();
      console.log("exiting");`);
    assert.equal(idle.trim(), "exiting");

    const rearmedFromFire = runSnippet(`
      import { MonotonicPreciseTimer } from "./monotonic-timer.js";
      let count = 0;
      const timer = new MonotonicPreciseTimer(() => {
        count++;
        if (count < 3) timer.arm(0);
        else console.log("fired " + count);
      });
      timer.arm(0);`);
    assert.equal(rearmedFromFire.trim(), "fired 3");
  });
});
