// Three routers on a simulated LAN: real encoder → wire → real decoder and validation, one fake clock.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { VrrpInstanceConfigInput } from "./config.js";
import { FakeClock } from "./fake-clock.js";
import { testConfig } from "./harness.js";
import { SimulatedLan } from "./simulated-lan.js";

interface Scenario {
  readonly name: string;
  readonly version: 2 | 3;
  readonly intervalMs: number;
  readonly ipv6?: boolean;
  readonly unicast?: boolean;
  /** Master_Down_Interval of priority 150 and 100, Skew_Time of 100 (hand-computed, integer µs). */
  readonly mdi150: number;
  readonly mdi100: number;
  readonly skew100: number;
}

const scenarios: Scenario[] = [
  {
    name: "VRRPv2, 1 s, multicast",
    version: 2,
    intervalMs: 1000,
    mdi150: 3414.062,
    mdi100: 3609.375,
    skew100: 609.375,
  },
  {
    name: "VRRPv2, 1 s, unicast",
    version: 2,
    intervalMs: 1000,
    unicast: true,
    mdi150: 3414.062,
    mdi100: 3609.375,
    skew100: 609.375,
  },
  { name: "VRRPv3, 50 ms", version: 3, intervalMs: 50, mdi150: 170.703, mdi100: 180.468, skew100: 30.468 },
  { name: "VRRPv3, 10 ms", version: 3, intervalMs: 10, mdi150: 34.14, mdi100: 36.093, skew100: 6.093 },
  {
    name: "VRRPv3, 50 ms, IPv6",
    version: 3,
    intervalMs: 50,
    ipv6: true,
    mdi150: 170.703,
    mdi100: 180.468,
    skew100: 30.468,
  },
];

/** Times in whole microseconds, as the core computes them. */
function ms(...parts: number[]): number {
  return parts.reduce((sum, part) => sum + Math.round(part * 1000), 0) / 1000;
}

function lan(s: Scenario): { clock: FakeClock; net: SimulatedLan; addresses: string[] } {
  const clock = new FakeClock();
  const net = new SimulatedLan(clock);
  const addresses = s.ipv6
    ? ["fe80::1", "fe80::2", "fe80::3"]
    : ["198.51.100.1", "198.51.100.2", "198.51.100.3"];
  const vip = s.ipv6
    ? { address: "2001:db8::254", prefixLength: 64 }
    : { address: "198.51.100.254", prefixLength: 24 };
  [150, 100, 50].forEach((priority, i) => {
    const primary = addresses[i]!;
    const overrides: Partial<VrrpInstanceConfigInput> = {
      name: `n${i + 1}`,
      version: s.version,
      advertIntervalMs: s.intervalMs,
      priority,
      primaryAddress: primary,
      virtualAddresses: [vip],
      unicastPeers: s.unicast ? addresses.filter((a) => a !== primary) : [],
    };
    net.addNode(testConfig(overrides));
  });
  return { clock, net, addresses };
}

/** Runs the clock to `untilMs`, checking between distinct instants that at most one live node holds the address. */
function runChecked(clock: FakeClock, net: SimulatedLan, untilMs: number): void {
  for (let next = clock.nextAt(); next !== undefined && next <= untilMs; next = clock.nextAt()) {
    clock.step();
    if (clock.nextAt() !== clock.now()) {
      const holders = net.holders();
      assert.ok(holders.length <= 1, `at ${clock.now()} ms the address is held by ${holders.join(" and ")}`);
    }
  }
  clock.advanceTo(untilMs);
}

function becameMasterAt(net: SimulatedLan, name: string): number[] {
  return net
    .node(name)
    .sink.transitions()
    .filter((t) => t.to === "master")
    .map((t) => t.atMs);
}

describe("three routers on a simulated LAN", () => {
  for (const s of scenarios) {
    test(`${s.name}: elect the highest priority, fail over on crash, fail back with preempt, fail over on resign`, () => {
      const { clock, net, addresses } = lan(s);
      const i = s.intervalMs;
      for (const name of ["n1", "n2", "n3"]) net.node(name).instance.start();

      // election: n1 (150) has the shortest Master_Down_Interval; the others hear it and stay Backup
      runChecked(clock, net, 20 * i);
      assert.deepEqual(becameMasterAt(net, "n1"), [s.mdi150]);
      assert.deepEqual(net.holders(), ["n1"]);
      for (const name of ["n2", "n3"]) {
        const status = net.node(name).instance.status();
        assert.equal(status.state, "backup");
        assert.equal(status.masterAddress, addresses[0]);
        assert.equal(status.masterPriority, 150);
      }

      // crash n1 half an interval after one of its adverts: n2 takes over Master_Down_Interval after that advert
      const lastAdvert = ms(s.mdi150, 25 * i);
      const crashAt = ms(lastAdvert, i / 2);
      runChecked(clock, net, crashAt);
      assert.equal(net.wire.filter((p) => p.from === "n1").at(-1)!.atMs, lastAdvert);
      net.crash("n1");
      runChecked(clock, net, ms(crashAt, 5 * s.mdi100));
      const takeover = becameMasterAt(net, "n2");
      assert.deepEqual(takeover, [ms(lastAdvert, s.mdi100)]);
      assert.ok(takeover[0]! - crashAt <= s.mdi100, "within Master_Down_Interval of the crash");
      assert.deepEqual(net.holders(), ["n2"]);
      assert.equal(net.node("n3").instance.state, "backup");
      assert.equal(net.node("n3").instance.status().masterAddress, addresses[1]);

      // n1 boots again: it discards n2's lower-priority adverts and preempts after its own Master_Down_Interval
      const bootAt = clock.now();
      net.reboot("n1").instance.start();
      runChecked(clock, net, ms(bootAt, 3 * s.mdi150));
      assert.deepEqual(becameMasterAt(net, "n1"), [ms(bootAt, s.mdi150)]);
      assert.equal(net.node("n1").sink.transitions().at(-1)!.reason, "preempt");
      const fellBack = net.node("n2").sink.transitions().at(-1)!;
      assert.deepEqual(
        [fellBack.to, fellBack.reason, fellBack.atMs],
        ["backup", "higher-priority", ms(bootAt, s.mdi150)],
      );
      assert.deepEqual(net.holders(), ["n1"]);

      // SIGTERM on n1: priority 0, n2 takes over after its Skew_Time
      const stopAt = ms(clock.now(), i / 4);
      runChecked(clock, net, stopAt);
      net.node("n1").instance.stop();
      assert.equal(net.wire.at(-1)!.advert.priority, 0);
      runChecked(clock, net, ms(stopAt, 2 * s.mdi100));
      assert.equal(becameMasterAt(net, "n2").at(-1), ms(stopAt, s.skew100));
      assert.equal(net.node("n2").sink.transitions().at(-1)!.reason, "master-resigned");
      assert.deepEqual(net.holders(), ["n2"]);
      assert.equal(net.node("n3").instance.state, "backup", "n3 (50) never became Master");
      assert.equal(becameMasterAt(net, "n3").length, 0);

      // nothing was dropped: every packet on the wire was valid for its receivers (the stopped n1 ignores n2's)
      for (const name of ["n1", "n2", "n3"]) {
        const drops = Object.entries(net.node(name).instance.counters.drops).filter(([, n]) => n > 0);
        const afterStop = net.wire.filter(
          (p) => p.from === "n2" && p.atMs >= stopAt && (!s.unicast || p.dst === addresses[0]),
        ).length;
        assert.deepEqual(drops, name === "n1" ? [["inactive", afterStop]] : [], `${name} dropped packets`);
      }
      if (s.unicast) assert.ok(net.wire.every((p) => !p.dst.startsWith("224.")));
    });
  }
});
