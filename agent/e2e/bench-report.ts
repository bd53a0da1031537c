// The failover benchmark's figures and their tables: medians per advert interval and break kind for
// kubelvs and keepalived side by side, the wire timing against the RFC timer, and the resources of an
// idle Master. Pure: the runner collects, this formats.
import type { BreakKind } from "./failover-bed.js";
import type { RouterKind } from "./routers.js";

export interface IntervalSetting {
  label: string;
  version: 2 | 3;
  intervalMs: number;
}

export interface BenchRun {
  implementation: RouterKind;
  interval: string;
  kind: BreakKind;
  run: number;
  /** Break → first answer from the new Master at the client (undefined when the run failed). */
  clientMs?: number;
  /** Old Master's last advert → new Master's first, on the wire. */
  wireMs?: number;
  /** The RFC timer this break should take (Skew_Time or Master_Down_Interval). */
  rfcMs: number;
  newMaster?: string;
  /** Sets of nodes that answered for the VIP at the same moment during the run, e.g. ["n1+n2"]. */
  doubles: string[];
  error?: string;
}

export interface ProcessFigures {
  role: string;
  pid: number;
  cpuPercent: number;
  rssKiB: number;
  anonKiB: number;
}

export interface ResourceFigures {
  implementation: RouterKind;
  interval: string;
  seconds: number;
  processes: ProcessFigures[];
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

const ms = (v: number | undefined): string =>
  v === undefined ? "-" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);

function cell(runs: BenchRun[], pick: (r: BenchRun) => number | undefined): string {
  const values = runs.map(pick).filter((v): v is number => v !== undefined);
  if (values.length === 0) return runs.length === 0 ? "not run" : "failed";
  const failed = runs.length - values.length;
  return `${ms(median(values))} (${ms(Math.min(...values))}–${ms(Math.max(...values))})${failed > 0 ? ` ${failed} failed` : ""}`;
}

function select(runs: readonly BenchRun[], impl: RouterKind, interval: string, kind: BreakKind): BenchRun[] {
  return runs.filter((r) => r.implementation === impl && r.interval === interval && r.kind === kind);
}

/** Client-side failover: medians (min–max) per interval and kind, and the ratio kubelvs / keepalived. */
export function formatFailoverTable(
  runs: readonly BenchRun[],
  intervals: readonly IntervalSetting[],
  kinds: readonly BreakKind[],
): string {
  const rows = [
    ["ADVERTS", "BREAK", "KUBELVS ms", "KEEPALIVED ms", "RATIO", "TWO NODES ANSWERING (kubelvs/keepalived)"],
  ];
  for (const { label } of intervals) {
    for (const kind of kinds) {
      const ours = select(runs, "kubelvs", label, kind);
      const theirs = select(runs, "keepalived", label, kind);
      const m = (rs: BenchRun[]) =>
        median(rs.map((r) => r.clientMs).filter((v): v is number => v !== undefined));
      const [a, b] = [m(ours), m(theirs)];
      const doubles = (rs: BenchRun[]) => {
        if (rs.length === 0) return "-";
        const counts = new Map<string, number>();
        for (const r of rs) for (const d of new Set(r.doubles)) counts.set(d, (counts.get(d) ?? 0) + 1);
        return counts.size === 0
          ? "no"
          : [...counts].map(([nodes, n]) => `${nodes} in ${n}/${rs.length}`).join(", ");
      };
      rows.push([
        label,
        kind,
        cell(ours, (r) => r.clientMs),
        cell(theirs, (r) => r.clientMs),
        a !== undefined && b !== undefined && b > 0 ? (a / b).toFixed(2) : "-",
        `${doubles(ours)} / ${doubles(theirs)}`,
      ]);
    }
  }
  return table(rows);
}

/** On the wire: medians of the takeover gap against the RFC timer each implementation should meet. */
export function formatWireTable(
  runs: readonly BenchRun[],
  intervals: readonly IntervalSetting[],
  kinds: readonly BreakKind[],
): string {
  const rows = [["ADVERTS", "BREAK", "KUBELVS wire ms (RFC)", "KEEPALIVED wire ms (RFC)"]];
  for (const { label } of intervals) {
    for (const kind of kinds) {
      const col = (impl: RouterKind) => {
        const rs = select(runs, impl, label, kind);
        return rs.length === 0 ? "not run" : `${cell(rs, (r) => r.wireMs)} (${ms(rs[0]!.rfcMs)})`;
      };
      rows.push([label, kind, col("kubelvs"), col("keepalived")]);
    }
  }
  return table(rows);
}

export function formatResources(figures: readonly ResourceFigures[]): string {
  const rows = [["IMPLEMENTATION", "PROCESS", "PID", "CPU %", "RSS MB", "ANON MB"]];
  for (const f of figures) {
    for (const p of f.processes) {
      rows.push([
        f.implementation,
        p.role,
        String(p.pid),
        p.cpuPercent.toFixed(3),
        (p.rssKiB / 1024).toFixed(1),
        (p.anonKiB / 1024).toFixed(1),
      ]);
    }
    const sum = (pick: (p: ProcessFigures) => number) => f.processes.reduce((a, p) => a + pick(p), 0);
    rows.push([
      f.implementation,
      "total",
      "",
      sum((p) => p.cpuPercent).toFixed(3),
      (sum((p) => p.rssKiB) / 1024).toFixed(1),
      (sum((p) => p.anonKiB) / 1024).toFixed(1),
    ]);
  }
  return table(rows);
}

/**
 * Both implementations' idle Masters measured at once: a kubelvs trio and a keepalived trio run on the
 * same three nodes (their own VRIDs and VIPs, both Masters on n1), and each window samples both
 * Masters' CPU over the same seconds. Every advert of either reaches the same sockets on the Backups,
 * so the LAN's delivery work is the same for both, and the machine's background noise hits both alike:
 * one implementation after the other, minutes apart, differed by more than the gap being measured.
 */
export interface SideBySideIdle {
  interval: string;
  windowSeconds: number;
  /** CPU % of one core per window, all of each implementation's processes on the Master node. */
  windows: { kubelvs: number; keepalived: number }[];
}

export function formatSideBySide(figures: SideBySideIdle): string {
  const rows = [["WINDOW", "KUBELVS CPU %", "KEEPALIVED CPU %", "RATIO"]];
  figures.windows.forEach((w, i) => {
    rows.push([
      String(i + 1),
      w.kubelvs.toFixed(3),
      w.keepalived.toFixed(3),
      (w.kubelvs / w.keepalived).toFixed(2),
    ]);
  });
  const ratios = figures.windows.map((w) => w.kubelvs / w.keepalived);
  rows.push([
    "median",
    median(figures.windows.map((w) => w.kubelvs))?.toFixed(3) ?? "-",
    median(figures.windows.map((w) => w.keepalived))?.toFixed(3) ?? "-",
    median(ratios)?.toFixed(2) ?? "-",
  ]);
  return table(rows);
}
