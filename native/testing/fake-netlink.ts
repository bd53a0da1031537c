// A scripted stand-in for the kernel end of a netlink socket, for unit tests of anything built on
// NetlinkConnection. `kernel` sees each request message and returns the reply datagrams.
import {
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_MULTI,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSGERR_ATTR_MSG,
} from "../netlink/constants.js";
import { encodeAttributes } from "../netlink/attributes.js";
import type { NetlinkTransport } from "../netlink/connection.js";
import { decodeMessages, encodeMessage, type NetlinkMessage } from "../netlink/message.js";

export type FakeKernel = (request: NetlinkMessage) => Buffer[] | undefined | void;

export class FakeNetlinkTransport implements NetlinkTransport {
  readonly portId = 4242;
  /** Every datagram sent, as sent. */
  readonly sent: Buffer[] = [];
  referenced = false;
  closed = false;
  private onDatagram: ((datagram: Buffer) => void) | undefined;
  private onError: ((error: Error & { code?: string }) => void) | undefined;

  constructor(private readonly kernel: FakeKernel = () => undefined) {}

  /** Requests sent so far, decoded. */
  get requests(): NetlinkMessage[] {
    return this.sent.flatMap((datagram) => decodeMessages(datagram));
  }

  send(datagram: Buffer): number {
    if (this.closed) throw new Error("fake transport closed");
    this.sent.push(datagram);
    const replies = decodeMessages(datagram).flatMap((request) => this.kernel(request) ?? []);
    // The real kernel queues replies during sendmsg; they are read on a later event-loop turn.
    setImmediate(() => replies.forEach((reply) => this.deliver(reply)));
    return datagram.length;
  }

  start(onDatagram: (datagram: Buffer) => void, onError: (error: Error & { code?: string }) => void): void {
    this.onDatagram = onDatagram;
    this.onError = onError;
  }

  /** Injects a datagram as if the kernel sent it (e.g. a multicast notification). */
  deliver(datagram: Buffer): void {
    if (!this.closed) this.onDatagram?.(datagram);
  }

  /** Injects a receive error as the addon reports it. */
  fail(error: Error & { code?: string }): void {
    this.onError?.(error);
  }

  close(): void {
    this.closed = true;
  }

  ref(): void {
    this.referenced = true;
  }

  unref(): void {
    this.referenced = false;
  }
}

/** The kernel's NLMSG_ERROR answer to `request`: errno 0 is an ack; optional extended-ack text. */
export function ackFor(request: NetlinkMessage, errno = 0, kernelMessage?: string): Buffer {
  const error = Buffer.alloc(4);
  error.writeInt32LE(-errno);
  const header = encodeMessage({ ...request, payload: request.payload }).subarray(0, 16);
  const tlvs =
    kernelMessage === undefined
      ? Buffer.alloc(0)
      : encodeAttributes((w) => w.string(NLMSGERR_ATTR_MSG, kernelMessage));
  return encodeMessage({
    type: NLMSG_ERROR,
    flags: NLM_F_CAPPED | (kernelMessage === undefined ? 0 : NLM_F_ACK_TLVS),
    seq: request.seq,
    pid: request.pid,
    payload: Buffer.concat([error, header, tlvs]),
  });
}

/** A reply message of `type` to `request` (NLM_F_MULTI when part of a dump). */
export function replyTo(request: NetlinkMessage, type: number, payload: Buffer, flags = NLM_F_MULTI): Buffer {
  return encodeMessage({ type, flags, seq: request.seq, pid: request.pid, payload });
}

/** NLMSG_DONE ending a dump, optionally carrying an errno. */
export function doneFor(request: NetlinkMessage, errno = 0): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeInt32LE(-errno);
  return encodeMessage({ type: NLMSG_DONE, flags: NLM_F_MULTI, seq: request.seq, pid: request.pid, payload });
}
