// The agent's side of the guard pipe (see guard.ts): after every transition it tells its guard what
// to do should it die now. Writes are synchronous so the last plan is in the pipe before any crash.
import { writeSync } from "node:fs";
import type { Logger } from "../../core/log.js";
import { encodeGuardMessage, type GuardMessage, type ResignPlan } from "./resign-plan.js";

/** Environment variable naming the file descriptor of the guard pipe in a guarded agent. */
export const GUARD_FD_ENV = "KUBELVS_GUARD_FD";

export interface GuardHandle {
  update(plans: ResignPlan[]): void;
  /** The agent resigned by itself; the guard may let it exit. */
  release(): void;
}

/** Returns the guard connection when this agent runs under a guard, else undefined. */
export function connectGuard(log: Logger): GuardHandle | undefined {
  const fdText = process.env[GUARD_FD_ENV];
  if (fdText === undefined) return undefined;
  const fd = Number(fdText);
  let broken = false;
  let last = "";
  const send = (message: GuardMessage) => {
    if (broken) return;
    const line = encodeGuardMessage(message);
    if (line === last) return;
    const bytes = Buffer.from(line);
    try {
      for (let off = 0; off < bytes.length;) {
        try {
          off += writeSync(fd, bytes, off);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
        }
      }
      last = line;
    } catch (e) {
      broken = true;
      log.warn("guard pipe broken: a crash of this agent would now leave its VIPs behind", { err: e });
    }
  };
  return {
    update: (plans) => send({ type: "plans", plans }),
    release: () => send({ type: "released" }),
  };
}
