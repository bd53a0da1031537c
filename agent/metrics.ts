// The agent's Prometheus metrics. One registry per agent instance (not prom-client's global one), so
// several agents in one test process, or a reload, never mix their series.
import { createRequire } from "node:module";
import type * as PromClient from "prom-client";

// prom-client's entry point also loads its push gateway client and default metrics, and with them
// node:https, node:zlib and node:crypto: ~2.5 MB of resident memory in an agent that only needs a
// registry, counters and gauges. These are the same classes the entry point exports (a unit test
// checks it), so metrics other modules register through "prom-client" land in this registry alike.
const requirePromClient = createRequire(import.meta.url);
const Registry = requirePromClient("prom-client/lib/registry") as typeof PromClient.Registry;
const Counter = requirePromClient("prom-client/lib/counter") as typeof PromClient.Counter;
const Gauge = requirePromClient("prom-client/lib/gauge") as typeof PromClient.Gauge;
type Registry = PromClient.Registry;
type Counter<L extends string> = PromClient.Counter<L>;
type Gauge<L extends string> = PromClient.Gauge<L>;

export const VRRP_STATES = ["Initialize", "Backup", "Master", "Fault", "Stopped"] as const;
export type MetricsVrrpState = (typeof VRRP_STATES)[number];

/** The VRRP core counts packets itself; metrics read those counters at scrape time. */
export interface GroupPacketCounters {
  group: string;
  advertsSent: number;
  advertsWithheld: number;
  advertsMissed: number;
  advertsReceived: number;
  drops: Readonly<Record<string, number>>;
}

/** A registry of its own whose series all carry the instance's label (the agent's, and its threads'). */
export function createMetricsRegistry(instance: string): Registry {
  const registry = new Registry();
  // Not "instance": Prometheus sets that label on every target itself.
  registry.setDefaultLabels({ kubelvs_instance: instance });
  return registry;
}

export class AgentMetrics {
  private counterSource: () => Iterable<GroupPacketCounters> = () => [];
  readonly registry: Registry;
  private readonly state: Gauge<"group" | "state">;
  private readonly priority: Gauge<"group">;
  private readonly transitions: Counter<"group" | "from" | "to">;
  private readonly advertsSent: Counter<"group">;
  private readonly advertsWithheld: Counter<"group">;
  private readonly advertsMissed: Counter<"group">;
  private readonly advertsReceived: Counter<"group">;
  private readonly drops: Counter<"group" | "reason">;
  private readonly vipRestored: Counter<"group">;
  private readonly notifyFailures: Counter<"group">;
  /** Transition label sets used per group, so a removed group's series can all be dropped. */
  private readonly seen = new Map<string, Set<string>>();

  constructor(instance: string) {
    this.registry = createMetricsRegistry(instance);
    const registers = [this.registry];
    this.state = new Gauge({
      name: "kubelvs_vrrp_state",
      help: "1 for the group's current VRRP state on this node, 0 for the others",
      labelNames: ["group", "state"],
      registers,
    });
    this.priority = new Gauge({
      name: "kubelvs_vrrp_priority",
      help: "Effective VRRP priority (after tracking)",
      labelNames: ["group"],
      registers,
    });
    this.transitions = new Counter({
      name: "kubelvs_vrrp_transitions_total",
      help: "VRRP state transitions",
      labelNames: ["group", "from", "to"],
      registers,
    });
    this.advertsSent = new Counter({
      name: "kubelvs_vrrp_adverts_sent_total",
      help: "VRRP advertisements sent",
      labelNames: ["group"],
      registers,
      collect: () => this.copyCounters((c) => [[{ group: c.group }, c.advertsSent]], this.advertsSent),
    });
    this.advertsWithheld = new Counter({
      name: "kubelvs_vrrp_adverts_withheld_total",
      help: "VRRP advertisements not sent because the agent's event loop was stalled (a hung agent falls silent)",
      labelNames: ["group"],
      registers,
      collect: () =>
        this.copyCounters((c) => [[{ group: c.group }, c.advertsWithheld]], this.advertsWithheld),
    });
    this.advertsMissed = new Counter({
      name: "kubelvs_vrrp_adverts_missed_total",
      help: "VRRP advertisement rounds skipped because the advert thread woke after the next one was due (an overloaded node)",
      labelNames: ["group"],
      registers,
      collect: () => this.copyCounters((c) => [[{ group: c.group }, c.advertsMissed]], this.advertsMissed),
    });
    this.advertsReceived = new Counter({
      name: "kubelvs_vrrp_adverts_received_total",
      help: "VRRP advertisements received and accepted",
      labelNames: ["group"],
      registers,
      collect: () =>
        this.copyCounters((c) => [[{ group: c.group }, c.advertsReceived]], this.advertsReceived),
    });
    this.drops = new Counter({
      name: "kubelvs_vrrp_packets_dropped_total",
      help: "VRRP packets dropped, by reason",
      labelNames: ["group", "reason"],
      registers,
      collect: () =>
        this.copyCounters(
          (c) =>
            Object.entries(c.drops)
              .filter(([, n]) => n > 0)
              .map(([reason, n]) => [{ group: c.group, reason }, n]),
          this.drops,
        ),
    });
    this.vipRestored = new Counter({
      name: "kubelvs_vip_restored_total",
      help: "VIPs put back after something else removed them while Master",
      labelNames: ["group"],
      registers,
    });
    this.notifyFailures = new Counter({
      name: "kubelvs_notify_failures_total",
      help: "Notify commands that failed or timed out",
      labelNames: ["group"],
      registers,
    });
  }

  setCounterSource(source: () => Iterable<GroupPacketCounters>): void {
    this.counterSource = source;
  }

  private copyCounters<L extends string>(
    pick: (c: GroupPacketCounters) => [Partial<Record<L, string>>, number][],
    counter: Counter<L>,
  ): void {
    counter.reset();
    for (const c of this.counterSource())
      for (const [labels, n] of pick(c)) if (n > 0) counter.inc(labels, n);
  }

  setState(group: string, state: MetricsVrrpState): void {
    for (const s of VRRP_STATES) this.state.set({ group, state: s }, s === state ? 1 : 0);
  }
  setPriority(group: string, priority: number): void {
    this.priority.set({ group }, priority);
  }
  private seenFor(group: string) {
    let s = this.seen.get(group);
    if (!s) this.seen.set(group, (s = new Set()));
    return s;
  }
  transition(group: string, from: string, to: string): void {
    this.seenFor(group).add(JSON.stringify([from, to]));
    this.transitions.inc({ group, from, to });
  }
  vipPutBack(group: string): void {
    this.vipRestored.inc({ group });
  }
  notifyFailed(group: string): void {
    this.notifyFailures.inc({ group });
  }
  /** Forget a group's series (it was removed by a reload). */
  removeGroup(group: string): void {
    for (const m of [
      this.priority,
      this.advertsSent,
      this.advertsWithheld,
      this.advertsMissed,
      this.advertsReceived,
      this.vipRestored,
      this.notifyFailures,
    ]) {
      m.remove({ group });
    }
    for (const state of VRRP_STATES) this.state.remove({ group, state });
    for (const pair of this.seenFor(group)) {
      const [from, to] = JSON.parse(pair) as [string, string];
      this.transitions.remove({ group, from, to });
    }
    this.seen.delete(group);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
