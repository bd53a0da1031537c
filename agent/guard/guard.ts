// The guard: a small parent process that runs the agent as its child (like keepalived's watchdog
// parent). The agent tells it, after every transition, what a resignation would take. If the agent
// dies without having resigned — SIGKILL, a crash, the OOM killer — the guard at once sends the
// priority-0 adverts and removes the VIPs, so a Backup takes over after Skew_Time instead of the full
// Master_Down_Interval and no VIP is left answering on a dead node. Then it starts the agent again.
//
// The guard holds its sockets from the start, so resigning is two sendmsg calls and a netlink
// request, not a setup. It never runs VRRP itself: the adverts arrive pre-encoded. Its sockets are
// IPPROTO_RAW, which receive nothing (see native/ip-header.ts for why that matters on every Backup).
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { Logger } from "../../core/log.js";
import { readdirSync } from "node:fs";
import { loadAddon, type RawIpSocket, type ThreadExitWatch } from "../../native/addon.js";
import { RtnetlinkClient } from "../../native/rtnetlink/client.js";
import { GUARD_FD_ENV } from "./guard-client.js";
import { withIpHeader } from "../../native/ip-header.js";
import { decodeGuardMessage, type ResignPlan } from "./resign-plan.js";

/** Send-only raw sockets: the kernel delivers no packet to protocol 255; the caller writes the IP header. */
const IPPROTO_RAW = 255;

/**
 * Watches the agent's threads other than its main one. After SIGKILL the kernel tears down the
 * process's memory before the process counts as exited (and before its pipe closes): tens of
 * milliseconds for a Node process, more than a fast advert interval. Its other threads are gone
 * within a millisecond or two, so their exit is the earliest sign of death.
 */
class ThreadWatches {
  private readonly watches: ThreadExitWatch[] = [];
  private armed = false;

  constructor(
    private readonly pid: number | undefined,
    private readonly log: Logger,
    private readonly onExit: () => void,
  ) {}

  arm(): void {
    if (this.armed || this.pid === undefined) return;
    this.armed = true;
    let tids: number[];
    try {
      tids = readdirSync(`/proc/${this.pid}/task`)
        .map(Number)
        .filter((t) => t !== this.pid);
    } catch {
      return; // already gone: the exit path resigns
    }
    const addon = loadAddon();
    for (const tid of tids) {
      try {
        const watch = new addon.ThreadExitWatch(this.pid, tid);
        watch.start(
          () => this.onExit(),
          (e) => this.log.warn("guard: thread watch failed", { tid, err: e }),
        );
        watch.unref();
        this.watches.push(watch);
        if (!watch.threadLevel) break; // the process-level fallback needs only one
      } catch {
        // the thread exited meanwhile (a short-lived worker): nothing to watch
      }
    }
  }

  close(): void {
    for (const w of this.watches) w.close();
    this.watches.length = 0;
  }
}
const MAX_RESTART_DELAY_MS = 30_000;
/** A child that ran this long is considered healthy: its next crash restarts it at once. */
const HEALTHY_RUN_MS = 60_000;

export interface GuardOptions {
  /** argv of the agent child (without the node executable). */
  childArgs: string[];
  log: Logger;
  /** Restart the agent after it dies (default true). */
  restart?: boolean;
  /** Exit codes after which restarting cannot help (a bad configuration): the guard exits too. */
  stopCodes?: number[];
}

class Resigner {
  private readonly sockets = new Map<"ipv4" | "ipv6", RawIpSocket>();
  private readonly rtnetlink = RtnetlinkClient.open();

  constructor(private readonly log: Logger) {
    const addon = loadAddon();
    for (const family of ["ipv4", "ipv6"] as const) {
      try {
        this.sockets.set(
          family,
          new addon.RawIpSocket(family === "ipv4" ? 4 : 6, IPPROTO_RAW, { sendOnly: true }),
        );
      } catch (e) {
        log.warn("guard cannot open a VRRP socket for this family", { family, err: e });
      }
    }
  }

  async resign(plans: ResignPlan[]): Promise<void> {
    // Adverts first, all of them, before any slower work: the Backups start counting Skew_Time now.
    for (const plan of plans) {
      const socket = this.sockets.get(plan.family);
      for (const p of plan.packets) {
        try {
          const advert = Buffer.from(p.payload, "base64");
          const packet = withIpHeader(plan.family === "ipv4" ? 4 : 6, advert, {
            source: plan.source,
            destination: p.destination,
          });
          // The header carries the source; the ifindex picks the interface for multicast and link-local.
          socket?.send(packet, p.destination, { source: plan.source, ifindex: plan.ifindex });
        } catch (e) {
          this.log.error("guard: priority-0 advert not sent", {
            group: plan.group,
            destination: p.destination,
            err: e,
          });
        }
      }
    }
    await Promise.all(
      plans.flatMap((plan) =>
        plan.vips.map(async (v) => {
          try {
            await this.rtnetlink.removeAddress(v);
          } catch (e) {
            if ((e as { code?: string }).code !== "EADDRNOTAVAIL") {
              this.log.error("guard: virtual IP not removed", {
                group: plan.group,
                address: v.address,
                err: e,
              });
            }
          }
        }),
      ),
    );
    if (plans.length > 0) {
      this.log.warn("agent died while Master: resigned for it", {
        groups: plans.map((p) => p.group).join(","),
      });
    }
  }

  close(): void {
    for (const s of this.sockets.values()) s.close();
    this.rtnetlink.close();
  }
}

/** Runs the agent under the guard until the agent exits cleanly or the guard is told to stop. */
export async function runGuarded(options: GuardOptions): Promise<number> {
  const { log } = options;
  const resigner = new Resigner(log);
  let stopping = false;
  let child: ChildProcess | undefined;
  let restartDelay = 1000;
  /** Ends the restart back-off early: a stop request must not wait for it. */
  let endBackoff: (() => void) | undefined;

  const forward = (signal: NodeJS.Signals) => () => {
    if (signal !== "SIGHUP") {
      stopping = true;
      endBackoff?.();
    }
    child?.kill(signal);
  };
  const handlers = (["SIGTERM", "SIGINT", "SIGHUP"] as const).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);

  try {
    for (;;) {
      const started = Date.now();
      const result = await runOnce(options.childArgs, log, (c) => (child = c), resigner);
      child = undefined;
      if (result.released || stopping || options.restart === false) return result.code ?? 1;
      if (result.code !== undefined && options.stopCodes?.includes(result.code)) return result.code;
      restartDelay =
        Date.now() - started > HEALTHY_RUN_MS ? 1000 : Math.min(restartDelay * 2, MAX_RESTART_DELAY_MS);
      log.warn("restarting the agent", { inMs: restartDelay });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, restartDelay);
        endBackoff = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      endBackoff = undefined;
      if (stopping) return result.code ?? 1;
    }
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
    resigner.close();
  }
}

async function runOnce(
  args: string[],
  log: Logger,
  setChild: (c: ChildProcess) => void,
  resigner: Resigner,
): Promise<{ code: number | undefined; released: boolean }> {
  const child = spawn(process.execPath, args, {
    stdio: ["inherit", "inherit", "inherit", "pipe"],
    env: { ...process.env, [GUARD_FD_ENV]: "3" },
  });
  setChild(child);
  let plans: ResignPlan[] = [];
  let released = false;
  let resigned: Promise<void> | undefined;
  const resignOnce = (why: string, detail: Record<string, unknown>) => {
    if (released || resigned) return;
    log.error(`agent died without resigning (${why})`, {
      ...detail,
      masterOf: plans.map((p) => p.group).join(","),
    });
    resigned = resigner.resign(plans);
  };
  const watches = new ThreadWatches(child.pid, log, () =>
    // Let this loop turn's other events (a "released" line from a clean exit) land first.
    setImmediate(() => resignOnce("one of its threads is gone", { pid: child.pid })),
  );
  const pipe = child.stdio[3] as Readable;
  createInterface({ input: pipe }).on("line", (line) => {
    try {
      const message = decodeGuardMessage(line);
      if (message.type === "released") released = true;
      else {
        plans = message.plans;
        // By its first message the agent runs, and so do the threads worth watching.
        watches.arm();
      }
    } catch (e) {
      log.error("guard: bad message from the agent", { err: e });
    }
  });
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve) => child.once("exit", (c, s) => resolve({ code: c, signal: s })),
  );
  // Lines written just before death may still be in the pipe; they are read before 'close'.
  await new Promise<void>((resolve) =>
    pipe.readableEnded || pipe.destroyed ? resolve() : pipe.once("close", () => resolve()),
  );
  watches.close();
  resignOnce("exited", { code, signal });
  await resigned;
  return { code: code ?? undefined, released };
}
