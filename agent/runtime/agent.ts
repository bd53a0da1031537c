// The agent: applies one node's desired state (a NodeState spec) with one runner per VRRP group, and
// re-applies a new one without disturbing what did not change. The same class serves standalone
// mode (a file, SIGHUP) and Kubernetes mode (the NodeState object).
//
// Isolation: each group starts, reconfigures and fails on its own; a group that cannot start (its
// interface is missing, say) is reported and retried, the others run.
import type { NodeStateSpec, NodeVrrpGroup } from "../../crds/schema/node-state.js";
import type { Logger } from "../../core/log.js";
import type { KernelEdge } from "../../native/kernel.js";
import type { AgentMetrics } from "../metrics.js";
import { VrrpSyncGroup } from "../vrrp/sync-group.js";
import type { VrrpState } from "../vrrp/ports.js";
import type { ResignPlan } from "../guard/resign-plan.js";
import { TransportHub } from "./transport-hub.js";
import { VrrpGroupRunner, type GroupStatus } from "./vrrp-group-runner.js";

export interface AgentStatus {
  instance: string;
  pid: number;
  startedAt: string;
  groups: GroupStatus[];
  failedGroups: { name: string; error: string }[];
}

export interface AgentDeps {
  instance: string;
  kernel: KernelEdge;
  log: Logger;
  metrics: AgentMetrics;
  /** Called after any group's transition. */
  onTransition?: (group: string, from: VrrpState, to: VrrpState) => void;
}

const RETRY_FAILED_GROUPS_MS = 5000;

export class Agent {
  private readonly hub: TransportHub;
  private runners = new Map<string, VrrpGroupRunner>();
  private failed = new Map<string, string>();
  private spec: NodeStateSpec = { vrrpGroups: [] };
  private readonly startedAt = new Date();
  private retryTimer: NodeJS.Timeout | undefined;
  /** Serialises apply/stop: a reload arriving during another one waits its turn. */
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly deps: AgentDeps) {
    this.hub = new TransportHub(deps.kernel, deps.log);
    deps.metrics.setCounterSource(() =>
      [...this.runners.values()].map((r) => {
        const s = r.status();
        return {
          group: s.name,
          advertsSent: s.advertsSent,
          advertsReceived: s.advertsReceived,
          drops: s.drops,
        };
      }),
    );
  }

  /** Applies a desired state: new groups start, removed ones resign, changed ones are updated in place when possible. */
  apply(spec: NodeStateSpec): Promise<void> {
    const run = this.queue.then(() => this.applyNow(spec));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(spec: NodeStateSpec): Promise<void> {
    if (this.stopped) return;
    this.spec = spec;
    const wanted = new Map(spec.vrrpGroups.map((g) => [g.name, g]));
    const { log } = this.deps;

    // Removed groups resign first, so a VIP moving to a new group is released before it is claimed.
    for (const [name, runner] of this.runners) {
      if (!wanted.has(name)) {
        log.info("group removed from the configuration; resigning", { group: name });
        await runner.stop();
        this.runners.delete(name);
        this.deps.metrics.removeGroup(name);
      }
    }
    for (const name of this.failed.keys()) if (!wanted.has(name)) this.failed.delete(name);

    const syncChanged = this.syncGroupsChanged(spec);
    const fresh: VrrpGroupRunner[] = [];
    for (const group of spec.vrrpGroups) {
      const current = this.runners.get(group.name);
      if (current && !syncChanged.has(group.name)) {
        if (await this.reconfigure(current, group)) continue;
        log.info("group identity changed (VRID, interface, version or address); restarting it", {
          group: group.name,
        });
      }
      if (current) {
        await current.stop();
        this.runners.delete(group.name);
      }
      const runner = this.newRunner(group);
      try {
        await runner.prepare();
        this.runners.set(group.name, runner);
        this.failed.delete(group.name);
        fresh.push(runner);
      } catch (e) {
        this.failed.set(group.name, (e as Error).message);
        log.error("group cannot start; will retry", { group: group.name, err: e });
      }
    }
    this.attachSyncGroups(spec, fresh);
    for (const runner of fresh) runner.begin();
    this.scheduleRetry();
  }

  private async reconfigure(runner: VrrpGroupRunner, group: NodeVrrpGroup): Promise<boolean> {
    try {
      return await runner.reconfigure(group);
    } catch (e) {
      this.deps.log.error("reconfiguring group failed; restarting it", { group: group.name, err: e });
      return false;
    }
  }

  private newRunner(group: NodeVrrpGroup): VrrpGroupRunner {
    return new VrrpGroupRunner(group, {
      kernel: this.deps.kernel,
      hub: this.hub,
      log: this.deps.log,
      metrics: this.deps.metrics,
      onTransition: (name, from, to) => this.deps.onTransition?.(name, from, to),
    });
  }

  /** Sync group of each running group, and the members of each running sync group. */
  private readonly currentSync = new Map<string, string | undefined>();
  private readonly syncMembers = new Map<string, string>();

  /**
   * Running groups whose sync-group membership changes: a sync group is wired when its members start,
   * so they restart together (a reload that leaves sync groups alone never restarts anything).
   */
  private syncGroupsChanged(spec: NodeStateSpec): Set<string> {
    const membersOf = (sync: string) =>
      spec.vrrpGroups
        .filter((g) => g.syncGroup === sync)
        .map((g) => g.name)
        .sort()
        .join(",");
    const changed = new Set<string>();
    for (const g of spec.vrrpGroups) {
      if (!this.runners.has(g.name)) continue;
      const moved = this.currentSync.get(g.name) !== g.syncGroup;
      const membersChanged =
        g.syncGroup !== undefined && membersOf(g.syncGroup) !== this.syncMembers.get(g.syncGroup);
      if (moved || membersChanged) changed.add(g.name);
    }
    return changed;
  }

  private attachSyncGroups(spec: NodeStateSpec, fresh: VrrpGroupRunner[]): void {
    const byName = new Map<string, VrrpGroupRunner[]>();
    for (const runner of fresh) {
      const group = spec.vrrpGroups.find((g) => g.name === runner.name);
      this.currentSync.set(runner.name, group?.syncGroup);
      if (group?.syncGroup !== undefined) {
        const members = spec.vrrpGroups.filter((g) => g.syncGroup === group.syncGroup).map((g) => g.name);
        this.syncMembers.set(group.syncGroup, members.sort().join(","));
      }
      if (group?.syncGroup === undefined) continue;
      byName.set(group.syncGroup, [...(byName.get(group.syncGroup) ?? []), runner]);
    }
    for (const [name, runners] of byName) {
      if (runners.length < 2) {
        this.deps.log.warn("sync group has a single member on this node; it acts alone", {
          syncGroup: name,
          group: runners[0]?.name,
        });
        continue;
      }
      new VrrpSyncGroup(
        name,
        runners.map((r) => r.vrrpInstance!),
      );
    }
  }

  private scheduleRetry(): void {
    clearTimeout(this.retryTimer);
    if (this.failed.size === 0 || this.stopped) return;
    this.retryTimer = setTimeout(() => void this.apply(this.spec), RETRY_FAILED_GROUPS_MS);
    this.retryTimer.unref();
  }

  /** SIGTERM: every group resigns (priority-0 advert) and removes its VIPs. */
  stop(): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.stopped) return;
      this.stopped = true;
      clearTimeout(this.retryTimer);
      await Promise.all([...this.runners.values()].map((r) => r.stop()));
      this.hub.close();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  status(): AgentStatus {
    return {
      instance: this.deps.instance,
      pid: process.pid,
      startedAt: this.startedAt.toISOString(),
      groups: [...this.runners.values()].map((r) => r.status()).sort((a, b) => a.name.localeCompare(b.name)),
      failedGroups: [...this.failed].map(([name, error]) => ({ name, error })),
    };
  }

  /** For the guard: what to send and remove if this process dies while Master. */
  resignPlans(): ResignPlan[] {
    return [...this.runners.values()].flatMap((r) => {
      const plan = r.resignPlan();
      return plan ? [plan] : [];
    });
  }
}
