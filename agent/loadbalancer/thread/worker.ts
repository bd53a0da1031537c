// The load balancer's own thread (a worker_threads Worker started by load-balancer-thread.ts): health
// checks, the IPVS reconciler and the sync daemons run here, at ordinary scheduling priority, so that
// neither a burst of checks nor a large reconcile (building and sending 10,000 services takes seconds)
// ever delays the VRRP timers and adverts on the agent's real-time event loop — keepalived keeps its
// checkers out of its VRRP process for the same reason.
//
// It owns its IPVS netlink socket and its own metrics registry (the agent's /metrics appends it).
import { parentPort, workerData } from "node:worker_threads";
import {
  levelEnabled,
  serialiseFields,
  type LogFields,
  type LogLevel,
  type Logger,
} from "../../../core/log.js";
import { loadAddon } from "../../../native/addon.js";
import { IpvsClient } from "../../../native/ipvs/client.js";
import { FileOwnershipStore, ownershipFilePath } from "../../ipvs/ownership.js";
import { LoadBalancer } from "../load-balancer.js";
import { LoadBalancerMetrics } from "../metrics.js";
import { createMetricsRegistry } from "../../metrics.js";
import type { FromThread, Request, ThreadSetup, ToThread } from "./messages.js";

if (parentPort === null) throw new Error("agent/loadbalancer/thread/worker.js runs as a worker thread only");
const port = parentPort;
const setup = workerData as ThreadSetup;
const post = (message: FromThread) => port.postMessage(message);

/** A Logger whose lines go to the agent's log, filtered here so that debug lines cost nothing when off. */
function threadLogger(minimum: LogLevel, base: LogFields = {}): Logger {
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (levelEnabled(level, minimum))
      post({ kind: "log", level, msg, fields: serialiseFields({ ...base, ...fields }) });
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    child: (fields) => threadLogger(minimum, { ...base, ...fields }),
  };
}

const log = threadLogger(setup.logLevel);

async function start(): Promise<LoadBalancer | undefined> {
  try {
    // A thread inherits nothing real-time (the agent sets SCHED_RESET_ON_FORK), but say it outright:
    // this thread's work is never more urgent than the node's other processes.
    loadAddon().setRealtimePriority(0);
  } catch (e) {
    log.warn("cannot set ordinary scheduling for the load balancer thread", { err: e });
  }
  let ipvs: IpvsClient;
  try {
    ipvs = await IpvsClient.open();
  } catch (e) {
    post({ kind: "failed", message: (e as Error).message });
    return undefined;
  }
  const registry = createMetricsRegistry(setup.instance);
  const balancer = new LoadBalancer({
    ipvs,
    ownership: new FileOwnershipStore(ownershipFilePath(setup.runDir, setup.instance)),
    log,
    metrics: new LoadBalancerMetrics(registry),
    options: setup.options,
  });
  const handle = async (request: Request): Promise<Omit<FromThread & { kind: "reply" }, "kind" | "id">> => {
    switch (request.op) {
      case "apply":
        balancer.apply(request.entries, new Set(request.groupsOnNode));
        return { status: balancer.status() };
      case "sync-daemons":
        await balancer.applySyncDaemons(request.groups);
        return {};
      case "vrrp-changed":
        await balancer.vrrpChanged(request.groups);
        return {};
      case "status":
        return { status: balancer.status() };
      case "metrics":
        return { metrics: await registry.metrics() };
      case "stop":
        await balancer.stop();
        return {};
    }
  };
  port.on("message", (message: ToThread) => {
    handle(message.request)
      .then(
        (reply) => post({ kind: "reply", id: message.id, ...reply }),
        (e: unknown) => post({ kind: "reply", id: message.id, error: (e as Error).message }),
      )
      // After stop's reply the port closes and with it the thread's last handle: the thread ends.
      .finally(() => message.request.op === "stop" && port.close());
  });
  post({ kind: "ready" });
  return balancer;
}

await start();
