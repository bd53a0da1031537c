import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ProbeTracker,
  doubleEpisodes,
  eventFromJson,
  eventToJson,
  observeFailover,
  type ProbeEvent,
} from "./vip-probe-tracker.js";

const ms = (n: number): bigint => BigInt(Math.round(n * 1e6));

function track(answers: [kind: "U" | "B", seq: number, node: string, atMs: number][]): ProbeEvent[] {
  const events: ProbeEvent[] = [];
  const t = new ProbeTracker((e) => events.push(e));
  for (const [kind, seq, node, at] of answers) t.answer({ kind, seq, node }, ms(at));
  return events;
}

describe("VIP probe tracker", () => {
  test("the serving node changes once per takeover, with the client's outage", () => {
    const events = track([
      ["U", 1, "n1", 2],
      ["U", 2, "n1", 4],
      ["U", 3, "n1", 6],
      // n1 resigned at 7 ms; probes 4-5 unanswered; n2 answers from probe 6 on
      ["U", 6, "n2", 12.5],
      ["U", 7, "n2", 14.5],
    ]);
    assert.equal(events.length, 2);
    const failover = observeFailover(events, ms(7), "n1");
    assert.deepEqual(failover, { newMaster: "n2", failoverMs: 5.5, outageMs: 6.5 });
    assert.equal(observeFailover(events, ms(13), "n1"), undefined, "no takeover after 13 ms");
  });

  test("two nodes answering the same broadcast probe open an episode; one answer ends it", () => {
    const answers: [kind: "U" | "B", seq: number, node: string, atMs: number][] = [];
    for (let s = 1; s <= 30; s++) {
      answers.push(["B", s, "n1", s * 2]);
      if (s >= 10 && s <= 14) answers.push(["B", s, "n2", s * 2 + 0.3]);
    }
    const events = track(answers);
    assert.deepEqual(
      events.map((e) => e.e),
      ["double-start", "double-end"],
    );
    const [start, end] = events as [
      Extract<ProbeEvent, { e: "double-start" }>,
      Extract<ProbeEvent, { e: "double-end" }>,
    ];
    assert.equal(start.seq, 10);
    assert.deepEqual(start.nodes, ["n1", "n2"]);
    assert.equal(end.lastSeq, 14);
    assert.equal(end.probes, 5);
    assert.deepEqual(doubleEpisodes(events, ms(0), ms(100)).length, 1);
    assert.deepEqual(doubleEpisodes(events, ms(40), ms(100)), [], "over before 40 ms");
  });

  test("an episode still open counts in every later window", () => {
    // both nodes answer every broadcast probe from the first on, and still do when the window is read
    const events = track(
      Array.from({ length: 8 }, (_, i): [kind: "B", seq: number, node: string, atMs: number][] => [
        ["B", i + 1, "n1", 2 + i * 2],
        ["B", i + 1, "n2", 2.1 + i * 2],
      ]).flat(),
    );
    const episodes = doubleEpisodes(events, ms(500), ms(600));
    assert.equal(episodes.length, 1);
    assert.equal(episodes[0]!.endNs, undefined);
  });

  test("events survive their JSON lines, bigints included", () => {
    const e: ProbeEvent = {
      e: "serving",
      node: "n2",
      previous: "n1",
      firstNs: 123456789012345678n,
      previousLastNs: 1n,
      seq: 4,
    };
    assert.deepEqual(eventFromJson(eventToJson(e)), e);
    assert.equal(eventFromJson('{"ready":true}'), undefined);
  });
});
