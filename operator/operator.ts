// The kubelvs operator: informers on every input kind, one work queue, the controllers, and leader
// election. Every replica keeps its caches warm; only the leader runs the queue and writes. When
// leadership moves, the new leader starts with a full resync that, its caches being current,
// finds nothing to rewrite.
//
// Keys: "render" (run the renderer), "NodeState/<node>", "VrrpGroup/<name>",
// "VirtualService/<namespace>/<name>".
//
// One operator serves one kubelvs instance (instance.ts): it caches every group and service (a
// service belongs to the instance of the group it attaches to), but renders, and writes the status
// of, its instance's only; it caches, writes and reads the reports of its instance's NodeStates only.
import type { NodeStateStatus } from "../crds/schema/node-state.js";
import type { VirtualServiceStatus } from "../crds/schema/virtual-service.js";
import type { VrrpGroupStatus } from "../crds/schema/vrrp-group.js";
import { canonicalJSON } from "../core/render/content-hash.js";
import type { Logger } from "../core/log.js";
import {
  contentHashOf,
  trimNamespace,
  trimNode,
  trimNodeState,
  trimVirtualService,
  trimVrrpGroup,
  type CachedNamespace,
  type CachedNode,
  type CachedNodeState,
  type VirtualServiceObject,
  type VrrpGroupObject,
} from "./cluster-objects.js";
import { EventRecorder } from "./events.js";
import {
  UNNAMED_INSTANCE,
  checkInstanceName,
  defaultLeaseName,
  instanceOf,
  nodeStateSelector,
} from "./instance.js";
import type { KubeClient } from "./kube/client.js";
import { Informer, type InformerHandlers } from "./kube/informer.js";
import {
  NAMESPACES,
  NODES,
  NODE_STATES,
  VIRTUAL_SERVICES,
  VRRP_GROUPS,
  type KubeObject,
  type ResourceType,
} from "./kube/resources.js";
import { DEFAULT_LEASE_TIMING, LeaderElector } from "./leader-election.js";
import { OperatorMetrics, type Controller } from "./metrics.js";
import { NodeStateController, nodeStateKey } from "./nodestate-controller.js";
import { RenderController, groupKey, serviceKey } from "./render-controller.js";
import { ReportIndex } from "./report-index.js";
import { SecretWatcher } from "./secret-watcher.js";
import { StatusWriter } from "./status-writer.js";
import { VirtualServiceController } from "./virtualservice-controller.js";
import { VrrpGroupController } from "./vrrpgroup-controller.js";
import { WorkQueue } from "./work-queue.js";

export interface LeaderElectionSettings {
  namespace: string;
  name: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export interface OperatorOptions {
  client: KubeClient;
  log: Logger;
  /** The kubelvs instance served; default the unnamed one (groups without a kubelvs.io/instance label). */
  instance?: string;
  /** This replica's name in the Lease and in Events. */
  identity: string;
  leaderElection: LeaderElectionSettings;
  /** Full resync period; default 10 minutes. */
  resyncPeriodMs?: number;
  /** Concurrent reconciles; default 8. */
  workers?: number;
  /** An agent report older than this counts as no report; default 100 s (three missed heartbeats). */
  staleReportAfterMs?: number;
  metrics?: OperatorMetrics;
}

export const DEFAULT_LEADER_ELECTION: Omit<LeaderElectionSettings, "namespace"> = {
  name: defaultLeaseName(UNNAMED_INSTANCE),
  ...DEFAULT_LEASE_TIMING,
};

const RENDER = "render";

export class Operator {
  readonly metrics: OperatorMetrics;
  private readonly log: Logger;
  private readonly nodes: Informer<CachedNode>;
  private readonly namespaces: Informer<CachedNamespace>;
  private readonly groups: Informer<VrrpGroupObject>;
  private readonly services: Informer<VirtualServiceObject>;
  private readonly nodeStates: Informer<CachedNodeState>;
  private readonly informers: Informer<KubeObject>[];
  private readonly secrets: SecretWatcher;
  private readonly reports: ReportIndex;
  private readonly renderer: RenderController;
  private readonly nodeStateController: NodeStateController;
  private readonly groupController: VrrpGroupController;
  private readonly serviceController: VirtualServiceController;
  private readonly groupStatus: StatusWriter<VrrpGroupStatus>;
  private readonly serviceStatus: StatusWriter<VirtualServiceStatus>;
  private readonly elector: LeaderElector;
  /** The queue of the current leadership term; undefined while not leading. */
  private queue: WorkQueue | undefined;
  private workers: Promise<void>[] = [];
  private resyncTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: OperatorOptions) {
    const { client } = options;
    const instance = checkInstanceName(options.instance ?? UNNAMED_INSTANCE);
    this.log = options.log.child({
      component: "operator",
      ...(instance === UNNAMED_INSTANCE ? {} : { instance }),
    });
    this.metrics =
      options.metrics ??
      new OperatorMetrics({
        queueDepth: () => this.queue?.length ?? 0,
        cacheSizes: () => ({
          nodes: this.nodes.size,
          namespaces: this.namespaces.size,
          vrrpgroups: this.groups.size,
          virtualservices: this.services.size,
          nodestates: this.nodeStates.size,
          secrets: this.secrets.size,
        }),
      });
    const informer = <T extends KubeObject>(
      resource: ResourceType,
      transform: (o: KubeObject) => T,
      labelSelector?: string,
    ) =>
      new Informer<T>({
        client,
        resource,
        transform,
        log: this.log,
        ...(labelSelector === undefined ? {} : { labelSelector }),
      });
    this.nodes = informer(NODES, trimNode);
    this.namespaces = informer(NAMESPACES, trimNamespace);
    this.groups = informer(VRRP_GROUPS, trimVrrpGroup);
    this.services = informer(VIRTUAL_SERVICES, trimVirtualService);
    this.nodeStates = informer(NODE_STATES, trimNodeState, nodeStateSelector(instance));
    this.informers = [this.nodes, this.namespaces, this.groups, this.services, this.nodeStates];
    this.secrets = new SecretWatcher(client, this.log, () => this.enqueue(RENDER));
    const staleAfterMs = options.staleReportAfterMs ?? 100_000;
    this.reports = new ReportIndex(staleAfterMs);
    this.renderer = new RenderController({
      instance,
      nodes: this.nodes,
      namespaces: this.namespaces,
      groups: this.groups,
      services: this.services,
      secrets: this.secrets,
    });
    const events = new EventRecorder(client, options.identity, this.log);
    this.groupStatus = new StatusWriter<VrrpGroupStatus>(client, VRRP_GROUPS);
    this.serviceStatus = new StatusWriter<VirtualServiceStatus>(client, VIRTUAL_SERVICES);
    this.nodeStateController = new NodeStateController(
      instance,
      client,
      this.nodeStates,
      this.renderer,
      this.metrics,
      this.log,
    );
    this.groupController = new VrrpGroupController(
      this.groups,
      this.renderer,
      this.reports,
      this.groupStatus,
      events,
      this.metrics,
      staleAfterMs,
    );
    this.serviceController = new VirtualServiceController(
      this.services,
      this.renderer,
      this.groupController,
      this.reports,
      this.serviceStatus,
      events,
      this.metrics,
    );
    this.wireInformers();
    this.elector = new LeaderElector({
      client,
      log: this.log,
      identity: options.identity,
      ...options.leaderElection,
      onStartedLeading: () => this.startLeading(),
      onStoppedLeading: () => this.stopLeading(),
      onNewLeader: (leader) => this.log.info("leader is now", { leader }),
    });
  }

  start(): void {
    for (const i of this.informers) i.start();
    this.elector.start();
  }

  get isLeader(): boolean {
    return this.elector.isLeader;
  }

  /** Ready once every informer has listed its resource. */
  ready(): { ok: boolean; detail: string } {
    const waiting = this.informers.filter((i) => !i.synced);
    if (waiting.length === 0) return { ok: true, detail: "ok" };
    return {
      ok: false,
      detail: `caches not synced: ${waiting.length} of ${this.informers.length} informers still listing`,
    };
  }

  waitForCaches(): Promise<void> {
    return Promise.all(this.informers.map((i) => i.waitForSync())).then(() => undefined);
  }

  /** Releases the Lease (when leading), finishes running reconciles and stops every watch. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.elector.stop();
    this.stopLeading();
    await Promise.all(this.workers);
    await Promise.all([...this.informers.map((i) => i.stop()), this.secrets.stop()]);
  }

  private enqueue(key: string): void {
    this.queue?.add(key);
  }

  private wireInformers(): void {
    const render = () => this.enqueue(RENDER);
    const onSpec = <S, T extends KubeObject & { status?: S }>(
      writer: StatusWriter<S>,
      statusKey: (o: T) => string,
    ): InformerHandlers<T> => ({
      onAdd: render,
      onDelete: render,
      onUpdate: (old, next) => {
        if (
          old.metadata.generation !== next.metadata.generation ||
          old.metadata.deletionTimestamp !== next.metadata.deletionTimestamp ||
          // Relabelled into or out of an instance (labels do not bump the generation).
          instanceOf(old.metadata) !== instanceOf(next.metadata)
        )
          render();
        // Its own status write coming back needs nothing; someone else's is put back to what it should
        // say — on this instance's objects only: another instance's operator writes the others.
        else if (
          canonicalJSON(old.status) !== canonicalJSON(next.status) &&
          !writer.acknowledge(next.metadata, next.status) &&
          this.renderer.serves(statusKey(next))
        )
          this.enqueue(statusKey(next));
      },
    });
    this.groups.addHandlers(onSpec(this.groupStatus, (g: VrrpGroupObject) => groupKey(g.metadata.name)));
    this.services.addHandlers(
      onSpec(this.serviceStatus, (s: VirtualServiceObject) =>
        serviceKey(s.metadata.namespace ?? "", s.metadata.name),
      ),
    );
    // Nodes and namespaces matter through their labels and addresses only (the cache keeps no more).
    const onRelevantChange = <T extends KubeObject>(): InformerHandlers<T> => ({
      onAdd: render,
      onDelete: render,
      onUpdate: (old, next) => {
        const { resourceVersion: _a, ...oldMeta } = old.metadata;
        const { resourceVersion: _b, ...nextMeta } = next.metadata;
        if (canonicalJSON({ ...old, metadata: oldMeta }) !== canonicalJSON({ ...next, metadata: nextMeta }))
          render();
      },
    });
    this.nodes.addHandlers(onRelevantChange<CachedNode>());
    this.namespaces.addHandlers(onRelevantChange<CachedNamespace>());

    const nodeStateChanged = (old: CachedNodeState | undefined, next: CachedNodeState | undefined) => {
      // Labelled as this instance's but not named like one of its NodeStates: not the operator's.
      const node = this.nodeStateController.nodeOf((next ?? old)!);
      if (node === undefined) return;
      this.nodeStateController.observed(node);
      if (contentHashOf(old) !== contentHashOf(next) || next === undefined) this.enqueue(nodeStateKey(node));
      if (canonicalJSON(old?.status) !== canonicalJSON(next?.status)) this.reportChanged(node, next?.status);
    };
    this.nodeStates.addHandlers({
      onAdd: (o) => nodeStateChanged(undefined, o),
      onUpdate: (old, next) => nodeStateChanged(old, next),
      onDelete: (o) => nodeStateChanged(o, undefined),
    });
  }

  /** An agent's report changed: the groups it touched, their services, and services it reports. */
  private reportChanged(node: string, status: NodeStateStatus | undefined): void {
    const change = this.reports.update(node, status);
    const snapshot = this.renderer.snapshot;
    for (const group of change.groups) {
      this.enqueue(groupKey(group));
      for (const service of snapshot?.servicesByGroup.get(group) ?? []) this.enqueueService(service);
    }
    for (const service of change.services) this.enqueueService(service);
  }

  private enqueueService(id: string): void {
    const slash = id.indexOf("/");
    this.enqueue(serviceKey(id.slice(0, slash), id.slice(slash + 1)));
  }

  private startLeading(): void {
    if (this.stopped) return;
    this.metrics.setLeader(true);
    // Rendering and NodeState writes go before status: agents wait for the former, people for the latter.
    const queue = new WorkQueue({ urgent: (key) => key === RENDER || key.startsWith("NodeState/") });
    this.queue = queue;
    const workers = this.options.workers ?? 8;
    this.workers = [];
    void this.waitForCaches().then(() => {
      if (this.queue !== queue) return;
      this.log.info("caches synced; reconciling", { workers });
      this.resync();
      for (let i = 0; i < workers; i++) this.workers.push(this.work(queue));
      this.scheduleResync(queue);
    });
  }

  private stopLeading(): void {
    this.metrics.setLeader(false);
    clearTimeout(this.resyncTimer);
    this.queue?.shutDown();
    this.queue = undefined;
    this.nodeStateController.forgetWrites();
    this.groupStatus.forgetAll();
    this.serviceStatus.forgetAll();
  }

  private scheduleResync(queue: WorkQueue): void {
    const period = this.options.resyncPeriodMs ?? 600_000;
    this.resyncTimer = setTimeout(() => {
      if (this.queue !== queue) return;
      this.log.debug("periodic resync");
      this.resync();
      this.scheduleResync(queue);
    }, period);
    this.resyncTimer.unref();
  }

  /** Everything re-checked against the caches alone; with nothing changed, nothing is written. */
  private resync(): void {
    this.nodeStateController.forgetWrites();
    this.groupStatus.forgetAll();
    this.serviceStatus.forgetAll();
    this.enqueue(RENDER);
    for (const g of this.groups.list()) this.enqueue(groupKey(g.metadata.name));
    for (const s of this.services.list())
      this.enqueue(serviceKey(s.metadata.namespace ?? "", s.metadata.name));
  }

  private async work(queue: WorkQueue): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const started = performance.now();
      const controller = controllerOf(key);
      let failed = false;
      try {
        const recheckAfterMs = await this.reconcile(key, queue);
        queue.forget(key);
        if (recheckAfterMs !== undefined) queue.addAfter(key, recheckAfterMs + 50);
      } catch (e) {
        failed = true;
        const retryInMs = queue.addRateLimited(key);
        this.log.warn("reconcile failed; retrying", { key, err: e, retryInMs, retries: queue.retries(key) });
      } finally {
        queue.done(key);
        this.metrics.reconciled(controller, (performance.now() - started) / 1000, failed);
      }
    }
  }

  private async reconcile(key: string, queue: WorkQueue): Promise<number | undefined> {
    if (key === RENDER) {
      const changed = await this.renderer.reconcile();
      const snapshot = this.renderer.snapshot!;
      this.metrics.setConflicts(snapshot.problemCounts);
      for (const node of this.nodeStateController.outOfDate()) queue.add(nodeStateKey(node));
      for (const statusKey of changed) queue.add(statusKey);
      return undefined;
    }
    const [kind, ...rest] = key.split("/");
    switch (kind) {
      case "NodeState":
        await this.nodeStateController.reconcile(rest[0]!);
        return undefined;
      case "VrrpGroup":
        return (await this.groupController.reconcile(rest[0]!)).recheckAfterMs;
      case "VirtualService":
        return (await this.serviceController.reconcile(rest[0]!, rest[1]!)).recheckAfterMs;
      default:
        throw new Error(`work queue: unknown key ${key}`);
    }
  }
}

function controllerOf(key: string): Controller {
  if (key === RENDER) return "render";
  if (key.startsWith("NodeState/")) return "nodestate";
  if (key.startsWith("VrrpGroup/")) return "vrrpgroup";
  return "virtualservice";
}
