// Errors of the IPVS client: the kernel has no IPVS at all, or it refused one operation.
import { errnoCode } from "../errno.js";
import type { IpvsOperation } from "./requests.js";

/** The kernel has no "IPVS" generic netlink family in this network namespace. */
export class IpvsUnavailableError extends Error {
  constructor(cause: Error) {
    super("IPVS is not available in this kernel (ip_vs module not loaded?)", { cause });
    this.name = "IpvsUnavailableError";
  }
}

/** One operation of apply() (or a single add/edit/delete) failed; names the operation and errno. */
export class IpvsOperationError extends Error {
  readonly operation: IpvsOperation;
  /** Positive errno from the kernel; undefined when the operation failed before reaching it. */
  readonly errno: number | undefined;
  /** "EEXIST", "ESRCH", ...; "EINVAL"-like codes only come from the kernel. */
  readonly code: string | undefined;
  readonly kernelMessage: string | undefined;

  constructor(operation: IpvsOperation, description: string, cause: Error) {
    const errno = (cause as { errno?: unknown }).errno;
    const kernelMessage = (cause as { kernelMessage?: unknown }).kernelMessage;
    const known = typeof errno === "number";
    // NetlinkError's message already reads "<description>: <CODE>[: kernel text]".
    super(cause.message.startsWith(description) ? cause.message : `${description}: ${cause.message}`, {
      cause,
    });
    this.name = "IpvsOperationError";
    this.operation = operation;
    this.errno = known ? errno : undefined;
    this.code = known ? errnoCode(errno) : undefined;
    this.kernelMessage = typeof kernelMessage === "string" ? kernelMessage : undefined;
  }
}
