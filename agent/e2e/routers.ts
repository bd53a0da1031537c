// One VRRP group described once and run by either implementation on a lab node: a kubelvs agent
// (under its guard, as users start it) or a real keepalived. The interop tests mix them on one LAN;
// the failover benchmark runs the same scenario with each.
import { join } from "node:path";
import type { NodeStateSpec } from "../../crds/schema/node-state.js";
import { KeepalivedDaemon } from "../../e2e/keepalived/daemon.js";
import type { KeepalivedConfig } from "../../e2e/keepalived/config.js";
import type { Lab, LabHost } from "../../e2e/lab/lab.js";
import { isProcessRunning } from "../../e2e/lab/lab.js";
import type { AgentFleet } from "./agent-harness.js";
import { waitFor, type RunningAgent } from "./agent-harness.js";
import { descendants } from "./proc-stats.js";

export interface GroupPlan {
  /** kubelvs group name; keepalived's instance name is the same in upper case. */
  name: string;
  vrid: number;
  version: 2 | 3;
  advertIntervalMs: number;
  virtualIPs: { address: string; prefixLength: number }[];
  /** Unicast adverts to the other routers' eth0 addresses instead of multicast. */
  unicast?: boolean;
  /** Version 2 simple password. */
  authPassword?: string;
}

export type RouterKind = "kubelvs" | "keepalived";
export type RouterState = "Master" | "Backup" | "Fault" | "Initialize" | "Stopped";

export interface RouterProcess {
  role: string;
  pid: number;
}

/** One implementation running one group on one lab node. */
export interface Router {
  readonly kind: RouterKind;
  readonly host: LabHost;
  readonly priority: number;
  /** Starts the implementation; resolves once it runs (it is then Backup or on its way to Master). */
  start(): Promise<void>;
  /** The group's state as the implementation reports it; "Stopped" when it does not run. */
  state(): Promise<RouterState>;
  /** SIGTERM, as `systemctl stop` sends: resign and exit. Resolves when the process is gone. */
  resign(): Promise<void>;
  /**
   * SIGKILL of the implementation's VRRP process and everything it runs, all at once. kubelvs: the
   * agent and its descendants; its guard is its parent, not something it runs, and survives.
   */
  crash(): Promise<void>;
  /** Stops whatever still runs (cleanly when possible); for between runs and teardown. */
  shutdown(): Promise<void>;
  /** Processes to account CPU and memory to. */
  processes(): RouterProcess[];
  /** The implementation's log so far. */
  log(): string;
}

export function keepalivedInstanceName(plan: GroupPlan): string {
  return plan.name.toUpperCase();
}

function peersOf(host: LabHost, routerHosts: readonly LabHost[], plan: GroupPlan): string[] {
  if (!plan.unicast) return [];
  const v6 = plan.virtualIPs[0]?.address.includes(":") === true;
  return routerHosts.filter((h) => h.name !== host.name).map((h) => (v6 ? h.eth0.ipv6 : h.eth0.ipv4));
}

export function kubelvsSpec(
  plan: GroupPlan,
  host: LabHost,
  priority: number,
  routerHosts: readonly LabHost[],
): NodeStateSpec {
  const peers = peersOf(host, routerHosts, plan);
  return {
    vrrpGroups: [
      {
        name: plan.name,
        vrid: plan.vrid,
        version: plan.version,
        advertIntervalMillis: plan.advertIntervalMs,
        interface: { name: "eth0" },
        priority,
        virtualIPs: plan.virtualIPs,
        ...(peers.length > 0 ? { unicastPeers: peers } : {}),
        ...(plan.authPassword === undefined ? {} : { authPassword: plan.authPassword }),
      },
    ],
  };
}

export function keepalivedConfig(
  plan: GroupPlan,
  host: LabHost,
  priority: number,
  routerHosts: readonly LabHost[],
): KeepalivedConfig {
  const peers = peersOf(host, routerHosts, plan);
  return {
    routerId: host.name,
    instances: [
      {
        name: keepalivedInstanceName(plan),
        interface: "eth0",
        vrid: plan.vrid,
        version: plan.version,
        priority,
        advertIntervalMs: plan.advertIntervalMs,
        virtualIPs: plan.virtualIPs,
        ...(peers.length > 0 ? { unicastPeers: peers } : {}),
        ...(plan.authPassword === undefined ? {} : { authPassword: plan.authPassword }),
      },
    ],
  };
}

export class KubelvsRouter implements Router {
  readonly kind = "kubelvs";
  private agent: RunningAgent | undefined;

  constructor(
    private readonly fleet: AgentFleet,
    readonly host: LabHost,
    private spec: NodeStateSpec,
    readonly priority: number,
    private readonly instance = "lab",
  ) {}

  get running(): RunningAgent | undefined {
    return this.agent;
  }

  async start(): Promise<void> {
    const agent = this.fleet.start(this.host, this.spec, { instance: this.instance });
    this.agent = agent;
    await waitFor(`kubelvs agent on ${this.host.name} answering`, async () => {
      if (!agent.process.running)
        throw new Error(`agent on ${this.host.name} exited: ${agent.process.stderr} ${agent.log()}`);
      return (await agent.status()).groups.length > 0 ? true : undefined;
    });
  }

  async state(): Promise<RouterState> {
    if (!this.agent?.process.running) return "Stopped";
    try {
      const s = (await this.agent.status()).groups[0]?.state;
      return s === undefined ? "Stopped" : s;
    } catch {
      // Between a crash and the guard's restart nobody answers on the control socket.
      return "Stopped";
    }
  }

  /** Rewrites the configuration and reloads it (SIGHUP to the agent). */
  reconfigure(spec: NodeStateSpec): void {
    this.spec = spec;
    if (!this.agent) return;
    this.agent.writeConfig(spec);
    process.kill(this.agent.agentPid(), "SIGHUP");
  }

  async resign(): Promise<void> {
    if (!this.agent) return;
    this.agent.process.child.kill("SIGTERM");
    await this.agent.process.exited;
  }

  async crash(): Promise<void> {
    if (!this.agent) return;
    const pid = this.agent.agentPid();
    for (const p of [pid, ...descendants(pid)]) process.kill(p, "SIGKILL");
  }

  async shutdown(): Promise<void> {
    if (this.agent?.process.running) await this.agent.process.kill(5000);
  }

  processes(): RouterProcess[] {
    if (!this.agent?.process.running) return [];
    const guard = this.agent.process.pid!;
    const agentPid = this.agent.agentPid();
    return [
      { role: "kubelvs guard", pid: guard },
      ...(isProcessRunning(agentPid) ? [{ role: "kubelvs agent", pid: agentPid }] : []),
    ];
  }

  log(): string {
    return this.agent?.log() ?? "";
  }
}

export class KeepalivedRouter implements Router {
  readonly kind = "keepalived";
  private daemon: KeepalivedDaemon | undefined;
  private starts = 0;

  constructor(
    private readonly lab: Lab,
    readonly host: LabHost,
    private readonly config: KeepalivedConfig,
    readonly priority: number,
    private readonly workDir: string,
  ) {}

  get running(): KeepalivedDaemon | undefined {
    return this.daemon;
  }

  async start(): Promise<void> {
    // A fresh directory per start: keepalived refuses to start over its own live pid files, and
    // the old log stays readable for the report.
    this.daemon = KeepalivedDaemon.start(
      this.lab,
      this.host,
      this.config,
      join(this.workDir, `${this.host.name}-${this.starts++}`),
    );
    await this.daemon.ready();
  }

  async state(): Promise<RouterState> {
    if (!this.daemon?.running) return "Stopped";
    const s = this.daemon.state(this.config.instances[0]!.name);
    return s === "MASTER" ? "Master" : s === "BACKUP" ? "Backup" : s === "FAULT" ? "Fault" : "Initialize";
  }

  async resign(): Promise<void> {
    await this.daemon?.stop();
  }

  async crash(): Promise<void> {
    await this.daemon?.crash();
  }

  async shutdown(): Promise<void> {
    if (this.daemon?.running) await this.daemon.stop();
  }

  processes(): RouterProcess[] {
    return this.daemon?.running ? this.daemon.pids() : [];
  }

  log(): string {
    return this.daemon?.log() ?? "";
  }
}
