// The failover benchmark (run by bench/failover.mjs; a measurement, not a test): in one lab and one
// invocation, three kubelvs agents and then three keepalived daemons (n1 150 Master, n2 100, n3 50)
// carry one VIP; a client probes it every 2 ms; the Master is broken RUNS times each way —
//   resign     SIGTERM, as `systemctl stop` sends
//   crash      SIGKILL of the implementation's VRRP process and everything it runs, all at once
//              (kubelvs: the agent; its guard is its PARENT, not something it runs, and survives to
//              resign for it. keepalived: its VRRP child and its parent)
//   host-down  the Master's eth0 goes down
// at each advert interval, and the failover is taken at the client (break → first answer from the new
// Master) and on the wire (tcpdump on the LAN bridge). Then the idle Master's CPU at the shortest
// interval and its memory, and last both implementations' idle Masters side by side in the same
// sampling windows (the fair CPU comparison: see SideBySideIdle).
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Lab, type LabHost } from "../../e2e/lab/lab.js";
import { AgentFleet } from "./agent-harness.js";
import type { BenchRun, IntervalSetting, ResourceFigures, SideBySideIdle } from "./bench-report.js";
import { FailoverBed, type BreakKind } from "./failover-bed.js";
import { memoryKiB, sampleCpu } from "./proc-stats.js";
import {
  KeepalivedRouter,
  KubelvsRouter,
  keepalivedConfig,
  kubelvsSpec,
  type GroupPlan,
  type Router,
  type RouterKind,
} from "./routers.js";
import { VipProbe } from "./vip-probe.js";
import { VrrpCapture } from "./vrrp-capture.js";

export const DEFAULT_INTERVALS: readonly IntervalSetting[] = [
  { label: "v2 1 s", version: 2, intervalMs: 1000 },
  { label: "v3 50 ms", version: 3, intervalMs: 50 },
  { label: "v3 10 ms", version: 3, intervalMs: 10 },
];

export const PRIORITIES = [150, 100, 50] as const;
const VIP = { address: "198.51.100.201", prefixLength: 24 };

export interface BenchOptions {
  runs: number;
  intervals: readonly IntervalSetting[];
  kinds: readonly BreakKind[];
  implementations: readonly RouterKind[];
  /** Seconds of idle-Master CPU sampling at the shortest interval (0: none). */
  cpuSeconds: number;
  /** Progress lines. */
  log: (line: string) => void;
}

export interface BenchResult {
  runs: BenchRun[];
  resources: ResourceFigures[];
  /** Both idle Masters in the same windows (when both implementations run and cpuSeconds > 0). */
  sideBySide?: SideBySideIdle;
}

function plan(interval: IntervalSetting, index: number): GroupPlan {
  return {
    name: "bench",
    vrid: 60 + index,
    version: interval.version,
    advertIntervalMs: interval.intervalMs,
    virtualIPs: [VIP],
  };
}

function routersFor(
  impl: RouterKind,
  lab: Lab,
  fleet: AgentFleet,
  group: GroupPlan,
  workDir: string,
): [Router, Router, Router] {
  const hosts = lab.nodes.slice(0, 3) as [LabHost, LabHost, LabHost];
  const make = (host: LabHost, priority: number): Router =>
    impl === "kubelvs"
      ? new KubelvsRouter(fleet, host, kubelvsSpec(group, host, priority, hosts), priority)
      : new KeepalivedRouter(lab, host, keepalivedConfig(group, host, priority, hosts), priority, workDir);
  return [make(hosts[0], PRIORITIES[0]), make(hosts[1], PRIORITIES[1]), make(hosts[2], PRIORITIES[2])];
}

/**
 * The last run restarted the Master: its start-up work (lazy compilation, the first garbage collections)
 * must be over before "idle" is measured. V8's memory reducer runs one last full collection in the
 * guard and the agent about 8 s after start (measured per thread: every thread of both busy then, and
 * from 10 s on only the advert thread runs), so the wait is past that. Both implementations get it.
 */
const IDLE_SETTLE_MS = 12_000;

async function resourcesOf(router: Router, interval: string, seconds: number): Promise<ResourceFigures> {
  await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
  const processes = router.processes();
  const cpu = await sampleCpu(processes, seconds * 1000);
  return {
    implementation: router.kind,
    interval,
    seconds,
    processes: cpu.map((c) => {
      const mem = memoryKiB(c.pid);
      return { role: c.role, pid: c.pid, cpuPercent: c.percent, rssKiB: mem.rss, anonKiB: mem.anon };
    }),
  };
}

export async function runFailoverBenchmark(options: BenchOptions): Promise<BenchResult> {
  const { log } = options;
  const result: BenchResult = { runs: [], resources: [] };
  // Outlives the run: what a failed run left behind (see FailoverBed.saveEvidence).
  const evidenceDir = join(tmpdir(), `kubelvs-failover-evidence-${process.pid}`);
  const lab = await Lab.create({ nodes: 3, client: true });
  const fleet = new AgentFleet(lab);
  const capture = await VrrpCapture.start(lab);
  const probe = await VipProbe.start(lab, { vip: VIP.address, nodes: lab.nodes, intervalMs: 2 });
  const shortest = Math.min(...options.intervals.map((i) => i.intervalMs));
  try {
    for (const [index, interval] of options.intervals.entries()) {
      for (const impl of options.implementations) {
        const routers = routersFor(impl, lab, fleet, plan(interval, index), join(fleet.dir, "keepalived"));
        const bed = new FailoverBed(lab, probe, capture, routers, {
          vrid: 60 + index,
          intervalMs: interval.intervalMs,
        });
        try {
          await Promise.all(routers.map((r) => r.start()));
          await bed.established();
          for (const kind of options.kinds) {
            for (let run = 1; run <= options.runs; run++) {
              result.runs.push(await measureOnce(bed, impl, interval, kind, run, log, evidenceDir));
            }
          }
          if (options.cpuSeconds > 0 && interval.intervalMs === shortest) {
            log(`${interval.label} ${impl}: sampling the idle Master for ${options.cpuSeconds} s`);
            result.resources.push(await resourcesOf(bed.master, interval.label, options.cpuSeconds));
          }
        } finally {
          await lab.ip(routers[0].host, "link", "set", "eth0", "up");
          await Promise.all(routers.map((r) => r.shutdown()));
        }
      }
    }
    const both =
      options.implementations.includes("kubelvs") && options.implementations.includes("keepalived");
    if (options.cpuSeconds > 0 && both) {
      const interval = options.intervals.find((i) => i.intervalMs === shortest)!;
      log(`${interval.label}: both idle Masters side by side, ${SIDE_BY_SIDE_WINDOWS} windows`);
      result.sideBySide = await idleSideBySide(
        lab,
        fleet,
        interval,
        options.cpuSeconds,
        join(fleet.dir, "keepalived-idle"),
      );
    }
  } finally {
    await probe.stop();
    await capture.stop();
    await lab.teardown();
    fleet.cleanup();
  }
  return result;
}

const SIDE_BY_SIDE_WINDOWS = 6;

/** See SideBySideIdle: a kubelvs and a keepalived group on the same nodes, Masters on n1, sampled together. */
async function idleSideBySide(
  lab: Lab,
  fleet: AgentFleet,
  interval: IntervalSetting,
  windowSeconds: number,
  workDir: string,
): Promise<SideBySideIdle> {
  const group = (impl: RouterKind, offset: number): GroupPlan => ({
    name: `idle${impl === "kubelvs" ? "k" : "q"}`,
    vrid: 70 + offset,
    version: interval.version,
    advertIntervalMs: interval.intervalMs,
    virtualIPs: [{ address: `198.51.100.${211 + offset}`, prefixLength: 24 }],
  });
  const kubelvs = routersFor("kubelvs", lab, fleet, group("kubelvs", 0), workDir);
  const keepalived = routersFor("keepalived", lab, fleet, group("keepalived", 1), workDir);
  const routers = [...kubelvs, ...keepalived];
  try {
    await Promise.all(routers.map((r) => r.start()));
    await waitForState(kubelvs[0], "Master");
    await waitForState(keepalived[0], "Master");
    await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS));
    const masters = [
      ...kubelvs[0].processes().map((p) => ({ ...p, role: `kubelvs ${p.role}` })),
      ...keepalived[0].processes().map((p) => ({ ...p, role: `keepalived ${p.role}` })),
    ];
    const windows: SideBySideIdle["windows"] = [];
    for (let w = 0; w < SIDE_BY_SIDE_WINDOWS; w++) {
      const sample = await sampleCpu(masters, windowSeconds * 1000);
      const total = (prefix: string) =>
        sample.filter((s) => s.role.startsWith(prefix)).reduce((sum, s) => sum + s.percent, 0);
      windows.push({ kubelvs: total("kubelvs "), keepalived: total("keepalived ") });
    }
    return { interval: interval.label, windowSeconds, windows };
  } finally {
    await Promise.all(routers.map((r) => r.shutdown()));
  }
}

async function waitForState(router: Router, state: "Master"): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await router.state()) !== state) {
    if (Date.now() > deadline) throw new Error(`${router.kind} on ${router.host.name} never became ${state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function measureOnce(
  bed: FailoverBed,
  impl: RouterKind,
  interval: IntervalSetting,
  kind: BreakKind,
  run: number,
  log: (line: string) => void,
  evidenceDir: string,
): Promise<BenchRun> {
  const base = { implementation: impl, interval: interval.label, kind, run, rfcMs: bed.rfcTimerMs(kind) };
  const name = `${interval.label} ${impl} ${kind} #${run}`;
  let record: BenchRun;
  try {
    const seen = await bed.breakMaster(kind);
    record = {
      ...base,
      clientMs: seen.clientMs,
      ...(seen.wire ? { wireMs: seen.wire.gapMs } : {}),
      newMaster: seen.newMaster,
      doubles: seen.doubles.map((d) => d.nodes.join("+")),
    };
    log(
      `${name}: client served by ${seen.newMaster} after ${seen.clientMs.toFixed(1)} ms` +
        ` (outage ${seen.outageMs?.toFixed(1) ?? "?"} ms); wire ${seen.wire?.gapMs.toFixed(2) ?? "?"} ms,` +
        ` RFC ${base.rfcMs.toFixed(2)} ms; ${seen.doubles.length > 0 ? `TWO NODES ANSWERED (${seen.doubles.map((d) => d.nodes.join("+")).join(", ")})` : "one node at a time"}`,
    );
  } catch (e) {
    const evidence = join(
      evidenceDir,
      `${interval.label} ${impl} ${kind} ${run}`.replace(/[^a-z0-9]+/gi, "-"),
    );
    await bed.saveEvidence(evidence, bed.lastBreakUs).catch(() => undefined);
    record = {
      ...base,
      doubles: [],
      error: `${(e as Error).message} (logs, adverts, probe events: ${evidence})`,
    };
    log(`${name}: FAILED: ${(e as Error).message}; evidence in ${evidence}`);
  }
  try {
    await bed.restore(kind);
  } catch (e) {
    // Start the group over so the next runs still measure something; the failure is in the record.
    log(`${name}: restoring the Master failed (${(e as Error).message}); restarting all three`);
    await bed.reset();
  }
  return record;
}
