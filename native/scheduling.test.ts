// Real-time scheduling of the event-loop thread (keepalived's vrrp_rt_priority). Runs in a child
// process so that the test runner itself never becomes a real-time task.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { missingRoot, tierOptions } from "../e2e/requirements.js";
import { loadAddon } from "./addon.js";

const addonModule = fileURLToPath(new URL("./addon.js", import.meta.url));

/** Runs `body` (with `addon` in scope) in a fresh node process; returns its stdout. */
function inChild(body: string): string {
  const script = `const { loadAddon } = await import(${JSON.stringify(addonModule)}); const addon = loadAddon(); ${body}`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/** The scheduling policy and priority of the child's main thread, read back from /proc. */
const READ_POLICY = `
const { readFileSync } = await import("node:fs");
const sched = readFileSync("/proc/self/task/" + process.pid + "/sched", "utf8");
const policy = /^policy\\s*:\\s*(\\d+)/m.exec(sched)[1];
const prio = /^prio\\s*:\\s*(\\d+)/m.exec(sched)[1];
console.log(policy + " " + prio);`;

describe("setRealtimePriority", () => {
  test("rejects what is not 0 or 1..99 with a clear message", () => {
    const addon = loadAddon();
    assert.throws(
      () => addon.setRealtimePriority(100),
      /priority must be 0 \(ordinary scheduling\) or an integer in 1\.\.99/,
    );
    assert.throws(() => addon.setRealtimePriority(1.5), RangeError);
    assert.throws(() => addon.setRealtimePriority(-1), RangeError);
    assert.throws(() => (addon.setRealtimePriority as (p: unknown) => void)("10"), TypeError);
  });

  test(
    "SCHED_FIFO for the event-loop thread, reset on fork, and back to ordinary with 0",
    // CAP_SYS_NICE: skipped outside CI without root, a failure under CI
    tierOptions(missingRoot()),
    () => {
      // policy 1 = SCHED_FIFO; the kernel's prio for real-time priority p is 99 - p
      assert.equal(inChild(`addon.setRealtimePriority(10); ${READ_POLICY}`), "1 89");
      assert.equal(
        inChild(`addon.setRealtimePriority(10); addon.setRealtimePriority(0); ${READ_POLICY}`),
        "0 120",
      );
      // a process started by the real-time thread runs as an ordinary task
      const child = inChild(
        `addon.setRealtimePriority(10); const { execFileSync } = await import("node:child_process"); ` +
          `console.log(execFileSync("sh", ["-c", "grep -E '^policy' /proc/self/sched"], { encoding: "utf8" }).trim());`,
      );
      assert.match(child, /^policy\s*:\s*0$/);
    },
  );
});
