// keepalived's vrrp_sync_group: instances that must fail over together (e.g. the outside VIP and the inside
// gateway of one LVS director). The coordinator is pure; it steers its members through their sync commands.
//  - Fault: while any member is faulty on its own account, every other member is held in Fault too
//    (fault source "sync-group:NAME"); when the last own fault clears, they all leave Fault together.
//  - Master: a member whose Master_Down_Timer fires becomes Master only if every other member also wants
//    Master (is Master, or its own down timer expired and it is being held). Otherwise it is held in Backup
//    and re-arms its timer: keepalived prefers Backup to thrashing. When a member does become Master, the
//    members still in Backup follow at once.
//  - Backup: when a Master member falls back to Backup (it heard a better router), the other Master members
//    resign and follow.
import type { TransitionReason, VrrpState } from "./ports.js";
import type { SyncGroupGate, VrrpInstance } from "./state-machine.js";

export class VrrpSyncGroup implements SyncGroupGate {
  private readonly members: readonly VrrpInstance[];
  /** Set while the group itself moves members, so their transitions do not echo back. */
  private steering = false;

  constructor(
    readonly name: string,
    members: readonly VrrpInstance[],
  ) {
    if (members.length < 2) {
      throw new Error(
        `VRRP sync group ${JSON.stringify(name)} needs at least 2 members, got ${members.length}`,
      );
    }
    const names = new Set(members.map((m) => m.name));
    if (names.size !== members.length)
      throw new Error(`VRRP sync group ${JSON.stringify(name)} lists a member twice`);
    this.members = members;
    for (const member of members) member.attachSyncGroup(this);
    this.updateSyncFaults();
  }

  get faultSource(): string {
    return `sync-group:${this.name}`;
  }

  get memberNames(): readonly string[] {
    return this.members.map((m) => m.name);
  }

  mayBecomeMaster(member: VrrpInstance): boolean {
    return this.members.every((m) => m === member || m.state === "master" || m.wantsMaster);
  }

  memberTransitioned(member: VrrpInstance, from: VrrpState, to: VrrpState, reason: TransitionReason): void {
    if (this.steering) return;
    this.steering = true;
    try {
      const others = this.members.filter((m) => m !== member);
      if (to === "master") {
        const detail = `sync group ${this.name}: ${member.name} became Master (${reason})`;
        for (const other of others) if (other.state === "backup") other.syncGoMaster(detail);
      } else if (from === "master" && to === "backup") {
        const detail = `sync group ${this.name}: ${member.name} went back to Backup (${reason})`;
        for (const other of others) if (other.state === "master") other.syncGoBackup(detail);
      }
    } finally {
      this.steering = false;
    }
  }

  memberFaultsChanged(_member: VrrpInstance): void {
    this.updateSyncFaults();
  }

  /** Every member carries the group fault exactly while some other member is faulty on its own. */
  private updateSyncFaults(): void {
    for (const member of this.members) {
      const culprits = this.members.filter((m) => m !== member && m.ownFaults.length > 0);
      const reason =
        culprits.length === 0
          ? undefined
          : `sync group ${this.name}: ${culprits.map((m) => m.name).join(", ")} in Fault`;
      if (member.faultReason(this.faultSource) !== reason) {
        member.fault(reason !== undefined, this.faultSource, reason ?? "");
      }
    }
  }
}
