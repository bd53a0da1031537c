// kubelvs agent: the node agent, standalone (from its YAML or a keepalived.conf) or in Kubernetes.
//
// This module only reads the command line and decides which process this is: the guard, a small
// parent that resigns for a crashed agent, or the agent proper (agent-process.ts). Each imports its
// own modules when it knows its role, so the guard stays close to a bare Node process in memory and
// the agent carries nothing it does not run.
import { parseArgs } from "node:util";
import { hostname } from "node:os";
import { basename, extname } from "node:path";
import { fileURLToPath } from "node:url";
import { createLogger, fileSink, type Logger, type LogLevel } from "../core/log.js";
import { GUARD_FD_ENV } from "../agent/guard/guard-client.js";
import { DEFAULT_RUN_DIR } from "../agent/process/instance.js";

const HELP = `usage: kubelvs agent (--config FILE | --keepalived-conf FILE | --kubernetes) [options]

Runs the node agent: VRRP for every group of this node's desired state, VIPs with gratuitous ARP /
unsolicited NA, tracked interfaces and scripts, notify hooks.

  --config FILE            the agent's YAML: a NodeState object or its spec (kubectl explain nodestate.spec)
  --keepalived-conf FILE   a keepalived.conf, imported on the fly (kubelvs import shows what it means)
  --kubernetes             follow this node's NodeState in the cluster and report into its status
  --kubeconfig FILE        with --kubernetes: credentials (default: in-cluster service account, $KUBECONFIG)
  --node-name NAME         this node's name (default: the hostname); selects per-node priorities
  --instance NAME          instance name: own pid file, control socket and metrics labels (default: the
                           config file's base name), so several agents can run on one host; with
                           --kubernetes also the kubelvs instance: follow NodeState NAME.<node> (without
                           --instance: NodeState <node>, the operator's default instance)
  --run-dir DIR            where pid files and control sockets live (default ${DEFAULT_RUN_DIR})
  --log-file FILE          append JSON log lines here instead of standard error
  --log-level LEVEL        debug, info (default), warn or error
  --metrics-address ADDR   serve /metrics and /healthz on HOST:PORT
  --realtime-priority N    SCHED_FIFO priority 1-99 for the guard's and the agent's event-loop threads
                           (default 10; 0: ordinary scheduling), like keepalived's vrrp_rt_priority:
                           adverts and failover timers keep time on a busy node. Needs CAP_SYS_NICE;
                           without it the agent says so and runs with ordinary scheduling.
  --proc-sys-root DIR      the host's /proc/sys, writable (default /proc/sys), for the ARP and
                           reverse-path sysctls of a node that is a DR/TUN real server (spec.realServer);
                           in a container whose own /proc/sys is read-only, a mount of the host's
  --real-server-state-dir DIR
                           where the record of the IPv6 real-server VIPs this agent added lives (default
                           the run directory); keep it as long as the host's addresses (the host's /run)
  --no-guard               run the agent in this process, without the guard that resigns for it when
                           it crashes (the guard also starts it with node --max-semi-space-size=1)

Signals: SIGHUP reloads the configuration without flipping unchanged groups; SIGTERM and SIGINT
resign (priority-0 advert) and remove the VIPs. kubelvs status --instance NAME shows the state.
`;

/** sysexits EX_CONFIG: the configuration or the host setup is wrong; restarting will not help. */
export const EXIT_CONFIG = 78;

/**
 * Node options of the agent child the guard starts. A 1 MB young generation instead of V8's default
 * (up to 16 MB per semi-space, grown by startup's allocation and kept): the agent's steady garbage
 * is short-lived, and bench/agent-memory.mjs measured 1 to 2 MB less RSS (with 1 and 20 groups at
 * 10 ms) for the same CPU.
 */
export const AGENT_NODE_OPTIONS = ["--max-semi-space-size=1"];

/**
 * Real-time priority of the event-loop threads by default: low among real-time tasks (the kernel's
 * own threads and anything an admin set higher come first), above every ordinary process. Only the
 * loop thread is real-time (SCHED_RESET_ON_FORK): V8's and libuv's helpers, the configuration loader,
 * health checks and notify scripts run as ordinary tasks, and so does the Master's advert thread
 * (real-time wake-ups made each advert ~8 % dearer; see native/src/periodic_sender_thread.cc).
 */
export const DEFAULT_REALTIME_PRIORITY = 10;

export interface AgentOptions {
  config?: string;
  keepalivedConf?: string;
  kubernetes: boolean;
  kubeconfig?: string;
  nodeName: string;
  instance: string;
  /** --instance as given: in Kubernetes mode the kubelvs instance too; absent is the unnamed one. */
  explicitInstance?: string;
  runDir: string;
  logFile?: string;
  logLevel: LogLevel;
  metricsAddress?: string;
  guard: boolean;
  /** SCHED_FIFO priority of the event-loop thread; 0 = ordinary scheduling. */
  realtimePriority: number;
  procSysRoot?: string;
  realServerStateDir?: string;
}

function parse(args: string[]): AgentOptions | string {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string" },
      "keepalived-conf": { type: "string" },
      kubernetes: { type: "boolean" },
      kubeconfig: { type: "string" },
      "node-name": { type: "string" },
      instance: { type: "string" },
      "run-dir": { type: "string" },
      "log-file": { type: "string" },
      "log-level": { type: "string" },
      "metrics-address": { type: "string" },
      "no-guard": { type: "boolean" },
      "realtime-priority": { type: "string" },
      "proc-sys-root": { type: "string" },
      "real-server-state-dir": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) return HELP;
  const sources = [
    values.config,
    values["keepalived-conf"],
    values.kubernetes ? "kubernetes" : undefined,
  ].filter((v) => v !== undefined);
  if (sources.length !== 1)
    throw new Error("give exactly one of --config FILE, --keepalived-conf FILE or --kubernetes");
  const source = sources[0]!;
  if (values.kubeconfig !== undefined && !values.kubernetes)
    throw new Error("--kubeconfig goes with --kubernetes");
  const realtimePriority = Number(values["realtime-priority"] ?? DEFAULT_REALTIME_PRIORITY);
  if (!Number.isInteger(realtimePriority) || realtimePriority < 0 || realtimePriority > 99)
    throw new Error(
      `--realtime-priority ${values["realtime-priority"]}: use an integer 1-99, or 0 for ordinary scheduling`,
    );
  const level = (values["log-level"] ?? "info") as LogLevel;
  if (!["debug", "info", "warn", "error"].includes(level))
    throw new Error(`--log-level ${level}: use debug, info, warn or error`);
  return {
    ...(values.config === undefined ? {} : { config: values.config }),
    ...(values["keepalived-conf"] === undefined ? {} : { keepalivedConf: values["keepalived-conf"] }),
    kubernetes: values.kubernetes === true,
    ...(values.kubeconfig === undefined ? {} : { kubeconfig: values.kubeconfig }),
    nodeName: values["node-name"] ?? hostname(),
    ...(values.instance === undefined ? {} : { explicitInstance: values.instance }),
    instance:
      values.instance ??
      basename(source, extname(source))
        .toLowerCase()
        .replace(/[^a-z0-9_.-]/g, "-"),
    runDir: values["run-dir"] ?? DEFAULT_RUN_DIR,
    ...(values["log-file"] === undefined ? {} : { logFile: values["log-file"] }),
    logLevel: level,
    ...(values["metrics-address"] === undefined ? {} : { metricsAddress: values["metrics-address"] }),
    guard: values["no-guard"] !== true,
    realtimePriority,
    ...(values["proc-sys-root"] === undefined ? {} : { procSysRoot: values["proc-sys-root"] }),
    ...(values["real-server-state-dir"] === undefined
      ? {}
      : { realServerStateDir: values["real-server-state-dir"] }),
  };
}

/**
 * Makes the calling (event-loop) thread real-time; a missing CAP_SYS_NICE (or an exhausted real-time
 * budget in a cgroup) is logged and the process goes on with ordinary scheduling.
 */
export async function applyRealtimePriority(priority: number, log: Logger): Promise<void> {
  if (priority === 0) return;
  const { loadAddon } = await import("../native/addon.js");
  try {
    loadAddon().setRealtimePriority(priority);
  } catch (e) {
    log.warn("real-time scheduling unavailable; running with ordinary scheduling", {
      priority,
      err: e,
    });
  }
}

export async function run(args: string[]): Promise<number> {
  let options: AgentOptions;
  try {
    const parsed = parse(args);
    if (typeof parsed === "string") {
      process.stdout.write(parsed);
      return 0;
    }
    options = parsed;
  } catch (e) {
    process.stderr.write(`kubelvs agent: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }

  const sink = options.logFile ? fileSink(options.logFile) : undefined;
  const log = createLogger({
    level: options.logLevel,
    fields: { instance: options.instance },
    ...(sink ? { sink } : {}),
  });
  try {
    if (options.guard && process.env[GUARD_FD_ENV] === undefined) {
      // This process becomes the guard; the agent proper runs as its child. The guard does not read
      // the configuration: the agent does, and its exit code EX_CONFIG stops the guard too.
      const { runGuarded } = await import("../agent/guard/guard.js");
      // the guard resigns for a crashed agent: it must not wait behind the node's other work either
      await applyRealtimePriority(options.realtimePriority, log.child({ component: "guard" }));
      const main = fileURLToPath(new URL("./main.js", import.meta.url));
      return await runGuarded({
        stopCodes: [EXIT_CONFIG],
        childArgs: [...AGENT_NODE_OPTIONS, main, "agent", ...args],
        log: log.child({ component: "guard" }),
      });
    }
    const { runAgentProcess } = await import("./agent-process.js");
    return await runAgentProcess(options, log);
  } finally {
    sink?.close();
  }
}
