#!/usr/bin/env node
// Timer precision and idle-Master CPU: what the native timer and periodic sender buy over Node.
//   node bench/timer-precision.mjs [--deadlines 500] [--cpu-seconds 10] [--interval-ms 10]
//                                  [--timerslack-ns N] [--skip-cpu] [--skip-keepalived]
// Needs `npm run build` (or build:native + npx tsc) first.
//
// 1. Lateness (no root): one deadline at a time, each 2 ms + a random sub-millisecond offset ahead
//    on CLOCK_MONOTONIC; setTimeout (delay rounded up to whole ms so it is never early — what the
//    agent did before) against MonotonicTimer (timerfd, absolute deadline). Lateness = the clock in
//    the callback minus the deadline: median, p99 and max in µs. --timerslack-ns sets the main
//    thread's timer slack (/proc/self/timerslack_ns, default 50000) first, to see whether it matters.
// 2. CPU of an idle VRRP Master's adverts (root: it creates a network namespace with a veth pair,
//    198.51.100.1/24 on d0, and sends to 224.0.0.18 out of d0 — the real advert path; the peer d1
//    receives and drops them, work a real NIC would not charge to us): --cpu-seconds of PeriodicSender at --interval-ms, against a JS setInterval calling
//    RawIpSocket.send with the same pre-built bytes, and an idle Node process for reference. Each
//    runs in its own child process, measured with process.cpuUsage() (every thread: PeriodicSender
//    sends from a thread of its own) after a 1 s warm-up; per round in µs, in all and above the
//    idle process. When keepalived is installed, a keepalived Master (VRID 52, same interval) runs
//    in the same namespace throughout, and its VRRP child's run time (schedstat) is read over each
//    child's window: the fairest comparison on a shared machine, both paying the same noise.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { loadAddon } = await import(new URL("../dist/native/addon.js", import.meta.url).href);

const { values } = parseArgs({
  options: {
    deadlines: { type: "string", default: "500" },
    "cpu-seconds": { type: "string", default: "10" },
    "interval-ms": { type: "string", default: "10" },
    "timerslack-ns": { type: "string" },
    "skip-cpu": { type: "boolean", default: false },
    "skip-keepalived": { type: "boolean", default: false },
    child: { type: "string" }, // internal: one CPU measurement, run inside the namespace
    ifname: { type: "string" },
    "keepalived-pid": { type: "string" }, // internal: whose run time the child reads too
  },
});

// A VRRPv3 advert (VRID 51, priority 100, 10 ms, one IPv4 address); its checksum is not computed:
// nothing receives it.
const ADVERT = Buffer.from("3133640100016cd1c6336401", "hex");
const GROUP = "224.0.0.18";
const SOURCE = "198.51.100.1";

async function main() {
  console.log(
    `timer precision benchmark; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  if (values["timerslack-ns"] !== undefined) {
    writeFileSync("/proc/self/timerslack_ns", values["timerslack-ns"]);
  }
  console.log(`main thread timer slack: ${readFileSync("/proc/self/timerslack_ns", "utf8").trim()} ns`);
  const count = Number(values.deadlines);
  const timeout = await lateness(count, scheduleWithSetTimeout);
  const timerfd = await lateness(count, scheduleWithMonotonicTimer());
  console.log(`\nlateness over ${count} deadlines (2 ms + U(0, 1) ms ahead), µs:`);
  console.log(
    table(
      ["", "median", "p99", "max"],
      [row("setTimeout (ms, rounded up)", timeout), row("MonotonicTimer (timerfd)", timerfd)],
    ),
  );

  if (values["skip-cpu"]) return;
  if (process.getuid?.() !== 0) {
    console.log("\nCPU comparison skipped: it needs root (network namespace, raw socket)");
    return;
  }
  const seconds = Number(values["cpu-seconds"]);
  const interval = Number(values["interval-ms"]);
  const namespace = `ktp-${process.pid.toString(36)}`;
  let keepalived;
  const cleanup = () => {
    keepalived?.stop();
    spawnSync("ip", ["netns", "del", namespace], { stdio: "ignore" });
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => {
      cleanup();
      process.exit(130);
    });
  }
  try {
    execFileSync("ip", ["netns", "add", namespace]);
    const ip = (...args) => execFileSync("ip", ["-n", namespace, ...args]);
    ip("link", "set", "lo", "up");
    ip("link", "add", "d0", "type", "veth", "peer", "name", "d1");
    ip("addr", "add", `${SOURCE}/24`, "dev", "d0");
    ip("link", "set", "d0", "up");
    ip("link", "set", "d1", "up");
    const withKeepalived = !values["skip-keepalived"] && spawnSync("keepalived", ["--version"]).status === 0;
    if (withKeepalived) keepalived = await startKeepalived(namespace, interval);
    const results = {};
    for (const mode of ["native", "js", "idle"])
      results[mode] = measureChild(namespace, mode, seconds, interval, keepalived?.vrrpPid);
    console.log(`\nCPU over ${seconds} s, adverts every ${interval} ms to ${GROUP} out of a veth:`);
    const cpu = (r) => r.userUs + r.systemUs;
    const idleUsPerSecond = cpu(results.idle) / seconds;
    const perRound = (r) => (r.rounds === 0 ? "-" : (cpu(r) / r.rounds).toFixed(1));
    const perRoundAboveIdle = (r) =>
      r.rounds === 0 ? "-" : ((cpu(r) - idleUsPerSecond * seconds) / r.rounds).toFixed(1);
    const lines = Object.entries(results).map(([mode, r]) => [
      {
        native: "PeriodicSender (native)",
        js: "setInterval + RawIpSocket.send",
        idle: "idle Node (reference)",
      }[mode],
      String(r.rounds),
      (r.userUs / 1e3).toFixed(0),
      (r.systemUs / 1e3).toFixed(0),
      `${((100 * (r.userUs + r.systemUs)) / (seconds * 1e6)).toFixed(2)} %`,
      perRound(r),
      perRoundAboveIdle(r),
    ]);
    if (withKeepalived) {
      const keepalivedUs = results.native.keepalivedNs / 1e3;
      const expectedRounds = Math.round((seconds * 1000) / interval);
      lines.push([
        "keepalived VRRP child (same window)",
        `~${expectedRounds}`,
        "-",
        "-",
        `${((100 * keepalivedUs) / (seconds * 1e6)).toFixed(2)} %`,
        (keepalivedUs / expectedRounds).toFixed(1),
        "-",
      ]);
    }
    console.log(
      table(["", "rounds", "user ms", "system ms", "of a core", "µs/round", "µs/round above idle"], lines),
    );
    console.log(
      `\nJS loop / native sender: ${(cpu(results.js) / cpu(results.native)).toFixed(1)}x the CPU;` +
        ` above the idle process: ${((cpu(results.js) - cpu(results.idle)) / Math.max(1, cpu(results.native) - cpu(results.idle))).toFixed(1)}x`,
    );
    if (withKeepalived) {
      console.log(
        `PeriodicSender's whole process / keepalived's VRRP child over the same window: ` +
          `${(cpu(results.native) / (results.native.keepalivedNs / 1e3)).toFixed(2)}x`,
      );
    } else {
      console.log("keepalived not run (not installed, or --skip-keepalived)");
    }
  } finally {
    cleanup();
  }
}

/** Runs `count` deadlines one after the other; returns each one's lateness in µs. */
async function lateness(count, schedule) {
  const { monotonicNowMs } = loadAddon();
  const samples = [];
  for (let i = 0; i < count; i++) {
    const deadline = monotonicNowMs() + 2 + Math.random();
    const firedAt = await new Promise((resolve) => schedule(deadline, () => resolve(monotonicNowMs())));
    samples.push((firedAt - deadline) * 1000);
  }
  return samples.sort((a, b) => a - b);
}

function scheduleWithSetTimeout(deadline, onFire) {
  const { monotonicNowMs } = loadAddon();
  setTimeout(onFire, Math.max(0, Math.ceil(deadline - monotonicNowMs())));
}

function scheduleWithMonotonicTimer() {
  const { MonotonicTimer } = loadAddon();
  const timer = new MonotonicTimer();
  let pending;
  timer.start(
    () => {
      timer.unref(); // like setTimeout: only an armed timer keeps the process alive
      pending();
    },
    (error) => {
      throw error;
    },
  );
  timer.unref();
  return (deadline, onFire) => {
    pending = onFire;
    timer.ref();
    timer.arm(deadline);
  };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function row(label, sorted) {
  return [
    label,
    percentile(sorted, 50).toFixed(0),
    percentile(sorted, 99).toFixed(0),
    sorted.at(-1).toFixed(0),
  ];
}

function table(header, rows) {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  return all
    .map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  "))
    .join("\n");
}

/**
 * A keepalived Master on d0 (VRID 52: our adverts are VRID 51) with its own files in a temporary
 * directory; resolves once its VRRP child has written its pid file and had 2 s to become Master.
 */
async function startKeepalived(namespace, interval) {
  const dir = mkdtempSync(join(tmpdir(), "ktp-keepalived-"));
  const conf = join(dir, "keepalived.conf");
  const vrrpPidFile = join(dir, "vrrp.pid");
  writeFileSync(
    conf,
    [
      "global_defs {",
      "  router_id ktp",
      "}",
      "vrrp_instance BENCH {",
      "  state MASTER",
      "  interface d0",
      "  virtual_router_id 52",
      "  version 3",
      "  priority 150",
      `  advert_int ${interval / 1000}`,
      "  virtual_ipaddress {",
      "    198.51.100.200/24",
      "  }",
      "}",
      "",
    ].join("\n"),
  );
  const files = ["-f", conf, "-p", join(dir, "keepalived.pid"), "-r", vrrpPidFile];
  const daemon = spawn(
    "ip",
    ["netns", "exec", namespace, "keepalived", "-n", "-l", "-D", "-G", "-P", ...files],
    {
      stdio: "ignore",
    },
  );
  const stop = () => {
    daemon.kill("SIGTERM"); // `ip netns exec` execs keepalived: this is its parent process
    rmSync(dir, { recursive: true, force: true });
  };
  for (
    let waited = 0;
    !existsSync(vrrpPidFile) || readFileSync(vrrpPidFile, "utf8").trim() === "";
    waited += 100
  ) {
    if (waited > 5000 || daemon.exitCode !== null) {
      stop();
      throw new Error(`keepalived did not start its VRRP child in the namespace (conf ${conf})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 2000));
  return { vrrpPid: Number(readFileSync(vrrpPidFile, "utf8").trim()), stop };
}

function measureChild(namespace, mode, seconds, interval, keepalivedPid) {
  const script = fileURLToPath(import.meta.url);
  const args = ["netns", "exec", namespace, process.execPath, script, "--child", mode, "--ifname", "d0"];
  args.push("--cpu-seconds", String(seconds), "--interval-ms", String(interval));
  if (keepalivedPid !== undefined) args.push("--keepalived-pid", String(keepalivedPid));
  const output = execFileSync("ip", args, { encoding: "utf8", timeout: (seconds + 30) * 1000 });
  return JSON.parse(output.trim().split("\n").at(-1));
}

/** One measurement inside the namespace: prints {rounds, userUs, systemUs, keepalivedNs?}. */
function runChild(mode, ifname, seconds, interval, keepalivedPid) {
  const keepalivedRunNs = () =>
    keepalivedPid === undefined
      ? 0
      : Number(readFileSync(`/proc/${keepalivedPid}/schedstat`, "utf8").split(" ")[0]);
  const { RawIpSocket, PeriodicSender } = loadAddon();
  const ifindex = Number(readFileSync(`/sys/class/net/${ifname}/ifindex`, "utf8"));
  const socket = new RawIpSocket(4, 112, { sendOnly: true });
  const options = { ifindex, source: SOURCE };
  let rounds = () => 0;
  let stop = () => undefined;
  if (mode === "native") {
    const sender = new PeriodicSender(socket);
    sender.start([{ payload: ADVERT, destination: GROUP }], options, interval, (error) => {
      throw error;
    });
    rounds = () => sender.rounds;
    stop = () => sender.close();
  } else if (mode === "js") {
    let sent = 0;
    const timer = setInterval(() => {
      socket.send(ADVERT, GROUP, options);
      sent++;
    }, interval);
    rounds = () => sent;
    stop = () => clearInterval(timer);
  } else {
    const timer = setInterval(() => undefined, 1000);
    stop = () => clearInterval(timer);
  }
  setTimeout(() => {
    const startRounds = rounds();
    const start = process.cpuUsage();
    const keepalivedStart = keepalivedRunNs();
    setTimeout(() => {
      const used = process.cpuUsage(start);
      const keepalivedNs = keepalivedRunNs() - keepalivedStart;
      const total = rounds() - startRounds;
      stop();
      socket.close();
      console.log(JSON.stringify({ rounds: total, userUs: used.user, systemUs: used.system, keepalivedNs }));
    }, seconds * 1000);
  }, 1000);
}

if (values.child) {
  const keepalivedPid = values["keepalived-pid"] === undefined ? undefined : Number(values["keepalived-pid"]);
  runChild(
    values.child,
    values.ifname,
    Number(values["cpu-seconds"]),
    Number(values["interval-ms"]),
    keepalivedPid,
  );
} else {
  await main();
}
