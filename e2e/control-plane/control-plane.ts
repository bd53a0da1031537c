// A real, throwaway Kubernetes control plane for tests and the demo: etcd and kube-apiserver as
// child processes on loopback (or inside a lab network namespace), a fresh PKI and data directory
// in a temp dir, an admin token in system:masters, service-account token signing, RBAC on.
// stop() — or this process exiting or being interrupted — kills both and removes the temp dir.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { controlPlaneBinaries, missingControlPlaneBinaries, type ControlPlaneBinaries } from "./binaries.js";
import {
  DEFAULT_SERVICE_CLUSTER_IP_RANGE,
  apiServerArgs,
  etcdArgs,
  firstServiceIp,
  kubeconfigYaml,
  tokenAuthLine,
  urlHost,
} from "./config.js";
import { kubectl, type KubectlTarget } from "./kubectl.js";
import { API_SERVER_DNS_NAMES, createTestPki } from "./pki.js";

export interface ControlPlaneOptions {
  /** Run etcd and kube-apiserver inside this existing network namespace (a lab node's). */
  netns?: string;
  /** Address the API server listens on and advertises; default 127.0.0.1. */
  address?: string;
  serviceClusterIpRange?: string;
  /** How long to wait for /readyz; default 60 s (a busy 2-core machine needs more than envtest's 20 s). */
  readyTimeoutMs?: number;
  extraApiServerArgs?: readonly string[];
  /** Keep the temp dir (logs, etcd data) after stop(); also set by KUBELVS_KEEP_CONTROL_PLANE=1. */
  keepDir?: boolean;
}

export interface ControlPlane extends KubectlTarget {
  /** Admin kubeconfig (token in system:masters), current context set. */
  kubeconfigPath: string;
  /** https://address:port */
  server: string;
  adminToken: string;
  /** The test CA: trusted for serving and client certificates, so tests can sign identities with it. */
  caCertFile: string;
  caKeyFile: string;
  /** Temp dir with the PKI, etcd's data and both processes' logs. */
  dir: string;
  binaries: ControlPlaneBinaries;
  /** Writes a kubeconfig for this server that authenticates with `token` (e.g. a service account's). */
  kubeconfigForToken(name: string, token: string): string;
  /** Kills both processes and removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

const LOOPBACK = "127.0.0.1";
const ADMIN_USER = "kubelvs-admin";
const START_ATTEMPTS = 3;
const LOG_TAIL_LINES = 40;

/** Every control plane not stopped yet, so an exit or a signal can still clean them up. */
const running = new Set<RunningControlPlane>();

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const missing = missingControlPlaneBinaries();
  if (missing) throw new Error(`cannot start a control plane: ${missing}`);
  const binaries = controlPlaneBinaries();
  const address = options.address ?? LOOPBACK;
  const serviceClusterIpRange = options.serviceClusterIpRange ?? DEFAULT_SERVICE_CLUSTER_IP_RANGE;
  if (options.netns) bringUpLoopback(options.netns);

  const dir = mkdtempSync(join(tmpdir(), "kubelvs-control-plane-"));
  const keepDir = options.keepDir ?? process.env.KUBELVS_KEEP_CONTROL_PLANE === "1";
  const plane = new RunningControlPlane(dir, keepDir, options.netns);
  running.add(plane);
  installEmergencyCleanup();
  try {
    const pki = createTestPki(dir, {
      ipAddresses: [...new Set([LOOPBACK, address, firstServiceIp(serviceClusterIpRange)])],
      dnsNames: API_SERVER_DNS_NAMES,
    });
    const caCertPem = readFileSync(pki.caCertFile, "utf8");
    const adminToken = randomBytes(32).toString("hex");
    const tokenAuthFile = writePrivateFile(
      join(dir, "tokens.csv"),
      tokenAuthLine(adminToken, ADMIN_USER, ADMIN_USER, ["system:masters"]),
    );
    const certDir = join(dir, "apiserver-certs");
    mkdirSync(certDir);

    for (let attempt = 1; ; attempt++) {
      const [etcdClientPort = 0, etcdPeerPort = 0, securePort = 0] = freePorts(
        [LOOPBACK, LOOPBACK, address],
        options.netns,
      );
      const server = `https://${urlHost(address)}:${securePort}`;
      const writeKubeconfig = (name: string, token: string, file: string) =>
        writePrivateFile(join(dir, file), kubeconfigYaml({ name, server, caCertPem, token }));
      const target: KubectlTarget = {
        kubeconfigPath: writeKubeconfig("kubelvs-test", adminToken, "kubeconfig"),
        ...(options.netns ? { netns: options.netns } : {}),
      };
      plane.etcd = plane.launch(
        "etcd",
        binaries.etcd,
        etcdArgs({
          dataDir: join(dir, `etcd-${attempt}`),
          clientPort: etcdClientPort,
          peerPort: etcdPeerPort,
        }),
      );
      plane.apiServer = plane.launch(
        "kube-apiserver",
        binaries.kubeApiserver,
        apiServerArgs({
          etcdClientPort,
          bindAddress: address,
          advertiseAddress: address,
          securePort,
          serviceClusterIpRange,
          certDir,
          caCertFile: pki.caCertFile,
          servingCertFile: pki.servingCertFile,
          servingKeyFile: pki.servingKeyFile,
          tokenAuthFile,
          serviceAccountPublicKeyFile: pki.serviceAccountPublicKeyFile,
          serviceAccountSigningKeyFile: pki.serviceAccountSigningKeyFile,
          ...(options.extraApiServerArgs ? { extraArgs: options.extraApiServerArgs } : {}),
        }),
      );
      if ((await plane.waitReady(target, options.readyTimeoutMs ?? 60_000)) === "ready") {
        return {
          ...target,
          server,
          adminToken,
          caCertFile: pki.caCertFile,
          caKeyFile: pki.caKeyFile,
          dir,
          binaries,
          kubeconfigForToken: (name, token) =>
            writeKubeconfig(name, token, `kubeconfig-${name.replace(/[^\w.-]/g, "_")}`),
          stop: () => plane.stop(),
        };
      }
      // Another process took a probed port between probing and binding: try fresh ports.
      await plane.killProcesses();
      if (attempt >= START_ATTEMPTS)
        throw new Error(`control plane ports stayed in use after ${attempt} attempts`);
    }
  } catch (e) {
    await plane.stop();
    throw e;
  }
}

/** Writes a file only its owner may read (tokens, kubeconfigs) and returns its path. */
function writePrivateFile(path: string, content: string): string {
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

class RunningControlPlane {
  etcd: ManagedProcess | undefined;
  apiServer: ManagedProcess | undefined;
  private stopped = false;

  constructor(
    readonly dir: string,
    private readonly keepDir: boolean,
    private readonly netns: string | undefined,
  ) {}

  launch(name: string, binary: string, args: string[]): ManagedProcess {
    return new ManagedProcess(name, binary, args, join(this.dir, `${name}.log`), this.netns);
  }

  /** "ready", or "port-conflict" when a process exited because its port was taken; throws otherwise. */
  async waitReady(target: KubectlTarget, timeoutMs: number): Promise<"ready" | "port-conflict"> {
    const deadline = Date.now() + timeoutMs;
    let lastAnswer = "";
    for (;;) {
      for (const member of [this.etcd, this.apiServer]) {
        if (member?.exited === undefined) continue;
        if (/address already in use/.test(member.logTail())) return "port-conflict";
        throw new Error(
          `${member.name} exited (${member.exited}) before the API server was ready; ${member.describeLog()}`,
        );
      }
      const probe = await kubectl(target, ["get", "--raw=/readyz", "--request-timeout=5s"], {
        timeoutMs: 10_000,
      });
      if (probe.code === 0 && probe.stdout.trim() === "ok") return "ready";
      lastAnswer = (probe.stderr || probe.stdout).trim();
      if (Date.now() > deadline) {
        const verbose = await kubectl(target, ["get", "--raw=/readyz?verbose", "--request-timeout=5s"], {
          timeoutMs: 10_000,
        });
        throw new Error(
          `kube-apiserver not ready after ${timeoutMs / 1000} s; last /readyz answer: ${lastAnswer}\n` +
            `/readyz?verbose: ${(verbose.stdout || verbose.stderr).trim()}\n${this.apiServer?.describeLog() ?? ""}`,
        );
      }
      await sleep(250);
    }
  }

  async killProcesses(): Promise<void> {
    // The API server first, so it does not log a storm of etcd connection errors on the way down.
    for (const member of [this.apiServer, this.etcd]) await member?.kill();
    this.apiServer = this.etcd = undefined;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.killProcesses();
    } finally {
      if (!this.keepDir) rmSync(this.dir, { recursive: true, force: true });
      running.delete(this);
      if (running.size === 0) removeEmergencyCleanup();
    }
  }

  /** Synchronous last resort for process exit and signals: no awaiting is possible there. */
  killNow(): void {
    for (const member of [this.apiServer, this.etcd]) member?.killGroupNow("SIGKILL");
    if (!this.keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

class ManagedProcess {
  private readonly child: ChildProcess;
  private readonly exitPromise: Promise<void>;
  /** Exit description once the process has exited, e.g. "exit code 1" or "signal SIGTERM". */
  exited: string | undefined;

  constructor(
    readonly name: string,
    binary: string,
    args: string[],
    readonly logFile: string,
    netns: string | undefined,
  ) {
    // Truncated per launch: a retried start must not read the previous attempt's port conflict.
    const log = openSync(logFile, "w");
    const [file, argv] = netns ? ["ip", ["netns", "exec", netns, binary, ...args]] : [binary, args];
    try {
      // Its own process group, so stop() reaches everything it may have started.
      this.child = spawn(file, argv, { detached: true, stdio: ["ignore", log, log] });
    } finally {
      closeSync(log);
    }
    this.exitPromise = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.exited = signal ? `signal ${signal}` : `exit code ${code}`;
        resolve();
      });
      this.child.once("error", (error) => {
        this.exited = `could not start ${file}: ${error.message}`;
        resolve();
      });
    });
  }

  logTail(lines = LOG_TAIL_LINES): string {
    try {
      return readFileSync(this.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch (e) {
      return `(cannot read ${this.logFile}: ${(e as Error).message})`;
    }
  }

  describeLog(): string {
    // The temp dir goes away with the control plane; say how to keep it for a closer look.
    const keep = "KUBELVS_KEEP_CONTROL_PLANE=1 keeps the directory";
    return `last ${LOG_TAIL_LINES} lines of ${this.logFile} (${keep}):\n${this.logTail()}`;
  }

  killGroupNow(signal: NodeJS.Signals): void {
    if (this.exited !== undefined || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // already gone
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within 10 s. */
  async kill(): Promise<void> {
    this.killGroupNow("SIGTERM");
    const timeout = sleep(10_000).then(() => "timeout" as const);
    if ((await Promise.race([this.exitPromise.then(() => "exited" as const), timeout])) === "timeout") {
      this.killGroupNow("SIGKILL");
      await this.exitPromise;
    }
  }
}

// Probes free TCP ports by binding port 0 on each host at once (so the ports differ) in a child
// node process, which can run inside a network namespace where this process cannot bind.
const PORT_PROBE = `
const net = require("node:net");
const hosts = process.argv.slice(1);
Promise.all(hosts.map((host) => new Promise((resolve, reject) => {
  const server = net.createServer();
  server.once("error", reject);
  server.listen(0, host, () => resolve(server));
}))).then((servers) => {
  console.log(servers.map((s) => s.address().port).join(" "));
  for (const s of servers) s.close();
}, (error) => { console.error(error.message); process.exit(1); });
`;

function freePorts(hosts: string[], netns: string | undefined): number[] {
  const node = [process.execPath, "-e", PORT_PROBE, ...hosts];
  const [file, argv] = netns ? ["ip", ["netns", "exec", netns, ...node]] : [node[0]!, node.slice(1)];
  const result = spawnSync(file, argv, { encoding: "utf8" });
  const ports = result.stdout?.trim().split(" ").map(Number) ?? [];
  if (
    result.status !== 0 ||
    ports.length !== hosts.length ||
    ports.some((p) => !Number.isInteger(p) || p <= 0)
  ) {
    const where = netns ? ` in network namespace ${netns}` : "";
    throw new Error(
      `cannot find free ports on ${hosts.join(", ")}${where}: ${result.stderr?.trim() || result.error?.message}`,
    );
  }
  return ports;
}

function bringUpLoopback(netns: string): void {
  const result = spawnSync("ip", ["-n", netns, "link", "set", "lo", "up"], { encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(
      `ip -n ${netns} link set lo up failed: ${result.stderr?.trim() || result.error?.message}`,
    );
  }
}

function cleanUpOnExit(): void {
  for (const plane of running) plane.killNow();
  running.clear();
}

function cleanUpAndResignal(signal: NodeJS.Signals): void {
  cleanUpOnExit();
  removeEmergencyCleanup();
  // With our listeners gone, the default action (terminate) applies, and the exit status says why.
  process.kill(process.pid, signal);
}

let emergencyCleanupInstalled = false;

function installEmergencyCleanup(): void {
  if (emergencyCleanupInstalled) return;
  emergencyCleanupInstalled = true;
  process.on("exit", cleanUpOnExit);
  process.on("SIGINT", cleanUpAndResignal);
  process.on("SIGTERM", cleanUpAndResignal);
}

function removeEmergencyCleanup(): void {
  if (!emergencyCleanupInstalled) return;
  emergencyCleanupInstalled = false;
  process.off("exit", cleanUpOnExit);
  process.off("SIGINT", cleanUpAndResignal);
  process.off("SIGTERM", cleanUpAndResignal);
}
