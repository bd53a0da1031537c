// A failover test bed: three routers of one implementation on the lab LAN (n1 Master, n2 and n3
// Backups), a client probing the VIP every 2 ms and tcpdump on the LAN bridge. It breaks the Master
// in one of three ways and observes the takeover from the client and on the wire; then restores it.
// Shared by the failover lab test (kubelvs only, with assertions) and the benchmark (both
// implementations, medians).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Lab } from "../../e2e/lab/lab.js";
import { waitFor } from "./agent-harness.js";
import type { Router, RouterState } from "./routers.js";
import type { DoubleEpisode } from "./vip-probe-tracker.js";
import type { VipProbe } from "./vip-probe.js";
import { VrrpCapture, wireFailover, type WireFailover } from "./vrrp-capture.js";

export type BreakKind = "resign" | "crash" | "host-down";

export const BREAK_KINDS: readonly BreakKind[] = ["resign", "crash", "host-down"];

export interface FailoverObservation {
  kind: BreakKind;
  /** The node the client is served by after the break. */
  newMaster: string;
  /** From the break to the new Master's first answer to the client. */
  clientMs: number;
  /** From the old Master's last answer to the new Master's first. */
  outageMs: number | undefined;
  /** The takeover on the wire, when the capture saw it (multicast only). */
  wire: WireFailover | undefined;
  /** Episodes in which two or more nodes answered for the VIP, from the break to the end of the watch. */
  doubles: DoubleEpisode[];
}

// RFC 5798 6.1 / RFC 3768 6.1, computed from the RFC rather than by the code under test.
export const skewMs = (priority: number, intervalMs: number): number => ((256 - priority) * intervalMs) / 256;
export const masterDownMs = (priority: number, intervalMs: number): number =>
  3 * intervalMs + skewMs(priority, intervalMs);

export class FailoverBed {
  /** When the last breakMaster() broke the Master (capture clock), for saveEvidence(). */
  lastBreakUs = 0;

  constructor(
    private readonly lab: Lab,
    private readonly probe: VipProbe,
    private readonly capture: VrrpCapture | undefined,
    /** [Master, the Backup expected to take over, another Backup], highest priority first. */
    readonly routers: readonly [Router, Router, Router],
    readonly group: { vrid: number; intervalMs: number },
  ) {}

  get master(): Router {
    return this.routers[0];
  }

  /** Master_Down_Interval of the taking-over Backup: the longest a takeover may take. */
  get takeoverBoundMs(): number {
    return masterDownMs(this.routers[1].priority, this.group.intervalMs);
  }

  /** The RFC timer for this break: Skew_Time after a priority-0 advert, else Master_Down_Interval. */
  rfcTimerMs(kind: BreakKind): number {
    const resigns = kind === "resign" || (kind === "crash" && this.master.kind === "kubelvs");
    const backup = this.routers[1].priority;
    return resigns ? skewMs(backup, this.group.intervalMs) : masterDownMs(backup, this.group.intervalMs);
  }

  /** Waits for n1 Master, the others Backup, and the client served by n1 alone. */
  async established(timeoutMs = 5000 + 6 * this.group.intervalMs): Promise<void> {
    const want: [Router, RouterState][] = [
      [this.routers[0], "Master"],
      [this.routers[1], "Backup"],
      [this.routers[2], "Backup"],
    ];
    await waitFor(
      want.map(([r, s]) => `${r.host.name} ${s}`).join(", "),
      async () => {
        for (const [r, s] of want) if ((await r.state()) !== s) return undefined;
        return true;
      },
      timeoutMs,
    );
    await waitFor(
      `the client served by ${this.master.host.name} alone`,
      () =>
        this.probe.serving()?.node === this.master.host.name && !this.probe.doubleNow() ? true : undefined,
      timeoutMs,
    );
  }

  /** Breaks the Master and observes the takeover; the Master stays broken until restore(). */
  async breakMaster(kind: BreakKind): Promise<FailoverObservation> {
    const old = this.master.host;
    const breakUs = VrrpCapture.nowUs();
    this.lastBreakUs = breakUs;
    const breakNs = process.hrtime.bigint();
    await this.break(kind);
    const client = await waitFor(
      `the client served by another node than ${old.name} after ${kind}`,
      () => this.probe.failoverAfter(breakNs, old.name),
      this.takeoverBoundMs * 2 + 3000,
      2,
    );
    const newHost = this.lab.host(client.newMaster);
    let wire: WireFailover | undefined;
    if (this.capture) {
      await this.capture
        .waitFor(
          (a) => a.vrid === this.group.vrid && a.source === newHost.eth0.ipv4 && a.timeUs >= breakUs,
          2000,
        )
        .catch(() => undefined);
      wire = wireFailover(this.capture.adverts(), this.group.vrid, old.eth0.ipv4, newHost.eth0.ipv4, breakUs);
    }
    // keep watching a while for a second holder of the VIP
    await new Promise((r) => setTimeout(r, Math.max(200, 3 * this.group.intervalMs)));
    return {
      kind,
      newMaster: client.newMaster,
      clientMs: client.failoverMs,
      outageMs: client.outageMs,
      wire,
      doubles: this.probe.doublesBetween(breakNs, process.hrtime.bigint()),
    };
  }

  /**
   * After a failed run, before restore() starts anything over: every router's state and log, the
   * group's adverts on the wire and the client's probe events, written to `dir` (a failure that
   * happens once in hundreds of runs must be explainable from what it left behind).
   */
  async saveEvidence(dir: string, breakUs: number): Promise<void> {
    mkdirSync(dir, { recursive: true });
    const states: string[] = [];
    for (const router of this.routers) {
      states.push(`${router.host.name} ${router.kind} priority ${router.priority}: ${await router.state()}`);
      writeFileSync(join(dir, `${router.host.name}.log`), router.log());
    }
    writeFileSync(join(dir, "states.txt"), states.join("\n") + "\n");
    const adverts = (this.capture?.adverts() ?? [])
      .filter((a) => a.vrid === this.group.vrid && a.timeUs >= breakUs - 1_000_000)
      .map(
        (a) =>
          `${((a.timeUs - breakUs) / 1000).toFixed(3)} ms ${a.source} v${a.version} priority ${a.priority}`,
      );
    writeFileSync(join(dir, "adverts.txt"), `relative to the break\n${adverts.join("\n")}\n`);
    const events = this.probe
      .events()
      .map((e) =>
        JSON.stringify(e, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value)),
      );
    writeFileSync(join(dir, "probe-events.jsonl"), events.join("\n") + "\n");
  }

  /** Brings the Master back after breakMaster(kind) and waits until it is established again. */
  async restore(kind: BreakKind): Promise<void> {
    if (kind === "host-down") {
      await this.setMasterLink("up");
    } else {
      // kubelvs after a crash: its guard would restart the agent after a back-off; a fresh start is
      // quicker. keepalived after a crash: starting it again removes the VIPs it left behind.
      await this.master.shutdown();
      await this.master.start();
    }
    await this.established();
  }

  /** Starts all three again from scratch (after a run that left the bed in an unknown state). */
  async reset(): Promise<void> {
    await this.setMasterLink("up");
    await Promise.all(this.routers.map((r) => r.shutdown()));
    await Promise.all(this.routers.map((r) => r.start()));
    await this.established();
  }

  private async break(kind: BreakKind): Promise<void> {
    switch (kind) {
      case "resign":
        return this.master.resign();
      case "crash":
        return this.master.crash();
      case "host-down":
        return this.setMasterLink("down");
    }
  }

  private async setMasterLink(state: "up" | "down"): Promise<void> {
    await this.lab.ip(this.master.host, "link", "set", "eth0", state);
  }
}
