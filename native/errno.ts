// errno numbers <-> symbolic codes ("EEXIST"), for errors the kernel reports as numbers
// (netlink acks carry a negative errno; the addon reports positive ones).
import { constants } from "node:os";

// Aliases sharing a number: the name Linux itself prints (strerrorname_np) wins.
const preferred: Record<number, string> = { 11: "EAGAIN", 35: "EDEADLK", 95: "EOPNOTSUPP" };

const codeByNumber = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  if (!codeByNumber.has(value)) codeByNumber.set(value, name);
}
for (const [value, name] of Object.entries(preferred)) codeByNumber.set(Number(value), name);

/** Symbolic code of a positive errno, e.g. 17 → "EEXIST"; unknown numbers become "E<number>". */
export function errnoCode(errno: number): string {
  return codeByNumber.get(errno) ?? `E${errno}`;
}

/** errno number of a symbolic code, e.g. "ENOENT" → 2; undefined when unknown. */
export function errnoNumber(code: string): number | undefined {
  return (constants.errno as Record<string, number | undefined>)[code];
}
