// What /proc says about a process: its children (to kill everything an implementation runs), its
// CPU time (idle-CPU comparison) and its resident memory (the agent's RSS budget).
import { readdirSync, readFileSync } from "node:fs";

/** Fields of /proc/PID/stat after "pid (comm) ": index 0 is the state. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** Direct and indirect children of a process. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const ppid = Number(statFields(Number(name))[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** Resident memory in KiB: all of it (VmRSS, including shared file pages such as the node binary) and the private anonymous part. */
export function memoryKiB(pid: number): { rss: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
    if (!m) throw new Error(`/proc/${pid}/status has no ${name} (a kernel thread or a zombie?)`);
    return Number(m[1]);
  };
  return { rss: field("VmRSS"), anon: field("RssAnon") };
}

export interface CpuSample {
  pid: number;
  role: string;
  /** Share of one CPU over the interval, in percent. */
  percent: number;
}

/**
 * CPU time of all of a process's threads in nanoseconds (the first field of each
 * /proc/PID/task/TID/schedstat). utime + stime count whole 10 ms ticks, too coarse to tell 0.2 % from
 * 0.4 % in a short sample; the scheduler's own accounting is exact.
 */
export function cpuNanos(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // the thread exited meanwhile
    }
  }
  return total;
}

/** CPU use of each process over `ms` milliseconds (its threads' scheduler run time). */
export async function sampleCpu(
  processes: { role: string; pid: number }[],
  ms: number,
): Promise<CpuSample[]> {
  const before = processes.map((p) => cpuNanos(p.pid));
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, ms));
  const elapsedNs = Number(process.hrtime.bigint() - t0);
  return processes.map((p, i) => ({
    pid: p.pid,
    role: p.role,
    percent: ((cpuNanos(p.pid) - before[i]!) / elapsedNs) * 100,
  }));
}
