// IPVS connection synchronisation bound to VRRP state (keepalived's lvs_sync_daemon): the node that
// is Master of the group sends its connection table (master sync daemon), the others receive it
// (backup sync daemon), so established connections survive a failover. On every transition the
// daemons are switched. The kernel runs at most one master and one backup daemon per network
// namespace, so one group per node carries connection sync (the first by name; others are reported).
import type { ConnectionSync } from "../../crds/schema/vrrp-group.js";
import type { Logger } from "../../core/log.js";
import type { IpvsControl } from "../../native/ipvs/control.js";
import type { SyncDaemon, SyncDaemonState } from "../../native/ipvs/model.js";

export interface SyncGroupInput {
  readonly group: string;
  /** True while this node is the group's VRRP Master. */
  readonly master: boolean;
  readonly connectionSync: ConnectionSync | undefined;
  /** The group's resolved interface (the default for sync traffic). */
  readonly interface: string;
}

export interface SyncDaemonPlan {
  /** The daemons that should run: none, one master, or one backup. */
  readonly daemons: SyncDaemon[];
  /** The group whose sync settings are used. */
  readonly group?: string;
  /** Groups that also enable connection sync and are ignored. */
  readonly ignored: string[];
}

/** The daemons for the groups' current states (pure). */
export function planSyncDaemons(groups: readonly SyncGroupInput[]): SyncDaemonPlan {
  const enabled = groups
    .filter((g) => g.connectionSync?.enabled === true)
    .sort((a, b) => a.group.localeCompare(b.group));
  const [chosen, ...ignored] = enabled;
  if (chosen === undefined || chosen.interface === "") return { daemons: [], ignored: [] };
  const sync = chosen.connectionSync!;
  const daemon: SyncDaemon = {
    state: chosen.master ? "master" : "backup",
    interface: sync.interface ?? chosen.interface,
    syncId: sync.syncID ?? 0,
    ...(sync.maxPacketLength !== undefined && sync.maxPacketLength > 0
      ? { maxLength: sync.maxPacketLength }
      : {}),
  };
  return { daemons: [daemon], group: chosen.group, ignored: ignored.map((g) => g.group) };
}

const sameDaemon = (want: SyncDaemon, have: SyncDaemon): boolean =>
  want.state === have.state &&
  want.interface === have.interface &&
  want.syncId === have.syncId &&
  // The kernel picks a length from the MTU when none is given: compare only a configured one.
  (want.maxLength === undefined || want.maxLength === have.maxLength);

/** Starts and stops the kernel's sync daemons to match a plan; touches only daemons it started. */
export class SyncDaemonController {
  /** Daemon states this agent started (a daemon started by someone else is left alone unless replaced). */
  private readonly started = new Set<SyncDaemonState>();
  private lastIgnored = "";

  constructor(
    private readonly ipvs: IpvsControl,
    private readonly log: Logger,
  ) {}

  async apply(plan: SyncDaemonPlan): Promise<void> {
    const ignored = plan.ignored.join(",");
    if (ignored !== "" && ignored !== this.lastIgnored) {
      this.log.warn("connection sync is enabled on several groups; the kernel runs one sync daemon pair", {
        used: plan.group,
        ignored,
      });
    }
    this.lastIgnored = ignored;
    const running = await this.ipvs.listSyncDaemons();
    for (const have of running) {
      const want = plan.daemons.find((d) => d.state === have.state);
      if (want !== undefined && sameDaemon(want, have)) continue;
      if (want === undefined && !this.started.has(have.state)) continue;
      await this.ipvs.stopSyncDaemon(have.state);
      this.started.delete(have.state);
      this.log.info("IPVS sync daemon stopped", {
        state: have.state,
        interface: have.interface,
        syncId: have.syncId,
      });
    }
    for (const want of plan.daemons) {
      if (running.some((have) => sameDaemon(want, have))) {
        this.started.add(want.state);
        continue;
      }
      await this.ipvs.startSyncDaemon(want);
      this.started.add(want.state);
      this.log.info("IPVS sync daemon started", {
        state: want.state,
        interface: want.interface,
        syncId: want.syncId,
        group: plan.group,
      });
    }
  }

  /** Stops the daemons this agent started (agent stop: no longer Master nor Backup of anything). */
  async stopAll(): Promise<void> {
    await this.apply({ daemons: [], ignored: [] });
  }
}
