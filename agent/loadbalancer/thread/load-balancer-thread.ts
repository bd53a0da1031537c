// The agent's side of the load balancer's thread (worker.ts): the same operations as LoadBalancer,
// carried out there. The agent's event loop runs the VRRP engine at real-time priority; health checks
// and IPVS reconciles are the agent's bulk work, and on that loop they would hold up its timers
// (and the Master's adverts, which are withheld while the loop stalls). On their own thread they
// cannot, and they run at ordinary priority.
//
// Status is read from a copy the thread sends with each reply, refreshed in the background when a
// reader finds it older than STATUS_MAX_AGE_MS (or at once through refreshStatus()), so the agent's
// status() stays synchronous and never waits on the thread. If the thread dies (a bug, not a
// condition the load balancer expects), it is started again and handed the last configuration; the
// kernel's table stays meanwhile and is adopted through the ownership record, as after a restart.
import { Worker } from "node:worker_threads";
import type { NodeVirtualService, NodeVirtualServiceStatus } from "../../../crds/schema/node-state.js";
import type { Logger } from "../../../core/log.js";
import type { SyncGroupInput } from "../../ipvs/sync-daemons.js";
import type { LoadBalancerControl } from "../load-balancer.js";
import type { FromThread, Request, ThreadSetup, ToThread } from "./messages.js";

type Reply = FromThread & { kind: "reply" };

const WORKER = new URL("./worker.js", import.meta.url);
const STATUS_MAX_AGE_MS = 1000;
const RESTART_DELAYS_MS = [1000, 2000, 5000, 10_000, 30_000];
/** A thread that ran this long before it died starts again after the shortest delay. */
const LONG_RUN_MS = 60_000;

/** Starts a worker and resolves once it runs the load balancer; rejects with why it cannot. */
function startWorker(setup: ThreadSetup, log: Logger): Promise<Worker> {
  const worker = new Worker(WORKER, { workerData: setup, name: "kubelvs load balancer" });
  // Log lines flow for the thread's whole life, from before it is ready.
  worker.on("message", (message: FromThread) => {
    if (message.kind === "log") log[message.level](message.msg, message.fields);
  });
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromThread) => {
      if (message.kind === "ready") settle(() => resolve(worker));
      else if (message.kind === "failed") settle(() => reject(new Error(message.message)));
    };
    const onError = (error: Error) =>
      settle(() => reject(new Error(`load balancer thread failed to start: ${error.message}`)));
    const onExit = (code: number) =>
      settle(() => reject(new Error(`load balancer thread exited with code ${code} before it was ready`)));
    const settle = (then: () => void) => {
      worker.off("message", onMessage).off("error", onError).off("exit", onExit);
      then();
    };
    worker.on("message", onMessage).on("error", onError).on("exit", onExit);
  });
}

export class LoadBalancerThread implements LoadBalancerControl {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private cachedStatus: NodeVirtualServiceStatus[] = [];
  private statusAt = 0;
  private refreshing: Promise<void> | undefined;
  /** The last configuration and sync inputs, handed to a restarted thread. */
  private lastApply: { entries: readonly NodeVirtualService[]; groupsOnNode: readonly string[] } | undefined;
  private lastSync: readonly SyncGroupInput[] | undefined;
  private stopping = false;
  /** Restarts in a row without a long run between them: each waits longer (RESTART_DELAYS_MS). */
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private runningSince = Date.now();

  private constructor(
    private worker: Worker | undefined,
    private readonly setup: ThreadSetup,
    private readonly log: Logger,
  ) {
    this.watch(worker!);
  }

  /** Starts the thread; rejects with the reason when IPVS cannot be opened there. */
  static async start(setup: ThreadSetup, log: Logger): Promise<LoadBalancerThread> {
    return new LoadBalancerThread(await startWorker(setup, log), setup, log);
  }

  /** While the thread restarts, the configuration is only recorded: the restart hands it over. */
  async apply(entries: readonly NodeVirtualService[], groupsOnNode: ReadonlySet<string>): Promise<void> {
    this.lastApply = { entries, groupsOnNode: [...groupsOnNode] };
    if (this.worker !== undefined) await this.request({ op: "apply", ...this.lastApply });
  }

  /** Never rejects, like LoadBalancer's: a failure to switch sync daemons is logged. */
  async applySyncDaemons(groups: readonly SyncGroupInput[]): Promise<void> {
    await this.syncRequest({ op: "sync-daemons", groups });
  }

  async vrrpChanged(groups: readonly SyncGroupInput[]): Promise<void> {
    await this.syncRequest({ op: "vrrp-changed", groups });
  }

  private async syncRequest(request: Request & { groups: readonly SyncGroupInput[] }): Promise<void> {
    this.lastSync = request.groups;
    if (this.worker === undefined) return;
    try {
      await this.request(request);
    } catch (e) {
      this.log.error("load balancer thread: cannot switch IPVS sync daemons", { err: e });
    }
  }

  status(): NodeVirtualServiceStatus[] {
    if (Date.now() - this.statusAt > STATUS_MAX_AGE_MS) void this.refreshStatus().catch(() => undefined);
    return this.cachedStatus;
  }

  /** Fetches the thread's current status (what status() returns from then on). */
  refreshStatus(): Promise<void> {
    this.refreshing ??= this.request({ op: "status" })
      .then(() => undefined)
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** The thread's metrics in Prometheus text (its own registry; the agent appends it to its own). */
  async metricsText(): Promise<string> {
    return (await this.request({ op: "metrics" })).metrics ?? "";
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    try {
      await this.request({ op: "stop" });
    } catch (e) {
      this.log.error("load balancer thread did not stop cleanly", { err: e });
      await worker.terminate();
    }
    await exited;
  }

  private request(request: Request): Promise<Reply> {
    const worker = this.worker;
    if (worker === undefined || (this.stopping && request.op !== "stop"))
      return Promise.reject(new Error(`load balancer thread is not running (${request.op})`));
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, request } satisfies ToThread);
    });
  }

  private watch(worker: Worker): void {
    worker.on("message", (message: FromThread) => {
      if (message.kind !== "reply") return;
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.status !== undefined) {
        this.cachedStatus = message.status;
        this.statusAt = Date.now();
      }
      if (message.error !== undefined) waiting?.reject(new Error(message.error));
      else waiting?.resolve(message);
    });
    worker.on("error", (error) => this.log.error("load balancer thread failed", { err: error }));
    worker.on("exit", (code) => {
      this.worker = undefined;
      if (Date.now() - this.runningSince > LONG_RUN_MS) this.restarts = 0;
      for (const { reject } of this.pending.values())
        reject(new Error(`load balancer thread exited (code ${code})`));
      this.pending.clear();
      if (!this.stopping) this.scheduleRestart(code);
    });
  }

  private scheduleRestart(code: number): void {
    const delay = RESTART_DELAYS_MS[Math.min(this.restarts, RESTART_DELAYS_MS.length - 1)]!;
    this.restarts++;
    this.log.error("load balancer thread exited; starting it again (the IPVS table stays meanwhile)", {
      code,
      inMs: delay,
    });
    this.cachedStatus = this.cachedStatus.map((s) => ({
      ...s,
      message: `health checks and IPVS updates paused: the load balancer thread is restarting (${s.message ?? ""})`,
    }));
    this.restartTimer = setTimeout(() => void this.restart(), delay);
    this.restartTimer.unref();
  }

  private async restart(): Promise<void> {
    if (this.stopping) return;
    let worker: Worker;
    try {
      worker = await startWorker(this.setup, this.log);
    } catch (e) {
      this.log.error("load balancer thread cannot start again", { err: e });
      this.scheduleRestart(-1);
      return;
    }
    if (this.stopping) {
      await worker.terminate();
      return;
    }
    this.worker = worker;
    this.runningSince = Date.now();
    this.watch(worker);
    this.log.info("load balancer thread running again");
    try {
      if (this.lastApply !== undefined) await this.request({ op: "apply", ...this.lastApply });
      if (this.lastSync !== undefined) await this.request({ op: "sync-daemons", groups: this.lastSync });
    } catch (e) {
      this.log.error("re-applying the configuration to the restarted load balancer thread failed", {
        err: e,
      });
    }
  }
}
