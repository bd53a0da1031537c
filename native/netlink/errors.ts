// Errors of the netlink layer. Each one says which request (or which bytes) it is about.
import { errnoCode } from "../errno.js";

/** Bytes from the kernel (or a fuzzer) that do not form valid netlink messages or attributes. */
export class NetlinkDecodeError extends Error {
  /** Byte offset of the problem inside the buffer being decoded. */
  readonly offset: number;
  /** What was being decoded, e.g. "nlmsghdr" or "IFLA attributes". */
  readonly context: string;

  constructor(context: string, offset: number, problem: string) {
    super(`cannot decode ${context} at byte ${offset}: ${problem}`);
    this.name = "NetlinkDecodeError";
    this.context = context;
    this.offset = offset;
  }
}

export interface NetlinkErrorDetails {
  /** Positive errno reported by the kernel. */
  readonly errno: number;
  /** What the request was, e.g. "add address 198.51.100.10/24 to ifindex 3". */
  readonly request: string;
  /** The kernel's extended-ack text (NLMSGERR_ATTR_MSG), when it sent one. */
  readonly kernelMessage?: string;
  /** Offset of the offending attribute inside our request (NLMSGERR_ATTR_OFFS). */
  readonly attributeOffset?: number;
}

/** The kernel rejected a request (NLMSG_ERROR with a negative errno). */
export class NetlinkError extends Error implements NetlinkErrorDetails {
  readonly errno: number;
  readonly code: string;
  readonly request: string;
  readonly kernelMessage?: string;
  readonly attributeOffset?: number;

  constructor(details: NetlinkErrorDetails) {
    const code = errnoCode(details.errno);
    const detail = details.kernelMessage ? `: ${details.kernelMessage}` : "";
    super(`${details.request}: ${code}${detail}`);
    this.name = "NetlinkError";
    this.errno = details.errno;
    this.code = code;
    this.request = details.request;
    if (details.kernelMessage !== undefined) this.kernelMessage = details.kernelMessage;
    if (details.attributeOffset !== undefined) this.attributeOffset = details.attributeOffset;
  }
}

/** No final reply (ack, error or end of dump) arrived in time. */
export class NetlinkTimeoutError extends Error {
  readonly request: string;
  readonly timeoutMs: number;

  constructor(request: string, timeoutMs: number) {
    super(`${request}: no reply from the kernel within ${timeoutMs} ms`);
    this.name = "NetlinkTimeoutError";
    this.request = request;
    this.timeoutMs = timeoutMs;
  }
}

/** The reply to a request was lost (receive buffer overrun) or the connection was closed. */
export class NetlinkLostReplyError extends Error {
  readonly request: string;

  constructor(request: string, reason: string) {
    super(`${request}: ${reason}; the request's outcome is unknown`);
    this.name = "NetlinkLostReplyError";
    this.request = request;
  }
}

/** A dump was interrupted by concurrent changes (NLM_F_DUMP_INTR) on every attempt. */
export class NetlinkDumpInterruptedError extends Error {
  readonly request: string;
  readonly attempts: number;

  constructor(request: string, attempts: number) {
    super(`${request}: dump interrupted by concurrent changes ${attempts} times in a row`);
    this.name = "NetlinkDumpInterruptedError";
    this.request = request;
    this.attempts = attempts;
  }
}
