// PeriodicSender across namespaces: n1 sends VRRP datagrams natively every interval over its veth,
// receivers in n2 and n3 log each arrival with its CLOCK_MONOTONIC time (one clock for every
// namespace), so the test lines arrivals up with the sender's calls. Timing checks are sanity
// bounds only: the machine is shared.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { Lab } from "../e2e/lab/lab.js";
import type { LabProcess } from "../e2e/lab/process.js";
import { missingNetns, missingRoot, tierOptions } from "../e2e/requirements.js";
import { loadAddon } from "./addon.js";
import { IPPROTO_VRRP } from "./vrrp-socket.js";

const PROBE = fileURLToPath(new URL("./testing/periodic-sender-probe.js", import.meta.url));

interface Packet {
  readonly payloadHex: string;
  readonly source: string;
  readonly destination: string;
  readonly ttl: number;
  readonly ifindex: number;
  readonly at: number;
}

interface Counters {
  readonly rounds: number;
  readonly missed: number;
  readonly failures: number;
  readonly withheld: number;
}

interface StepReport extends Counters {
  readonly step: number;
  readonly action: string;
  readonly before: number;
  readonly after: number;
  /** Times the probe's event-loop thread had been scheduled at the end of the step. */
  readonly loopRuns: number;
}

/** A sender thread's scheduling: policy 0 is SCHED_OTHER, 1 SCHED_FIFO. */
interface SenderThread {
  readonly policy: number;
  readonly priority: number;
}

interface SendError {
  readonly sendError: { readonly code: string; readonly syscall: string; readonly object: string };
  readonly at: number;
}

interface Run {
  readonly steps: StepReport[];
  readonly errors: SendError[];
  /** The sender threads each inspectThreads step found, in order. */
  readonly threads: SenderThread[][];
  readonly done: Counters;
}

const settle = (ms = 150): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

/** How far `at` is from the nearest tick of a schedule with period `interval` through `origin`. */
const phaseDistance = (at: number, origin: number, interval: number): number => {
  const offset = (((at - origin) % interval) + interval) % interval;
  return Math.min(offset, interval - offset);
};

function parseRun(lines: readonly string[]): Run {
  const values = lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
  const done = values.find((v) => v.done === true) as (Counters & { done: true }) | undefined;
  if (!done) throw new Error(`sender probe did not finish: ${lines.join("\n")}`);
  return {
    steps: values.filter((v) => typeof v.step === "number") as unknown as StepReport[],
    errors: values.filter((v) => v.sendError !== undefined) as unknown as SendError[],
    threads: values
      .filter((v) => v.senderThreads !== undefined)
      .map((v) => v.senderThreads as SenderThread[]),
    done: { rounds: done.rounds, missed: done.missed, failures: done.failures, withheld: done.withheld },
  };
}

describe("PeriodicSender between namespaces", tierOptions(missingNetns()), () => {
  let lab: Lab;
  const listeners: Record<string, LabProcess> = {};

  const packets = (listener: string, payloadHex: string): Packet[] =>
    listeners[listener]!.jsonLines<{ packet?: Packet }>()
      .map((v) => v.packet)
      .filter((p): p is Packet => p?.payloadHex === payloadHex);

  /** Runs a scripted sender in n1 (or `host`) to completion; waits for its last packets to land. */
  async function runSender(args: object, host = "n1"): Promise<Run> {
    const { code, lines, stderr } = await lab.runNode(host, PROBE, ["run", JSON.stringify(args)]);
    assert.equal(code, 0, `sender probe failed: ${lines.join("\n")} ${stderr}`);
    await settle();
    return parseRun(lines);
  }

  before(async () => {
    lab = await Lab.create({ nodes: 3, client: false });
    for (const family of [4, 6]) {
      for (const node of ["n2", "n3"]) {
        const listener = lab.spawnNode(node, PROBE, ["listen", JSON.stringify({ family, ifname: "eth0" })]);
        await listener.waitForJson<{ ready?: boolean }>((v) => v.ready === true);
        listeners[`${node}/${family}`] = listener;
      }
    }
  });
  after(() => lab.teardown());

  test("multicast rounds arrive every interval with the same bytes and TTL 255; stop() stops them", async () => {
    const payload = "21330a01ff";
    const run = await runSender({
      family: 4,
      ifname: "eth0",
      source: "198.51.100.1",
      steps: [
        { start: { payloadHex: payload, destinations: ["224.0.0.18"], intervalMs: 10 } },
        { waitMs: 200 },
        { stop: true },
        { waitMs: 100 },
      ],
    });
    const [start, , stop] = run.steps;
    assert.equal(start!.rounds, 1, "the first round is sent during start()");
    assert.ok(stop!.rounds >= 8, `only ${stop!.rounds} rounds in 200 ms at 10 ms`);
    assert.deepEqual(run.done, { rounds: stop!.rounds, missed: run.done.missed, failures: 0, withheld: 0 });
    assert.deepEqual(run.errors, []);
    for (const node of ["n2", "n3"]) {
      const arrived = packets(`${node}/4`, payload);
      assert.equal(arrived.length, stop!.rounds, `${node} got one packet per round`);
      for (const packet of arrived) {
        assert.deepEqual(
          { ...packet, at: 0 },
          {
            payloadHex: payload,
            source: "198.51.100.1",
            destination: "224.0.0.18",
            ttl: 255,
            ifindex: lab.host(node).eth0.ifindex,
            at: 0,
          },
        );
      }
      assert.ok(arrived[0]!.at >= start!.before, "nothing before start()");
      assert.ok(arrived.at(-1)!.at < stop!.after + 20, "nothing after stop() (beyond delivery time)");
    }
  });

  test("restart() sends new bytes at once on a new phase; update() changes bytes and keeps the phase", async () => {
    const [first, second, third] = ["21330b01", "21330b02", "21330b03"];
    const interval = 20;
    const run = await runSender({
      family: 4,
      ifname: "eth0",
      source: "198.51.100.1",
      steps: [
        { start: { payloadHex: first, destinations: ["224.0.0.18"], intervalMs: interval } },
        { waitMs: 90 }, // half an interval past a round: the old and new phases are far apart
        { restart: { payloadHex: second, destinations: ["224.0.0.18"], intervalMs: interval } },
        { waitMs: 200 },
        { update: { payloadHex: third, destinations: ["224.0.0.18"] } },
        { waitMs: 200 },
        { stop: true },
      ],
    });
    const restart = run.steps[2]!;
    const update = run.steps[4]!;
    const stop = run.steps[6]!;
    const olds = packets("n2/4", first);
    const seconds = packets("n2/4", second);
    const thirds = packets("n2/4", third);
    assert.equal(olds.length + seconds.length + thirds.length, stop.rounds, "every round arrived once");
    assert.ok(
      olds.every((p) => p.at < restart.after + 20),
      "the old bytes stop at restart()",
    );
    assert.ok(seconds[0]!.at >= restart.before, "restart() sends the new bytes at once");
    assert.ok(seconds[0]!.at < restart.after + 20);
    assert.ok(seconds.length >= 6, `${seconds.length} rounds in 200 ms at 20 ms`);

    const oldOrigin = olds[0]!.at;
    const newOrigin = seconds[0]!.at;
    const later = [...seconds.slice(1), ...thirds];
    const toNewPhase = median(later.map((p) => phaseDistance(p.at, newOrigin, interval)));
    const toOldPhase = median(later.map((p) => phaseDistance(p.at, oldOrigin, interval)));
    assert.ok(
      toNewPhase < toOldPhase && toNewPhase < 5,
      `rounds follow restart()'s phase (median ${toNewPhase} ms off) rather than start()'s (${toOldPhase} ms)`,
    );

    assert.ok(thirds.length >= 6, `${thirds.length} rounds after update()`);
    assert.ok(thirds[0]!.at > update.after, "update() sends nothing itself");
    assert.ok(
      seconds.every((p) => p.at < update.after + 20),
      "the previous bytes stop at update()",
    );
    const gap = thirds[0]!.at - seconds.at(-1)!.at;
    assert.ok(gap > interval / 2 && gap < interval * 2, `update() keeps the rhythm: gap ${gap} ms`);
  });

  test("unicast to two peers over IPv6 through VrrpTransport.startPeriodic; closing the transport stops it", async () => {
    const payload = "31330c01";
    const run = await runSender({
      family: 6,
      ifname: "eth0",
      source: "2001:db8::1",
      api: "transport",
      steps: [
        {
          start: { payloadHex: payload, destinations: ["2001:DB8::2", "2001:db8::3"], intervalMs: 10 },
        },
        { waitMs: 150 },
        { closeSocket: true },
        { waitMs: 100 },
      ],
    });
    const close = run.steps[2]!;
    assert.ok(close.rounds >= 6, `${close.rounds} rounds in 150 ms at 10 ms`);
    assert.equal(run.done.rounds, close.rounds, "no round after the transport closed");
    assert.deepEqual(run.errors, [], "closing the transport stops its transmissions without errors");
    for (const [node, address] of [
      ["n2", "2001:db8::2"],
      ["n3", "2001:db8::3"],
    ] as const) {
      const arrived = packets(`${node}/6`, payload);
      assert.equal(arrived.length, close.rounds, `${node} got one packet per round`);
      assert.ok(
        arrived.every((p) => p.destination === address && p.source === "2001:db8::1" && p.ttl === 255),
      );
    }
  });

  test("a socket closed under the sender is reported once as EBADF from sendmsg and ends the schedule", async () => {
    const payload = "21330d01";
    const run = await runSender({
      family: 4,
      ifname: "eth0",
      source: "198.51.100.1",
      steps: [
        { start: { payloadHex: payload, destinations: ["224.0.0.18"], intervalMs: 10 } },
        { waitMs: 60 },
        { closeSocket: true },
        { waitMs: 100 },
      ],
    });
    const close = run.steps[2]!;
    assert.equal(run.errors.length, 1);
    assert.equal(run.errors[0]!.sendError.code, "EBADF");
    assert.equal(run.errors[0]!.sendError.syscall, "sendmsg");
    assert.match(
      run.errors[0]!.sendError.object,
      /^raw IPv4 protocol 112 to 224\.0\.0\.18 from 198\.51\.100\.1 via ifindex \d+$/,
    );
    assert.equal(
      run.done.rounds,
      close.rounds + 1,
      "one more round found the socket closed, then it stopped",
    );
    assert.equal(run.done.failures, 1);
    assert.equal(packets("n2/4", payload).length, close.rounds);
  });

  test("send errors are reported once per errno while the schedule keeps running, and adverts resume with the link", async () => {
    const payload = "21330e01";
    const sender = lab.spawnNode("n1", PROBE, [
      "run",
      JSON.stringify({
        family: 4,
        ifname: "eth0",
        source: "198.51.100.1",
        steps: [
          { start: { payloadHex: payload, destinations: ["224.0.0.18"], intervalMs: 10 } },
          { waitMs: 700 },
          { stop: true },
        ],
      }),
    ]);
    await sender.waitForJson<{ step?: number }>((v) => v.step === 0);
    await settle(100);
    const down = loadAddon().monotonicNowMs(); // before the command: the link goes down during it
    await lab.ip("n1", "link", "set", "eth0", "down");
    await settle(200);
    await lab.ip("n1", "link", "set", "eth0", "up");
    const up = loadAddon().monotonicNowMs();
    await sender.exited;
    await settle();
    const run = parseRun(sender.lines);
    assert.ok(run.errors.length >= 1, "the failures were reported");
    const codes = run.errors.map((e) => e.sendError.code);
    assert.equal(new Set(codes).size, codes.length, `each errno once: ${codes.join(", ")}`);
    for (const error of run.errors) {
      assert.equal(error.sendError.syscall, "sendmsg");
      assert.ok(
        error.at >= down && error.at <= up + 20,
        `reported at ${error.at}, while the link was down from ${down} to ${up}`,
      );
    }
    assert.ok(run.done.failures >= 10, `${run.done.failures} failed rounds in 200 ms down at 10 ms`);
    const arrived = packets("n2/4", payload);
    assert.ok(arrived.filter((p) => p.at > up).length >= 10, "adverts resumed once the link was back up");
    assert.ok(arrived.filter((p) => p.at < down).length >= 5);
  });

  test("each schedule runs on a thread named periodic-sender; stop(), restart and close end it", async () => {
    const payload = "21330f01";
    const schedule = { payloadHex: payload, destinations: ["224.0.0.18"], intervalMs: 10 };
    const direct = await runSender({
      family: 4,
      ifname: "eth0",
      source: "198.51.100.1",
      steps: [
        { start: schedule },
        { inspectThreads: true },
        { restart: schedule },
        { inspectThreads: true },
        { stop: true },
        { inspectThreads: true },
        { start: schedule },
        { waitMs: 50 },
        { closeSocket: true },
        { waitMs: 50 }, // the thread finds the socket closed at its next round and ends the schedule
        { inspectThreads: true },
      ],
    });
    assert.deepEqual(
      direct.threads.map((threads) => threads.length),
      [1, 1, 0, 0],
      "one thread while started (a restart replaces it), none after stop() or the socket's close",
    );
    assert.deepEqual(
      direct.errors.map((e) => e.sendError.code),
      ["EBADF"],
    );

    const transport = await runSender({
      family: 4,
      ifname: "eth0",
      source: "198.51.100.1",
      api: "transport",
      steps: [{ start: schedule }, { inspectThreads: true }, { closeSocket: true }, { inspectThreads: true }],
    });
    assert.deepEqual(
      transport.threads.map((threads) => threads.length),
      [1, 0],
      "closing the transport closes its senders, which join their threads at once",
    );
    assert.deepEqual(transport.errors, []);
  });

  test("a blocked event loop: adverts go on for the lease (1 s at 10 ms), are withheld, and resume with the loop", async () => {
    const payload = "21331001";
    const run = await runSender({
      family: 4,
      ifname: "eth0",
      source: "198.51.100.1",
      steps: [
        { start: { payloadHex: payload, destinations: ["224.0.0.18"], intervalMs: 10 } },
        { waitMs: 300 },
        { blockMs: 1800 },
        { waitMs: 300 },
        { stop: true },
      ],
    });
    const block = run.steps[2]!;
    const stop = run.steps[4]!;
    const arrived = packets("n2/4", payload).map((p) => p.at);
    // The loop's last sign of life is the end of its wait in epoll, just before the block began.
    // Arrival times are taken by the receiver's event loop: the bounds leave it some slack.
    const lastDuringBlock = arrived.filter((at) => at < block.after).at(-1)!;
    assert.ok(
      lastDuringBlock >= block.before + 900 && lastDuringBlock <= block.before + 1060,
      `adverts went on for the lease and then stopped: the last one ${(lastDuringBlock - block.before).toFixed(1)} ms into the block`,
    );
    const silentMs = block.after - block.before - 1000;
    assert.ok(
      block.withheld >= (silentMs / 10) * 0.7 && block.withheld <= silentMs / 10 + 3,
      `${block.withheld} rounds withheld over ${silentMs.toFixed(0)} ms past the lease at 10 ms`,
    );
    const firstAfter = arrived.find((at) => at >= block.after)!;
    assert.ok(
      firstAfter - block.after < 60,
      `adverts resumed ${(firstAfter - block.after).toFixed(1)} ms after the loop`,
    );
    assert.ok(arrived.filter((at) => at >= block.after).length >= 20, "and went on");
    // A round may fall between the end of the block (when its counters were read) and the loop's
    // next iteration, a fraction of a millisecond later: at most that one.
    assert.ok(stop.withheld - block.withheld <= 1, "nothing withheld once the loop ran again");
    assert.equal(arrived.length, stop.rounds, "every round sent arrived; withheld ones are not rounds");
    assert.deepEqual(run.errors, []);
  });

  test("an idle event loop keeps the adverts going for many leases without being woken", async () => {
    const payload = "21331101";
    const run = await runSender({
      family: 4,
      ifname: "eth0",
      source: "198.51.100.1",
      steps: [
        { start: { payloadHex: payload, destinations: ["224.0.0.18"], intervalMs: 10 } },
        { waitMs: 5000 },
        { stop: true },
      ],
    });
    const [start, wait, stop] = run.steps;
    assert.equal(stop!.withheld, 0, "an event loop waiting in epoll is alive");
    const arrived = packets("n2/4", payload).map((p) => p.at);
    assert.equal(arrived.length, stop!.rounds);
    assert.ok(stop!.rounds >= 450, `${stop!.rounds} rounds in 5 s at 10 ms`);
    const gaps = arrived.slice(1).map((at, i) => at - arrived[i]!);
    assert.ok(Math.max(...gaps) < 200, `longest gap between adverts ${Math.max(...gaps).toFixed(1)} ms`);
    // Pokes at a quarter of the lease would schedule the loop thread 20 times in 5 s.
    const loopRuns = wait!.loopRuns - start!.loopRuns;
    assert.ok(loopRuns < 12, `the event-loop thread ran ${loopRuns} times during a 5 s idle wait`);
  });

  test("the sender thread runs as an ordinary task, also when the thread that started it is SCHED_FIFO", async () => {
    const payload = "21331201";
    const run = await runSender({
      family: 4,
      ifname: "eth0",
      source: "198.51.100.1",
      // The event loop runs SCHED_FIFO 10 (with SCHED_RESET_ON_FORK, as the agent sets it); the
      // adverts' thread stays SCHED_OTHER: real-time wake-ups cost each advert ~8 % more CPU.
      realtimePriority: 10,
      steps: [
        { start: { payloadHex: payload, destinations: ["224.0.0.18"], intervalMs: 10 } },
        { waitMs: 100 },
        { inspectThreads: true },
        { stop: true },
      ],
    });
    assert.deepEqual(run.threads, [[{ policy: 0, priority: 0 }]]);
    assert.deepEqual(run.errors, []);
    assert.ok(run.done.rounds >= 8, `${run.done.rounds} rounds in 100 ms at 10 ms`);
    assert.equal(packets("n2/4", payload).length, run.done.rounds);
  });

  for (const end of ["terminate", "natural"] as const) {
    test(`a worker whose environment ends with a sender running (${end}) ends the sender thread`, async () => {
      const payload = end === "terminate" ? "21331401" : "21331402";
      const { code, lines, stderr } = await lab.runNode("n1", PROBE, [
        "worker",
        JSON.stringify({ family: 4, ifname: "eth0", source: "198.51.100.1", payloadHex: payload, end }),
      ]);
      assert.equal(code, 0, `worker probe failed: ${lines.join("\n")} ${stderr}`);
      await settle();
      const values = lines
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const started = values.find((v) => v.workerStarted === true);
      const ended = values.find((v) => v.workerEnded === true) as
        { at: number; exitCode: number; senderThreads: SenderThread[] } | undefined;
      assert.equal(started?.rounds, 1);
      assert.ok(ended, `the worker did not end: ${lines.join("\n")}`);
      assert.equal(ended.exitCode, end === "terminate" ? 1 : 0);
      assert.deepEqual(ended.senderThreads, [], "no sender thread outlives its environment");
      const arrived = packets("n2/4", payload);
      assert.ok(arrived.length >= 1);
      assert.ok(
        arrived.every((p) => p.at < ended.at),
        "nothing was sent after the worker ended",
      );
    });
  }
});

describe("PeriodicSender arguments", tierOptions(missingRoot()), () => {
  test("bad arguments throw TypeError / RangeError before anything is sent; lifecycle errors are named", () => {
    const { RawIpSocket, PeriodicSender } = loadAddon();
    assert.throws(
      () => new PeriodicSender({} as never),
      (e: unknown) => e instanceof TypeError && /socket must be a RawIpSocket/.test(e.message),
    );
    const socket = new RawIpSocket(4, IPPROTO_VRRP, { sendOnly: true });
    const sender = new PeriodicSender(socket);
    const datagram = { payload: Buffer.from([0x21]), destination: "224.0.0.18" };
    const noop = (): void => undefined;
    const cases: [() => void, ErrorConstructor, RegExp][] = [
      [() => sender.start("x" as never, {}, 10, noop), TypeError, /datagrams must be an array/],
      [() => sender.start([], {}, 10, noop), RangeError, /datagrams must not be empty/],
      [
        () => sender.start([{ ...datagram, payload: "21" as never }], {}, 10, noop),
        TypeError,
        /datagrams\[0\]\.payload must be a Buffer/,
      ],
      [
        () => sender.start([datagram, { ...datagram, destination: "2001:db8::1" }], {}, 10, noop),
        TypeError,
        /destination: not an IPv4 address: '2001:db8::1'/,
      ],
      [
        () => sender.start([datagram], { ttl: 0 }, 10, noop),
        RangeError,
        /ttl must be an integer in 1\.\.255/,
      ],
      [
        () => sender.start([datagram], {}, 0.5, noop),
        RangeError,
        /intervalMs must be between 1 and 86400000, got 0\.5/,
      ],
      [() => sender.start([datagram], {}, Number.NaN, noop), RangeError, /got NaN/],
      [() => sender.start([datagram], {}, 10, undefined as never), TypeError, /onError must be a function/],
    ];
    for (const [call, type, message] of cases) {
      assert.throws(call, (e: unknown) => e instanceof type && message.test(e.message));
    }
    assert.throws(
      () => sender.update([datagram]),
      /update\(datagrams\): periodic sender on raw IPv4 protocol 112 is not started/,
    );
    assert.equal(sender.rounds, 0, "nothing was sent");
    socket.close();
    assert.throws(() => sender.start([datagram], {}, 10, noop), /socket raw IPv4 protocol 112 is closed/);
    sender.close();
    sender.close();
    assert.equal(sender.closed, true);
    assert.throws(
      () => sender.start([datagram], {}, 10, noop),
      /periodic sender on raw IPv4 protocol 112 is closed/,
    );
  });
});
