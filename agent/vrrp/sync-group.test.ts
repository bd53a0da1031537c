import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { VrrpDemux } from "./demux.js";
import { FakeClock } from "./fake-clock.js";
import { createHarness, packetFrom, testConfig } from "./harness.js";
import type { Harness } from "./harness.js";
import { VrrpSyncGroup } from "./sync-group.js";

/** Two v3 50 ms instances on one clock: VI_OUT (VRID 51) and VI_IN (VRID 52), priority 100, in sync group G. */
function pair(trackLink = false): { clock: FakeClock; out: Harness; inside: Harness; group: VrrpSyncGroup } {
  const clock = new FakeClock();
  const common = {
    version: 3 as const,
    advertIntervalMs: 50,
    ...(trackLink ? { trackInterfaces: [{ name: "eth1" }] } : {}),
  };
  const out = createHarness(testConfig({ ...common, name: "VI_OUT" }), clock);
  const inside = createHarness(
    testConfig({
      ...common,
      name: "VI_IN",
      vrid: 52,
      interface: "eth1",
      virtualAddresses: [{ address: "203.0.113.254", prefixLength: 24 }],
      primaryAddress: "203.0.113.2",
    }),
    clock,
  );
  const group = new VrrpSyncGroup("G", [out.instance, inside.instance]);
  return { clock, out, inside, group };
}

/** A Master at `src` advertising every 50 ms to `h` while `alive()` holds. */
function feed(h: Harness, src: string, alive: () => boolean, untilMs = 10_000): void {
  for (let t = 0; t <= untilMs; t += 50) {
    h.clock.at(t, () => {
      if (alive() && h.instance.state === "backup") h.receive({ src, priority: 150 });
    });
  }
}

describe("sync group (keepalived vrrp_sync_group)", () => {
  test("one member in Fault holds the whole group in Fault; they recover together", () => {
    const { out, inside } = pair(true);
    for (const h of [out, inside]) h.instance.interfaceChanged("eth1", true);
    out.instance.start();
    inside.instance.start();
    assert.deepEqual([out.instance.state, inside.instance.state], ["backup", "backup"]);
    out.instance.interfaceChanged("eth1", false);
    assert.deepEqual([out.instance.state, inside.instance.state], ["fault", "fault"]);
    assert.equal(inside.instance.status().faults["sync-group:G"], "sync group G: VI_OUT in Fault");
    assert.deepEqual(inside.instance.ownFaults, []);
    // both faulty on their own: the group stays in Fault until the last clears
    inside.instance.interfaceChanged("eth1", false);
    out.instance.interfaceChanged("eth1", true);
    assert.deepEqual([out.instance.state, inside.instance.state], ["fault", "fault"]);
    assert.equal(out.instance.status().faults["sync-group:G"], "sync group G: VI_IN in Fault");
    inside.instance.interfaceChanged("eth1", true);
    assert.deepEqual([out.instance.state, inside.instance.state], ["backup", "backup"]);
    assert.equal(inside.sink.transitions().at(-1)!.reason, "fault-cleared");
  });

  test("a Master member going to Fault resigns with the others", () => {
    const { clock, out, inside } = pair(true);
    for (const h of [out, inside]) h.instance.interfaceChanged("eth1", true);
    out.instance.start();
    inside.instance.start();
    clock.advanceTo(1000);
    assert.deepEqual([out.instance.state, inside.instance.state], ["master", "master"]);
    out.sink.clear();
    inside.sink.clear();
    inside.instance.interfaceChanged("eth1", false);
    for (const h of [out, inside]) {
      assert.equal(h.instance.state, "fault");
      assert.equal(h.sink.of("sendAdvert")[0]!.advert.priority, 0);
      assert.equal(h.sink.of("leaveMaster").length, 1);
    }
  });

  test("a member whose Master died waits for the group; when the other's Master dies too they go Master together", () => {
    const { clock, out, inside } = pair();
    let outMasterAlive = true;
    let inMasterAlive = true;
    feed(out, "198.51.100.1", () => outMasterAlive);
    feed(inside, "203.0.113.1", () => inMasterAlive);
    out.instance.start();
    inside.instance.start();
    clock.at(975, () => (outMasterAlive = false)); // last advert to VI_OUT at 950
    clock.at(1975, () => (inMasterAlive = false)); // last advert to VI_IN at 1950
    clock.advanceTo(1900);
    assert.equal(out.instance.state, "backup");
    assert.equal(
      out.instance.wantsMaster,
      true,
      "VI_OUT's down timer expired at 1130.468, the group holds it",
    );
    // held and re-armed every Master_Down_Interval: 1130.468, 1310.936, 1491.404, 1671.872, 1852.34
    assert.equal(out.sink.logs.filter((l) => l.event === "sync-group-hold").length, 5);
    assert.ok(clock.runUntil(() => inside.instance.state === "master", 5000));
    assert.equal(clock.now(), 2130.468);
    assert.equal(out.instance.state, "master", "VI_OUT follows in the same turn");
    const followed = out.sink.transitions().at(-1)!;
    assert.equal(followed.reason, "sync-group");
    assert.equal(followed.atMs, 2130.468);
    assert.match(followed.detail, /VI_IN became Master \(master-down\)/);
    assert.equal(out.instance.wantsMaster, false);
  });

  test("a held member that hears its Master again stops wanting Master", () => {
    const { clock, out, inside } = pair();
    let outMasterAlive = true;
    feed(out, "198.51.100.1", () => outMasterAlive);
    feed(inside, "203.0.113.1", () => true);
    out.instance.start();
    inside.instance.start();
    clock.at(1000, () => (outMasterAlive = false));
    clock.at(1500, () => (outMasterAlive = true));
    clock.advanceTo(1400);
    assert.equal(out.instance.wantsMaster, true);
    clock.advanceTo(1600);
    assert.equal(out.instance.wantsMaster, false);
    clock.advanceTo(5000);
    assert.deepEqual([out.instance.state, inside.instance.state], ["backup", "backup"]);
  });

  test("with no Master anywhere both go Master at the later member's Master_Down_Interval", () => {
    const { clock, out, inside } = pair();
    out.instance.start();
    inside.instance.start();
    assert.ok(
      clock.runUntil(() => out.instance.state === "master" && inside.instance.state === "master", 1000),
    );
    assert.equal(clock.now(), 180.468);
  });

  test("a Master member that hears a better router goes Backup, and the other Master member resigns with it", () => {
    const { clock, out, inside } = pair();
    out.instance.start();
    inside.instance.start();
    clock.advanceTo(500);
    inside.sink.clear();
    out.receive({ src: "198.51.100.1", priority: 200 });
    assert.equal(out.instance.state, "backup");
    assert.equal(inside.instance.state, "backup");
    assert.deepEqual(
      inside.sink.actions.map((a) => a.type),
      ["sendAdvert", "leaveMaster", "transition"],
    );
    assert.equal(inside.sink.of("sendAdvert")[0]!.advert.priority, 0);
    assert.equal(inside.sink.transitions()[0]!.reason, "sync-group");
  });

  test("a group needs two distinct members, and an instance belongs to one group", () => {
    const { out, inside } = pair();
    assert.throws(() => new VrrpSyncGroup("H", [out.instance]), /at least 2 members/);
    assert.throws(() => new VrrpSyncGroup("H", [out.instance, inside.instance]), /already in sync group G/);
  });
});

describe("VrrpDemux", () => {
  test("hands packets to the instance of their VRID and counts the rest", () => {
    const { out, inside } = pair();
    const demux = new VrrpDemux();
    demux.add(out.instance);
    demux.add(inside.instance);
    out.instance.start();
    inside.instance.start();
    const meta = (src: string): { src: string; dst: string; ttl: number } => ({
      src,
      dst: "224.0.0.18",
      ttl: 255,
    });
    assert.equal(
      demux.dispatch(
        packetFrom(out.config, { src: "198.51.100.1", priority: 150 }).bytes,
        meta("198.51.100.1"),
      ),
      true,
    );
    assert.equal(
      demux.dispatch(
        packetFrom(inside.config, { src: "203.0.113.1", priority: 150 }).bytes,
        meta("203.0.113.1"),
      ),
      true,
    );
    assert.equal(out.instance.status().masterAddress, "198.51.100.1");
    assert.equal(inside.instance.status().masterAddress, "203.0.113.1");
    const foreign = packetFrom(out.config, { src: "198.51.100.1", priority: 150, vrid: 53 }).bytes;
    assert.equal(demux.dispatch(foreign, meta("198.51.100.1")), false);
    assert.equal(demux.dispatch(foreign, meta("198.51.100.1")), false);
    assert.equal(demux.dispatch(new Uint8Array([0x31]), meta("198.51.100.1")), false);
    assert.deepEqual([...demux.counters.unknownVrid], [[53, 2]]);
    assert.equal(demux.counters.truncated, 1);
    assert.equal(
      out.instance.counters.drops["wrong-vrid"],
      0,
      "another group's packet is not this group's error",
    );
    assert.throws(() => demux.add(out.instance), /already on this socket/);
    demux.remove(inside.instance);
    assert.equal(
      demux.dispatch(
        packetFrom(inside.config, { src: "203.0.113.1", priority: 150 }).bytes,
        meta("203.0.113.1"),
      ),
      false,
    );
  });
});
