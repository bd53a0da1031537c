// Drives PeriodicSender inside a lab namespace for native/periodic-sender.lab.test.ts (started with
// lab.spawnNode) and reports as JSON lines on stdout.
//
//   periodic-sender-probe.js listen {family, ifname}
//       → {ready}, then {packet: {payloadHex, source, destination, ttl, ifindex, at}} per VRRP packet
//   periodic-sender-probe.js run {family, ifname, source, api: "addon" | "transport",
//                                 realtimePriority?, steps}
//       → {step, action, before, after, loopRuns, rounds, missed, failures, withheld} per step
//         (loopRuns: times the event-loop thread has been scheduled so far, from its schedstat),
//         {sendError: {code, syscall, object}, at} per reported error,
//         {senderThreads: [{policy, priority}]} per inspectThreads step, then {done, ...counters}
//     steps: {start|restart: {payloadHex, destinations, intervalMs}}, {update: {payloadHex, destinations}},
//            {waitMs} (the event loop idles), {blockMs} (the event loop is stuck in Atomics.wait),
//            {stop: true}, {closeSocket: true}, {inspectThreads: true}
//     api "addon" drives RawIpSocket + PeriodicSender; "transport" drives RawVrrpTransport.startPeriodic
//     (closeSocket then closes the transport). realtimePriority: setRealtimePriority() first.
//   periodic-sender-probe.js worker {family, ifname, source, payloadHex, end: "terminate" | "natural"}
//       → {workerStarted, rounds}, then {workerEnded, at, exitCode, senderThreads}: a worker thread
//         starts a sender at 10 ms, then the parent terminates it ("terminate", after 100 ms) or its
//         loop runs out of work with the sender unref()'d ("natural"); its environment's cleanup
//         must end the sender thread.
//
// Every `at` / `before` / `after` is monotonicNowMs(): CLOCK_MONOTONIC is one clock across network
// namespaces, so the test can line a receiver's arrival times up with the sender's calls.
import { readdirSync, readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { loadAddon, type NativeSystemError, type PeriodicSender, type RawIpSocket } from "../addon.js";
import type { IpFamily } from "../ip-address.js";
import { createKernelEdge } from "../kernel.js";
import { IPPROTO_VRRP, vrrpGroup, type PeriodicTransmission, type VrrpTransport } from "../vrrp-socket.js";

interface Datagrams {
  readonly payloadHex: string;
  readonly destinations: readonly string[];
}

interface Schedule extends Datagrams {
  readonly intervalMs: number;
}

interface Step {
  readonly start?: Schedule;
  readonly restart?: Schedule;
  readonly update?: Datagrams;
  readonly waitMs?: number;
  readonly blockMs?: number;
  readonly stop?: true;
  readonly closeSocket?: true;
  readonly inspectThreads?: true;
}

interface Arguments {
  readonly family: IpFamily;
  readonly ifname: string;
  readonly source?: string;
  readonly api?: "addon" | "transport";
  readonly realtimePriority?: number;
  readonly steps?: readonly Step[];
}

interface Counters {
  rounds: number;
  missed: number;
  failures: number;
  withheld: number;
}

/** The operations a run needs, over either API. */
interface Driver {
  start(schedule: Schedule): void;
  update(datagrams: Datagrams): void;
  stop(): void;
  closeSocket(): void;
  readonly counters: Counters;
}

const addon = loadAddon();
const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};
const datagramsOf = (d: Datagrams): { payload: Buffer; destination: string }[] =>
  d.destinations.map((destination) => ({ payload: Buffer.from(d.payloadHex, "hex"), destination }));
const reportError = (error: NativeSystemError): void =>
  print({
    sendError: { code: error.code, syscall: error.syscall, object: error.object },
    at: addon.monotonicNowMs(),
  });

function addonDriver(family: IpFamily, ifindex: number, source: string): Driver {
  const socket: RawIpSocket = new addon.RawIpSocket(family, IPPROTO_VRRP, { sendOnly: true });
  const sender: PeriodicSender = new addon.PeriodicSender(socket);
  return {
    start: (s) => sender.start(datagramsOf(s), { source, ifindex }, s.intervalMs, reportError),
    update: (d) => sender.update(datagramsOf(d)),
    stop: () => sender.stop(),
    closeSocket: () => socket.close(),
    get counters() {
      return {
        rounds: sender.rounds,
        missed: sender.missed,
        failures: sender.failures,
        withheld: sender.withheld,
      };
    },
  };
}

function transportDriver(transport: VrrpTransport, ifindex: number, source: string): Driver {
  let transmission: PeriodicTransmission | undefined;
  return {
    start: (s) => {
      if (transmission) transmission.restart(datagramsOf(s), s.intervalMs);
      else
        transmission = transport.startPeriodic(
          datagramsOf(s),
          { ifindex, source },
          s.intervalMs,
          reportError,
        );
    },
    update: (d) => transmission!.update(datagramsOf(d)),
    stop: () => transmission?.stop(),
    closeSocket: () => transport.close(),
    // a stopped transmission keeps its final counts
    get counters() {
      return {
        rounds: transmission?.rounds ?? 0,
        missed: transmission?.missed ?? 0,
        failures: transmission?.failures ?? 0,
        withheld: transmission?.withheld ?? 0,
      };
    },
  };
}

/** The scheduling policy (0 SCHED_OTHER, 1 SCHED_FIFO) and RT priority of each sender thread. */
function senderThreads(): { policy: number; priority: number }[] {
  const threads = [];
  for (const tid of readdirSync("/proc/self/task")) {
    const task = `/proc/self/task/${tid}`;
    if (readFileSync(`${task}/comm`, "utf8").trim() !== "periodic-sender") continue;
    // proc_pid_stat(5): after the parenthesised name, field 3 is the first; 40 rt_priority, 41 policy
    const fields = readFileSync(`${task}/stat`, "utf8").split(") ")[1]!.split(" ");
    threads.push({ policy: Number(fields[41 - 3]), priority: Number(fields[40 - 3]) });
  }
  return threads;
}

/** How many times the event-loop (main) thread has been scheduled: schedstat's third field. */
const loopRuns = (): number =>
  Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8").split(" ")[2]);

/** Blocks the event loop (not just JavaScript: nothing else runs on this thread meanwhile). */
const blockEventLoop = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

async function run(args: Arguments, ifindex: number): Promise<void> {
  if (!args.source) throw new Error("run: source is required");
  if (args.realtimePriority !== undefined) addon.setRealtimePriority(args.realtimePriority);
  const kernelTransport =
    args.api === "transport"
      ? createKernelEdge().openVrrpTransport(args.family, {
          onAdvert: () => undefined,
          onError: reportError,
        })
      : undefined;
  const driver = kernelTransport
    ? transportDriver(kernelTransport, ifindex, args.source)
    : addonDriver(args.family, ifindex, args.source);
  for (const [index, step] of (args.steps ?? []).entries()) {
    const before = addon.monotonicNowMs();
    let action: string;
    if (step.start ?? step.restart) {
      action = step.start ? "start" : "restart";
      driver.start((step.start ?? step.restart)!);
    } else if (step.update) {
      action = "update";
      driver.update(step.update);
    } else if (step.waitMs !== undefined) {
      action = "wait";
      await new Promise((resolve) => setTimeout(resolve, step.waitMs));
    } else if (step.blockMs !== undefined) {
      action = "block";
      blockEventLoop(step.blockMs);
    } else if (step.inspectThreads) {
      action = "inspectThreads";
      print({ senderThreads: senderThreads() });
    } else if (step.stop) {
      action = "stop";
      driver.stop();
    } else if (step.closeSocket) {
      action = "closeSocket";
      driver.closeSocket();
    } else {
      throw new Error(`step ${index}: unknown step ${JSON.stringify(step)}`);
    }
    const after = addon.monotonicNowMs();
    print({ step: index, action, before, after, loopRuns: loopRuns(), ...driver.counters });
  }
  print({ done: true, ...driver.counters });
  process.exit(0);
}

interface WorkerArguments extends Arguments {
  readonly payloadHex: string;
  readonly end: "terminate" | "natural";
}

async function runWorker(args: WorkerArguments, ifindex: number): Promise<void> {
  const addonUrl = new URL("../addon.js", import.meta.url).href;
  const body = `
    const { parentPort, workerData } = await import("node:worker_threads");
    const { loadAddon } = await import(${JSON.stringify(addonUrl)});
    const { RawIpSocket, PeriodicSender } = loadAddon();
    const socket = new RawIpSocket(workerData.family, ${IPPROTO_VRRP}, { sendOnly: true });
    const sender = new PeriodicSender(socket);
    const datagrams = [{ payload: Buffer.from(workerData.payloadHex, "hex"), destination: workerData.group }];
    sender.start(datagrams, { source: workerData.source, ifindex: workerData.ifindex }, 10, (e) => { throw e; });
    if (workerData.end === "natural") sender.unref();
    parentPort.postMessage({ workerStarted: true, rounds: sender.rounds });`;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(body)}`), {
    workerData: { ...args, ifindex, group: vrrpGroup(args.family) },
  });
  worker.on("message", (message) => {
    print(message);
    if (args.end === "terminate") setTimeout(() => void worker.terminate(), 100);
  });
  const exitCode = await new Promise<number>((resolve, reject) => {
    worker.on("exit", resolve);
    worker.on("error", reject);
  });
  print({ workerEnded: true, at: addon.monotonicNowMs(), exitCode, senderThreads: senderThreads() });
}

function listen(family: IpFamily, ifindex: number): void {
  const socket = new addon.RawIpSocket(family, IPPROTO_VRRP);
  socket.joinGroup(vrrpGroup(family), ifindex);
  socket.start(
    (packet) =>
      print({
        packet: {
          payloadHex: packet.payload.toString("hex"),
          source: packet.source,
          destination: packet.destination,
          ttl: packet.ttl,
          ifindex: packet.ifindex,
          at: addon.monotonicNowMs(),
        },
      }),
    (error) => print({ receiveError: error.message }),
  );
  print({ ready: true, ifindex });
}

async function main(): Promise<void> {
  const [command, json] = process.argv.slice(2);
  const args = JSON.parse(json ?? "{}") as Arguments;
  const kernel = createKernelEdge();
  const link = await kernel.links.lookup(args.ifname);
  kernel.close();
  if (!link) throw new Error(`no interface '${args.ifname}' in this namespace`);
  if (command === "listen") listen(args.family, link.index);
  else if (command === "run") await run(args, link.index);
  else if (command === "worker") await runWorker(args as WorkerArguments, link.index);
  else throw new Error(`unknown command '${command}'`);
}

main().catch((error: unknown) => {
  const e = error as Error & { code?: string };
  print({ ok: false, error: { name: e.name, code: e.code, message: e.message } });
  process.exit(1);
});
