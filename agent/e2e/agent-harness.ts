// Runs real `kubelvs agent` processes in lab namespaces and talks to them through their control
// sockets: the agent exactly as a user starts it, for the lab tests and the failover benchmark.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import type { NodeStateSpec } from "../../crds/schema/node-state.js";
import type { Lab, LabHost } from "../../e2e/lab/lab.js";
import type { LabProcess } from "../../e2e/lab/process.js";
import { controlRequest } from "../process/control-socket.js";
import { instancePaths } from "../process/instance.js";
import type { AgentStatus } from "../runtime/agent.js";

export const KUBELVS_MAIN = fileURLToPath(new URL("../../cli/main.js", import.meta.url));

export interface RunningAgent {
  host: LabHost;
  instance: string;
  runDir: string;
  configFile: string;
  logFile: string;
  /** The process the lab started: the guard (or the agent itself with --no-guard). */
  process: LabProcess;
  /** pid of the agent proper (from its pid file). */
  agentPid(): number;
  status(): Promise<AgentStatus>;
  writeConfig(spec: NodeStateSpec): void;
  log(): string;
}

/** KUBELVS_KEEP_LOGS=1: every start appends to its log and the directory outlives the fleet (debugging). */
const KEEP_LOGS = process.env.KUBELVS_KEEP_LOGS === "1";

export class AgentFleet {
  readonly dir = mkdtempSync(join(tmpdir(), "kubelvs-agents-"));
  readonly agents: RunningAgent[] = [];

  constructor(private readonly lab: Lab) {}

  /**
   * Starts `kubelvs agent` on a host, from its YAML (a NodeState spec) or from a keepalived.conf.
   * Instances on one host share the host's run directory and have their own config and log files.
   */
  start(
    host: LabHost,
    source: NodeStateSpec | { keepalivedConf: string },
    options: { instance?: string; args?: string[] } = {},
  ): RunningAgent {
    const instance = options.instance ?? "lab";
    const hostDir = join(this.dir, host.name);
    const runDir = join(hostDir, "run");
    const fromKeepalived = "keepalivedConf" in source;
    const configFile = fromKeepalived ? source.keepalivedConf : join(hostDir, `${instance}.yaml`);
    const logFile = join(hostDir, `${instance}.log`);
    const write = (s: NodeStateSpec) => {
      if (fromKeepalived) throw new Error(`agent ${host.name}/${instance} runs from ${configFile}, not YAML`);
      writeFileSync(configFile, stringify(s), { flag: "w" });
    };
    mkdirSync(hostDir, { recursive: true });
    if (!KEEP_LOGS) rmSync(logFile, { force: true });
    if (!fromKeepalived) write(source);
    const args = [
      KUBELVS_MAIN,
      "agent",
      fromKeepalived ? "--keepalived-conf" : "--config",
      configFile,
      "--instance",
      instance,
      "--node-name",
      host.name,
      "--run-dir",
      runDir,
      "--log-file",
      logFile,
      ...(options.args ?? []),
    ];
    const proc = this.lab.spawn(host, process.execPath, args);
    const agent: RunningAgent = {
      host,
      instance,
      runDir,
      configFile,
      logFile,
      process: proc,
      agentPid: () => Number.parseInt(readFileSync(instancePaths(instance, runDir).pidFile, "utf8"), 10),
      status: async () =>
        (await controlRequest(instancePaths(instance, runDir).controlSocket, {
          command: "status",
        })) as AgentStatus,
      writeConfig: write,
      log: () => {
        try {
          return readFileSync(logFile, "utf8");
        } catch {
          return "";
        }
      },
    };
    this.agents.push(agent);
    return agent;
  }

  cleanup(): void {
    if (KEEP_LOGS) {
      process.stderr.write(`KUBELVS_KEEP_LOGS: agents' configurations and logs kept in ${this.dir}\n`);
      return;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls until `check` returns a value (not undefined) or the time runs out. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  stepMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
