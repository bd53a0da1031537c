// Our state machine in place of one keepalived node of the captures: the other nodes' real adverts are fed
// in at their capture times, and what our instance does is compared with what the real node did.
// It must take over within 5 ms of when keepalived did, as often, hand back when the better node returns,
// resign when it was stopped, and send byte-identical adverts.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { readPcapIpPackets } from "../../e2e/pcap/pcap.js";
import { sharedTestdataOptions, sharedTestdataPath } from "../../e2e/pcap/testdata.js";
import { createHarness, testConfig } from "./harness.js";
import { encodeAdvert } from "./packet.js";

const TOLERANCE_MS = 5;

interface Capture {
  readonly file: string;
  readonly version: 2 | 3;
  readonly intervalMs: number;
}

const captures: Capture[] = [
  { file: "keepalived-vrrpv2-adv1.pcap", version: 2, intervalMs: 1000 },
  { file: "keepalived-vrrpv3-adv0.05.pcap", version: 3, intervalMs: 50 },
];

interface RealAdvert {
  readonly atMs: number;
  readonly priority: number;
  readonly hex: string;
}

function replay(capture: Capture, address: string, priority: number) {
  const packets = [...readPcapIpPackets(readFileSync(sharedTestdataPath(capture.file)))].filter(
    (p) => p.protocol === 112,
  );
  const startUs = packets[0]!.timestampUs;
  const h = createHarness(
    testConfig({
      version: capture.version,
      advertIntervalMs: capture.intervalMs,
      priority,
      primaryAddress: address,
    }),
  );
  h.instance.start();
  const real: RealAdvert[] = [];
  for (const packet of packets) {
    h.clock.advanceTo((packet.timestampUs - startUs) / 1000);
    if (packet.ipSrc === address) {
      const advert = {
        atMs: h.clock.now(),
        priority: packet.payload[2]!,
        hex: packet.payload.toString("hex"),
      };
      real.push(advert);
      if (advert.priority === 0) h.instance.stop(); // the real node got SIGTERM here
      continue;
    }
    h.instance.advertReceived(packet.payload, { src: packet.ipSrc, dst: packet.ipDst, ttl: packet.ttl });
  }
  return { h, real };
}

/** When the real node became Master: its first advert after a silence (it advertises at once on takeover). */
function realTakeovers(real: RealAdvert[], intervalMs: number): number[] {
  return real
    .filter((a, i) => a.priority > 0 && (i === 0 || a.atMs - real[i - 1]!.atMs > 1.5 * intervalMs))
    .map((a) => a.atMs);
}

describe(
  "replaying keepalived 2.2.7 captures into our state machine",
  sharedTestdataOptions(...captures.map((c) => c.file)),
  () => {
    for (const capture of captures) {
      for (const { address, priority } of [
        { address: "198.51.100.2", priority: 100 },
        { address: "198.51.100.3", priority: 50 },
      ]) {
        test(`${capture.file}: as node ${address} (priority ${priority})`, () => {
          const { h, real } = replay(capture, address, priority);
          const transitions = h.sink.transitions();
          const predicted = transitions.filter((t) => t.to === "master").map((t) => t.atMs);
          const actual = realTakeovers(real, capture.intervalMs);
          assert.ok(actual.length > 0);
          assert.equal(
            predicted.length,
            actual.length,
            `takeovers: ours ${predicted.join(", ")} vs keepalived ${actual.join(", ")}`,
          );
          predicted.forEach((at, i) => {
            const delta = at - actual[i]!;
            assert.ok(
              Math.abs(delta) <= TOLERANCE_MS,
              `takeover ${i}: ours at ${at} ms, keepalived at ${actual[i]} ms`,
            );
          });

          // every time we handed back (a better node returned), the real node had stopped advertising by then
          for (const back of transitions.filter((t) => t.from === "master" && t.to === "backup")) {
            assert.equal(back.reason, "higher-priority");
            const lastRealBefore = real.filter((a) => a.atMs <= back.atMs).at(-1)!;
            const firstRealAfter = real.find((a) => a.atMs > back.atMs);
            assert.ok(back.atMs - lastRealBefore.atMs <= capture.intervalMs + TOLERANCE_MS);
            assert.ok(firstRealAfter === undefined || firstRealAfter.atMs - back.atMs > capture.intervalMs);
          }

          // stopped where the real node was: we resigned with a priority-0 advert at that moment
          const stop = transitions.at(-1)!;
          assert.equal(stop.to, "initialize");
          assert.equal(stop.atMs, real.at(-1)!.atMs);
          assert.equal(real.at(-1)!.priority, 0);

          // the adverts we sent are byte-identical to the real node's
          const ours = new Set(
            h.sink
              .of("sendAdvert")
              .map((a) => encodeAdvert(a.advert, { src: address, dst: "224.0.0.18" }).toString("hex")),
          );
          assert.deepEqual(ours, new Set(real.map((a) => a.hex)));
          assert.equal(h.sink.of("sendAdvert").at(-1)!.advert.priority, 0);

          // and about as many of them: one per interval while Master
          const sent = h.sink.of("sendAdvert").length;
          assert.ok(
            Math.abs(sent - real.length) <= 2 * actual.length,
            `we sent ${sent} adverts, keepalived ${real.length}`,
          );

          const drops = Object.entries(h.instance.counters.drops).filter(
            ([reason, n]) => n > 0 && reason !== "inactive",
          );
          assert.deepEqual(drops, []);
        });
      }
    }
  },
);
