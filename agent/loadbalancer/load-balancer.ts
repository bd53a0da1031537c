// The load-balancing half of the agent: the node's VirtualServices, their real servers' health
// checks, quorum and sorry servers, the IPVS reconciler that keeps the kernel's table to match, and
// the connection sync daemons that follow VRRP state.
//
// Every node carrying a VirtualService's group programs its table and runs its checks, Master and
// Backups alike, so a new Master starts with a known-good table (with NAT only the Master receives
// traffic; with DR/TUN the VIP is only on the Master). See agent/ipvs/README.md.
import type { NodeVirtualService, NodeVirtualServiceStatus } from "../../crds/schema/node-state.js";
import type { RealServerStatus } from "../../crds/schema/virtual-service.js";
import type { Logger } from "../../core/log.js";
import type { IpvsControl } from "../../native/ipvs/control.js";
import { describeService } from "../../native/ipvs/model.js";
import { describeResult, runCommand } from "../exec/run-command.js";
import type { Verdict } from "../health/checker-state.js";
import type { ProbeResult } from "../health/probe.js";
import type { QuorumChange } from "../health/quorum.js";
import { CheckScheduler, firstDelay } from "../health/scheduler.js";
import type { DesiredService } from "../ipvs/desired.js";
import type { OwnershipStore } from "../ipvs/ownership.js";
import { IpvsReconciler, type PassResult } from "../ipvs/reconciler.js";
import { planSyncDaemons, SyncDaemonController, type SyncGroupInput } from "../ipvs/sync-daemons.js";
import type { LoadBalancerMetrics, RealServerSample } from "./metrics.js";
import {
  VirtualServiceRuntime,
  type CheckEvents,
  type RealServerRuntime,
} from "./virtual-service-runtime.js";

export interface LoadBalancerOptions {
  /** Full IPVS read and repair period; default 30 s. */
  readonly resyncIntervalMs?: number;
  /**
   * Longest a removed real server or service drains before deletion, for VirtualServices without
   * drainTimeoutSeconds; default 120 s.
   */
  readonly drainTimeoutMs?: number;
  readonly drainPollMs?: number;
  readonly retryDelayMs?: number;
  /** Most health checks running at once; default 128. */
  readonly maxConcurrentChecks?: number;
  /** Time limit of notify and quorum commands; default 30 s. */
  readonly notifyTimeoutMs?: number;
}

export interface LoadBalancerDeps {
  /** The IPVS kernel edge; the load balancer owns it and closes it on stop(). */
  readonly ipvs: IpvsControl;
  readonly ownership: OwnershipStore;
  readonly log: Logger;
  readonly metrics: LoadBalancerMetrics;
  readonly options?: LoadBalancerOptions;
}

interface InactiveService {
  readonly namespace: string;
  readonly name: string;
  readonly message: string;
}

const STATUS_MESSAGE_LIMIT = 1024;
/** Extra time over a check's own timeout before the scheduler's backstop aborts it. */
const PROBE_BACKSTOP_MS = 1000;

/**
 * What the agent asks of its load balancer, wherever it runs: a LoadBalancer on the agent's own
 * event loop (tests with a fake kernel), or one on its own thread (thread/load-balancer-thread.ts).
 */
export interface LoadBalancerControl {
  apply(entries: readonly NodeVirtualService[], groupsOnNode: ReadonlySet<string>): void | Promise<void>;
  applySyncDaemons(groups: readonly SyncGroupInput[]): Promise<void>;
  vrrpChanged(groups: readonly SyncGroupInput[]): Promise<void>;
  status(): NodeVirtualServiceStatus[];
  /** Makes the next status() current (where status() may lag behind). */
  refreshStatus?(): Promise<void>;
  /** Prometheus text of metrics kept outside the agent's registry. */
  metricsText?(): Promise<string>;
  stop(): Promise<void>;
}

export class LoadBalancer implements LoadBalancerControl {
  private services = new Map<string, VirtualServiceRuntime>();
  private inactive = new Map<string, InactiveService>();
  /** The desired table, by IPVS service id; shared with the reconciler and updated in place. */
  private readonly desired = new Map<string, DesiredService>();
  private readonly reconciler: IpvsReconciler;
  private readonly scheduler: CheckScheduler;
  private readonly syncDaemons: SyncDaemonController;
  private syncQueue: Promise<void> = Promise.resolve();
  private readonly notifications = new Set<Promise<void>>();
  private readonly log: Logger;
  private stopped = false;

  constructor(private readonly deps: LoadBalancerDeps) {
    const options = deps.options ?? {};
    this.log = deps.log.child({ component: "loadbalancer" });
    this.reconciler = new IpvsReconciler({
      ipvs: deps.ipvs,
      ownership: deps.ownership,
      log: this.log,
      metrics: deps.metrics,
      ...(options.resyncIntervalMs !== undefined ? { resyncIntervalMs: options.resyncIntervalMs } : {}),
      ...(options.drainTimeoutMs !== undefined ? { drainTimeoutMs: options.drainTimeoutMs } : {}),
      ...(options.drainPollMs !== undefined ? { drainPollMs: options.drainPollMs } : {}),
      ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
    });
    this.scheduler = new CheckScheduler({
      ...(options.maxConcurrentChecks !== undefined ? { maxConcurrent: options.maxConcurrentChecks } : {}),
      onError: (id, error) => this.log.error("health check failed unexpectedly", { check: id, err: error }),
    });
    this.syncDaemons = new SyncDaemonController(deps.ipvs, this.log);
    deps.metrics.setIpvsAvailable(true);
    deps.metrics.setSource({
      realServers: () => this.realServerSamples(),
      quorums: () => [...this.services.values()].map((s) => ({ virtualService: s.id, up: s.quorum.up })),
      scheduler: () => this.scheduler.stats(),
    });
  }

  /**
   * Applies the node's VirtualServices. Those of groups not on this node are reported inactive;
   * unchanged ones keep their checks untouched; changed ones keep the state of unchanged checks.
   */
  apply(entries: readonly NodeVirtualService[], groupsOnNode: ReadonlySet<string>): void {
    if (this.stopped) return;
    const next = new Map<string, VirtualServiceRuntime>();
    const inactive = new Map<string, InactiveService>();
    const holders = new Map<string, string>(); // IPVS service id → VirtualService holding it
    const sorted = [...entries].sort((a, b) =>
      `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`),
    );
    for (const entry of sorted) {
      const id = `${entry.namespace}/${entry.name}`;
      const off = (message: string) =>
        inactive.set(id, { namespace: entry.namespace, name: entry.name, message });
      if (!groupsOnNode.has(entry.vrrpGroup)) {
        off(`VRRP group ${entry.vrrpGroup} is not configured on this node`);
        continue;
      }
      const source = JSON.stringify(entry);
      const current = this.services.get(id);
      let runtime: VirtualServiceRuntime;
      try {
        runtime = current?.source === source ? current : new VirtualServiceRuntime(entry, source, current);
      } catch (error) {
        off(`invalid: ${(error as Error).message}`);
        this.log.error("virtual service cannot be programmed", { virtualService: id, err: error });
        continue;
      }
      const holder = holders.get(runtime.serviceId);
      if (holder !== undefined) {
        off(`${describeService(runtime.service.key)} is already programmed for ${holder}`);
        continue;
      }
      holders.set(runtime.serviceId, id);
      next.set(id, runtime);
    }

    const changed = new Set<string>();
    for (const [id, old] of this.services) {
      const kept = next.get(id);
      if (kept === old) continue;
      for (const server of old.realServers.values()) {
        const replacement = kept?.realServers.get(server.id);
        if (replacement?.checkKey !== server.checkKey) this.scheduler.remove(checkId(old, server));
      }
      if (kept === undefined || kept.serviceId !== old.serviceId) {
        if (this.desired.get(old.serviceId)?.owner === id) this.desired.delete(old.serviceId);
        changed.add(old.serviceId);
      }
      if (kept === undefined) {
        this.deps.metrics.removeVirtualService(id);
        this.log.info("virtual service removed", {
          virtualService: id,
          service: describeService(old.service.key),
        });
      }
    }
    for (const [id, runtime] of next) {
      const old = this.services.get(id);
      if (old === runtime) continue;
      for (const server of runtime.realServers.values()) {
        if (server.timing === undefined) continue;
        const previous = old?.realServers.get(server.id);
        if (previous?.checkKey === server.checkKey && this.scheduler.has(checkId(runtime, server))) continue;
        this.scheduleCheck(runtime, server);
      }
      if (old !== undefined) {
        const change = runtime.reevaluateQuorum();
        if (change !== undefined) this.quorumChanged(runtime, change);
      } else {
        if (!runtime.quorum.up) this.quorumChanged(runtime, "lost");
        this.log.info("virtual service added", {
          virtualService: id,
          service: describeService(runtime.service.key),
          realServers: runtime.realServers.size,
        });
      }
      this.desired.set(runtime.serviceId, runtime.desired());
      changed.add(runtime.serviceId);
    }
    this.services = next;
    this.inactive = inactive;
    this.reconciler.setDesired(this.desired, changed);
  }

  /** A VRRP transition: re-read the table (a new Master checks it is right) and switch the sync daemons. */
  vrrpChanged(groups: readonly SyncGroupInput[]): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.reconciler.resyncSoon();
    return this.applySyncDaemons(groups);
  }

  /** Runs the sync daemons the groups' states and settings call for (configuration applied, or a transition). */
  applySyncDaemons(groups: readonly SyncGroupInput[]): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const plan = planSyncDaemons(groups);
    const run = this.syncQueue.then(() => this.syncDaemons.apply(plan));
    this.syncQueue = run.catch((error: unknown) =>
      this.log.error("cannot switch IPVS sync daemons", { err: error, daemons: plan.daemons }),
    );
    return this.syncQueue;
  }

  /** Waits for the pending reconcile work and reports the pass (tests, benchmarks). */
  reconcile(): Promise<PassResult> {
    return this.reconciler.reconcile();
  }

  status(): NodeVirtualServiceStatus[] {
    const statuses: NodeVirtualServiceStatus[] = [];
    for (const runtime of this.services.values()) {
      const state = this.reconciler.serviceState(runtime.serviceId);
      const message = state.conflict
        ? `${describeService(runtime.service.key)} exists in the kernel and was not created by kubelvs; left alone`
        : state.error !== undefined
          ? `${runtime.summary()}; last IPVS error: ${state.error}`
          : runtime.summary();
      statuses.push({
        namespace: runtime.namespace,
        name: runtime.name,
        active: state.programmed && !state.conflict,
        realServers: [...runtime.realServers.values()].map((server) =>
          this.realServerStatus(runtime, server),
        ),
        message: message.slice(0, STATUS_MESSAGE_LIMIT),
      });
    }
    for (const off of this.inactive.values()) statuses.push({ ...off, active: false });
    return statuses.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  }

  /** Stops checks, the reconciler and the sync daemons it started; the IPVS table stays as it is. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.scheduler.stop();
    await this.reconciler.stop();
    await this.syncQueue;
    try {
      await this.syncDaemons.stopAll();
    } catch (error) {
      this.log.error("cannot stop IPVS sync daemons", { err: error });
    }
    await Promise.all(this.notifications);
    this.deps.ipvs.close();
  }

  private realServerStatus(runtime: VirtualServiceRuntime, server: RealServerRuntime): RealServerStatus {
    const weight = this.reconciler.kernelWeight(runtime.serviceId, server.id);
    const checked = server.checker?.lastCheckTime;
    return {
      address: server.address,
      port: server.server.port,
      healthy: runtime.healthy(server),
      ...(weight !== undefined ? { weight } : {}),
      message: (server.checker?.lastMessage ?? "no health check").slice(0, STATUS_MESSAGE_LIMIT),
      ...(checked !== undefined ? { lastCheckTime: checked.toISOString() } : {}),
    };
  }

  private *realServerSamples(): Iterable<RealServerSample> {
    for (const runtime of this.services.values())
      for (const server of runtime.realServers.values())
        yield {
          virtualService: runtime.id,
          realServer: endpointText(server.address, server.server.port),
          healthy: runtime.healthy(server),
          weight: this.reconciler.kernelWeight(runtime.serviceId, server.id),
        };
  }

  private scheduleCheck(runtime: VirtualServiceRuntime, server: RealServerRuntime): void {
    const serviceId = runtime.id;
    const serverId = server.id;
    this.scheduler.add(
      { id: checkId(runtime, server), run: (signal) => this.runCheck(serviceId, serverId, signal) },
      firstDelay(server.timing!.intervalMs, server.timing!.warmupMs),
    );
  }

  private async runCheck(serviceId: string, serverId: string, signal: AbortSignal): Promise<number> {
    const runtime = this.services.get(serviceId);
    const server = runtime?.realServers.get(serverId);
    if (server?.probe === undefined || server.timing === undefined || server.check === undefined)
      return 60_000;
    const target = {
      address: server.address,
      port: server.check.port ?? server.server.port,
      ...(server.check.sourceAddress !== undefined ? { sourceAddress: server.check.sourceAddress } : {}),
      timeoutMs: server.timing.timeoutMs,
    };
    const result = await server.probe(
      target,
      AbortSignal.any([signal, AbortSignal.timeout(target.timeoutMs + PROBE_BACKSTOP_MS)]),
    );
    // A reload during the attempt may have replaced the runtime: record on the current one when it
    // still carries this check's state; otherwise the result is stale.
    const current = this.services.get(serviceId);
    const now = current?.realServers.get(serverId);
    if (
      signal.aborted ||
      current === undefined ||
      now?.checker === undefined ||
      now.checker !== server.checker
    )
      return server.timing.intervalMs;
    this.deps.metrics.check(serviceId, result.healthy);
    const events = current.recordCheck(serverId, result);
    this.log.debug("health check", {
      virtualService: serviceId,
      realServer: endpointText(now.address, now.server.port),
      healthy: result.healthy,
      result: result.message,
      nextInMs: events.nextDelayMs,
    });
    this.checkEvents(current, now, result, events);
    return events.nextDelayMs;
  }

  private checkEvents(
    runtime: VirtualServiceRuntime,
    server: RealServerRuntime,
    result: ProbeResult,
    events: CheckEvents,
  ): void {
    if (events.notify !== undefined) this.healthChanged(runtime, server, events.notify, result);
    if (events.quorum !== undefined) this.quorumChanged(runtime, events.quorum);
    if (!events.tableChanged) return;
    if (this.desired.get(runtime.serviceId)?.owner !== runtime.id) return;
    this.desired.set(runtime.serviceId, runtime.desired());
    this.reconciler.setDesired(this.desired, [runtime.serviceId]);
  }

  private healthChanged(
    runtime: VirtualServiceRuntime,
    server: RealServerRuntime,
    verdict: Verdict,
    result: ProbeResult,
  ): void {
    const fields = {
      virtualService: runtime.id,
      realServer: endpointText(server.address, server.server.port),
      result: result.message,
    };
    if (verdict === "up") this.log.info("real server healthy", fields);
    else this.log.warn("real server unhealthy", fields);
    const command = verdict === "up" ? server.server.notify?.up : server.server.notify?.down;
    if (command !== undefined)
      this.notify(runtime, command, {
        KUBELVS_EVENT: verdict,
        KUBELVS_REAL_SERVER_ADDRESS: server.address,
        KUBELVS_REAL_SERVER_PORT: String(server.server.port),
      });
  }

  private quorumChanged(runtime: VirtualServiceRuntime, change: QuorumChange): void {
    const fields = {
      virtualService: runtime.id,
      healthyWeight: runtime.healthyWeight(),
      minimumWeight: runtime.spec.quorum?.minimumWeight ?? 1,
      hysteresis: runtime.spec.quorum?.hysteresis ?? 0,
      sorryServer: runtime.spec.sorryServer?.address,
    };
    if (change === "gained") this.log.info("quorum gained", fields);
    else this.log.warn("quorum lost", fields);
    const command = change === "gained" ? runtime.spec.quorum?.up : runtime.spec.quorum?.down;
    if (command !== undefined)
      this.notify(runtime, command, { KUBELVS_EVENT: `quorum-${change === "gained" ? "up" : "down"}` });
  }

  private notify(runtime: VirtualServiceRuntime, argv: readonly string[], env: Record<string, string>): void {
    const timeoutMs = this.deps.options?.notifyTimeoutMs ?? 30_000;
    const run = runCommand(argv, {
      timeoutMs,
      env: { ...process.env, KUBELVS_VIRTUAL_SERVICE: runtime.id, ...env },
    }).then((result) => {
      if (result.code === 0) return;
      this.deps.metrics.notifyFailed(runtime.id);
      this.log.warn("notify command failed", {
        virtualService: runtime.id,
        result: describeResult(argv, result),
      });
    });
    this.notifications.add(run);
    void run.finally(() => this.notifications.delete(run));
  }
}

const checkId = (runtime: VirtualServiceRuntime, server: RealServerRuntime): string =>
  `${runtime.id}|${server.id}`;

const endpointText = (address: string, port: number): string =>
  address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
