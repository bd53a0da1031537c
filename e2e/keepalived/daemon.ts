// A real keepalived (Debian's 2.2.7, `apt-get install keepalived`) on a lab node: its configuration
// written to a directory of its own, started in the node's namespace in the foreground with its
// log on the console, stopped like `systemctl stop` (SIGTERM) or crashed (SIGKILL of everything it
// runs). keepalived forks a VRRP child that does the actual work; its pid comes from the -r file.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Lab, LabHost } from "../lab/lab.js";
import type { LabProcess, ProcessExit } from "../lab/process.js";
import { missingCommand } from "../requirements.js";
import { renderKeepalivedConf, type KeepalivedConfig } from "./config.js";
import { instanceStates, packetErrors, type KeepalivedPacketError, type KeepalivedState } from "./log.js";

/** Reason string when keepalived is not installed (for tierOptions). */
export function missingKeepalived(): string | undefined {
  return missingCommand("keepalived", "apt-get install keepalived; scripts/install-deps.sh does");
}

export interface KeepalivedFiles {
  dir: string;
  conf: string;
  pidFile: string;
  vrrpPidFile: string;
}

function keepalivedFiles(dir: string): KeepalivedFiles {
  return {
    dir,
    conf: join(dir, "keepalived.conf"),
    pidFile: join(dir, "keepalived.pid"),
    vrrpPidFile: join(dir, "vrrp.pid"),
  };
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

export class KeepalivedDaemon {
  private constructor(
    readonly host: LabHost,
    readonly config: KeepalivedConfig,
    readonly files: KeepalivedFiles,
    /** The keepalived parent (`ip netns exec` execs it, so this is keepalived's own pid). */
    readonly process: LabProcess,
  ) {}

  /**
   * Writes the configuration into `dir` (created; one directory per daemon, it holds the pid files)
   * and starts keepalived in `host`'s namespace: VRRP only (-P), foreground (-n), detailed log on the
   * console (-l -D), no syslog (-G).
   */
  static start(lab: Lab, host: LabHost, config: KeepalivedConfig, dir: string): KeepalivedDaemon {
    const files = keepalivedFiles(dir);
    mkdirSync(dir, { recursive: true });
    writeFileSync(files.conf, renderKeepalivedConf(config));
    const proc = lab.spawn(host, "keepalived", [
      "-n",
      "-l",
      "-D",
      "-G",
      "-P",
      "-f",
      files.conf,
      "-p",
      files.pidFile,
      "-r",
      files.vrrpPidFile,
    ]);
    return new KeepalivedDaemon(host, config, files, proc);
  }

  get parentPid(): number {
    const pid = this.process.pid;
    if (pid === undefined)
      throw new Error(`keepalived on ${this.host.name} did not start: ${this.process.stderr}`);
    return pid;
  }

  /** The VRRP child's pid, once it has written its pid file (and while it runs). */
  vrrpPid(): number | undefined {
    try {
      const pid = Number.parseInt(readFileSync(this.files.vrrpPidFile, "utf8"), 10);
      return Number.isInteger(pid) && isAlive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** keepalived's console log so far (it writes to standard error). */
  log(): string {
    return this.process.stderr + this.process.lines.join("\n");
  }

  get running(): boolean {
    return this.process.running;
  }

  state(instance: string): KeepalivedState | undefined {
    return instanceStates(this.log()).get(instance);
  }

  packetErrors(): KeepalivedPacketError[] {
    return packetErrors(this.log());
  }

  /** Resolves once the VRRP child runs and every instance has entered its first state. */
  async ready(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = instanceStates(this.log());
      if (this.vrrpPid() !== undefined && this.config.instances.every((i) => states.has(i.name))) return;
      if (!this.process.running)
        throw new Error(`keepalived on ${this.host.name} exited during start-up:\n${this.log()}`);
      if (Date.now() > deadline)
        throw new Error(`keepalived on ${this.host.name} not ready after ${timeoutMs} ms:\n${this.log()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** SIGTERM to the parent, as `systemctl stop` does: the VRRP child resigns (priority 0) and removes its VIPs. */
  stop(graceMs = 5000): Promise<ProcessExit> {
    return this.process.kill(graceMs);
  }

  /**
   * SIGKILL of everything keepalived runs: the VRRP child first (killing the parent first could let
   * the child clean up as on a normal stop), then the parent before it can respawn the child. Like a
   * real crash, the VIPs stay where they are.
   */
  async crash(): Promise<ProcessExit> {
    const child = this.vrrpPid();
    if (child !== undefined) process.kill(child, "SIGKILL");
    this.process.killNow();
    const exit = await this.process.exited;
    for (let i = 0; child !== undefined && isAlive(child) && i < 100; i++)
      await new Promise((r) => setTimeout(r, 10));
    return exit;
  }

  /** Process ids to account CPU and memory to: the parent and the VRRP child. */
  pids(): { role: string; pid: number }[] {
    const child = this.vrrpPid();
    return [
      { role: "keepalived parent", pid: this.parentPid },
      ...(child === undefined ? [] : [{ role: "keepalived VRRP child", pid: child }]),
    ];
  }
}
