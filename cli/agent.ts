// kubelvs agent: the node agent, standalone (from its YAML or a keepalived.conf) or in Kubernetes.
import { parseArgs } from "node:util";
import { hostname } from "node:os";
import { basename, extname } from "node:path";
import type { NodeStateSpec } from "../crds/schema/node-state.js";
import { createLogger, fileSink, type LogLevel, type Logger } from "../core/log.js";
import { loadAgentConfig } from "../agent/config/load.js";
import { loadKeepalivedConfig } from "../agent/config/keepalived.js";
import { AgentMetrics } from "../agent/metrics.js";
import { ControlServer } from "../agent/process/control-socket.js";
import { serveAgentEndpoints, type HttpEndpoints } from "../agent/process/http-endpoints.js";
import { DEFAULT_RUN_DIR, instancePaths } from "../agent/process/instance.js";
import { acquirePidFile } from "../agent/process/pid-file.js";
import { Agent } from "../agent/runtime/agent.js";
import { connectGuard, GUARD_FD_ENV, type GuardHandle } from "../agent/guard/guard-client.js";
import { runGuarded } from "../agent/guard/guard.js";
import { fileURLToPath } from "node:url";
import { createKernelEdge } from "../native/kernel.js";
// Type only: the Kubernetes client is loaded when --kubernetes asks for it (it is ~50 MB per process).
import type { KubernetesModeHandle } from "../agent/kubernetes/kubernetes-mode.js";

const HELP = `usage: kubelvs agent (--config FILE | --keepalived-conf FILE | --kubernetes) [options]

Runs the node agent: VRRP for every group of this node's desired state, VIPs with gratuitous ARP /
unsolicited NA, tracked interfaces and scripts, notify hooks.

  --config FILE            the agent's YAML: a NodeState object or its spec (kubectl explain nodestate.spec)
  --keepalived-conf FILE   a keepalived.conf, imported on the fly (kubelvs import shows what it means)
  --kubernetes             follow this node's NodeState in the cluster and report into its status
  --kubeconfig FILE        with --kubernetes: credentials (default: in-cluster service account, $KUBECONFIG)
  --node-name NAME         this node's name (default: the hostname); selects per-node priorities
  --instance NAME          instance name: own pid file, control socket and metrics labels (default: the
                           config file's base name), so several agents can run on one host
  --run-dir DIR            where pid files and control sockets live (default ${DEFAULT_RUN_DIR})
  --log-file FILE          append JSON log lines here instead of standard error
  --log-level LEVEL        debug, info (default), warn or error
  --metrics-address ADDR   serve /metrics and /healthz on HOST:PORT
  --no-guard               do not start the guard that resigns for a crashed agent

Signals: SIGHUP reloads the configuration without flipping unchanged groups; SIGTERM and SIGINT
resign (priority-0 advert) and remove the VIPs. kubelvs status --instance NAME shows the state.
`;

/** sysexits EX_CONFIG: the configuration or the host setup is wrong; restarting will not help. */
const EXIT_CONFIG = 78;

interface AgentOptions {
  config?: string;
  keepalivedConf?: string;
  kubernetes: boolean;
  kubeconfig?: string;
  nodeName: string;
  instance: string;
  runDir: string;
  logFile?: string;
  logLevel: LogLevel;
  metricsAddress?: string;
  guard: boolean;
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
  const level = (values["log-level"] ?? "info") as LogLevel;
  if (!["debug", "info", "warn", "error"].includes(level))
    throw new Error(`--log-level ${level}: use debug, info, warn or error`);
  return {
    ...(values.config === undefined ? {} : { config: values.config }),
    ...(values["keepalived-conf"] === undefined ? {} : { keepalivedConf: values["keepalived-conf"] }),
    kubernetes: values.kubernetes === true,
    ...(values.kubeconfig === undefined ? {} : { kubeconfig: values.kubeconfig }),
    nodeName: values["node-name"] ?? hostname(),
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
  };
}

function loadSpec(options: AgentOptions, log: Logger): NodeStateSpec {
  // In Kubernetes the desired state arrives from the NodeState; the agent starts with nothing.
  if (options.kubernetes) return { vrrpGroups: [] };
  if (options.config !== undefined) return loadAgentConfig(options.config);
  const imported = loadKeepalivedConfig(options.keepalivedConf!, options.nodeName);
  for (const w of imported.warnings) log.warn("keepalived.conf import", { detail: w });
  return imported.spec;
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
  const paths = instancePaths(options.instance, options.runDir);
  let spec: NodeStateSpec;
  try {
    spec = loadSpec(options, log);
  } catch (e) {
    process.stderr.write(`kubelvs agent: ${(e as Error).message}\n`);
    return EXIT_CONFIG;
  }
  if (options.guard && process.env[GUARD_FD_ENV] === undefined) {
    // This process becomes the guard; the agent proper runs as its child.
    const main = fileURLToPath(new URL("./main.js", import.meta.url));
    const code = await runGuarded({
      stopCodes: [EXIT_CONFIG],
      childArgs: [main, "agent", ...args],
      log: log.child({ component: "guard" }),
    });
    sink?.close();
    return code;
  }
  let pidFile: ReturnType<typeof acquirePidFile>;
  try {
    pidFile = acquirePidFile(paths.pidFile);
  } catch (e) {
    process.stderr.write(`kubelvs agent: ${(e as Error).message}\n`);
    return EXIT_CONFIG;
  }
  const metrics = new AgentMetrics(options.instance);
  const kernel = createKernelEdge();
  let guard: GuardHandle | undefined;
  let cluster: KubernetesModeHandle | undefined;
  const agent = new Agent({
    instance: options.instance,
    kernel,
    log,
    metrics,
    runDir: options.runDir,
    onTransition: () => {
      guard?.update(agent.resignPlans());
      cluster?.notifyTransition();
    },
  });
  let endpoints: HttpEndpoints | undefined;
  let control: ControlServer | undefined;

  const reload = async (): Promise<void> => {
    if (options.kubernetes) {
      log.info("SIGHUP ignored: in Kubernetes mode the configuration is the NodeState");
      return;
    }
    log.info("reloading configuration");
    let next: NodeStateSpec;
    try {
      next = loadSpec(options, log);
    } catch (e) {
      // A broken file must not take down a running data plane: keep the last good configuration.
      log.error("reload failed; keeping the running configuration", { err: e });
      throw e;
    }
    await agent.apply(next);
    guard?.update(agent.resignPlans());
    log.info("configuration reloaded", { groups: next.vrrpGroups.length });
  };

  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string): Promise<void> =>
    (stopping ??= (async () => {
      log.info("stopping: resigning every group", { signal });
      await cluster?.stop();
      await agent.stop();
      guard?.release();
      await control?.close();
      await endpoints?.close();
      kernel.close();
      pidFile.release();
      log.info("stopped");
      sink?.close();
    })());

  try {
    guard = connectGuard(log);
    await agent.apply(spec);
    guard?.update(agent.resignPlans());
    if (options.kubernetes) {
      const { runKubernetesMode } = await import("../agent/kubernetes/kubernetes-mode.js");
      cluster = await runKubernetesMode({
        agent,
        nodeName: options.nodeName,
        log,
        ...(options.kubeconfig === undefined ? {} : { kubeconfig: options.kubeconfig }),
      });
    }
    control = await ControlServer.listen(paths.controlSocket, async (request) => {
      if (request.command === "status") return agent.status();
      if (request.command === "reload") {
        await reload();
        return agent.status();
      }
      throw new Error(`unknown command ${request.command} (status, reload)`);
    });
    if (options.metricsAddress !== undefined) {
      endpoints = await serveAgentEndpoints(options.metricsAddress, {
        metrics: () => metrics.text(),
        healthy: () => agent.status().failedGroups.length === 0,
      });
    }
  } catch (e) {
    log.error("agent failed to start", { err: e });
    await shutdown("startup-failure");
    return EXIT_CONFIG;
  }
  log.info("agent running", {
    pid: process.pid,
    groups: spec.vrrpGroups.length,
    controlSocket: paths.controlSocket,
    ...(endpoints ? { metrics: `${endpoints.address}:${endpoints.port}` } : {}),
  });

  return new Promise<number>((resolve) => {
    process.on("SIGHUP", () => void reload().catch(() => undefined));
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      process.on(signal, () => void shutdown(signal).then(() => resolve(0)));
    }
  });
}
