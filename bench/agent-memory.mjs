#!/usr/bin/env node
// Memory of a standalone agent: `kubelvs agent` (the guard) and the agent it runs, in a fresh network
// namespace with one veth interface and VRRP groups at a fast advert interval, sampled while they idle
// as Master; next to two floors measured in the same run: a bare `node -e` and a bare ES module.
// Needs root and `npx tsc -p tsconfig.json` (or npm run build) first.
//   node bench/agent-memory.mjs [--seconds 10] [--groups 1] [--interval 10] [--dist DIR] [--json FILE]
// --dist runs another build (a copy of dist/ from an older commit, say) for before/after figures.
// RSS counts every resident page, shared ones included: the node binary's code and data are most of
// a Node process's RSS. PSS splits shared pages between the processes mapping them; anon is private.
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    groups: { type: "string", default: "1" },
    interval: { type: "string", default: "10" },
    dist: { type: "string", default: fileURLToPath(new URL("../dist", import.meta.url)) },
    json: { type: "string" },
  },
});
const seconds = Number(values.seconds);
const groups = Number(values.groups);
const intervalMs = Number(values.interval);
const dist = resolve(values.dist);
if (!(seconds > 0)) throw new Error(`--seconds ${values.seconds}: expected a positive number`);
if (!Number.isInteger(groups) || groups < 1 || groups > 200)
  throw new Error(`--groups ${values.groups}: expected 1 to 200`);
if (!Number.isInteger(intervalMs) || intervalMs < 10 || intervalMs % 10 !== 0)
  throw new Error(`--interval ${values.interval}: a VRRPv3 interval in ms, a multiple of 10`);
if (process.getuid?.() !== 0) throw new Error("needs root: it creates a network namespace");

const { controlRequest } = await import(pathToFileURL(join(dist, "agent/process/control-socket.js")).href);
const MAIN = join(dist, "cli/main.js");
const NETNS = `klmem-${process.pid.toString(36)}`;
const INSTANCE = "bench";
const dir = mkdtempSync(join(tmpdir(), "kubelvs-agent-memory-"));
const runDir = join(dir, "run");
const children = [];

const ip = (...args) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cleanup() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  try {
    // The agent is the guard's child, not ours: kill what still runs in the namespace.
    const pids = execFileSync("ip", ["netns", "pids", NETNS], { encoding: "utf8" }).split("\n");
    for (const pid of pids.filter(Boolean)) process.kill(Number(pid), "SIGKILL");
  } catch {
    // no namespace (yet), or the processes are gone
  }
  try {
    ip("netns", "del", NETNS);
  } catch {
    // never created
  }
  rmSync(dir, { recursive: true, force: true });
}
process.on("exit", cleanup);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => process.exit(130));

/** One sample of a process: KiB from /proc/PID/status and smaps_rollup, CPU ticks from stat. */
function sample(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const field = (text, name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    rss: field(status, "VmRSS"),
    anon: field(status, "RssAnon"),
    file: field(status, "RssFile"),
    pss: field(rollup, "Pss"),
    hwm: field(status, "VmHWM"),
    ticks: Number(f[11]) + Number(f[12]),
  };
}

function setUpNamespace() {
  ip("netns", "add", NETNS);
  ip("-n", NETNS, "link", "set", "lo", "up");
  // Both ends in the namespace: the adverts leave eth0 and nobody answers, as for a lone Master.
  ip("-n", NETNS, "link", "add", "eth0", "type", "veth", "peer", "name", "peer0");
  ip("-n", NETNS, "link", "set", "eth0", "up");
  ip("-n", NETNS, "link", "set", "peer0", "up");
  ip("-n", NETNS, "addr", "add", "198.51.100.2/24", "dev", "eth0");
}

function writeConfig() {
  const spec = {
    vrrpGroups: Array.from({ length: groups }, (_, i) => ({
      name: `g${i + 1}`,
      vrid: i + 1,
      version: 3,
      advertIntervalMillis: intervalMs,
      interface: { name: "eth0" },
      priority: 200,
      virtualIPs: [{ address: `198.51.100.${10 + i}`, prefixLength: 24 }],
    })),
  };
  const file = join(dir, `${INSTANCE}.yaml`);
  writeFileSync(file, JSON.stringify(spec, null, 2)); // JSON is YAML
  return file;
}

function start(args, name) {
  const child = spawn("ip", ["netns", "exec", NETNS, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  child.on("exit", (code, signal) => {
    if (!stopping) console.error(`${name} exited early (${code ?? signal}): ${stderr.trim()}`);
  });
  children.push(child);
  return child;
}
let stopping = false;

async function waitForMaster(timeoutMs) {
  const socket = join(runDir, `${INSTANCE}.sock`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const status = await controlRequest(socket, { command: "status" }, 1000);
      if (status.groups.length === groups && status.groups.every((g) => g.state === "Master")) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`the agent was not Master of ${groups} groups within ${timeoutMs} ms`);
    await sleep(50);
  }
}

const summarise = (samples, key) => {
  const v = samples.map((s) => s[key]);
  return { mean: v.reduce((a, b) => a + b, 0) / v.length, max: Math.max(...v) };
};

setUpNamespace();
const config = writeConfig();
const startLoad = loadavg()[0].toFixed(2);
const floor = start([process.execPath, "-e", "setInterval(() => {}, 1000)"], "bare node");
// A file, not -e: the ES module loader (which kubelvs's dist/ goes through) is part of this floor.
const idleModule = join(dir, "idle.mjs");
writeFileSync(idleModule, "setInterval(() => {}, 1000);\n");
const esmFloor = start([process.execPath, idleModule], "bare ES module");
const guard = start(
  [
    process.execPath,
    MAIN,
    "agent",
    "--config",
    config,
    "--instance",
    INSTANCE,
    "--node-name",
    "bench",
    "--run-dir",
    runDir,
    "--log-file",
    join(dir, "agent.log"),
  ],
  "kubelvs agent",
);
await waitForMaster(20_000);
const agentPid = Number(readFileSync(join(runDir, `${INSTANCE}.pid`), "utf8"));
const processes = [
  { role: "guard", pid: guard.pid },
  { role: "agent", pid: agentPid },
  { role: "bare node -e", pid: floor.pid },
  { role: "bare ES module", pid: esmFloor.pid },
];
const samples = processes.map(() => []);
const t0 = process.hrtime.bigint();
for (let i = 0; i < seconds * 2; i++) {
  processes.forEach((p, k) => samples[k].push(sample(p.pid)));
  await sleep(500);
}
processes.forEach((p, k) => samples[k].push(sample(p.pid)));
const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9;

const mib = (kib) => (kib / 1024).toFixed(1).padStart(6);
const rows = processes.map((p, k) => {
  const s = samples[k];
  const last = s[s.length - 1];
  return {
    role: p.role,
    pid: p.pid,
    rss: summarise(s, "rss"),
    anon: summarise(s, "anon"),
    file: summarise(s, "file"),
    pss: summarise(s, "pss"),
    hwmKiB: last.hwm,
    cpuPercent: ((last.ticks - s[0].ticks) / 100 / elapsedS) * 100,
  };
});
stopping = true;
guard.kill("SIGTERM");
await Promise.race([new Promise((r) => guard.once("exit", r)), sleep(5000)]);

console.log(
  `kubelvs agent memory: ${groups} VRRPv3 group(s) at ${intervalMs} ms, Master, sampled every 0.5 s for ${seconds} s`,
);
console.log(`build: ${dist}; node ${process.version}; load average at start ${startLoad}`);
console.log(
  "MiB (mean / max over the samples); HWM = peak RSS since the process started; CPU = % of one core",
);
console.log("");
console.log("process              RSS mean    max   anon   file    PSS    HWM   CPU");
for (const r of rows) {
  console.log(
    `${r.role.padEnd(18)} ${mib(r.rss.mean)} ${mib(r.rss.max)} ${mib(r.anon.mean)} ${mib(r.file.mean)} ${mib(r.pss.mean)} ${mib(r.hwmKiB)} ${r.cpuPercent.toFixed(1).padStart(5)}`,
  );
}
if (values.json)
  writeFileSync(values.json, JSON.stringify({ groups, intervalMs, seconds, dist, rows }, null, 2));
process.exit(0);
