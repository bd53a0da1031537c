// The agent: applies one node's desired state (a NodeState spec) with one runner per VRRP group, and
// re-applies a new one without disturbing what did not change. The same class serves standalone
// mode (a file, SIGHUP) and Kubernetes mode (the NodeState object).
//
// Isolation: each group starts, reconfigures and fails on its own; a group that cannot start (its
// interface is missing, say) is reported and retried, the others run.
import type {
  NodeRealServerStatus,
  NodeStateSpec,
  NodeVirtualServiceStatus,
  NodeVrrpGroup,
} from "../../crds/schema/node-state.js";
import type { Logger, LogLevel } from "../../core/log.js";
import type { KernelEdge } from "../../native/kernel.js";
import type { AgentMetrics } from "../metrics.js";
import type { IpvsControl } from "../../native/ipvs/control.js";
import { FileOwnershipStore, ownershipFilePath } from "../ipvs/ownership.js";
import type { SyncGroupInput } from "../ipvs/sync-daemons.js";
// Types only: the load balancer (its health probes load node:http, https, dgram and crypto; its
// metrics prom-client's whole entry point) is imported the first time a virtual service needs it,
// and then on its own thread (loadbalancer/thread/).
import type { LoadBalancerControl, LoadBalancerOptions } from "../loadbalancer/load-balancer.js";
import type { LoadBalancerMetrics } from "../loadbalancer/metrics.js";
import { DEFAULT_RUN_DIR } from "../process/instance.js";
import { VrrpSyncGroup } from "../vrrp/sync-group.js";
import type { VrrpState } from "../vrrp/ports.js";
import type { ResignPlan } from "../guard/resign-plan.js";
import { ProcSysctls, rtnetlinkLinkWriter } from "../realserver/host.js";
import { OwnedAddressRecord, realServerRecordPath } from "../realserver/ownership.js";
import { RealServerPreparer } from "../realserver/preparer.js";
import { TransportHub } from "./transport-hub.js";
import { VrrpGroupRunner, type GroupStatus } from "./vrrp-group-runner.js";

export interface AgentStatus {
  instance: string;
  pid: number;
  startedAt: string;
  groups: GroupStatus[];
  failedGroups: { name: string; error: string }[];
  /** Whether this node programs IPVS; without it the agent runs VRRP only and says why here. */
  ipvs?: { available: boolean; message?: string };
  /** One entry per virtual service of the configuration (NodeState status shape). */
  virtualServices?: NodeVirtualServiceStatus[];
  /** This node as a DR/TUN real server (spec.realServer), when there is anything to say. */
  realServer?: NodeRealServerStatus;
}

/** Where the real-server preparer writes sysctls and keeps its ownership record. */
export interface RealServerOptions {
  /** The host's /proc/sys, writable (default /proc/sys). */
  procSysRoot?: string;
  /** Directory of the IPv6 ownership record, living as long as the host's addresses (default: runDir). */
  stateDir?: string;
  resyncIntervalMs?: number;
}

export interface AgentDeps {
  instance: string;
  kernel: KernelEdge;
  log: Logger;
  metrics: AgentMetrics;
  /** Called after any group's transition. */
  onTransition?: (group: string, from: VrrpState, to: VrrpState) => void;
  /**
   * Runs the load balancer on this event loop over this IPVS kernel edge (tests with a fake kernel).
   * Default: the load balancer runs on a thread of its own with generic netlink IPVS in this
   * network namespace (loadbalancer/thread/), opened the first time the configuration has virtual
   * services or connection sync.
   */
  openIpvs?: () => Promise<IpvsControl>;
  /** The agent's log level, for the load balancer's thread (default info). */
  logLevel?: LogLevel;
  /** Where the IPVS ownership record lives (default /run/kubelvs, as the pid file). */
  runDir?: string;
  loadBalancer?: LoadBalancerOptions;
  realServer?: RealServerOptions;
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
  private loadBalancer: LoadBalancerControl | undefined;
  /** Why IPVS is not programmed (no IPVS in the kernel, say); undefined while it is or not yet needed. */
  private ipvsUnavailable: string | undefined;
  private lbMetrics: LoadBalancerMetrics | undefined;
  private realServer: RealServerPreparer | undefined;

  constructor(private readonly deps: AgentDeps) {
    this.hub = new TransportHub(deps.kernel, deps.log);
    deps.metrics.setCounterSource(() =>
      [...this.runners.values()].map((r) => {
        const s = r.status();
        return {
          group: s.name,
          advertsSent: s.advertsSent,
          advertsWithheld: s.advertsWithheld,
          advertsMissed: s.advertsMissed,
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
    await this.applyVirtualServices(spec);
    await this.applyRealServer(spec);
  }

  /**
   * This node as a real server of DR/TUN services. Runs for every spec, with a section or not: a
   * restarted agent removes the VIPs it added before that the new spec no longer lists.
   */
  private async applyRealServer(spec: NodeStateSpec): Promise<void> {
    const { deps } = this;
    const options = deps.realServer ?? {};
    this.realServer ??= new RealServerPreparer({
      instance: deps.instance,
      addresses: deps.kernel.addresses,
      links: deps.kernel.links,
      linkWriter: rtnetlinkLinkWriter(),
      sysctls: new ProcSysctls(options.procSysRoot),
      record: new OwnedAddressRecord(
        realServerRecordPath(options.stateDir ?? deps.runDir ?? DEFAULT_RUN_DIR, deps.instance),
      ),
      log: deps.log.child({ component: "realserver" }),
      ...(options.resyncIntervalMs === undefined ? {} : { resyncIntervalMs: options.resyncIntervalMs }),
    });
    await this.realServer.apply(spec.realServer);
  }

  /** Hands the virtual services to the load balancer, opening IPVS the first time it is needed. */
  private async applyVirtualServices(spec: NodeStateSpec): Promise<void> {
    const services = spec.virtualServices ?? [];
    const needed = services.length > 0 || spec.vrrpGroups.some((g) => g.connectionSync?.enabled === true);
    if (this.loadBalancer === undefined && this.ipvsUnavailable === undefined && needed) {
      try {
        this.loadBalancer = await this.startLoadBalancer();
      } catch (e) {
        // No IPVS (module not loaded, no permission): VRRP keeps running; status says why.
        this.ipvsUnavailable = (e as Error).message;
        const { LoadBalancerMetrics } = await import("../loadbalancer/metrics.js");
        this.lbMetrics ??= new LoadBalancerMetrics(this.deps.metrics.registry);
        this.lbMetrics.setIpvsAvailable(false);
        this.deps.log.error("IPVS is not available: running VRRP only, virtual services are not programmed", {
          err: e,
          virtualServices: services.length,
        });
      }
    }
    await this.loadBalancer?.apply(services, new Set(spec.vrrpGroups.map((g) => g.name)));
    await this.loadBalancer?.applySyncDaemons(this.syncInputs());
  }

  /** The load balancer on its own thread; or, given openIpvs, on this event loop. Rejects without IPVS. */
  private async startLoadBalancer(): Promise<LoadBalancerControl> {
    const { deps } = this;
    const runDir = deps.runDir ?? DEFAULT_RUN_DIR;
    if (deps.openIpvs === undefined) {
      const { LoadBalancerThread } = await import("../loadbalancer/thread/load-balancer-thread.js");
      return LoadBalancerThread.start(
        {
          instance: deps.instance,
          runDir,
          logLevel: deps.logLevel ?? "info",
          options: deps.loadBalancer ?? {},
        },
        deps.log,
      );
    }
    const [{ LoadBalancer }, { LoadBalancerMetrics }] = await Promise.all([
      import("../loadbalancer/load-balancer.js"),
      import("../loadbalancer/metrics.js"),
    ]);
    const ipvs = await deps.openIpvs();
    this.lbMetrics ??= new LoadBalancerMetrics(deps.metrics.registry);
    return new LoadBalancer({
      ipvs,
      ownership: new FileOwnershipStore(ownershipFilePath(runDir, deps.instance)),
      log: deps.log,
      metrics: this.lbMetrics,
      ...(deps.loadBalancer !== undefined ? { options: deps.loadBalancer } : {}),
    });
  }

  /** Each running group's VRRP state and connection-sync settings, for the sync daemons. */
  private syncInputs(): SyncGroupInput[] {
    return [...this.runners.values()].map((runner) => ({
      group: runner.name,
      master: runner.state === "master",
      connectionSync: this.spec.vrrpGroups.find((g) => g.name === runner.name)?.connectionSync,
      interface: runner.status().interface,
    }));
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
      onTransition: (name, from, to) => {
        this.deps.onTransition?.(name, from, to);
        void this.loadBalancer?.vrrpChanged(this.syncInputs());
      },
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
      // The IPVS table stays: the VIPs are gone with the resignation, and a restarted agent adopts it.
      await this.loadBalancer?.stop();
      // Real-server VIPs stay too: the node keeps serving while the agent is away.
      await this.realServer?.stop();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** status() with the load balancer's part read from it now (the control socket's answer). */
  async currentStatus(): Promise<AgentStatus> {
    await this.loadBalancer?.refreshStatus?.().catch(() => undefined);
    return this.status();
  }

  /** Prometheus text of every metric: the agent's registry and the load balancer thread's. */
  async metricsText(): Promise<string> {
    const own = await this.deps.metrics.text();
    const balancer = await this.loadBalancer?.metricsText?.().catch((e: unknown) => {
      this.deps.log.warn("cannot read the load balancer's metrics", { err: e });
      return undefined;
    });
    return balancer === undefined ? own : own + balancer;
  }

  status(): AgentStatus {
    return {
      instance: this.deps.instance,
      pid: process.pid,
      startedAt: this.startedAt.toISOString(),
      groups: [...this.runners.values()].map((r) => r.status()).sort((a, b) => a.name.localeCompare(b.name)),
      failedGroups: [...this.failed].map(([name, error]) => ({ name, error })),
      ipvs:
        this.ipvsUnavailable !== undefined
          ? { available: false, message: `IPVS is not available: ${this.ipvsUnavailable}` }
          : { available: this.loadBalancer !== undefined },
      virtualServices:
        this.loadBalancer?.status() ??
        (this.spec.virtualServices ?? []).map((vs) => ({
          namespace: vs.namespace,
          name: vs.name,
          active: false,
          message:
            this.ipvsUnavailable !== undefined
              ? `not programmed: IPVS is not available (${this.ipvsUnavailable})`
              : "not programmed yet",
        })),
      ...(this.realServer?.status() === undefined ? {} : { realServer: this.realServer.status()! }),
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
