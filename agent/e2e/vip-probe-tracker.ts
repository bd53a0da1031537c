// What the VIP prober reports, computed from the stream of echo answers (see vip-probe-wire.ts), and
// how a failover is read from it. Pure: the prober script feeds it answers with their arrival time
// on CLOCK_MONOTONIC (process.hrtime.bigint(), the same clock in every process on the host), and
// prints the events; the test or benchmark compares them with the moment it broke the Master.
import type { ProbeReply } from "./vip-probe-wire.js";

export type ProbeEvent =
  /** "U" answers now come from `node` (first answer at firstNs); the previous node last answered at previousLastNs. */
  | { e: "serving"; node: string; previous?: string; firstNs: bigint; previousLastNs?: bigint; seq: number }
  /** From this "B" probe on, two or more nodes answer: they hold the VIP at the same time. */
  | { e: "double-start"; seq: number; nodes: string[]; tNs: bigint }
  /** The last "B" probe with two or more answers, and how many probes in a row had them. */
  | { e: "double-end"; lastSeq: number; probes: number; nodes: string[]; tNs: bigint };

/** Probes are sent in sequence; a "B" probe counts as complete once answers to a probe this much newer arrive. */
const CENSUS_SETTLE_PROBES = 5;

export class ProbeTracker {
  private serving: string | undefined;
  private lastServedNs: bigint | undefined;
  private readonly census = new Map<number, { nodes: Set<string>; firstNs: bigint }>();
  private completedUpTo = 0;
  private double: { lastSeq: number; probes: number; nodes: Set<string>; lastNs: bigint } | undefined;

  constructor(private readonly emit: (event: ProbeEvent) => void) {}

  answer(reply: ProbeReply, nowNs: bigint): void {
    if (reply.kind === "U") {
      if (reply.node !== this.serving) {
        this.emit({
          e: "serving",
          node: reply.node,
          ...(this.serving === undefined ? {} : { previous: this.serving }),
          firstNs: nowNs,
          ...(this.lastServedNs === undefined ? {} : { previousLastNs: this.lastServedNs }),
          seq: reply.seq,
        });
        this.serving = reply.node;
      }
      this.lastServedNs = nowNs;
      return;
    }
    if (reply.seq <= this.completedUpTo) {
      // A late answer to a probe already judged: it can still reveal a second holder.
      if (this.double) this.double.nodes.add(reply.node);
      return;
    }
    const entry = this.census.get(reply.seq);
    if (entry) entry.nodes.add(reply.node);
    else this.census.set(reply.seq, { nodes: new Set([reply.node]), firstNs: nowNs });
    this.complete(reply.seq - CENSUS_SETTLE_PROBES);
  }

  /** Judges every probe up to `seq`: no answer, one, or several. */
  private complete(seq: number): void {
    for (let s = this.completedUpTo + 1; s <= seq; s++) {
      const entry = this.census.get(s);
      this.census.delete(s);
      if (entry && entry.nodes.size >= 2) {
        if (!this.double) {
          this.double = { lastSeq: s, probes: 0, nodes: new Set(), lastNs: entry.firstNs };
          this.emit({ e: "double-start", seq: s, nodes: [...entry.nodes].sort(), tNs: entry.firstNs });
        }
        this.double.probes++;
        this.double.lastSeq = s;
        this.double.lastNs = entry.firstNs;
        for (const n of entry.nodes) this.double.nodes.add(n);
      } else if (this.double) {
        this.endDouble();
      }
    }
    this.completedUpTo = Math.max(this.completedUpTo, seq);
  }

  private endDouble(): void {
    const d = this.double!;
    this.emit({
      e: "double-end",
      lastSeq: d.lastSeq,
      probes: d.probes,
      nodes: [...d.nodes].sort(),
      tNs: d.lastNs,
    });
    this.double = undefined;
  }
}

/** Events as JSON lines (bigints as decimal strings) and back. */
export function eventToJson(event: ProbeEvent): string {
  return JSON.stringify(event, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

const NS_FIELDS = new Set(["firstNs", "previousLastNs", "tNs"]);

export function eventFromJson(line: string): ProbeEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line, (k, v: unknown) => (NS_FIELDS.has(k) && typeof v === "string" ? BigInt(v) : v));
  } catch {
    return undefined;
  }
  const e = (value as { e?: unknown } | null)?.e;
  return e === "serving" || e === "double-start" || e === "double-end" ? (value as ProbeEvent) : undefined;
}

export interface FailoverObservation {
  /** The node that answers "U" probes after the break. */
  newMaster: string;
  /** From the break to the new node's first answer. */
  failoverMs: number;
  /** From the old node's last answer to the new node's first (the client's outage). */
  outageMs: number | undefined;
}

const nsToMs = (ns: bigint): number => Number(ns) / 1e6;

/** The first change of the serving node away from `oldMaster` at or after `breakNs`. */
export function observeFailover(
  events: readonly ProbeEvent[],
  breakNs: bigint,
  oldMaster: string,
): FailoverObservation | undefined {
  for (const ev of events) {
    if (ev.e !== "serving" || ev.firstNs < breakNs || ev.node === oldMaster) continue;
    return {
      newMaster: ev.node,
      failoverMs: nsToMs(ev.firstNs - breakNs),
      outageMs:
        ev.previous === oldMaster && ev.previousLastNs !== undefined
          ? nsToMs(ev.firstNs - ev.previousLastNs)
          : undefined,
    };
  }
  return undefined;
}

export interface DoubleEpisode {
  startNs: bigint;
  /** undefined while it lasts. */
  endNs: bigint | undefined;
  probes: number | undefined;
  nodes: string[];
}

/** Episodes of two or more VIP holders that overlap [fromNs, toNs]. */
export function doubleEpisodes(events: readonly ProbeEvent[], fromNs: bigint, toNs: bigint): DoubleEpisode[] {
  const episodes: DoubleEpisode[] = [];
  let open: DoubleEpisode | undefined;
  for (const ev of events) {
    if (ev.e === "double-start") {
      open = { startNs: ev.tNs, endNs: undefined, probes: undefined, nodes: ev.nodes };
      episodes.push(open);
    } else if (ev.e === "double-end" && open) {
      open.endNs = ev.tNs;
      open.probes = ev.probes;
      open.nodes = ev.nodes;
      open = undefined;
    }
  }
  return episodes.filter((d) => d.startNs <= toNs && (d.endNs === undefined || d.endNs >= fromNs));
}
