// The namespace lab: a LAN (a Linux bridge in its own network namespace), node/client/backend
// namespaces each joined to it by a veth pair created directly across namespaces (no names in the
// root namespace), documentation addresses, deterministic MACs, IPv6 with DAD off. Processes are
// started inside namespaces and killed at teardown. Every run has its own name prefix
// (kl-<pid base36>-<counter base36>-), so parallel runs never collide and leftovers of dead runs
// can be recognised and removed.
//
// Teardown always happens: explicitly (teardown()), at process exit (also after an uncaught
// exception), and on SIGINT/SIGTERM/SIGHUP. It is idempotent.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { planLab, type HostPlan, type InterfacePlan, type LabPlanOptions, type LanId } from "./addressing.js";
import { run, runSync, type CommandResult } from "./commands.js";
import { LabProcess } from "./process.js";

export interface LabInterface extends InterfacePlan {
  readonly ifindex: number;
}

export interface LabHost extends HostPlan {
  /** Full namespace name, e.g. "kl-1x3-0-n1". */
  readonly namespace: string;
  readonly interfaces: readonly LabInterface[];
  /** The first interface (eth0). */
  readonly eth0: LabInterface;
}

export interface NeighborEntry {
  readonly dst: string;
  readonly dev: string;
  readonly lladdr?: string;
  readonly state: readonly string[];
}

/** The probe script lab tests run inside namespaces (compiled next to this file). */
export const ADDON_PROBE = fileURLToPath(new URL("./probes/addon-probe.js", import.meta.url));

const PREFIX_PATTERN = /^kl-([0-9a-z]+)-([0-9a-z]+)-/;
let labCounter = 0;
const activeLabs = new Set<Lab>();
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on("exit", () => {
    for (const lab of [...activeLabs]) lab.teardownSync();
  });
  const signals: [NodeJS.Signals, number][] = [
    ["SIGINT", 2],
    ["SIGTERM", 15],
    ["SIGHUP", 1],
  ];
  for (const [signal, number] of signals) {
    process.on(signal, () => {
      for (const lab of [...activeLabs]) lab.teardownSync();
      process.exit(128 + number);
    });
  }
}

/** True while `pid` runs; a zombie (exited, not yet reaped — PID 1 here may never reap) counts as gone. */
export function isProcessRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) S ...": the state follows the last ")" (comm may contain spaces and parentheses).
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Lab namespaces (ours or other runs') currently present. */
export async function listLabNamespaces(): Promise<string[]> {
  const { stdout } = await run("ip", ["netns", "list"]);
  return stdout
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => PREFIX_PATTERN.test(name));
}

/** Deletes lab namespaces whose creating process is gone (a run killed with SIGKILL); returns their names. */
export async function removeLeftoverLabs(): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await listLabNamespaces()) {
    const pid = parseInt(PREFIX_PATTERN.exec(name)![1]!, 36);
    if (pid === process.pid || isProcessRunning(pid)) continue;
    killNamespaceProcessesSync(name);
    if (runSync("ip", ["netns", "del", name]).ok) removed.push(name);
  }
  return removed;
}

function killNamespaceProcessesSync(namespace: string): void {
  const { stdout } = runSync("ip", ["netns", "pids", namespace]);
  for (const pid of stdout.split(/\s+/).filter(Boolean).map(Number)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
}

export class Lab {
  readonly hosts: LabHost[];
  private readonly processes = new Set<LabProcess>();
  private readonly namespaces: string[] = [];
  private tornDown = false;

  private constructor(
    /** The run's name prefix, e.g. "kl-1x3-0-". */
    readonly prefix: string,
    private readonly lans: readonly LanId[],
  ) {
    this.hosts = [];
  }

  /** Builds a lab; on any failure everything created so far is removed before the error propagates. */
  static async create(options: LabPlanOptions = {}): Promise<Lab> {
    installExitHandlers();
    await removeLeftoverLabs();
    const plan = planLab(options);
    const lans = [...new Set(plan.flatMap((h) => h.interfaces.map((i) => i.lan)))].sort();
    const lab = new Lab(`kl-${process.pid.toString(36)}-${(labCounter++).toString(36)}-`, lans);
    activeLabs.add(lab);
    try {
      for (const lan of lans) await lab.createLan(lan);
      // Hosts are independent of each other: build them concurrently.
      lab.hosts.push(...(await Promise.all(plan.map((host) => lab.createHost(host)))));
    } catch (error) {
      await lab.teardown();
      throw error;
    }
    return lab;
  }

  get nodes(): LabHost[] {
    return this.hosts.filter((h) => h.role === "node");
  }

  get client(): LabHost {
    return this.host("client");
  }

  get backends(): LabHost[] {
    return this.hosts.filter((h) => h.role === "backend");
  }

  host(name: string): LabHost {
    const host = this.hosts.find((h) => h.name === name);
    if (!host)
      throw new Error(
        `lab ${this.prefix}: no host '${name}' (have ${this.hosts.map((h) => h.name).join(", ")})`,
      );
    return host;
  }

  /** Namespace of the bridge of LAN 1 or 2. */
  lanNamespace(lan: LanId = 1): string {
    return `${this.prefix}lan${lan}`;
  }

  /** Runs a command inside a host's namespace. */
  exec(
    host: LabHost | string,
    command: string,
    args: readonly string[] = [],
    options: { timeoutMs?: number } = {},
  ): Promise<CommandResult> {
    return run("ip", ["netns", "exec", this.namespaceOf(host), command, ...args], options);
  }

  /** `ip -n <namespace> <args>`; resolves with stdout. */
  async ip(host: LabHost | string, ...args: string[]): Promise<string> {
    return (await run("ip", ["-n", this.namespaceOf(host), ...args])).stdout;
  }

  /** `ip -j -n <namespace> <args>` parsed. */
  async ipJson<T>(host: LabHost | string, ...args: string[]): Promise<T> {
    const { stdout } = await run("ip", ["-j", "-n", this.namespaceOf(host), ...args]);
    return (stdout.trim() === "" ? [] : JSON.parse(stdout)) as T;
  }

  /** Reads (no value) or writes a sysctl inside a host's namespace; resolves with the value. */
  async sysctl(host: LabHost | string, key: string, value?: string | number): Promise<string> {
    if (value !== undefined) {
      await this.exec(host, "sysctl", ["-qw", `${key}=${value}`]);
      return String(value);
    }
    return (await this.exec(host, "sysctl", ["-n", key])).stdout.trim();
  }

  /** The neighbour table (ARP for 4, NDP for 6) of a host. */
  async neighbors(host: LabHost | string, family: 4 | 6): Promise<NeighborEntry[]> {
    return this.ipJson<NeighborEntry[]>(host, `-${family}`, "neigh", "show");
  }

  /** Starts a process inside a host's namespace; it is killed at teardown. */
  spawn(
    host: LabHost | string,
    command: string,
    args: readonly string[] = [],
    options: { env?: NodeJS.ProcessEnv } = {},
  ): LabProcess {
    if (this.tornDown) throw new Error(`lab ${this.prefix} is torn down`);
    const namespace = this.namespaceOf(host);
    const child = spawn("ip", ["netns", "exec", namespace, command, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: options.env ?? process.env,
    });
    const labProcess = new LabProcess(
      `${typeof host === "string" ? host : host.name}: ${[command, ...args].join(" ")}`,
      child,
    );
    this.processes.add(labProcess);
    void labProcess.exited.then(() => this.processes.delete(labProcess));
    return labProcess;
  }

  /** Starts `node <script> <args>` inside a host's namespace (sockets it opens live there). */
  spawnNode(host: LabHost | string, script: string, args: readonly string[] = []): LabProcess {
    return this.spawn(host, process.execPath, [script, ...args]);
  }

  /** Runs a node script to completion inside a namespace. */
  async runNode(
    host: LabHost | string,
    script: string,
    args: readonly string[] = [],
    timeoutMs = 30_000,
  ): Promise<{ code: number | null; lines: string[]; stderr: string }> {
    const child = this.spawnNode(host, script, args);
    const timer = setTimeout(() => void child.kill(), timeoutMs);
    const exit = await child.exited;
    clearTimeout(timer);
    return { code: exit.code, lines: child.lines, stderr: child.stderr };
  }

  /** Kills every process and deletes every namespace of this lab. Idempotent. */
  async teardown(): Promise<void> {
    if (this.tornDown) return;
    await Promise.all([...this.processes].map((p) => p.kill(1000)));
    this.teardownSync();
  }

  /** Synchronous teardown for exit and signal handlers. */
  teardownSync(): void {
    if (this.tornDown) return;
    this.tornDown = true;
    for (const labProcess of this.processes) labProcess.killNow();
    for (const namespace of [...this.namespaces].reverse()) {
      killNamespaceProcessesSync(namespace);
      runSync("ip", ["netns", "del", namespace]);
    }
    activeLabs.delete(this);
  }

  namespaceOf(host: LabHost | string): string {
    return typeof host === "string"
      ? host.startsWith(this.prefix)
        ? host
        : `${this.prefix}${host}`
      : host.namespace;
  }

  private async addNamespace(name: string): Promise<void> {
    await run("ip", ["netns", "add", name]);
    this.namespaces.push(name);
    await run("ip", ["-n", name, "link", "set", "lo", "up"]);
  }

  private async createLan(lan: LanId): Promise<void> {
    const namespace = this.lanNamespace(lan);
    await this.addNamespace(namespace);
    await this.exec(namespace, "sysctl", [
      "-qw",
      "net.ipv6.conf.all.disable_ipv6=1",
      "net.ipv6.conf.default.disable_ipv6=1",
    ]);
    // STP off and no forward delay: ports forward at once. Snooping off: the bridge floods all
    // multicast like a plain switch, so VRRP (224.0.0.18, ff02::12) reaches every port.
    await run("ip", [
      "-n",
      namespace,
      "link",
      "add",
      "br0",
      "type",
      "bridge",
      "stp_state",
      "0",
      "forward_delay",
      "0",
      "mcast_snooping",
      "0",
    ]);
    await run("ip", ["-n", namespace, "link", "set", "br0", "up"]);
  }

  private async createHost(plan: HostPlan): Promise<LabHost> {
    const namespace = `${this.prefix}${plan.name}`;
    await this.addNamespace(namespace);
    // DAD off before the interfaces exist, so their IPv6 addresses are usable immediately.
    await this.exec(namespace, "sysctl", [
      "-qw",
      "net.ipv6.conf.all.accept_dad=0",
      "net.ipv6.conf.default.accept_dad=0",
      "net.ipv6.conf.all.disable_ipv6=0",
    ]);
    const interfaces: LabInterface[] = [];
    for (const spec of plan.interfaces) {
      const lanNamespace = this.lanNamespace(spec.lan);
      await run("ip", [
        "-n",
        lanNamespace,
        "link",
        "add",
        spec.bridgePort,
        "type",
        "veth",
        "peer",
        "name",
        spec.name,
        "netns",
        namespace,
      ]);
      await run("ip", ["-n", namespace, "link", "set", spec.name, "address", spec.mac]);
      await run("ip", ["-n", lanNamespace, "link", "set", spec.bridgePort, "master", "br0", "up"]);
      await run("ip", ["-n", namespace, "addr", "add", `${spec.ipv4}/24`, "dev", spec.name]);
      await run("ip", ["-n", namespace, "addr", "add", `${spec.ipv6}/64`, "dev", spec.name, "nodad"]);
      await run("ip", ["-n", namespace, "link", "set", spec.name, "up"]);
      const [link] = await this.ipJson<{ ifindex: number }[]>(namespace, "link", "show", "dev", spec.name);
      interfaces.push({ ...spec, ifindex: link!.ifindex });
    }
    return { ...plan, namespace, interfaces, eth0: interfaces[0]! };
  }
}
