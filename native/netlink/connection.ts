// A netlink conversation with the kernel over one socket: requests matched to their replies by
// sequence number, acks and errors mapped to the request that caused them, dumps collected until
// NLMSG_DONE, batches of many requests per sendmsg, and unsolicited (multicast) messages handed to
// listeners. The socket is abstracted as NetlinkTransport so all of this unit-tests without root.
//
// Use one connection for requests and a separate one (opened with multicast groups) for
// notifications: a notification caused by our own request carries that request's sequence
// number, so on a shared socket it would be taken for a reply.
import { loadAddon } from "../addon.js";
import {
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
} from "./constants.js";
import {
  NetlinkDumpInterruptedError,
  NetlinkError,
  NetlinkLostReplyError,
  NetlinkTimeoutError,
} from "./errors.js";
import { decodeAck, decodeDoneErrno, decodeMessages, encodeMessage, type NetlinkMessage } from "./message.js";

/** The socket a connection talks through; the addon's NetlinkSocket implements it. */
export interface NetlinkTransport {
  readonly portId: number;
  send(datagram: Buffer): number;
  start(onDatagram: (datagram: Buffer) => void, onError: (error: Error & { code?: string }) => void): void;
  close(): void;
  ref(): void;
  unref(): void;
}

export interface NetlinkRequest {
  /** Message type, e.g. RTM_NEWADDR or a generic netlink family id. */
  readonly type: number;
  /** Flags beyond NLM_F_REQUEST and NLM_F_ACK / NLM_F_DUMP, e.g. NLM_F_CREATE | NLM_F_EXCL. */
  readonly flags?: number;
  readonly payload?: Uint8Array;
  /** What the request does, for errors: e.g. "add address 198.51.100.10/24 to ifindex 3". */
  readonly description: string;
}

export type BatchResult =
  { readonly ok: true; readonly replies: NetlinkMessage[] } | { readonly ok: false; readonly error: Error };

/** Receives messages nobody asked for: multicast notifications. */
export interface NetlinkListener {
  onMessage(message: NetlinkMessage): void;
  /** Messages were lost (receive buffer overrun, ENOBUFS; or an undecodable datagram): re-read state. */
  onLost?(error: Error): void;
  /** The socket failed; no more messages will come. */
  onError?(error: Error): void;
}

export interface NetlinkConnectionOptions {
  /** How long a request waits for its final reply; default 5000 ms. */
  readonly timeoutMs?: number;
  /**
   * Most requests per sendmsg in batch(). The kernel answers the whole datagram before we read
   * anything, so the acks must fit in the receive buffer; default 64.
   */
  readonly maxBatchMessages?: number;
  /** Most bytes per sendmsg in batch() (the socket's send buffer bounds it); default 32 KiB. */
  readonly maxBatchBytes?: number;
  /** How often a dump interrupted by concurrent changes (NLM_F_DUMP_INTR) is retried; default 3 attempts. */
  readonly dumpAttempts?: number;
}

export interface OpenNetlinkOptions extends NetlinkConnectionOptions {
  /** Multicast groups to join (makes this a notification connection). */
  readonly groups?: readonly number[];
  /** SO_RCVBUF in bytes; notification sockets want a large one to survive bursts. */
  readonly receiveBufferSize?: number;
}

interface Exchange {
  readonly replies: NetlinkMessage[];
  readonly interrupted: boolean;
}

interface Pending {
  readonly description: string;
  readonly dump: boolean;
  readonly replies: NetlinkMessage[];
  interrupted: boolean;
  timer: NodeJS.Timeout;
  resolve(exchange: Exchange): void;
  reject(error: Error): void;
}

interface Prepared {
  readonly bytes: Buffer;
  readonly seq: number;
  readonly done: Promise<Exchange>;
}

export class NetlinkConnection {
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<NetlinkListener>();
  private readonly timeoutMs: number;
  private readonly maxBatchMessages: number;
  private readonly maxBatchBytes: number;
  private readonly dumpAttempts: number;
  private lastSeq = 0;
  private failure: Error | undefined;
  private isClosed = false;

  /** Opens a socket of `protocol` through the addon (joins `groups`, sizes the receive buffer). */
  static open(protocol: number, options: OpenNetlinkOptions = {}): NetlinkConnection {
    const socket = new (loadAddon().NetlinkSocket)(protocol, options.groups ?? []);
    try {
      if (options.receiveBufferSize !== undefined) socket.setReceiveBufferSize(options.receiveBufferSize);
      return new NetlinkConnection(socket, options);
    } catch (error) {
      socket.close();
      throw error;
    }
  }

  constructor(
    private readonly transport: NetlinkTransport,
    options: NetlinkConnectionOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxBatchMessages = options.maxBatchMessages ?? 64;
    this.maxBatchBytes = options.maxBatchBytes ?? 32 * 1024;
    this.dumpAttempts = options.dumpAttempts ?? 3;
    transport.start(
      (datagram) => this.receive(datagram),
      (error) => this.transportFailed(error),
    );
    this.updateLoopReference();
  }

  get portId(): number {
    return this.transport.portId;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Sends one request with NLM_F_ACK and resolves with the messages that came before the ack
   * (e.g. the object a GET asked for); rejects with NetlinkError when the kernel says no.
   */
  async request(request: NetlinkRequest): Promise<NetlinkMessage[]> {
    const prepared = this.prepare(request, NLM_F_ACK, false);
    this.sendPrepared([prepared]);
    return (await prepared.done).replies;
  }

  /**
   * Sends a NLM_F_DUMP request and resolves with every message up to NLMSG_DONE. Dumps on one
   * socket run one at a time: the kernel answers a second concurrent dump with EBUSY.
   */
  dump(request: NetlinkRequest): Promise<NetlinkMessage[]> {
    const run = this.dumpQueue.then(() => this.dumpNow(request));
    this.dumpQueue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private dumpQueue: Promise<void> = Promise.resolve();

  private async dumpNow(request: NetlinkRequest): Promise<NetlinkMessage[]> {
    for (let attempt = 1; ; attempt++) {
      const prepared = this.prepare(request, NLM_F_DUMP, true);
      this.sendPrepared([prepared]);
      const exchange = await prepared.done;
      if (!exchange.interrupted) return exchange.replies;
      if (attempt >= this.dumpAttempts) throw new NetlinkDumpInterruptedError(request.description, attempt);
    }
  }

  /**
   * Sends many requests (each with NLM_F_ACK), as few sendmsg calls as the limits allow, and
   * returns one result per request in order. A failing request does not stop the others: the
   * kernel processes every message of a datagram and acks each one.
   */
  async batch(requests: readonly NetlinkRequest[]): Promise<BatchResult[]> {
    const results: BatchResult[] = [];
    let chunk: Prepared[] = [];
    let chunkBytes = 0;
    const flush = async (): Promise<void> => {
      if (chunk.length === 0) return;
      const sent = chunk;
      chunk = [];
      chunkBytes = 0;
      this.sendPrepared(sent);
      for (const prepared of sent) {
        try {
          results.push({ ok: true, replies: (await prepared.done).replies });
        } catch (error) {
          results.push({ ok: false, error: error as Error });
        }
      }
    };
    for (const request of requests) {
      const size = 16 + (request.payload?.length ?? 0);
      if (
        chunk.length >= this.maxBatchMessages ||
        (chunk.length > 0 && chunkBytes + size > this.maxBatchBytes)
      )
        await flush();
      try {
        const prepared = this.prepare(request, NLM_F_ACK, false);
        chunk.push(prepared);
        chunkBytes += prepared.bytes.length;
      } catch (error) {
        // The connection failed or closed: send what we have, then report the rest.
        await flush();
        results.push({ ok: false, error: error as Error });
      }
    }
    await flush();
    return results;
  }

  /** Delivers unsolicited messages (multicast notifications) to `listener`; returns the unsubscribe function. */
  subscribe(listener: NetlinkListener): () => void {
    this.listeners.add(listener);
    this.updateLoopReference();
    return () => {
      this.listeners.delete(listener);
      this.updateLoopReference();
    };
  }

  /** Closes the socket; pending requests fail with NetlinkLostReplyError. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.failPending((description) => new NetlinkLostReplyError(description, "connection closed"));
    this.listeners.clear();
    this.transport.close();
  }

  private prepare(request: NetlinkRequest, kindFlags: number, dump: boolean): Prepared {
    if (this.isClosed)
      throw new NetlinkLostReplyError(request.description, "connection closed before sending");
    if (this.failure)
      throw new NetlinkLostReplyError(
        request.description,
        `connection failed earlier (${this.failure.message})`,
      );
    const seq = this.nextSeq();
    const bytes = encodeMessage({
      type: request.type,
      flags: NLM_F_REQUEST | kindFlags | (request.flags ?? 0),
      seq,
      pid: this.transport.portId,
      payload: request.payload,
    });
    const done = new Promise<Exchange>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        this.updateLoopReference();
        reject(new NetlinkTimeoutError(request.description, this.timeoutMs));
      }, this.timeoutMs);
      this.pending.set(seq, {
        description: request.description,
        dump,
        replies: [],
        interrupted: false,
        timer,
        resolve,
        reject,
      });
    });
    this.updateLoopReference();
    return { bytes, seq, done };
  }

  private sendPrepared(prepared: readonly Prepared[]): void {
    try {
      this.transport.send(
        prepared.length === 1 ? prepared[0]!.bytes : Buffer.concat(prepared.map((p) => p.bytes)),
      );
    } catch (error) {
      for (const { seq } of prepared) this.settle(seq, error as Error);
    }
  }

  private nextSeq(): number {
    // 0 is what unsolicited messages carry; skip it and any sequence number still in flight.
    do {
      this.lastSeq = this.lastSeq >= 0xffffffff ? 1 : this.lastSeq + 1;
    } while (this.pending.has(this.lastSeq));
    return this.lastSeq;
  }

  private receive(datagram: Buffer): void {
    let messages: NetlinkMessage[];
    try {
      messages = decodeMessages(datagram);
    } catch (error) {
      // Nothing in this datagram can be matched to a request; the socket itself is still fine.
      this.failPending(
        (description) =>
          new NetlinkLostReplyError(description, `undecodable reply (${(error as Error).message})`),
      );
      for (const listener of [...this.listeners]) listener.onLost?.(error as Error);
      return;
    }
    for (const message of messages) this.route(message);
  }

  private route(message: NetlinkMessage): void {
    const pending = message.pid === this.transport.portId ? this.pending.get(message.seq) : undefined;
    if (pending === undefined) {
      // Late control messages of timed-out requests are dropped; the rest are notifications.
      if (message.type === NLMSG_ERROR || message.type === NLMSG_DONE || message.type === NLMSG_NOOP) return;
      for (const listener of [...this.listeners]) listener.onMessage(message);
      return;
    }
    switch (message.type) {
      case NLMSG_ERROR: {
        let outcome: Error | undefined;
        try {
          const ack = decodeAck(message);
          if (ack.errno !== 0) {
            outcome = new NetlinkError({
              errno: ack.errno,
              request: pending.description,
              ...(ack.kernelMessage !== undefined ? { kernelMessage: ack.kernelMessage } : {}),
              ...(ack.attributeOffset !== undefined ? { attributeOffset: ack.attributeOffset } : {}),
            });
          }
        } catch (error) {
          outcome = error as Error;
        }
        this.settle(message.seq, outcome);
        return;
      }
      case NLMSG_DONE:
        if (!pending.dump) return; // ends a multi-part reply; the ack follows
        {
          const errno = decodeDoneErrno(message);
          this.settle(
            message.seq,
            errno === 0 ? undefined : new NetlinkError({ errno, request: pending.description }),
          );
        }
        return;
      case NLMSG_NOOP:
      case NLMSG_OVERRUN:
        return;
      default:
        if ((message.flags & NLM_F_DUMP_INTR) !== 0) pending.interrupted = true;
        pending.replies.push(message);
    }
  }

  private settle(seq: number, error: Error | undefined): void {
    const pending = this.pending.get(seq);
    if (pending === undefined) return;
    this.pending.delete(seq);
    clearTimeout(pending.timer);
    this.updateLoopReference();
    if (error) pending.reject(error);
    else pending.resolve({ replies: pending.replies, interrupted: pending.interrupted });
  }

  private failPending(makeError: (description: string) => Error): void {
    for (const [seq, pending] of [...this.pending]) this.settle(seq, makeError(pending.description));
  }

  private transportFailed(error: Error & { code?: string }): void {
    if (error.code === "ENOBUFS") {
      // Messages were dropped; the socket still works. Replies we wait for may be among them.
      this.failPending(
        (description) => new NetlinkLostReplyError(description, `replies lost (${error.message})`),
      );
      for (const listener of [...this.listeners]) listener.onLost?.(error);
      return;
    }
    this.fail(error);
  }

  /** The socket stopped receiving: every pending and future request fails. */
  private fail(error: Error): void {
    this.failure ??= error;
    this.failPending(
      (description) => new NetlinkLostReplyError(description, `connection failed (${error.message})`),
    );
    for (const listener of [...this.listeners]) listener.onError?.(error);
  }

  /** Keeps the process alive only while someone waits for a reply or listens for notifications. */
  private updateLoopReference(): void {
    if (this.isClosed) return;
    if (this.pending.size > 0 || this.listeners.size > 0) this.transport.ref();
    else this.transport.unref();
  }
}
