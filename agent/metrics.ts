// The agent's Prometheus metrics. One registry per agent instance (not prom-client's global one), so
// several agents in one test process, or a reload, never mix their series.
import { Counter, Gauge, Registry } from "prom-client";

export const VRRP_STATES = ["Initialize", "Backup", "Master", "Fault", "Stopped"] as const;
export type MetricsVrrpState = (typeof VRRP_STATES)[number];

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly state: Gauge<"group" | "state">;
  private readonly priority: Gauge<"group">;
  private readonly transitions: Counter<"group" | "from" | "to">;
  private readonly advertsSent: Counter<"group">;
  private readonly advertsReceived: Counter<"group">;
  private readonly drops: Counter<"group" | "reason">;
  private readonly vipRestored: Counter<"group">;
  private readonly notifyFailures: Counter<"group">;
  /** Label sets used per group beyond `group` itself, so a removed group's series can all be dropped. */
  private readonly seen = new Map<string, { transitions: Set<string>; drops: Set<string> }>();

  constructor(instance: string) {
    this.registry.setDefaultLabels({ instance });
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
    });
    this.advertsReceived = new Counter({
      name: "kubelvs_vrrp_adverts_received_total",
      help: "VRRP advertisements received and accepted",
      labelNames: ["group"],
      registers,
    });
    this.drops = new Counter({
      name: "kubelvs_vrrp_packets_dropped_total",
      help: "VRRP packets dropped, by reason",
      labelNames: ["group", "reason"],
      registers,
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

  setState(group: string, state: MetricsVrrpState): void {
    for (const s of VRRP_STATES) this.state.set({ group, state: s }, s === state ? 1 : 0);
  }
  setPriority(group: string, priority: number): void {
    this.priority.set({ group }, priority);
  }
  private seenFor(group: string) {
    let s = this.seen.get(group);
    if (!s) this.seen.set(group, (s = { transitions: new Set(), drops: new Set() }));
    return s;
  }
  transition(group: string, from: string, to: string): void {
    this.seenFor(group).transitions.add(JSON.stringify([from, to]));
    this.transitions.inc({ group, from, to });
  }
  advertSent(group: string): void {
    this.advertsSent.inc({ group });
  }
  advertReceived(group: string): void {
    this.advertsReceived.inc({ group });
  }
  dropped(group: string, reason: string): void {
    this.seenFor(group).drops.add(reason);
    this.drops.inc({ group, reason });
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
      this.advertsReceived,
      this.vipRestored,
      this.notifyFailures,
    ]) {
      m.remove({ group });
    }
    for (const state of VRRP_STATES) this.state.remove({ group, state });
    const seen = this.seenFor(group);
    for (const pair of seen.transitions) {
      const [from, to] = JSON.parse(pair) as [string, string];
      this.transitions.remove({ group, from, to });
    }
    for (const reason of seen.drops) this.drops.remove({ group, reason });
    this.seen.delete(group);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
