#!/usr/bin/env node
// Failover benchmark: kubelvs agents and keepalived 2.2.7 in the same namespace lab, same invocation.
// Needs root, `npm run build` (or npx tsc) first, and keepalived + tcpdump (scripts/install-deps.sh).
//   node bench/failover.mjs [--runs 5] [--intervals 1000,50,10] [--breaks resign,crash,host-down]
//                           [--implementations kubelvs,keepalived] [--cpu-seconds 10] [--json FILE]
// Run it on a quiet machine (check `uptime`): the figures are milliseconds and a busy scheduler adds to them.
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";

const dist = new URL("../dist/agent/e2e/", import.meta.url);
const { runFailoverBenchmark, DEFAULT_INTERVALS, PRIORITIES } = await import(
  new URL("failover-bench.js", dist).href
);
const { formatFailoverTable, formatWireTable, formatResources, formatSideBySide } = await import(
  new URL("bench-report.js", dist).href
);
const { BREAK_KINDS } = await import(new URL("failover-bed.js", dist).href);

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    intervals: { type: "string", default: DEFAULT_INTERVALS.map((i) => i.intervalMs).join(",") },
    breaks: { type: "string", default: BREAK_KINDS.join(",") },
    implementations: { type: "string", default: "kubelvs,keepalived" },
    "cpu-seconds": { type: "string", default: "10" },
    json: { type: "string" },
  },
});
const intervals = values.intervals.split(",").map((ms) => {
  const found = DEFAULT_INTERVALS.find((i) => i.intervalMs === Number(ms));
  if (found) return found;
  const n = Number(ms);
  if (!Number.isInteger(n) || n < 10) throw new Error(`--intervals: ${ms} is not an advert interval in ms`);
  return n % 1000 === 0
    ? { label: `v2 ${n / 1000} s`, version: 2, intervalMs: n }
    : { label: `v3 ${n} ms`, version: 3, intervalMs: n };
});
const kinds = values.breaks.split(",");
for (const k of kinds)
  if (!BREAK_KINDS.includes(k)) throw new Error(`--breaks: ${k} is not one of ${BREAK_KINDS.join(", ")}`);
const implementations = values.implementations.split(",");
const options = {
  runs: Number(values.runs),
  intervals,
  kinds,
  implementations,
  cpuSeconds: Number(values["cpu-seconds"]),
  log: (line) => console.error(`[${new Date().toISOString().slice(11, 23)}] ${line}`),
};

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
const startLoad = load();
const started = Date.now();
const result = await runFailoverBenchmark(options);
const minutes = ((Date.now() - started) / 60000).toFixed(1);

const out = [
  `kubelvs failover benchmark: ${options.runs} runs each, VIP probed every 2 ms from the client; priorities n1 ${PRIORITIES[0]} (Master), n2 ${PRIORITIES[1]}, n3 ${PRIORITIES[2]}`,
  `command: node bench/failover.mjs ${process.argv.slice(2).join(" ")}`.trimEnd(),
  `load average at start ${startLoad}, at end ${load()}; took ${minutes} min`,
  "",
  "Failover at the client: from the break to the first answer from the new Master, median (min–max) in ms.",
  "crash = SIGKILL of the VRRP process and everything it runs. kubelvs: the agent; its guard is the agent's",
  "PARENT, not something it runs, so it survives and resigns for it. keepalived: its VRRP child and parent.",
  "Two nodes answering: every 2 ms a probe in an Ethernet broadcast frame reaches every node holding the VIP;",
  "n1+... = the old Master still answered next to the new one; n2+n3 = both Backups took over for a moment.",
  "",
  formatFailoverTable(result.runs, intervals, kinds),
  "On the wire (tcpdump on the LAN bridge): the old Master's last advert to the new Master's first, median",
  "(min–max) in ms, and the RFC timer it should take (Skew_Time after a priority-0 advert, else Master_Down_Interval).",
  "",
  formatWireTable(result.runs, intervals, kinds),
];
if (result.resources.length > 0) {
  out.push(
    `Idle Master at ${result.resources[0].interval} adverts over ${result.resources[0].seconds} s: CPU (every thread's run time from /proc/PID/task/*/schedstat, % of one core) and memory.`,
    "",
    formatResources(result.resources),
  );
}
if (result.sideBySide) {
  out.push(
    `Idle Masters side by side at ${result.sideBySide.interval}: a kubelvs and a keepalived group on the same three nodes`,
    `(own VRIDs and VIPs, both Masters on n1), both Masters' processes sampled in the same ${result.sideBySide.windowSeconds} s windows.`,
    "",
    formatSideBySide(result.sideBySide),
  );
}
const failed = result.runs.filter((r) => r.error);
if (failed.length > 0)
  out.push(
    `${failed.length} runs failed:`,
    ...failed.map((r) => `  ${r.interval} ${r.implementation} ${r.kind} #${r.run}: ${r.error}`),
    "",
  );
console.log(out.join("\n"));
if (values.json)
  writeFileSync(values.json, JSON.stringify({ options: { ...options, log: undefined }, ...result }, null, 2));
