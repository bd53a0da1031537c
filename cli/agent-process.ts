// The agent proper (kubelvs agent without a guard, or the guard's child): VRRP, VIPs and IPVS for
// this node's desired state, the control socket, and optionally the metrics endpoints.
//
// Everything here stays in memory for the agent's lifetime, so what only some runs need is imported
// when they need it: the HTTP server with --metrics-address, the Kubernetes client with --kubernetes,
// and the configuration is read, validated and imported by a short-lived loader process.
import type { NodeStateSpec } from "../crds/schema/node-state.js";
import type { Logger } from "../core/log.js";
import { loadSpecIsolated } from "../agent/config/isolated-loader.js";
import type { SpecSource } from "../agent/config/spec-source.js";
import { AgentMetrics } from "../agent/metrics.js";
import { ControlServer } from "../agent/process/control-socket.js";
import type { HttpEndpoints } from "../agent/process/http-endpoints.js";
import { instancePaths } from "../agent/process/instance.js";
import { acquirePidFile } from "../agent/process/pid-file.js";
import { Agent } from "../agent/runtime/agent.js";
import { connectGuard, type GuardHandle } from "../agent/guard/guard-client.js";
import { createKernelEdge } from "../native/kernel.js";
// Type only: the Kubernetes client is loaded when --kubernetes asks for it.
import type { KubernetesModeHandle } from "../agent/kubernetes/kubernetes-mode.js";
import { applyRealtimePriority, EXIT_CONFIG, type AgentOptions } from "./agent.js";

function specSource(options: AgentOptions): SpecSource | undefined {
  if (options.config !== undefined) return { kind: "config", file: options.config };
  if (options.keepalivedConf !== undefined)
    return { kind: "keepalived", file: options.keepalivedConf, nodeName: options.nodeName };
  return undefined;
}

async function loadSpec(options: AgentOptions, log: Logger): Promise<NodeStateSpec> {
  const source = specSource(options);
  // In Kubernetes the desired state arrives from the NodeState; the agent starts with nothing.
  if (source === undefined) return { vrrpGroups: [] };
  const loaded = await loadSpecIsolated(source);
  for (const w of loaded.warnings) log.warn("keepalived.conf import", { detail: w });
  return loaded.spec;
}

/** Runs the agent until SIGTERM or SIGINT; resolves with the process exit code. */
export async function runAgentProcess(options: AgentOptions, log: Logger): Promise<number> {
  // Until the agent runs, a SIGHUP (the default action would end the process) is remembered and the
  // reload done once it does.
  let reloadRequested = false;
  const earlyReload = () => {
    reloadRequested = true;
  };
  process.on("SIGHUP", earlyReload);

  const paths = instancePaths(options.instance, options.runDir);
  let spec: NodeStateSpec;
  try {
    spec = await loadSpec(options, log);
  } catch (e) {
    process.stderr.write(`kubelvs agent: ${(e as Error).message}\n`);
    return EXIT_CONFIG;
  }
  // After the start-up work (the loader process), before the first advert or failover timer.
  await applyRealtimePriority(options.realtimePriority, log);
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
    logLevel: options.logLevel,
    metrics,
    runDir: options.runDir,
    realServer: {
      ...(options.procSysRoot === undefined ? {} : { procSysRoot: options.procSysRoot }),
      ...(options.realServerStateDir === undefined ? {} : { stateDir: options.realServerStateDir }),
    },
    onTransition: () => {
      guard?.update(agent.resignPlans());
      cluster?.notifyTransition();
    },
  });
  let endpoints: HttpEndpoints | undefined;
  let control: ControlServer | undefined;

  const reloadNow = async (): Promise<void> => {
    if (options.kubernetes) {
      log.info("SIGHUP ignored: in Kubernetes mode the configuration is the NodeState");
      return;
    }
    log.info("reloading configuration");
    let next: NodeStateSpec;
    try {
      next = await loadSpec(options, log);
    } catch (e) {
      // A broken file must not take down a running data plane: keep the last good configuration.
      log.error("reload failed; keeping the running configuration", { err: e });
      throw e;
    }
    await agent.apply(next);
    guard?.update(agent.resignPlans());
    log.info("configuration reloaded", { groups: next.vrrpGroups.length });
  };
  // One reload at a time, in the order asked: two loads racing could apply the older file last.
  let reloads: Promise<void> = Promise.resolve();
  const reload = (): Promise<void> => {
    const next = reloads.then(reloadNow);
    reloads = next.catch(() => undefined);
    return next;
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
        ...(options.explicitInstance === undefined ? {} : { instance: options.explicitInstance }),
        log,
        ...(options.kubeconfig === undefined ? {} : { kubeconfig: options.kubeconfig }),
      });
    }
    control = await ControlServer.listen(paths.controlSocket, async (request) => {
      if (request.command === "status") return agent.currentStatus();
      if (request.command === "reload") {
        await reload();
        return agent.currentStatus();
      }
      throw new Error(`unknown command ${request.command} (status, reload)`);
    });
    if (options.metricsAddress !== undefined) {
      const { serveAgentEndpoints } = await import("../agent/process/http-endpoints.js");
      endpoints = await serveAgentEndpoints(options.metricsAddress, {
        metrics: () => agent.metricsText(),
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
    process.off("SIGHUP", earlyReload);
    process.on("SIGHUP", () => void reload().catch(() => undefined));
    if (reloadRequested) void reload().catch(() => undefined);
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      process.on(signal, () => void shutdown(signal).then(() => resolve(0)));
    }
  });
}
