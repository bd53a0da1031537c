// Loads kubelvs_native.node (built by `npm run build:native`) and types its API. The addon only
// moves bytes through sockets; every protocol is encoded in TypeScript on top of it.
//
// Every failed system call is thrown as a NativeSystemError naming the call and the object.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface NativeSystemErrorDetails {
  /** Positive errno, e.g. 1 for EPERM. */
  readonly errno: number;
  /** Symbolic errno name, e.g. "EPERM". */
  readonly code: string;
  /** The failing system call, e.g. "sendmsg" or "setsockopt(IP_ADD_MEMBERSHIP)". */
  readonly syscall: string;
  /** What it failed on, e.g. "raw IPv4 protocol 112 to 224.0.0.18 via ifindex 3". */
  readonly object: string;
}

/** A system call made by the addon failed. */
export class NativeSystemError extends Error implements NativeSystemErrorDetails {
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;
  readonly object: string;

  constructor(message: string, details: NativeSystemErrorDetails) {
    super(message);
    this.name = "NativeSystemError";
    this.errno = details.errno;
    this.code = details.code;
    this.syscall = details.syscall;
    this.object = details.object;
  }
}

/** Shared by the sockets that receive asynchronously (libuv poll on the event loop). */
export interface PolledSocket<Data> {
  /** Begins delivering received data; onError gets receive errors (ENOBUFS = data was lost). */
  start(onData: (data: Data) => void, onError: (error: NativeSystemError) => void): void;
  /** Stops delivering; the socket stays usable for sending and can be started again. */
  stop(): void;
  /** Stops and closes the file descriptor; idempotent. */
  close(): void;
  /** While started, keep the process alive (the default). */
  ref(): void;
  /** While started, do not keep the process alive on this socket's account. */
  unref(): void;
  readonly closed: boolean;
}

export interface NetlinkSocket extends PolledSocket<Buffer> {
  /** Kernel-assigned port id (nlmsg_pid of our requests and of replies to us). */
  readonly portId: number;
  /** One sendmsg to the kernel; the buffer may hold many netlink messages. Returns bytes sent. */
  send(datagram: Buffer): number;
  addMembership(group: number): void;
  dropMembership(group: number): void;
  /** Sets SO_RCVBUF (forced past rmem_max when privileged); returns the kernel's effective size. */
  setReceiveBufferSize(bytes: number): number;
}

export interface NetlinkSocketConstructor {
  /** socket(AF_NETLINK, protocol) + bind + join the multicast groups; extended and capped acks on. */
  new (protocol: number, groups?: readonly number[]): NetlinkSocket;
}

export interface RawIpSocketOptions {
  /** Never receive (a filter drops everything); for sockets that only announce. */
  readonly sendOnly?: boolean;
  /** IPv6 only: the kernel computes the checksum at this payload offset (IPV6_CHECKSUM). */
  readonly checksumOffset?: number;
}

export interface RawIpSendOptions {
  /** Source address (must be local); the kernel picks one when absent. */
  readonly source?: string;
  /** Outgoing interface; also the scope of IPv6 link-local / multicast destinations. */
  readonly ifindex?: number;
  /** TTL / hop limit for this packet; the socket default is 255. */
  readonly ttl?: number;
}

export interface ReceivedIpPacket {
  /** The IP payload (for IPv4 the header is already stripped). */
  readonly payload: Buffer;
  readonly source: string;
  readonly destination: string;
  /** Ingress interface index. */
  readonly ifindex: number;
  /** TTL / hop limit as received; -1 if the kernel did not report it. */
  readonly ttl: number;
}

export interface RawIpSocket extends PolledSocket<ReceivedIpPacket> {
  readonly family: 4 | 6;
  joinGroup(group: string, ifindex: number): void;
  leaveGroup(group: string, ifindex: number): void;
  /** One sendmsg; returns bytes sent. */
  send(payload: Buffer, destination: string, options?: RawIpSendOptions): number;
}

export interface RawIpSocketConstructor {
  /** socket(AF_INET/AF_INET6, SOCK_RAW, protocol); TTL/hop limit 255, multicast loopback off. */
  new (family: 4 | 6, protocol: number, options?: RawIpSocketOptions): RawIpSocket;
}

export interface PacketSocket {
  readonly ifindex: number;
  readonly closed: boolean;
  /** Sends one complete Ethernet frame out of the bound interface; returns bytes sent. */
  send(frame: Buffer): number;
  close(): void;
}

export interface PacketSocketConstructor {
  /** socket(AF_PACKET, SOCK_RAW) bound to the interface; receives nothing. */
  new (ifindex: number): PacketSocket;
}

/** Watches one thread's exit (pidfd, Linux 6.9+), or the process's where thread pidfds do not exist. */
export interface ThreadExitWatch extends PolledSocket<void> {
  /** True when the thread itself is watched; false when the kernel only offered the process. */
  readonly threadLevel: boolean;
}

export interface ThreadExitWatchConstructor {
  new (pid: number, tid: number): ThreadExitWatch;
}

/**
 * A one-shot timer on CLOCK_MONOTONIC with an absolute deadline and nanosecond resolution (a
 * timerfd polled on the event loop). start()'s onData is the fire callback; it gets no arguments.
 */
export interface MonotonicTimer extends PolledSocket<void> {
  /**
   * Fires once at `deadlineMs` on the monotonicNowMs() clock (process.hrtime's; NOT performance.now()
   * or Date.now()). A deadline in the past fires at once. Re-arming replaces the deadline, and an
   * expiry not yet delivered is dropped. Throws TypeError / RangeError for a bad deadline.
   */
  arm(deadlineMs: number): void;
  /** Cancels the deadline (an expiry not yet delivered is dropped); a no-op once closed. */
  disarm(): void;
}

export interface MonotonicTimerConstructor {
  new (): MonotonicTimer;
}

/** One datagram a PeriodicSender sends every round. */
export interface PeriodicDatagram {
  readonly payload: Buffer;
  /** An address of the socket's family: a multicast group or a unicast peer. */
  readonly destination: string;
}

/**
 * Sends the same datagrams from a RawIpSocket every interval, natively: each round is one wake-up of
 * a thread of the sender's own plus one sendmsg per datagram, without the event loop or JavaScript.
 * The thread shares the event loop's fate: while the loop has neither iterated nor waited for
 * events for the lease, max(1000 ms, 3 x intervalMs), rounds are withheld (a hung agent falls
 * silent, like a hung keepalived, so a Backup takes over); they resume with the loop. An idle loop
 * waiting in epoll is alive and is not woken.
 */
export interface PeriodicSender {
  /**
   * Copies the datagrams, sends them all now (synchronously), then every intervalMs (1..86400000)
   * phase-locked to this first send, from the sender's thread, which takes the calling thread's
   * scheduling policy and priority (SCHED_FIFO after setRealtimePriority). Calling it again replaces
   * the datagrams and restarts the phase. Send errors go to onError (the first round's before
   * start() returns, later ones from the event loop) and the schedule keeps running; each errno is
   * reported once until a round succeeds again. A socket closed under the sender is reported as
   * EBADF and ends the schedule. A thread that cannot take the scheduling reports a
   * "pthread_setschedparam" error once and sends anyway.
   */
  start(
    datagrams: readonly PeriodicDatagram[],
    options: RawIpSendOptions,
    intervalMs: number,
    onError: (error: NativeSystemError) => void,
  ): void;
  /**
   * Replaces the datagrams from the next round on, with start()'s options; the phase is kept and
   * nothing is sent now. Throws when the sender is not started.
   */
  update(datagrams: readonly PeriodicDatagram[]): void;
  /** Ends the schedule and joins its thread; start() may be called again. */
  stop(): void;
  /** Ends the schedule, joins its thread and lets go of the socket; idempotent. */
  close(): void;
  /** While started, keep the process alive (the default). */
  ref(): void;
  unref(): void;
  readonly closed: boolean;
  /** Rounds sent over the sender's life, the first of each start() included. */
  readonly rounds: number;
  /** Deadlines skipped because the sender's thread woke after the next one. */
  readonly missed: number;
  /** Datagrams whose sendmsg failed. */
  readonly failures: number;
  /** Rounds not sent because the event loop had not iterated for the lease (see above). */
  readonly withheld: number;
}

export interface PeriodicSenderConstructor {
  /** Holds a reference to the socket; closing the socket makes the sender fail with EBADF. */
  new (socket: RawIpSocket): PeriodicSender;
}

export interface NativeAddon {
  readonly NetlinkSocket: NetlinkSocketConstructor;
  readonly RawIpSocket: RawIpSocketConstructor;
  readonly PacketSocket: PacketSocketConstructor;
  readonly ThreadExitWatch: ThreadExitWatchConstructor;
  readonly MonotonicTimer: MonotonicTimerConstructor;
  readonly PeriodicSender: PeriodicSenderConstructor;
  /**
   * clock_gettime(CLOCK_MONOTONIC) in milliseconds: the clock of MonotonicTimer deadlines. It is
   * process.hrtime's clock; performance.now() is offset from it (by the process start time).
   */
  readonly monotonicNowMs: () => number;
  /**
   * SCHED_FIFO at `priority` (1..99) for the calling thread, with SCHED_RESET_ON_FORK (threads and
   * processes it starts run as ordinary tasks); 0 restores SCHED_OTHER. EPERM without CAP_SYS_NICE.
   */
  readonly setRealtimePriority: (priority: number) => void;
}

interface RawAddon extends NativeAddon {
  setErrorClass(errorClass: typeof NativeSystemError): void;
}

const addonFile = join("native", "build", "Release", "kubelvs_native.node");

/** Where the built addon is looked for: KUBELVS_NATIVE_ADDON, else the repository root above this file. */
export function addonPath(): string {
  if (process.env.KUBELVS_NATIVE_ADDON) return process.env.KUBELVS_NATIVE_ADDON;
  // This module runs from <root>/native/ (sources) or <root>/dist/native/ (compiled).
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "..", addonFile), join(here, "..", "..", addonFile)];
  return candidates.find((candidate) => existsSync(candidate)) ?? candidates[candidates.length - 1]!;
}

let loaded: NativeAddon | undefined;

/** Loads the addon once (lazily, so pure modules that only import types never need it). */
export function loadAddon(): NativeAddon {
  if (loaded) return loaded;
  const path = addonPath();
  if (!existsSync(path)) {
    throw new Error(`kubelvs native addon not found at ${path}: run \`npm run build:native\``);
  }
  const raw = createRequire(import.meta.url)(path) as RawAddon;
  raw.setErrorClass(NativeSystemError);
  loaded = raw;
  return raw;
}
