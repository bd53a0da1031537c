// VRRP adverts as the LAN saw them: tcpdump on the lab's bridge (in the LAN's own namespace) with
// kernel timestamps in microseconds. Failover is then measured on the wire — from the old Master's
// last advert (or its priority-0 advert) to the new Master's first — independent of any process's
// event loop or clock. The bridge floods multicast to itself, so this sees multicast adverts only.
import type { Lab } from "../../e2e/lab/lab.js";
import type { LabProcess } from "../../e2e/lab/process.js";
import { missingCommand } from "../../e2e/requirements.js";

export function missingTcpdump(): string | undefined {
  return missingCommand("tcpdump", "apt-get install tcpdump; scripts/install-deps.sh does");
}

export interface CapturedAdvert {
  /** Kernel receive time on the bridge, microseconds since the epoch. */
  timeUs: number;
  source: string;
  version: number;
  vrid: number;
  priority: number;
}

// 1795563553.709494 IP 198.51.100.1 > 224.0.0.18: VRRPv3, Advertisement, vrid 9, prio 0, intvl 5cs, length 12
const ADVERT_LINE = /^(\d+)\.(\d{6}) IP6? (\S+) > (\S+): VRRPv(\d), Advertisement, vrid (\d+), prio (\d+)/;

/** One line of `tcpdump -n -tt --time-stamp-precision=micro`; undefined when it is not a VRRP advert. */
export function parseAdvertLine(line: string): CapturedAdvert | undefined {
  const m = ADVERT_LINE.exec(line);
  if (!m) return undefined;
  return {
    timeUs: Number(m[1]) * 1_000_000 + Number(m[2]),
    source: m[3]!,
    version: Number(m[5]),
    vrid: Number(m[6]),
    priority: Number(m[7]),
  };
}

export interface WireFailover {
  /** The old Master's last advert before the takeover (its priority-0 advert when it resigned). */
  lastOld: CapturedAdvert;
  /** The new Master's first advert. */
  firstNew: CapturedAdvert;
  /** firstNew − lastOld in milliseconds. */
  gapMs: number;
}

/**
 * The takeover of `vrid` by `newMaster` after `afterUs` (the moment the test broke the old Master):
 * the new Master's first advert after that moment, and `oldMaster`'s last advert before it (which
 * may precede the break: a Master that lost its link sends nothing after it).
 */
export function wireFailover(
  adverts: readonly CapturedAdvert[],
  vrid: number,
  oldMaster: string,
  newMaster: string,
  afterUs: number,
): WireFailover | undefined {
  const ofGroup = adverts.filter((a) => a.vrid === vrid);
  const firstIndex = ofGroup.findIndex(
    (a) => a.source === newMaster && a.priority > 0 && a.timeUs >= afterUs,
  );
  if (firstIndex < 0) return undefined;
  const firstNew = ofGroup[firstIndex]!;
  const lastOld = ofGroup
    .slice(0, firstIndex)
    .reverse()
    .find((a) => a.source === oldMaster);
  if (!lastOld) return undefined;
  return { lastOld, firstNew, gapMs: (firstNew.timeUs - lastOld.timeUs) / 1000 };
}

export class VrrpCapture {
  private constructor(private readonly tcpdump: LabProcess) {}

  /** Starts tcpdump on the LAN bridge; resolves once it listens. */
  static async start(lab: Lab): Promise<VrrpCapture> {
    const tcpdump = lab.spawn(lab.lanNamespace(), "tcpdump", [
      "-i",
      "br0",
      "-n",
      "-l",
      "-tt",
      "--immediate-mode",
      "--time-stamp-precision=micro",
      "-Z",
      "root",
      "ip proto 112 or ip6 proto 112",
    ]);
    const deadline = Date.now() + 5000;
    while (!tcpdump.stderr.includes("listening on")) {
      if (!tcpdump.running || Date.now() > deadline)
        throw new Error(`tcpdump did not start on the LAN bridge: ${tcpdump.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return new VrrpCapture(tcpdump);
  }

  /** Microseconds since the epoch, on the clock tcpdump's timestamps use (CLOCK_REALTIME). */
  static nowUs(): number {
    return Math.round((performance.timeOrigin + performance.now()) * 1000);
  }

  adverts(): CapturedAdvert[] {
    return this.tcpdump.lines.map(parseAdvertLine).filter((a): a is CapturedAdvert => a !== undefined);
  }

  /** Waits until the capture holds an advert matching `predicate` (tcpdump prints with a small delay). */
  async waitFor(predicate: (a: CapturedAdvert) => boolean, timeoutMs = 5000): Promise<CapturedAdvert> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.adverts().find(predicate);
      if (found) return found;
      if (!this.tcpdump.running) throw new Error(`tcpdump exited: ${this.tcpdump.stderr}`);
      if (Date.now() > deadline) throw new Error(`no matching advert captured within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async stop(): Promise<void> {
    await this.tcpdump.kill(1000);
  }
}
