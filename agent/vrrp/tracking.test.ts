import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resolveInstanceConfig } from "./config.js";
import type { TrackedScriptConfig } from "./config.js";
import { GarpSchedule } from "./garp.js";
import { PriorityTracker } from "./tracking.js";

function script(overrides: Partial<TrackedScriptConfig> & { name: string }): TrackedScriptConfig {
  const config = resolveInstanceConfig({
    name: "VI_1",
    interface: "eth0",
    vrid: 1,
    virtualAddresses: [{ address: "198.51.100.254", prefixLength: 24 }],
    primaryAddress: "198.51.100.1",
    trackScripts: [{ command: "/bin/check", ...overrides }],
  });
  return config.trackScripts[0]!;
}

describe("PriorityTracker: interfaces (keepalived track_interface)", () => {
  test("weight 0: down ⇒ Fault; reverse: up ⇒ Fault", () => {
    const t = new PriorityTracker(
      100,
      [
        { name: "eth1", weight: 0, reverse: false },
        { name: "eth2", weight: 0, reverse: true },
      ],
      [],
    );
    assert.deepEqual(t.status().faults, [
      "interface eth1: state not known yet",
      "interface eth2: state not known yet",
    ]);
    t.interfaceChanged("eth1", true);
    t.interfaceChanged("eth2", false);
    assert.deepEqual(t.status(), { effectivePriority: 100, faults: [] });
    t.interfaceChanged("eth1", false);
    t.interfaceChanged("eth2", true);
    assert.deepEqual(t.status().faults, ["interface eth1 is down", "interface eth2 is up (reverse)"]);
  });

  test("positive weight adds while up, negative subtracts while down, reverse turns it around", () => {
    const t = new PriorityTracker(
      100,
      [
        { name: "up10", weight: 10, reverse: false },
        { name: "down20", weight: -20, reverse: false },
        { name: "rev5", weight: 5, reverse: true },
        { name: "rev7", weight: -7, reverse: true },
      ],
      [],
    );
    assert.equal(t.status().effectivePriority, 100, "unknown states contribute nothing");
    for (const name of ["up10", "down20", "rev5", "rev7"]) t.interfaceChanged(name, true);
    assert.equal(t.status().effectivePriority, 100 + 10 - 5);
    for (const name of ["up10", "down20", "rev5", "rev7"]) t.interfaceChanged(name, false);
    assert.equal(t.status().effectivePriority, 100 - 20 + 7);
    assert.equal(t.interfaceChanged("eth9", false), false, "untracked interfaces are ignored");
  });

  test("clamped to 1..254; an owner (255) never moves", () => {
    const low = new PriorityTracker(10, [{ name: "eth1", weight: -50, reverse: false }], []);
    low.interfaceChanged("eth1", false);
    assert.equal(low.status().effectivePriority, 1);
    const high = new PriorityTracker(250, [{ name: "eth1", weight: 50, reverse: false }], []);
    high.interfaceChanged("eth1", true);
    assert.equal(high.status().effectivePriority, 254);
    const owner = new PriorityTracker(255, [{ name: "eth1", weight: -50, reverse: false }], []);
    owner.interfaceChanged("eth1", false);
    assert.equal(owner.status().effectivePriority, 255);
  });
});

describe("PriorityTracker: scripts (keepalived vrrp_script rise/fall)", () => {
  test("the first result decides; then fall failures to turn bad and rise successes to turn good", () => {
    const t = new PriorityTracker(100, [], [script({ name: "chk", rise: 3, fall: 2, weight: 20 })]);
    assert.equal(t.scriptHealth("chk"), "unknown");
    assert.equal(t.scriptResult("chk", true), true);
    assert.equal(t.status().effectivePriority, 120);
    const sequence: [boolean, "good" | "bad"][] = [
      [false, "good"],
      [true, "good"], // a success while falling restarts the fall count
      [false, "good"],
      [false, "bad"], // 2 consecutive failures
      [true, "bad"],
      [true, "bad"],
      [false, "bad"], // a failure while rising restarts the rise count
      [true, "bad"],
      [true, "bad"],
      [true, "good"], // 3 consecutive successes
    ];
    for (const [ok, health] of sequence) {
      t.scriptResult("chk", ok);
      assert.equal(t.scriptHealth("chk"), health);
      assert.equal(t.status().effectivePriority, health === "good" ? 120 : 100);
    }
  });

  test("negative weight subtracts while failing; weight 0 faults while failing; init_fail starts bad", () => {
    const t = new PriorityTracker(
      100,
      [],
      [
        script({ name: "minus", weight: -30 }),
        script({ name: "gate", weight: 0 }),
        script({ name: "late", weight: 0, initFail: true, rise: 2 }),
      ],
    );
    assert.deepEqual(t.status().faults, ["script gate: state not known yet", "script late failed"]);
    t.scriptResult("minus", false);
    t.scriptResult("gate", true);
    t.scriptResult("late", true);
    assert.deepEqual(t.status(), { effectivePriority: 70, faults: ["script late failed"] });
    t.scriptResult("late", true);
    assert.deepEqual(t.status(), { effectivePriority: 70, faults: [] });
    t.scriptResult("minus", true);
    t.scriptResult("gate", false);
    assert.deepEqual(t.status(), { effectivePriority: 100, faults: ["script gate failed"] });
  });

  test("reconfigure keeps known states and re-clamps counters to the new rise/fall", () => {
    const t = new PriorityTracker(
      100,
      [{ name: "eth1", weight: 10, reverse: false }],
      [script({ name: "chk", rise: 1, fall: 5, weight: 20 })],
    );
    t.interfaceChanged("eth1", true);
    t.scriptResult("chk", true);
    assert.equal(t.status().effectivePriority, 130);
    t.reconfigure(
      90,
      [{ name: "eth1", weight: 10, reverse: false }],
      [script({ name: "chk", rise: 1, fall: 1, weight: 20 })],
    );
    assert.equal(t.status().effectivePriority, 120);
    t.scriptResult("chk", false);
    assert.equal(t.scriptHealth("chk"), "bad", "fall is now 1");
    t.reconfigure(90, [], [script({ name: "other" })]);
    assert.equal(t.scriptHealth("chk"), "unknown", "dropped scripts are forgotten");
    assert.equal(t.status().effectivePriority, 90);
  });
});

describe("GarpSchedule", () => {
  test("burst now, the same burst after the delay once, refresh when due and every period after", () => {
    const garp = new GarpSchedule({
      masterRepeat: 5,
      masterDelayMs: 5000,
      masterRefreshMs: 3000,
      masterRefreshRepeat: 2,
      intervalMs: 0,
    });
    const plan = garp.onBecomeMaster(1_000_000);
    assert.deepEqual(plan, {
      now: { reason: "become-master", repeat: 5, spacingMs: 0 },
      delayedAtUs: 6_000_000,
    });
    assert.equal(garp.refreshDueUs, 4_000_000);
    assert.equal(garp.onRefreshTimer(3_999_999), undefined, "not yet due");
    assert.deepEqual(garp.onRefreshTimer(4_000_000), { reason: "refresh", repeat: 2, spacingMs: 0 });
    assert.equal(garp.refreshDueUs, 7_000_000, "the next period starts at the refresh");
    assert.equal(garp.onRefreshTimer(6_500_000), undefined);
    assert.deepEqual(garp.onDelayElapsed(), { reason: "master-delay", repeat: 5, spacingMs: 0 });
    assert.equal(garp.onDelayElapsed(), undefined, "only once");
    garp.onLeaveMaster();
    assert.equal(garp.refreshDueUs, undefined);
    assert.equal(garp.onRefreshTimer(100_000_000), undefined);
  });

  test("repeat 0 sends nothing; refresh can be switched on while Master", () => {
    const garp = new GarpSchedule({
      masterRepeat: 0,
      masterDelayMs: 5000,
      masterRefreshMs: 0,
      masterRefreshRepeat: 1,
      intervalMs: 0,
    });
    assert.deepEqual(garp.onBecomeMaster(0), { now: undefined, delayedAtUs: undefined });
    garp.reconfigure(
      { masterRepeat: 0, masterDelayMs: 5000, masterRefreshMs: 1000, masterRefreshRepeat: 1, intervalMs: 0 },
      500_000,
    );
    assert.equal(garp.refreshDueUs, 1_500_000);
    assert.deepEqual(garp.onRefreshTimer(1_500_000), { reason: "refresh", repeat: 1, spacingMs: 0 });
  });
});
