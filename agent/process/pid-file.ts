// A pid file that refuses to start a second agent of the same instance, but takes over a file left
// behind by a crashed one (its pid no longer runs).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export class InstanceRunningError extends Error {
  constructor(
    readonly pidFile: string,
    readonly pid: number,
  ) {
    super(`${pidFile}: instance already running as pid ${pid}`);
  }
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else — still running.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface PidFile {
  path: string;
  release(): void;
}

export function acquirePidFile(path: string, pid = process.pid): PidFile {
  mkdirSync(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${pid}\n`, { flag: "wx", mode: 0o644 });
      return {
        path,
        release: () => {
          // Only remove the file if it is still ours (a successor may have taken over).
          try {
            if (Number.parseInt(readFileSync(path, "utf8"), 10) === pid) rmSync(path);
          } catch {
            // already gone
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST")
        throw new Error(`${path}: cannot create pid file: ${(e as Error).message}`);
      const other = Number.parseInt(readFileSync(path, "utf8"), 10);
      if (Number.isInteger(other) && other > 0 && other !== pid && processRuns(other))
        throw new InstanceRunningError(path, other);
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`${path}: cannot take over the stale pid file`);
}
