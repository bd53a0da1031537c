// Drives PeriodicSender inside a lab namespace for native/periodic-sender.lab.test.ts (started with
// lab.spawnNode) and reports as JSON lines on stdout.
//
//   periodic-sender-probe.js listen {family, ifname}
//       → {ready}, then {packet: {payloadHex, source, destination, ttl, ifindex, at}} per VRRP packet
//   periodic-sender-probe.js run {family, ifname, source, api: "addon" | "transport", steps}
//       → {step, action, before, after, rounds, missed, failures} per step,
//         {sendError: {code, syscall, object}, at} per reported error, then {done, rounds, missed, failures}
//     steps: {start|restart: {payloadHex, destinations, intervalMs}}, {update: {payloadHex, destinations}},
//            {waitMs}, {stop: true}, {closeSocket: true}
//     api "addon" drives RawIpSocket + PeriodicSender; "transport" drives RawVrrpTransport.startPeriodic
//     (closeSocket then closes the transport).
//
// Every `at` / `before` / `after` is monotonicNowMs(): CLOCK_MONOTONIC is one clock across network
// namespaces, so the test can line a receiver's arrival times up with the sender's calls.
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
  readonly stop?: true;
  readonly closeSocket?: true;
}

interface Arguments {
  readonly family: IpFamily;
  readonly ifname: string;
  readonly source?: string;
  readonly api?: "addon" | "transport";
  readonly steps?: readonly Step[];
}

/** The operations a run needs, over either API. */
interface Driver {
  start(schedule: Schedule): void;
  update(datagrams: Datagrams): void;
  stop(): void;
  closeSocket(): void;
  readonly counters: { rounds: number; missed: number; failures: number };
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
      return { rounds: sender.rounds, missed: sender.missed, failures: sender.failures };
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
      };
    },
  };
}

async function run(args: Arguments, ifindex: number): Promise<void> {
  if (!args.source) throw new Error("run: source is required");
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
    } else if (step.stop) {
      action = "stop";
      driver.stop();
    } else if (step.closeSocket) {
      action = "closeSocket";
      driver.closeSocket();
    } else {
      throw new Error(`step ${index}: unknown step ${JSON.stringify(step)}`);
    }
    print({ step: index, action, before, after: addon.monotonicNowMs(), ...driver.counters });
  }
  print({ done: true, ...driver.counters });
  process.exit(0);
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
  else throw new Error(`unknown command '${command}'`);
}

main().catch((error: unknown) => {
  const e = error as Error & { code?: string };
  print({ ok: false, error: { name: e.name, code: e.code, message: e.message } });
  process.exit(1);
});
