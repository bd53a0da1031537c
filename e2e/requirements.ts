// What a test tier needs from the machine, and the one rule for when it is missing:
// outside CI the tier skips with a clear reason; under CI=true nothing skips, the tier fails.
import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";

export const inCI = process.env.CI === "true" || process.env.CI === "1";

/** Returns a reason string when the process is not root. */
export function missingRoot(): string | undefined {
  return process.getuid?.() === 0 ? undefined : "needs root (network namespaces, raw sockets)";
}

/** Returns a reason string when an executable is not on PATH. */
export function missingCommand(name: string, hint?: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      return undefined;
    } catch {
      // keep looking
    }
  }
  return `needs ${name} on PATH${hint ? ` (${hint})` : ""}`;
}

/** Returns a reason string when network namespaces cannot be created here. */
export function missingNetns(): string | undefined {
  const root = missingRoot();
  if (root) return root;
  const ip = missingCommand("ip", "apt-get install iproute2");
  if (ip) return ip;
  try {
    execFileSync("ip", ["netns", "list"], { stdio: "ignore" });
    return undefined;
  } catch (e) {
    return `ip netns does not work here: ${(e as Error).message}`;
  }
}

/**
 * Options for node:test's `describe`/`test` given the reasons a tier cannot run.
 * Outside CI: `{ skip: reason }`. Under CI=true: throws, so the missing need fails the run loudly.
 */
export function tierOptions(...reasons: (string | undefined)[]): { skip?: string } {
  const missing = reasons.filter((r): r is string => r !== undefined);
  if (missing.length === 0) return {};
  const reason = missing.join("; ");
  if (inCI) throw new Error(`test tier cannot run under CI=true: ${reason}`);
  return { skip: reason };
}
