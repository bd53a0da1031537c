import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DROP_REASONS } from "./counters.js";
import type { DropReason } from "./counters.js";
import { createHarness, packetFrom, testConfig, VIP } from "./harness.js";
import type { Harness } from "./harness.js";
import type { VrrpAdvert } from "./packet.js";

/** Runs the clock until the instance is Master; returns the time it happened. */
function runUntilMaster(h: Harness, limitMs = 60_000): number {
  assert.ok(
    h.clock.runUntil(() => h.instance.state === "master", limitMs),
    `still ${h.instance.state} at ${limitMs} ms`,
  );
  return h.clock.now();
}

/** Sums times the way the core does, in whole microseconds, so decimal results compare exactly. */
function ms(...parts: number[]): number {
  return parts.reduce((sum, part) => sum + Math.round(part * 1000), 0) / 1000;
}

function sentAdverts(h: Harness): { atMs: number; advert: VrrpAdvert }[] {
  return h.sink.of("sendAdvert").map(({ atMs, advert }) => ({ atMs, advert }));
}

describe("Backup → Master after exactly Master_Down_Interval", () => {
  // expected values are the RFC formulas worked out by hand, in keepalived's integer microseconds
  const cases: { version: 2 | 3; intervalMs: number; priority: number; expectedMs: number }[] = [
    { version: 2, intervalMs: 1000, priority: 1, expectedMs: 3996.093 },
    { version: 2, intervalMs: 1000, priority: 50, expectedMs: 3804.687 },
    { version: 2, intervalMs: 1000, priority: 100, expectedMs: 3609.375 },
    { version: 2, intervalMs: 1000, priority: 150, expectedMs: 3414.062 },
    { version: 2, intervalMs: 1000, priority: 254, expectedMs: 3007.812 },
    { version: 2, intervalMs: 3000, priority: 100, expectedMs: 9609.375 }, // v2 skew does not scale with the interval
    { version: 3, intervalMs: 1000, priority: 100, expectedMs: 3609.375 },
    { version: 3, intervalMs: 50, priority: 50, expectedMs: 190.234 },
    { version: 3, intervalMs: 50, priority: 100, expectedMs: 180.468 },
    { version: 3, intervalMs: 50, priority: 150, expectedMs: 170.703 },
    { version: 3, intervalMs: 10, priority: 50, expectedMs: 38.046 },
    { version: 3, intervalMs: 10, priority: 100, expectedMs: 36.093 },
    { version: 3, intervalMs: 10, priority: 150, expectedMs: 34.14 },
    { version: 3, intervalMs: 10, priority: 254, expectedMs: 30.078 },
  ];
  for (const { version, intervalMs, priority, expectedMs } of cases) {
    test(`v${version}, ${intervalMs} ms, priority ${priority}: ${expectedMs} ms after the last sign of a Master`, () => {
      const h = createHarness(testConfig({ version, advertIntervalMs: intervalMs, priority }));
      h.instance.start();
      assert.equal(h.instance.state, "backup");
      assert.equal(h.scheduler.deadline("master-down"), expectedMs);
      h.clock.advanceTo(expectedMs - 0.001);
      assert.equal(h.instance.state, "backup");
      assert.equal(runUntilMaster(h), expectedMs);
      assert.equal(h.sink.transitions().at(-1)?.reason, "master-down");

      // the same again, timed from a Master's last advert
      const start = 20 * intervalMs;
      const later = createHarness(testConfig({ version, advertIntervalMs: intervalMs, priority }));
      later.instance.start();
      for (let t = 0; t <= start; t += intervalMs) {
        later.clock.advanceTo(t);
        later.receive({ src: "198.51.100.1", priority: 255 });
      }
      assert.equal(later.instance.state, "backup");
      assert.equal(runUntilMaster(later, start + 20_000), ms(start, expectedMs));
    });
  }

  test("on becoming Master the first advert, the addresses and the gratuitous ARPs go out in the same millisecond, advert first", () => {
    const h = createHarness(testConfig({ version: 3, advertIntervalMs: 10 }));
    h.instance.start();
    const at = runUntilMaster(h);
    const burst = h.sink.actions.filter((a) => a.atMs === at).map((a) => a.type);
    assert.deepEqual(burst, ["sendAdvert", "becomeMaster", "announce", "transition"]);
    const first = h.sink.of("sendAdvert")[0]!;
    assert.equal(first.advert.priority, 100);
    assert.deepEqual(h.sink.of("becomeMaster")[0]!.addresses, [{ address: VIP, prefixLength: 24 }]);
    // the Master then advertises every Advertisement_Interval
    h.clock.advanceTo(at + 100);
    assert.deepEqual(
      sentAdverts(h).map((a) => Math.round((a.atMs - at) * 1000) / 1000),
      [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
    );
  });
});

describe("VRRPv3 Master_Adver_Interval adoption", () => {
  test("a Backup configured at 1 s times the Master's 50 ms adverts", () => {
    const h = createHarness(testConfig({ version: 3, advertIntervalMs: 1000 }));
    h.instance.start();
    h.clock.advanceTo(100);
    h.receive({ src: "198.51.100.1", priority: 150, interval: 5 });
    assert.equal(h.instance.status().masterAdvertIntervalMs, 50);
    assert.equal(runUntilMaster(h), ms(100, 180.468));
    // as Master it advertises at its own interval again
    assert.equal(h.instance.status().masterAdvertIntervalMs, 1000);
    assert.equal(h.sink.nextAdvertAt(), ms(100, 180.468, 1000));
  });

  test("the interval follows the Master when it changes", () => {
    const h = createHarness(testConfig({ version: 3, advertIntervalMs: 100 }));
    h.instance.start();
    h.receive({ src: "198.51.100.1", priority: 150, interval: 200 });
    assert.equal(h.scheduler.deadline("master-down"), 3 * 2000 + 1218.75);
    h.clock.advanceTo(1000);
    h.receive({ src: "198.51.100.1", priority: 150, interval: 1 });
    assert.equal(h.scheduler.deadline("master-down"), ms(1000, 36.093));
  });

  test("VRRPv2 does not adopt: another interval is dropped and counted (RFC 3768 7.1)", () => {
    const h = createHarness(testConfig({ version: 2 }));
    h.instance.start();
    h.receive({ src: "198.51.100.1", priority: 150, interval: 2 });
    assert.equal(h.instance.counters.drops["interval-mismatch"], 1);
    assert.equal(h.instance.status().masterAddress, undefined);
  });
});

describe("priority 0 (resign)", () => {
  test("v3 50 ms: a Backup takes over Skew_Time after the Master's priority-0 advert", () => {
    const h = createHarness(testConfig({ version: 3, advertIntervalMs: 50 }));
    h.instance.start();
    h.receive({ src: "198.51.100.1", priority: 150 });
    h.clock.advanceTo(20);
    h.receive({ src: "198.51.100.1", priority: 0 });
    assert.equal(h.instance.counters.priorityZeroReceived, 1);
    assert.equal(runUntilMaster(h), ms(20, 30.468));
    assert.equal(h.sink.transitions().at(-1)?.reason, "master-resigned");
  });

  test("v2 1 s: Skew_Time is (256 - priority) / 256 s", () => {
    const h = createHarness(testConfig({ version: 2, priority: 50 }));
    h.instance.start();
    h.receive({ src: "198.51.100.1", priority: 150 });
    h.clock.advanceTo(500);
    h.receive({ src: "198.51.100.1", priority: 0 });
    assert.equal(runUntilMaster(h), ms(500, 804.687));
  });

  test("a better Master speaking up during Skew_Time keeps us Backup", () => {
    const h = createHarness(testConfig({ version: 3, advertIntervalMs: 50, priority: 50 }));
    h.instance.start();
    h.receive({ src: "198.51.100.1", priority: 0 });
    h.clock.advanceTo(30);
    h.receive({ src: "198.51.100.3", priority: 100 });
    h.clock.advanceTo(100);
    assert.equal(h.instance.state, "backup");
    assert.equal(h.instance.status().masterAddress, "198.51.100.3");
  });

  test("a Master answers a priority-0 advert with its own advert at once", () => {
    const h = createHarness(testConfig({ version: 3, advertIntervalMs: 1000 }));
    h.instance.start();
    const at = runUntilMaster(h);
    h.clock.advanceTo(at + 400);
    h.receive({ src: "198.51.100.3", priority: 0 });
    assert.deepEqual(
      sentAdverts(h).map((a) => [a.atMs, a.advert.priority]),
      [
        [at, 100],
        [at + 400, 100],
      ],
    );
    assert.equal(h.sink.nextAdvertAt(), at + 1400);
    assert.equal(h.instance.state, "master");
  });
});

describe("preemption", () => {
  /** A lower-priority Master (100) advertising every second from 500 ms on. */
  function withLowerMaster(overrides: Parameters<typeof testConfig>[0]): Harness {
    const h = createHarness(testConfig({ priority: 150, primaryAddress: "198.51.100.1", ...overrides }));
    h.instance.start();
    for (let t = 500; t < 60_000; t += 1000) {
      h.clock.at(t, () => {
        if (h.instance.state === "backup") h.receive({ src: "198.51.100.2", priority: 100 });
      });
    }
    return h;
  }

  test("preempt (default): the higher priority discards the lower Master's adverts and takes over", () => {
    const h = withLowerMaster({});
    assert.equal(runUntilMaster(h), 3414.062); // Master_Down_Interval from startup: no advert was ever accepted
    assert.equal(h.sink.transitions().at(-1)?.reason, "preempt");
    assert.equal(h.instance.counters.lowerPriorityDiscarded, 3);
  });

  test("nopreempt: a higher-priority Backup never takes over from a live Master", () => {
    const h = withLowerMaster({ preempt: false });
    h.clock.advanceTo(60_000);
    assert.equal(h.instance.state, "backup");
    assert.equal(h.instance.status().masterAddress, "198.51.100.2");
    assert.equal(h.instance.counters.lowerPriorityDiscarded, 0);
  });

  test("nopreempt still takes over when the Master dies", () => {
    const h = createHarness(testConfig({ priority: 150, preempt: false }));
    h.instance.start();
    h.receive({ src: "198.51.100.1", priority: 100 });
    assert.equal(runUntilMaster(h), 3414.062);
    assert.equal(h.sink.transitions().at(-1)?.reason, "master-down");
  });

  test("preempt_delay: after startup the lower Master is tolerated for the delay, then preempted", () => {
    const h = withLowerMaster({ preemptDelayMs: 10_000 });
    // adverts up to 9500 ms are accepted (delay pending), the one at 10500 is discarded
    assert.equal(runUntilMaster(h), ms(9500, 3414.062));
    assert.equal(h.sink.transitions().at(-1)?.reason, "preempt");
  });

  test("preempt_delay starts again once a Master of at least our priority was seen", () => {
    const h = createHarness(testConfig({ priority: 150, preemptDelayMs: 5000 }));
    h.instance.start();
    let peerPriority = 200;
    for (let t = 0; t < 60_000; t += 1000) {
      h.clock.at(t, () => {
        if (h.instance.state === "backup") h.receive({ src: "198.51.100.1", priority: peerPriority });
      });
    }
    h.clock.at(7500, () => (peerPriority = 100)); // the better Master lowered its priority
    // the delay starts with the first lower advert (8000) and ends at 13000; 13000 itself is discarded
    assert.equal(runUntilMaster(h), ms(12_000, 3414.062));
  });
});

describe("Master tie-break and higher priority", () => {
  const setups = [
    {
      family: "IPv4",
      primary: "198.51.100.2",
      higher: "198.51.100.3",
      lower: "198.51.100.1",
      version: 2 as const,
    },
    { family: "IPv6", primary: "fe80::2", higher: "fe80::10", lower: "fe80::1", version: 3 as const },
  ];
  for (const { family, primary, higher, lower, version } of setups) {
    const vip = family === "IPv4" ? VIP : "2001:db8::254";
    const config = testConfig({
      version,
      primaryAddress: primary,
      virtualAddresses: [{ address: vip, prefixLength: family === "IPv4" ? 24 : 64 }],
    });

    test(`${family}: equal priority from a higher primary address sends the Master to Backup`, () => {
      const h = createHarness(config);
      h.instance.start();
      const at = runUntilMaster(h);
      h.clock.advanceTo(at + 500);
      h.receive({ src: higher, priority: 100 });
      assert.equal(h.instance.state, "backup");
      const transition = h.sink.transitions().at(-1)!;
      assert.equal(transition.reason, "higher-priority");
      assert.match(transition.detail, /higher primary address/);
      assert.deepEqual(
        h.sink.actions.filter((a) => a.atMs === at + 500).map((a) => a.type),
        ["leaveMaster", "transition"],
      );
      assert.equal(h.sink.nextAdvertAt(), undefined);
      assert.equal(h.scheduler.deadline("master-down"), at + 500 + 3609.375);
    });

    test(`${family}: equal priority from a lower primary address is answered, the Master stays`, () => {
      const h = createHarness(config);
      h.instance.start();
      const at = runUntilMaster(h);
      h.clock.advanceTo(at + 500);
      h.receive({ src: lower, priority: 100 });
      assert.equal(h.instance.state, "master");
      assert.deepEqual(
        sentAdverts(h).map((a) => a.atMs),
        [at, at + 500],
      );
    });

    test(`${family}: a higher priority sends the Master to Backup whatever the address`, () => {
      const h = createHarness(config);
      h.instance.start();
      runUntilMaster(h);
      h.receive({ src: lower, priority: 101 });
      assert.equal(h.instance.state, "backup");
      assert.equal(h.instance.status().masterAddress, lower);
    });
  }

  test("a Backup does not tie-break: equal priority from a lower address keeps it Backup (RFC 5798 6.4.2)", () => {
    const h = createHarness(testConfig({ primaryAddress: "198.51.100.9" }));
    h.instance.start();
    for (let t = 0; t < 10_000; t += 1000) {
      h.clock.advanceTo(t);
      h.receive({ src: "198.51.100.1", priority: 100 });
    }
    assert.equal(h.instance.state, "backup");
  });

  test("advertOnLowerPriority off: the Master ignores a lower advert silently (RFC behaviour)", () => {
    const h = createHarness(testConfig({ advertOnLowerPriority: false }));
    h.instance.start();
    const at = runUntilMaster(h);
    h.receive({ src: "198.51.100.1", priority: 50 });
    assert.equal(sentAdverts(h).length, 1);
    assert.equal(h.clock.now(), at);
  });
});

describe("address owner (priority 255)", () => {
  test("goes Master at once from Initialize, advert first", () => {
    const h = createHarness(testConfig({ version: 3, advertIntervalMs: 10, priority: 255 }));
    h.instance.start();
    assert.equal(h.instance.state, "master");
    assert.deepEqual(
      h.sink.actions.map((a) => [a.atMs, a.type]),
      [
        [0, "sendAdvert"],
        [0, "becomeMaster"],
        [0, "announce"],
        [0, "transition"],
      ],
    );
    assert.equal(sentAdverts(h)[0]!.advert.priority, 255);
    assert.equal(h.sink.transitions()[0]!.reason, "address-owner");
  });

  test("tracking never changes an owner's priority", () => {
    const h = createHarness(
      testConfig({
        priority: 255,
        trackInterfaces: [{ name: "eth1", weight: -50 }],
        trackScripts: [{ name: "chk", command: "true", weight: -30 }],
      }),
    );
    h.instance.interfaceChanged("eth1", false);
    h.instance.scriptResult("chk", false);
    assert.equal(h.instance.effectivePriority, 255);
  });
});

describe("validation: every drop reason is counted and logged", () => {
  test("each reason once", () => {
    const h = createHarness(testConfig({ authPassword: "secret" }));
    const other = (src: string): { src: string; priority: number } => ({ src, priority: 150 });
    const expected = new Map<DropReason, number>();
    const expect = (reason: DropReason, feed: () => void): void => {
      feed();
      expected.set(reason, (expected.get(reason) ?? 0) + 1);
      assert.deepEqual(
        Object.entries(h.instance.counters.drops).filter(([, n]) => n > 0),
        [...expected.entries()].sort((a, b) => DROP_REASONS.indexOf(a[0]) - DROP_REASONS.indexOf(b[0])),
        `after ${reason}`,
      );
      const log = h.sink.logs.at(-1)!;
      assert.equal(log.event, "advert-dropped");
      assert.equal(log.fields?.reason, reason);
    };
    const good = packetFrom(h.config, other("198.51.100.1"));
    const deliver = (bytes: Buffer, src = "198.51.100.1", ttl = 255, dst = "224.0.0.18"): void =>
      h.instance.advertReceived(bytes, { src, dst, ttl });
    /** Sets a header byte and repairs the (VRRPv2, message-only) checksum so only that field is wrong. */
    const patched = (index: number, value: number, extra: Buffer = Buffer.alloc(0)): Buffer => {
      const bytes = Buffer.concat([good.bytes, extra]);
      bytes[index] = value;
      bytes.writeUInt16BE(0, 6);
      let sum = 0;
      for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      bytes.writeUInt16BE(~sum & 0xffff, 6);
      return bytes;
    };

    expect("inactive", () => deliver(good.bytes));
    h.instance.start();
    expect("bad-ttl", () => deliver(good.bytes, "198.51.100.1", 254));
    expect("wrong-family", () => deliver(good.bytes, "fe80::1", 255, "ff02::12"));
    expect("truncated", () => deliver(good.bytes.subarray(0, 6)));
    expect("bad-version", () => deliver(patched(0, 0x11)));
    expect("bad-type", () => deliver(patched(0, 0x22)));
    expect("bad-vrid", () => deliver(patched(1, 0)));
    expect("bad-auth-type", () => deliver(patched(4, 7)));
    expect("bad-interval", () => deliver(patched(5, 0)));
    expect("address-count-mismatch", () => deliver(patched(3, 1, Buffer.alloc(4))));
    expect("bad-checksum", () =>
      deliver(Buffer.from([...good.bytes.subarray(0, 7), good.bytes[7]! ^ 0x40, ...good.bytes.subarray(8)])),
    );
    expect("wrong-version", () => h.receive({ ...other("198.51.100.1"), version: 3, interval: 100 }));
    expect("wrong-vrid", () => h.receive({ ...other("198.51.100.1"), vrid: 52 }));
    expect("own-address", () => h.receive(other("198.51.100.2")));
    expect("auth-mismatch", () => h.receive({ ...other("198.51.100.1"), password: "wrong" }));
    expect("auth-mismatch", () => h.receive({ ...other("198.51.100.1"), authType: "none" }));
    expect("auth-unsupported", () => h.receive({ ...other("198.51.100.1"), authType: "ah" }));
    expect("interval-mismatch", () => h.receive({ ...other("198.51.100.1"), interval: 3 }));
    expect("address-list-mismatch", () =>
      h.receive({ ...other("198.51.100.1"), addresses: ["198.51.100.253"] }),
    );
    expect("address-list-mismatch", () =>
      h.receive({ ...other("198.51.100.1"), addresses: [VIP, "198.51.100.253"] }),
    );

    const unicast = createHarness(testConfig({ unicastPeers: ["198.51.100.1", "198.51.100.3"] }));
    unicast.instance.start();
    unicast.receive({ src: "198.51.100.4", priority: 150, dst: "198.51.100.2" });
    assert.equal(unicast.instance.counters.drops["not-a-peer"], 1);
    expected.set("not-a-peer", 1);

    const covered = new Set(expected.keys());
    assert.deepEqual(
      DROP_REASONS.filter((r) => !covered.has(r)),
      [],
      "every drop reason is exercised",
    );
    assert.equal(h.instance.counters.advertsReceived, 0);
    assert.equal(h.instance.state, "backup");
    // and a correct advert still goes through
    h.receive(other("198.51.100.1"));
    assert.equal(h.instance.counters.advertsReceived, 1);
    assert.equal(h.instance.status().masterAddress, "198.51.100.1");
  });

  test("wrong VRID is not a warning: another group's packet is normal on a shared link", () => {
    const h = createHarness(testConfig());
    h.instance.start();
    h.receive({ src: "198.51.100.1", priority: 150, vrid: 52 });
    assert.equal(h.sink.logs.at(-1)!.level, "debug");
  });

  test("address-list policy accept: counted, logged, processed", () => {
    const h = createHarness(testConfig({ addressListPolicy: "accept" }));
    h.instance.start();
    h.receive({ src: "198.51.100.1", priority: 150, addresses: ["198.51.100.253"] });
    assert.equal(h.instance.counters.addressListMismatchAccepted, 1);
    assert.equal(h.instance.counters.drops["address-list-mismatch"], 0);
    assert.equal(h.instance.counters.advertsReceived, 1);
    assert.equal(h.sink.logs.at(-1)!.event, "address-list-mismatch");
  });

  test("address lists compare as sets of canonical addresses", () => {
    const h = createHarness(
      testConfig({
        version: 3,
        primaryAddress: "fe80::2",
        virtualAddresses: [
          { address: "2001:DB8::1", prefixLength: 64 },
          { address: "2001:db8:0:0::2", prefixLength: 64 },
        ],
      }),
    );
    h.instance.start();
    h.receive({ src: "fe80::1", priority: 150, addresses: ["2001:db8::2", "2001:db8::1"] });
    assert.equal(h.instance.counters.advertsReceived, 1);
  });
});

describe("VRRPv2 simple password and unicast", () => {
  test("adverts carry the zero-padded password; matching adverts are accepted", () => {
    const h = createHarness(testConfig({ authPassword: "secret" }));
    h.instance.start();
    h.receive({ src: "198.51.100.1", priority: 150 });
    assert.equal(h.instance.counters.advertsReceived, 1);
    runUntilMaster(h);
    const advert = sentAdverts(h)[0]!.advert;
    assert.equal(advert.version === 2 && advert.authType, "simple");
    assert.equal(advert.version === 2 && Buffer.from(advert.authData).toString("hex"), "7365637265740000");
  });

  test("unicast: adverts from a configured peer are accepted, in any spelling", () => {
    const h = createHarness(
      testConfig({
        version: 3,
        primaryAddress: "fe80::2",
        virtualAddresses: [{ address: "2001:db8::9", prefixLength: 64 }],
        unicastPeers: ["FE80:0::1"],
      }),
    );
    h.instance.start();
    h.receive({ src: "fe80::1", priority: 150, dst: "fe80::2" });
    assert.equal(h.instance.counters.advertsReceived, 1);
    h.receive({ src: "fe80::3", priority: 150, dst: "fe80::2" });
    assert.equal(h.instance.counters.drops["not-a-peer"], 1);
  });
});

describe("the Master's advert schedule (run by the I/O layer)", () => {
  test("one schedule from becoming Master; a priority change rides on it; the counters include its rounds", () => {
    const h = createHarness(
      testConfig({ version: 3, advertIntervalMs: 100, trackInterfaces: [{ name: "eth1", weight: -20 }] }),
    );
    h.instance.start();
    const at = runUntilMaster(h);
    h.clock.advanceTo(at + 250);
    assert.equal(h.instance.counters.advertsSent, 3, "at, +100, +200");
    h.instance.interfaceChanged("eth1", false);
    assert.equal(sentAdverts(h).length, 3, "a new priority is not sent at once ...");
    h.clock.advanceTo(at + 300);
    assert.deepEqual(sentAdverts(h).at(-1), { atMs: at + 300, advert: sentAdverts(h).at(-1)!.advert });
    assert.equal(sentAdverts(h).at(-1)!.advert.priority, 80, "... but by the next advert, on the same phase");
    h.instance.stop();
    assert.equal(h.instance.counters.advertsSent, 5, "four scheduled and the priority-0 one");
    assert.equal(h.instance.counters.priorityZeroSent, 1);
    assert.equal(h.sink.nextAdvertAt(), undefined);
  });

  test("a new advert interval on reload starts a new phase at once", () => {
    const h = createHarness(testConfig({ version: 3, advertIntervalMs: 100 }));
    h.instance.start();
    const at = runUntilMaster(h);
    h.clock.advanceTo(at + 150);
    h.instance.configChanged(testConfig({ version: 3, advertIntervalMs: 40 }));
    assert.deepEqual(
      sentAdverts(h).map((a) => [
        a.atMs - at,
        "maxAdvertIntervalCs" in a.advert ? a.advert.maxAdvertIntervalCs : 0,
      ]),
      [
        [0, 10],
        [100, 10],
        [150, 4],
      ],
    );
    assert.equal(h.sink.nextAdvertAt(), at + 190);
  });
});

describe("stop (resign)", () => {
  test("a Master sends a priority-0 advert, removes its addresses and goes to Initialize", () => {
    const h = createHarness(testConfig({ version: 3, advertIntervalMs: 50 }));
    h.instance.start();
    const at = runUntilMaster(h);
    h.clock.advanceTo(at + 120);
    h.sink.clear();
    h.instance.stop();
    assert.deepEqual(
      h.sink.actions.map((a) => a.type),
      ["sendAdvert", "leaveMaster", "transition"],
    );
    assert.equal(h.sink.of("sendAdvert")[0]!.advert.priority, 0);
    assert.deepEqual(h.sink.transitions()[0]!, {
      instance: "VI_1",
      from: "master",
      to: "initialize",
      reason: "stop",
      detail: "instance stopped",
      atMs: at + 120,
      priority: 100,
    });
    assert.equal(h.instance.counters.priorityZeroSent, 1);
    assert.equal(h.sink.nextAdvertAt(), undefined);
    for (const kind of ["master-down", "garp-delay", "garp-refresh"] as const)
      assert.equal(h.scheduler.deadline(kind), undefined);
    h.clock.advanceBy(10_000);
    assert.equal(h.sink.actions.length, 3, "nothing after stop");
  });

  test("a Backup just stops; it can start again", () => {
    const h = createHarness(testConfig());
    h.instance.start();
    h.instance.stop();
    assert.equal(h.instance.state, "initialize");
    assert.equal(h.sink.of("sendAdvert").length, 0);
    h.instance.start();
    assert.equal(h.instance.state, "backup");
  });
});

describe("tracking: fault and priority", () => {
  test("a tracked interface with weight 0 going down faults the Master (priority-0 advert, addresses removed) and recovery returns to Backup", () => {
    const h = createHarness(
      testConfig({ version: 3, advertIntervalMs: 50, trackInterfaces: [{ name: "eth1" }] }),
    );
    h.instance.interfaceChanged("eth1", true);
    h.instance.start();
    const at = runUntilMaster(h);
    h.clock.advanceTo(at + 10);
    h.sink.clear();
    h.instance.interfaceChanged("eth1", false);
    assert.equal(h.instance.state, "fault");
    assert.deepEqual(
      h.sink.actions.map((a) => a.type),
      ["sendAdvert", "leaveMaster", "transition"],
    );
    assert.equal(h.sink.of("sendAdvert")[0]!.advert.priority, 0);
    assert.equal(h.sink.transitions()[0]!.detail, "interface eth1 is down");
    // adverts are ignored in Fault
    h.receive({ src: "198.51.100.1", priority: 150 });
    assert.equal(h.instance.counters.drops.inactive, 1);
    h.clock.advanceTo(at + 1000);
    h.instance.interfaceChanged("eth1", true);
    assert.equal(h.instance.state, "backup");
    assert.equal(h.sink.transitions().at(-1)!.reason, "fault-cleared");
    assert.equal(runUntilMaster(h), ms(at, 1000, 180.468));
  });

  test("an untracked interface state is unknown: a weight-0 tracked interface holds the instance in Fault until reported", () => {
    const h = createHarness(testConfig({ trackInterfaces: [{ name: "eth1" }] }));
    h.instance.start();
    assert.equal(h.instance.state, "fault");
    assert.match(h.instance.status().faults.tracking!, /eth1: state not known yet/);
    h.instance.interfaceChanged("eth2", true); // not tracked: ignored
    assert.equal(h.instance.state, "fault");
    h.instance.interfaceChanged("eth1", true);
    assert.equal(h.instance.state, "backup");
  });

  test("weights move the effective priority; a risen Backup's down timer shortens like keepalived's", () => {
    const h = createHarness(
      testConfig({
        trackInterfaces: [{ name: "eth1", weight: -60 }],
        trackScripts: [{ name: "chk", command: "/bin/check", weight: 50, rise: 2, fall: 2 }],
      }),
    );
    h.instance.interfaceChanged("eth1", true);
    h.instance.start();
    assert.equal(h.instance.effectivePriority, 100);
    assert.equal(h.scheduler.deadline("master-down"), 3609.375);
    h.clock.advanceTo(1000);
    h.instance.scriptResult("chk", true); // first result decides at once
    assert.equal(h.instance.effectivePriority, 150);
    assert.equal(h.scheduler.deadline("master-down"), 3414.062);
    h.instance.scriptResult("chk", false);
    assert.equal(h.instance.effectivePriority, 150, "one failure of fall 2 changes nothing");
    h.instance.scriptResult("chk", false);
    assert.equal(h.instance.effectivePriority, 100);
    assert.equal(
      h.scheduler.deadline("master-down"),
      3414.062,
      "a lower priority does not move the running timer",
    );
    h.instance.interfaceChanged("eth1", false);
    assert.equal(h.instance.effectivePriority, 40);
    const events = h.sink.logs
      .filter((l) => l.event === "priority-changed")
      .map((l) => `${l.fields?.from}→${l.fields?.to}`);
    assert.deepEqual(events, ["100→150", "150→100", "100→40"]);
  });

  test("a Master advertises its new effective priority, and a better Backup then preempts it", () => {
    const h = createHarness(testConfig({ trackInterfaces: [{ name: "eth1", weight: -60 }] }));
    h.instance.interfaceChanged("eth1", true);
    h.instance.start();
    const at = runUntilMaster(h);
    h.instance.interfaceChanged("eth1", false);
    h.clock.advanceTo(at + 1000);
    assert.equal(sentAdverts(h).at(-1)!.advert.priority, 40);
    assert.equal(h.instance.state, "master");
  });

  test("faults from the I/O layer: named sources, all must clear", () => {
    const h = createHarness(testConfig());
    h.instance.start();
    h.instance.fault(true, "link", "eth0 has no IPv4 address");
    h.instance.fault(true, "socket", "raw socket closed");
    assert.equal(h.instance.state, "fault");
    h.instance.fault(false, "link");
    assert.equal(h.instance.state, "fault");
    h.instance.fault(false, "socket");
    assert.equal(h.instance.state, "backup");
  });
});

describe("gratuitous ARP schedule", () => {
  test("defaults: 5 at once with the first advert, 5 again after 5 s, no refresh", () => {
    const h = createHarness(testConfig());
    h.instance.start();
    const at = runUntilMaster(h);
    h.clock.advanceTo(at + 60_000);
    assert.deepEqual(
      h.sink
        .of("announce")
        .map((a) => [a.atMs - at, a.request.reason, a.request.repeat, a.request.spacingMs]),
      [
        [0, "become-master", 5, 0],
        [5000, "master-delay", 5, 0],
      ],
    );
    assert.deepEqual(h.sink.of("announce")[0]!.request.addresses, [{ address: VIP, prefixLength: 24 }]);
  });

  test("refresh with its own repeat rides on the advert timer; delay 0 and repeat settings are honoured", () => {
    const h = createHarness(
      testConfig({
        version: 3,
        advertIntervalMs: 1000,
        garp: {
          masterRepeat: 3,
          masterDelayMs: 0,
          masterRefreshMs: 2500,
          masterRefreshRepeat: 2,
          intervalMs: 10,
        },
      }),
    );
    h.instance.start();
    const at = runUntilMaster(h);
    h.clock.advanceTo(at + 8000);
    assert.deepEqual(
      h.sink
        .of("announce")
        .map((a) => [Math.round(a.atMs - at), a.request.reason, a.request.repeat, a.request.spacingMs]),
      [
        [0, "become-master", 3, 10],
        [3000, "refresh", 2, 10], // first advert at or after 2.5 s
        [6000, "refresh", 2, 10], // 2.5 s after the last refresh → next advert
      ],
    );
  });

  test("leaving Master cancels the delayed burst and the refresh", () => {
    const h = createHarness(testConfig({ garp: { masterRefreshMs: 1000 } }));
    h.instance.start();
    const at = runUntilMaster(h);
    h.clock.advanceTo(at + 1500);
    h.receive({ src: "198.51.100.3", priority: 200 });
    h.clock.advanceTo(at + 2000);
    h.instance.stop();
    h.clock.advanceTo(at + 20_000);
    assert.deepEqual(
      h.sink.of("announce").map((a) => [a.atMs - at, a.request.reason]),
      [
        [0, "become-master"],
        [1000, "refresh"],
      ],
    );
  });
});

describe("reload (configChanged)", () => {
  test("live changes keep the state and the addresses: a Master stays Master", () => {
    const h = createHarness(testConfig());
    h.instance.start();
    const at = runUntilMaster(h);
    h.sink.clear();
    const diff = h.instance.configChanged(
      testConfig({
        priority: 120,
        notify: { master: "/usr/local/bin/notify master" },
        garp: { masterRepeat: 2 },
      }),
    );
    assert.deepEqual(diff, {
      keepsState: true,
      changed: ["priority", "garp", "notify"],
      requiresRestart: [],
    });
    assert.equal(h.instance.state, "master");
    assert.equal(h.instance.effectivePriority, 120);
    assert.deepEqual(
      h.sink.actions.map((a) => a.type),
      [],
      "no transition, no address change",
    );
    h.clock.advanceTo(at + 1000);
    assert.equal(sentAdverts(h)[0]!.advert.priority, 120);
  });

  test("an unchanged config is a no-op", () => {
    const h = createHarness(testConfig());
    h.instance.start();
    const diff = h.instance.configChanged(testConfig());
    assert.deepEqual(diff, { keepsState: true, changed: [], requiresRestart: [] });
    assert.equal(h.sink.logs.filter((l) => l.event === "config-reloaded").length, 0);
  });

  test("a Master whose addresses changed adds and removes just those and announces the new ones", () => {
    const h = createHarness(testConfig());
    h.instance.start();
    runUntilMaster(h);
    h.sink.clear();
    const next = testConfig({
      virtualAddresses: [
        { address: VIP, prefixLength: 24 },
        { address: "203.0.113.10", prefixLength: 24 },
      ],
    });
    h.instance.configChanged(next);
    assert.deepEqual(
      h.sink.actions.map((a) => a.type),
      ["updateAddresses", "announce"],
    );
    const update = h.sink.of("updateAddresses")[0]!;
    assert.deepEqual(update.add, [{ address: "203.0.113.10", prefixLength: 24 }]);
    assert.deepEqual(update.remove, []);
    assert.equal(h.sink.of("announce")[0]!.request.reason, "addresses-added");
    assert.equal(h.instance.state, "master");
  });

  test("an identity change is refused and reported: the caller must replace the instance", () => {
    const h = createHarness(testConfig());
    h.instance.start();
    const diff = h.instance.configChanged(testConfig({ vrid: 52, priority: 120 }));
    assert.equal(diff.keepsState, false);
    assert.deepEqual(diff.requiresRestart, ["vrid"]);
    assert.equal(h.instance.instanceConfig.vrid, 51);
    assert.equal(h.instance.effectivePriority, 100);
  });

  test("a v2 Backup picks up a new advert interval for its down timer and interval check", () => {
    const h = createHarness(testConfig());
    h.instance.start();
    h.instance.configChanged(testConfig({ advertIntervalMs: 2000 }));
    h.clock.advanceTo(100);
    h.receive({ src: "198.51.100.1", priority: 150, interval: 2 });
    assert.equal(h.instance.counters.advertsReceived, 1);
    assert.equal(h.scheduler.deadline("master-down"), 100 + 6609.375);
  });
});
