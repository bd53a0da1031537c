// Range checks for values about to be encoded into fixed-size IPVS attributes, so a bad value is
// rejected with the object's name instead of being truncated on the wire.
import { IpvsValidationError } from "./model.js";

export function checkInteger(value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new IpvsValidationError(what, `must be an integer from ${min} to ${max}, not ${String(value)}`);
  }
  return value;
}

export const checkPort = (value: number, what: string): number =>
  checkInteger(value, 0, 0xffff, `${what} port`);
export const checkU32 = (value: number, what: string): number => checkInteger(value, 0, 0xffffffff, what);
/** The kernel stores weights and thresholds as int: anything above INT_MAX is rejected there. */
export const checkInt32 = (value: number, what: string): number => checkInteger(value, 0, 0x7fffffff, what);

/** A name the kernel keeps in a char[maxLength] (so at most maxLength - 1 bytes). */
export function checkKernelName(value: string, maxLength: number, what: string): string {
  const bytes = Buffer.byteLength(value);
  if (bytes === 0 || bytes >= maxLength || value.includes("\0")) {
    throw new IpvsValidationError(what, `must be 1-${maxLength - 1} bytes without NUL, not '${value}'`);
  }
  return value;
}
