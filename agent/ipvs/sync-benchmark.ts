// The IPVS sync benchmark (bench/ipvs-sync.mjs runs it inside the IPVS machine; not a test):
// 1. a table of N VirtualServices × M real servers, programmed from an empty kernel table by
//    `ipvsadm-restore` and by the reconciler, several runs each, and compared rule for rule
//    (`ipvsadm -Sn`);
// 2. one real server's weight changed and reconciled, timed, with the netlink messages counted on
//    the socket itself (every sendmsg and every message in it).
// Every run gets a new network namespace: IPVS state is per namespace, and a kernel that just
// deleted 100,000 destinations keeps them in its destination trash for a minute or two, which
// every later add scans (ip_vs_trash_get_dest) — a run after a flush would measure that, not the
// tool. The runs alternate which tool goes first. Needs root and a kernel with IPVS.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { PerformanceObserver } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger } from "../../core/log.js";
import type { NodeVirtualService } from "../../crds/schema/node-state.js";
import { loadAddon } from "../../native/addon.js";
import { IpvsClient } from "../../native/ipvs/client.js";
import { NETLINK_GENERIC } from "../../native/netlink/constants.js";
import { NetlinkConnection, type NetlinkTransport } from "../../native/netlink/connection.js";
import { VirtualServiceRuntime } from "../loadbalancer/virtual-service-runtime.js";
import type { DesiredService } from "./desired.js";
import { MemoryOwnershipStore } from "./ownership.js";
import { IpvsReconciler } from "./reconciler.js";

export interface SyncBenchmarkOptions {
  readonly services: number;
  readonly destinations: number;
  /** Full-sync runs of each tool. */
  readonly runs: number;
  /** One-weight changes timed. */
  readonly changes: number;
  /** Requests per sendmsg in the reconciler's batches (the connection's maxBatchMessages). */
  readonly batchMessages: number;
}

export interface SyncBenchmarkResult {
  readonly services: number;
  readonly destinations: number;
  readonly operations: number;
  readonly ipvsadmRestoreMs: number[];
  readonly reconcilerMs: number[];
  readonly reconcilerSendmsgs: number;
  readonly reconcilerMessages: number;
  /** Building the desired table from the specs (not part of the sync time). */
  readonly desiredBuildMs: number;
  readonly speedup: number;
  readonly identicalTables: boolean;
  readonly oneChangeMs: number[];
  readonly oneChangeSendmsgs: number[];
  readonly oneChangeMessages: number[];
  readonly oneChangeOperations: number[];
  /** Garbage-collection pause time (ms) inside each change's window. */
  readonly oneChangeGcMs: number[];
}

/** Counts what goes to the kernel: sendmsg calls and the netlink messages inside them. */
class CountingTransport implements NetlinkTransport {
  sendmsgs = 0;
  messages = 0;
  constructor(private readonly inner: NetlinkTransport) {}
  get portId(): number {
    return this.inner.portId;
  }
  send(datagram: Buffer): number {
    this.sendmsgs++;
    for (let offset = 0; offset + 16 <= datagram.length;) {
      const length = datagram.readUInt32LE(offset);
      if (length < 16) break;
      this.messages++;
      offset += (length + 3) & ~3;
    }
    return this.inner.send(datagram);
  }
  start(onDatagram: (datagram: Buffer) => void, onError: (error: Error & { code?: string }) => void): void {
    this.inner.start(onDatagram, onError);
  }
  close(): void {
    this.inner.close();
  }
  ref(): void {
    this.inner.ref();
  }
  unref(): void {
    this.inner.unref();
  }
  reset(): void {
    this.sendmsgs = 0;
    this.messages = 0;
  }
}

/** VirtualService-shaped specs: VIPs 198.51.100.1.. × ports 1000.., real servers 203.0.113.1.. :8080. */
export function benchmarkSpecs(services: number, destinations: number): NodeVirtualService[] {
  if (destinations > 250) throw new RangeError("at most 250 destinations per service (one /24)");
  const ports = Math.ceil(services / 250);
  return Array.from({ length: services }, (_, i) => ({
    namespace: "bench",
    name: `vs-${i}`,
    vrrpGroup: "bench",
    spec: {
      virtualIP: `198.51.100.${1 + Math.floor(i / ports)}`,
      port: 1000 + (i % ports),
      scheduler: "wlc" as const,
      realServers: Array.from({ length: destinations }, (_, j) => ({
        address: `203.0.113.${1 + j}`,
        port: 8080,
      })),
    },
  }));
}

/** The same table as ipvsadm-restore input. */
export function restoreScript(table: Iterable<DesiredService>): string {
  const lines: string[] = [];
  for (const { service, destinations } of table) {
    if (service.key.kind !== "address") throw new TypeError("benchmark services are address services");
    const name = `-t ${service.key.address}:${service.key.port}`;
    lines.push(`-A ${name} -s ${service.scheduler}`);
    for (const d of destinations.values())
      lines.push(`-a ${name} -r ${d.address}:${d.port} -m -w ${d.weight}`);
  }
  return lines.join("\n") + "\n";
}

/** The value at fraction `p` (0-1) of the sorted values (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** The median (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const inNamespace = (namespace: string, command: string, ...args: string[]): string =>
  execFileSync("ip", ["netns", "exec", namespace, command, ...args], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
/** SHA-256 of the namespace's rules (`ipvsadm -Sn`, sorted): equal digests, identical tables. */
const rulesDigest = (rules: string): string =>
  createHash("sha256").update(rules.split("\n").filter(Boolean).sort().join("\n")).digest("hex");
const rulesIn = (namespace: string): string => rulesDigest(inNamespace(namespace, "ipvsadm", "-Sn"));

export interface WorkerResult {
  readonly buildMs: number;
  readonly syncMs: number;
  readonly operations: number;
  readonly sendmsgs: number;
  readonly messages: number;
  /** rulesDigest of the table right after the full sync. */
  readonly rules: string;
  readonly oneChangeMs: number[];
  readonly oneChangeSendmsgs: number[];
  readonly oneChangeMessages: number[];
  readonly oneChangeOperations: number[];
  /** Garbage-collection pause time (ms) inside each change's window. */
  readonly oneChangeGcMs: number[];
}

/**
 * The reconciler's side, in the current network namespace (the runner starts it in a fresh one):
 * full sync from empty, then `changes` one-weight changes.
 */
export async function runReconcilerWorker(options: SyncBenchmarkOptions): Promise<WorkerResult> {
  let started = performance.now();
  const runtimes = benchmarkSpecs(options.services, options.destinations).map(
    (entry) => new VirtualServiceRuntime(entry, ""),
  );
  const desired = new Map(runtimes.map((r) => [r.serviceId, r.desired()]));
  const buildMs = performance.now() - started;
  const log = createLogger({ sink: { write: () => undefined }, level: "error" });
  const transport = new CountingTransport(new (loadAddon().NetlinkSocket)(NETLINK_GENERIC, []));
  const ipvs = await IpvsClient.over(
    new NetlinkConnection(transport, { maxBatchMessages: options.batchMessages, timeoutMs: 60_000 }),
  );
  const reconciler = new IpvsReconciler({
    ipvs,
    ownership: new MemoryOwnershipStore(),
    log,
    resyncIntervalMs: 3_600_000,
  });
  try {
    transport.reset();
    started = performance.now();
    reconciler.setDesired(desired);
    const pass = await reconciler.reconcile();
    const syncMs = performance.now() - started;
    const { sendmsgs, messages } = transport;
    if (pass.failed !== 0)
      throw new Error(`reconciler: ${pass.failed} of ${pass.operations} operations failed`);
    const rules = rulesDigest(execFileSync("ipvsadm", ["-Sn"], { encoding: "utf8", maxBuffer: 1 << 28 }));
    // Let the pass setDesired scheduled run first, so each change below is timed alone.
    await new Promise((resolve) => setImmediate(resolve));
    await reconciler.reconcile();

    // One real server's weight, back and forth.
    const target = runtimes[Math.floor(runtimes.length / 2)]!;
    const result = {
      oneChangeMs: [] as number[],
      oneChangeSendmsgs: [] as number[],
      oneChangeMessages: [] as number[],
      oneChangeOperations: [] as number[],
      oneChangeGcMs: [] as number[],
    };
    // Changes are spread out (one every 20 ms, after a pause for the sync's garbage), so they
    // sample the agent's steady state rather than one burst; GC pauses are recorded alongside.
    const gcPauses: { start: number; end: number }[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries())
        gcPauses.push({ start: entry.startTime, end: entry.startTime + entry.duration });
    });
    observer.observe({ entryTypes: ["gc"] });
    await sleep(1000);
    for (let change = 1; change <= options.changes; change++) {
      const current = desired.get(target.serviceId)!;
      const [first, ...rest] = [...current.destinations.values()];
      const changed: DesiredService = {
        ...current,
        destinations: new Map(
          [{ ...first!, weight: first!.weight === 1 ? 5 : 1 }, ...rest].map((d) => [
            `${d.address}/${d.port}`,
            d,
          ]),
        ),
      };
      desired.set(target.serviceId, changed);
      transport.reset();
      const changeStarted = performance.now();
      reconciler.setDesired(desired, [target.serviceId]);
      const changePass = await reconciler.reconcile();
      result.oneChangeMs.push(performance.now() - changeStarted);
      result.oneChangeSendmsgs.push(transport.sendmsgs);
      result.oneChangeMessages.push(transport.messages);
      result.oneChangeOperations.push(changePass.operations);
      const changeEnded = performance.now();
      result.oneChangeGcMs.push(
        gcPauses
          .filter((gc) => gc.end > changeStarted && gc.start < changeEnded)
          .reduce((sum, gc) => sum + Math.min(gc.end, changeEnded) - Math.max(gc.start, changeStarted), 0),
      );
      await sleep(20);
    }
    observer.disconnect();
    return { buildMs, syncMs, operations: pass.operations, sendmsgs, messages, rules, ...result };
  } finally {
    await reconciler.stop();
    ipvs.close();
  }
}

export interface RunnerOptions extends SyncBenchmarkOptions {
  /** argv that runs runReconcilerWorker with these options and prints its JSON result. */
  readonly workerCommand: readonly string[];
}

let namespaceCounter = 0;

/** A new namespace with lo up and the benchmark's networks on a dummy device (NAT destinations must be unicast there). */
function freshNamespace(): string {
  const name = `kvbench${process.pid}-${namespaceCounter++}`;
  execFileSync("ip", ["netns", "add", name]);
  for (const args of [
    ["link", "set", "lo", "up"],
    ["link", "add", "kvbench0", "type", "dummy"],
    ["link", "set", "kvbench0", "up"],
    ["addr", "add", "198.51.100.254/24", "dev", "kvbench0"],
    ["addr", "add", "203.0.113.254/24", "dev", "kvbench0"],
  ])
    execFileSync("ip", ["-n", name, ...args]);
  return name;
}

export async function runSyncBenchmark(
  options: RunnerOptions,
  progress: (line: string) => void = () => undefined,
): Promise<SyncBenchmarkResult> {
  const runtimes = benchmarkSpecs(options.services, options.destinations).map(
    (entry) => new VirtualServiceRuntime(entry, ""),
  );
  const desired = new Map(runtimes.map((r) => [r.serviceId, r.desired()]));
  const operations = [...desired.values()].reduce((n, s) => n + 1 + s.destinations.size, 0);
  const script = restoreScript(desired.values());

  const restoreMs: number[] = [];
  const reconcilerMs: number[] = [];
  const rules = { restore: "", reconciler: "" };
  let worker: WorkerResult | undefined;
  const restoreRun = (run: number) => {
    const namespace = freshNamespace();
    try {
      const started = performance.now();
      const restore = spawnSync("ip", ["netns", "exec", namespace, "ipvsadm-restore"], {
        input: script,
        encoding: "utf8",
        maxBuffer: 1 << 26,
      });
      restoreMs.push(performance.now() - started);
      if (restore.status !== 0)
        throw new Error(`ipvsadm-restore failed (${restore.status}): ${restore.stderr}`);
      rules.restore = rulesIn(namespace);
      progress(`run ${run}: ipvsadm-restore ${restoreMs.at(-1)!.toFixed(0)} ms`);
    } finally {
      execFileSync("ip", ["netns", "del", namespace]);
    }
  };
  const reconcilerRun = (run: number) => {
    const namespace = freshNamespace();
    try {
      const [command, ...args] = options.workerCommand;
      const output = execFileSync("ip", ["netns", "exec", namespace, command!, ...args], {
        encoding: "utf8",
        maxBuffer: 1 << 26,
      });
      worker = JSON.parse(output) as WorkerResult;
      reconcilerMs.push(worker.syncMs);
      if (worker.operations !== operations)
        throw new Error(`reconciler: ${worker.operations} operations, expected ${operations}`);
      rules.reconciler = worker.rules;
      progress(
        `run ${run}: reconciler ${worker.syncMs.toFixed(0)} ms (${worker.sendmsgs} sendmsg, ${worker.messages} messages; desired table built in ${worker.buildMs.toFixed(0)} ms)`,
      );
    } finally {
      execFileSync("ip", ["netns", "del", namespace]);
    }
  };
  for (let run = 1; run <= options.runs; run++) {
    if (run % 2 === 1) {
      restoreRun(run);
      reconcilerRun(run);
    } else {
      reconcilerRun(run);
      restoreRun(run);
    }
  }
  return {
    services: options.services,
    destinations: options.destinations,
    operations,
    ipvsadmRestoreMs: restoreMs,
    reconcilerMs,
    reconcilerSendmsgs: worker!.sendmsgs,
    reconcilerMessages: worker!.messages,
    desiredBuildMs: worker!.buildMs,
    speedup: median(restoreMs) / median(reconcilerMs),
    identicalTables: rules.restore === rules.reconciler && rules.restore.length > 0,
    oneChangeMs: worker!.oneChangeMs,
    oneChangeSendmsgs: worker!.oneChangeSendmsgs,
    oneChangeMessages: worker!.oneChangeMessages,
    oneChangeOperations: worker!.oneChangeOperations,
    oneChangeGcMs: worker!.oneChangeGcMs,
  };
}
