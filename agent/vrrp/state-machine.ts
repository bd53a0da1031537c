// One VRRP instance (virtual router) as a pure state machine: RFC 5798 section 6.4 (RFC 3768 for v2) with a
// Fault state for tracking like keepalived. It is driven by events (start, stop, advertReceived, timerFired,
// tracking and fault inputs, configChanged) against an injected Scheduler and ActionSink; it never reads a
// clock or touches a socket, so tests drive it with a fake clock to the microsecond.
import { canonicalAddress, compareAddresses } from "./address.js";
import { diffInstanceConfig, validateInstanceConfig } from "./config.js";
import type { InstanceConfigDiff, VirtualAddress, VrrpInstanceConfig } from "./config.js";
import { newCounters } from "./counters.js";
import type { DropReason, VrrpCounters } from "./counters.js";
import { GarpSchedule } from "./garp.js";
import type { AnnounceBurst } from "./garp.js";
import { simplePasswordAuthData } from "./packet.js";
import type { DecodedAdvert, VrrpAdvert } from "./packet.js";
import type {
  AdvertMeta,
  AdvertSchedule,
  LogLevel,
  Scheduler,
  TimerKind,
  TransitionReason,
  VrrpActionSink,
  VrrpState,
} from "./ports.js";
import { ReceivedAdvertMemo } from "./received-advert.js";
import { masterDownIntervalUs, msToUs, skewTimeUs, usToMs } from "./timers.js";
import { PriorityTracker } from "./tracking.js";

/** The coordinator of a sync group, as a member sees it (see sync-group.ts). */
export interface SyncGroupGate {
  readonly name: string;
  /** Asked when the member's Master_Down_Timer fires: may it become Master now? */
  mayBecomeMaster(member: VrrpInstance): boolean;
  /** Told after every state change of the member. */
  memberTransitioned(member: VrrpInstance, from: VrrpState, to: VrrpState, reason: TransitionReason): void;
  /** Told when the member's own faults (not the ones the group imposed) appear or clear. */
  memberFaultsChanged(member: VrrpInstance): void;
}

/** The fault source the tracker drives; other sources come from the I/O layer and the sync group. */
export const TRACKING_FAULT_SOURCE = "tracking";

export interface VrrpInstanceStatus {
  readonly name: string;
  readonly state: VrrpState;
  readonly vrid: number;
  readonly version: 2 | 3;
  readonly basePriority: number;
  readonly effectivePriority: number;
  /** The Master we last accepted an advert from (Backup), or our own primary address (Master). */
  readonly masterAddress: string | undefined;
  readonly masterPriority: number | undefined;
  readonly masterAdvertIntervalMs: number;
  /** Fault sources and why, when in Fault (or about to be on start). */
  readonly faults: Readonly<Record<string, string>>;
  /** Sync group member held in Backup while its Master_Down_Timer has expired, waiting for the group. */
  readonly wantsMaster: boolean;
  readonly counters: VrrpCounters;
}

export interface VrrpInstanceDeps {
  readonly scheduler: Scheduler;
  readonly actions: VrrpActionSink;
}

/** Why the running Master_Down_Timer will fire, i.e. the reason we will give for becoming Master. */
type DownTimerCause = "master-down" | "master-resigned" | "preempt";

export class VrrpInstance {
  private config: VrrpInstanceConfig;
  private readonly scheduler: Scheduler;
  private readonly actions: VrrpActionSink;
  private readonly tracker: PriorityTracker;
  private readonly garp: GarpSchedule;
  /** Counters; advertsSent leaves out the rounds of the running advert schedule (see `counters`). */
  private readonly tally: VrrpCounters = newCounters();
  /** The Master's Adver_Timer, run by the I/O layer, and when its first advert went out. */
  private advertising: AdvertSchedule | undefined;
  private advertPhaseUs = 0;

  private current: VrrpState = "initialize";
  private running = false;
  private priority: number;
  private readonly faultSources = new Map<string, string>();
  private masterAdverIntervalUs: number;
  private masterAddress: string | undefined;
  private masterPriority: number | undefined;
  private downTimerCause: DownTimerCause = "master-down";
  private downTimerDeadlineUs: number | undefined;
  /** keepalived's preempt_time: until then a lower-priority Master is tolerated (preempt_delay). */
  private preemptAfterUs: number | undefined;
  private heldForSyncGroup = false;
  private syncGroup: SyncGroupGate | undefined;
  private peers: Set<string>;
  private ownVirtualAddresses: Set<string>;
  /** Our primary address in canonical form: an advert from it is our own. */
  private canonicalPrimary: string;
  private readonly receivedAdverts = new ReceivedAdvertMemo();
  /** Our advert with priority left to fill in: built once per config, the Master sends it every interval. */
  private advertTemplate: VrrpAdvert;

  constructor(config: VrrpInstanceConfig, deps: VrrpInstanceDeps) {
    validateInstanceConfig(config);
    this.config = config;
    this.scheduler = deps.scheduler;
    this.actions = deps.actions;
    this.tracker = new PriorityTracker(config.priority, config.trackInterfaces, config.trackScripts);
    this.garp = new GarpSchedule(config.garp);
    this.masterAdverIntervalUs = config.advertIntervalMs * 1000;
    this.peers = new Set(config.unicastPeers.map(canonicalAddress));
    this.ownVirtualAddresses = new Set(config.virtualAddresses.map((v) => canonicalAddress(v.address)));
    this.canonicalPrimary = canonicalAddress(config.primaryAddress);
    this.advertTemplate = VrrpInstance.advertTemplateFor(config);
    const tracking = this.tracker.status();
    this.priority = tracking.effectivePriority;
    if (tracking.faults.length > 0) this.faultSources.set(TRACKING_FAULT_SOURCE, tracking.faults.join("; "));
  }

  get name(): string {
    return this.config.name;
  }

  get state(): VrrpState {
    return this.current;
  }

  get effectivePriority(): number {
    return this.priority;
  }

  get instanceConfig(): VrrpInstanceConfig {
    return this.config;
  }

  /** A snapshot of the counters, the adverts the I/O layer sent on the running schedule included. */
  get counters(): VrrpCounters {
    const snapshot = structuredClone(this.tally);
    snapshot.advertsSent += this.advertising?.rounds ?? 0;
    snapshot.advertsWithheld += this.advertising?.withheld ?? 0;
    snapshot.advertsMissed += this.advertising?.missed ?? 0;
    return snapshot;
  }

  /** True while the member's down timer has expired but its sync group holds it in Backup. */
  get wantsMaster(): boolean {
    return this.heldForSyncGroup;
  }

  /** Why the fault from this source is on, or undefined when it is off. */
  faultReason(source: string): string | undefined {
    return this.faultSources.get(source);
  }

  /** Fault sources other than sync groups: what this instance itself is faulty for. */
  get ownFaults(): readonly string[] {
    return [...this.faultSources.keys()].filter((source) => !source.startsWith("sync-group:"));
  }

  status(): VrrpInstanceStatus {
    const isMaster = this.current === "master";
    return {
      name: this.config.name,
      state: this.current,
      vrid: this.config.vrid,
      version: this.config.version,
      basePriority: this.config.priority,
      effectivePriority: this.priority,
      masterAddress: isMaster ? canonicalAddress(this.config.primaryAddress) : this.masterAddress,
      masterPriority: isMaster ? this.priority : this.masterPriority,
      masterAdvertIntervalMs: usToMs(this.masterAdverIntervalUs),
      faults: Object.fromEntries(this.faultSources),
      wantsMaster: this.heldForSyncGroup,
      counters: this.counters,
    };
  }

  attachSyncGroup(gate: SyncGroupGate): void {
    if (this.syncGroup !== undefined && this.syncGroup !== gate) {
      throw new Error(
        `VRRP instance ${this.name} is already in sync group ${this.syncGroup.name}, not also ${gate.name}`,
      );
    }
    this.syncGroup = gate;
  }

  // ---------------------------------------------------------------- events

  /** Startup: Initialize → Master (address owner), Backup, or Fault while a fault is present. */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.faultSources.size > 0) this.enterFault("fault", this.faultSummary());
    else this.leaveIdle("startup");
  }

  /** Shutdown: a Master resigns with a priority-0 advert and removes its addresses. Back to Initialize. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    if (this.current === "master") this.resignMaster();
    this.cancelAllTimers();
    this.heldForSyncGroup = false;
    this.setState("initialize", "stop", "instance stopped");
  }

  advertReceived(packet: Uint8Array, meta: AdvertMeta): void {
    if (!this.running || this.current === "initialize" || this.current === "fault") {
      this.drop("inactive", meta, `instance is ${this.current}`, "debug");
      return;
    }
    if (meta.ttl !== 255) {
      this.drop("bad-ttl", meta, `TTL/hop limit ${meta.ttl}, must be 255`);
      return;
    }
    const received = this.receivedAdverts.read(packet, meta, this.config.checksumVariant);
    if (received.srcFamily !== this.config.family || received.dstFamily !== this.config.family) {
      this.drop("wrong-family", meta, `packet ${meta.src} → ${meta.dst} is not ${this.config.family}`);
      return;
    }
    const source = received.canonicalSrc!; // the family check above saw a valid address
    const decoded = received.decoded;
    if (!decoded.ok) {
      this.drop(decoded.error.reason, meta, decoded.error.detail);
      return;
    }
    const advert = decoded.advert;
    const rejection = this.validate(advert, meta, source);
    if (rejection !== undefined) {
      this.drop(rejection.reason, meta, rejection.detail, rejection.level);
      return;
    }
    if (!this.addressListMatches(advert)) {
      const detail = `advert lists ${advert.addresses.join(",")}, ours ${[...this.ownVirtualAddresses].join(",")}`;
      if (this.config.addressListPolicy === "drop") {
        this.drop("address-list-mismatch", meta, detail);
        return;
      }
      this.tally.addressListMismatchAccepted++;
      this.log(
        "warn",
        "address-list-mismatch",
        `accepting advert from ${meta.src} with another address list`,
        {
          src: meta.src,
          detail,
        },
      );
    }
    this.tally.advertsReceived++;
    if (advert.priority === 0) this.tally.priorityZeroReceived++;
    if (this.current === "backup") this.backupReceived(advert, source);
    else this.masterReceived(advert, source);
  }

  timerFired(kind: TimerKind): void {
    switch (kind) {
      case "master-down":
        if (this.current === "backup") this.masterDownTimerFired();
        return;
      case "garp-delay":
        if (this.current === "master") this.announce(this.garp.onDelayElapsed());
        return;
      case "garp-refresh":
        if (this.current === "master") {
          this.announce(this.garp.onRefreshTimer(this.nowUs()));
          this.armRefreshTimer();
        }
        return;
    }
  }

  /** Link state of an interface, from the I/O layer (netlink). Untracked interfaces are ignored. */
  interfaceChanged(name: string, up: boolean): void {
    if (this.tracker.interfaceChanged(name, up)) {
      this.applyTracking(`interface ${name} ${up ? "up" : "down"}`);
    }
  }

  /** One run of a tracked script finished (ok = exit status 0), from the I/O layer. */
  scriptResult(name: string, ok: boolean): void {
    if (this.tracker.scriptResult(name, ok)) {
      this.applyTracking(`script ${name} ${ok ? "succeeded" : "failed"}`);
    }
  }

  /**
   * A fault from a named source turns on or off (the I/O layer: e.g. "link" when the instance's interface or
   * primary address is gone; sync groups use "sync-group:NAME"). Any active source holds the instance in Fault.
   */
  fault(active: boolean, source: string, reason = ""): void {
    const had = this.faultSources.has(source);
    if (active) this.faultSources.set(source, reason === "" ? source : reason);
    else this.faultSources.delete(source);
    if (had !== active && !source.startsWith("sync-group:")) this.syncGroup?.memberFaultsChanged(this);
    this.applyFaults(active ? `${source}: ${reason}` : `${source} cleared`);
  }

  /**
   * Reload with a new config. When the diff keeps state the config is applied live (priority, interval,
   * addresses, tracking, GARP, notify...) and the state is kept; otherwise nothing changes and the caller
   * must replace the instance (stop, then start a new one).
   */
  configChanged(next: VrrpInstanceConfig): InstanceConfigDiff {
    validateInstanceConfig(next);
    const diff = diffInstanceConfig(this.config, next);
    if (!diff.keepsState || diff.changed.length === 0) return diff;
    const previous = this.config;
    this.config = next;
    this.peers = new Set(next.unicastPeers.map(canonicalAddress));
    this.ownVirtualAddresses = new Set(next.virtualAddresses.map((v) => canonicalAddress(v.address)));
    this.canonicalPrimary = canonicalAddress(next.primaryAddress);
    this.advertTemplate = VrrpInstance.advertTemplateFor(next);
    // a v3 Backup keeps the interval it adopted from the Master; otherwise ours is the Master's
    if (next.version === 2 || this.current !== "backup") {
      this.masterAdverIntervalUs = this.ownAdvertIntervalUs();
    }
    this.garp.reconfigure(next.garp, this.current === "master" ? this.nowUs() : undefined);
    if (this.current === "master") {
      // the new interval starts a new advert phase at once; other changes ride on the running one
      if (next.advertIntervalMs !== previous.advertIntervalMs) this.startAdvertising();
      else this.advertising?.update(this.currentAdvert());
      this.armRefreshTimer();
      if (diff.changed.includes("virtualAddresses")) this.reconcileAddresses(previous);
    }
    if (!next.preempt || next.preemptDelayMs === 0) this.preemptAfterUs = undefined;
    this.log("info", "config-reloaded", `applied live: ${diff.changed.join(", ")}`, { state: this.current });
    this.tracker.reconfigure(next.priority, next.trackInterfaces, next.trackScripts);
    this.applyTracking("configuration reloaded");
    return diff;
  }

  // ------------------------------------------------- sync group commands

  /** The sync group moves this Backup member to Master with the rest of the group. */
  syncGoMaster(detail: string): void {
    if (this.running && this.current === "backup") this.becomeMaster("sync-group", detail);
  }

  /** The sync group moves this Master member to Backup with the rest of the group. */
  syncGoBackup(detail: string): void {
    if (!this.running || this.current !== "master") return;
    // resign rather than fall silent: this member's peer takes over after Skew_Time, not Master_Down_Interval
    this.resignMaster();
    this.masterAddress = undefined;
    this.masterPriority = undefined;
    this.enterBackup("sync-group", detail, "master-down", this.masterDownUs());
  }

  // --------------------------------------------------------- internals

  private nowUs(): number {
    return msToUs(this.scheduler.now());
  }

  private setTimer(kind: TimerKind, atUs: number): void {
    this.scheduler.setTimer(kind, usToMs(atUs));
  }

  private cancelAllTimers(): void {
    this.stopAdvertising();
    this.scheduler.cancelTimer("master-down");
    this.scheduler.cancelTimer("garp-delay");
    this.scheduler.cancelTimer("garp-refresh");
    this.downTimerDeadlineUs = undefined;
  }

  private currentAdvert(): VrrpAdvert {
    return { ...this.advertTemplate, priority: this.priority };
  }

  /** Sends our advert now and hands the Adver_Timer to the I/O layer, phase-locked to now. */
  private startAdvertising(): void {
    this.stopAdvertising();
    this.advertPhaseUs = this.nowUs();
    this.advertising = this.actions.startAdvertising(this.currentAdvert(), this.config.advertIntervalMs);
  }

  private stopAdvertising(): void {
    if (this.advertising === undefined) return;
    this.advertising.stop();
    this.tally.advertsSent += this.advertising.rounds;
    this.tally.advertsWithheld += this.advertising.withheld;
    this.tally.advertsMissed += this.advertising.missed;
    this.advertising = undefined;
  }

  /**
   * keepalived checks the refresh whenever it sends an advert, so a refresh goes out with the first advert at
   * or after its due time: the timer is aligned to the advert ticks of the running schedule.
   */
  private armRefreshTimer(): void {
    const dueUs = this.garp.refreshDueUs;
    if (dueUs === undefined || this.advertising === undefined) {
      this.scheduler.cancelTimer("garp-refresh");
      return;
    }
    const intervalUs = this.ownAdvertIntervalUs();
    const ticks = Math.max(0, Math.ceil((dueUs - this.advertPhaseUs) / intervalUs));
    this.setTimer("garp-refresh", this.advertPhaseUs + ticks * intervalUs);
  }

  private ownAdvertIntervalUs(): number {
    return this.config.advertIntervalMs * 1000;
  }

  private skewUs(): number {
    return skewTimeUs(this.config.version, this.priority, this.masterAdverIntervalUs);
  }

  private masterDownUs(): number {
    return masterDownIntervalUs(this.config.version, this.priority, this.masterAdverIntervalUs);
  }

  private armDownTimer(cause: DownTimerCause, afterUs: number): void {
    this.downTimerCause = cause;
    this.downTimerDeadlineUs = this.nowUs() + afterUs;
    this.setTimer("master-down", this.downTimerDeadlineUs);
  }

  private faultSummary(): string {
    return [...this.faultSources.values()].join("; ");
  }

  private log(
    level: LogLevel,
    event: string,
    message: string,
    fields?: Record<string, string | number | boolean>,
  ): void {
    this.actions.log({ level, instance: this.config.name, event, message, ...(fields ? { fields } : {}) });
  }

  private drop(reason: DropReason, meta: AdvertMeta, detail: string, level: LogLevel = "warn"): void {
    this.tally.drops[reason]++;
    this.log(level, "advert-dropped", `dropped advert from ${meta.src}: ${reason}`, {
      reason,
      src: meta.src,
      detail,
    });
  }

  private setState(to: VrrpState, reason: TransitionReason, detail: string): void {
    const from = this.current;
    this.current = to;
    this.actions.transition({
      instance: this.config.name,
      from,
      to,
      reason,
      detail,
      atMs: this.scheduler.now(),
      priority: this.priority,
    });
    this.syncGroup?.memberTransitioned(this, from, to, reason);
  }

  private static advertTemplateFor(config: VrrpInstanceConfig): VrrpAdvert {
    const addresses = config.virtualAddresses.map((v) => canonicalAddress(v.address));
    if (config.version === 3) {
      return {
        version: 3,
        vrid: config.vrid,
        priority: 0,
        addresses,
        maxAdvertIntervalCs: config.advertIntervalMs / 10,
      };
    }
    const password = config.authPassword;
    return {
      version: 2,
      vrid: config.vrid,
      priority: 0,
      addresses,
      authType: password === undefined ? "none" : "simple",
      authData: password === undefined ? new Uint8Array(8) : simplePasswordAuthData(password),
      advertIntervalS: config.advertIntervalMs / 1000,
    };
  }

  /** One advert outside the schedule. */
  private sendAdvert(priority: number): void {
    this.actions.sendAdvert({ ...this.advertTemplate, priority });
    this.tally.advertsSent++;
    if (priority === 0) this.tally.priorityZeroSent++;
  }

  private announce(burst: AnnounceBurst | undefined): void {
    if (burst === undefined) return;
    this.actions.announce({ ...burst, addresses: this.config.virtualAddresses });
  }

  private validate(
    advert: DecodedAdvert,
    meta: AdvertMeta,
    source: string,
  ): { reason: DropReason; detail: string; level?: LogLevel } | undefined {
    if (advert.version !== this.config.version) {
      return {
        reason: "wrong-version",
        detail: `VRRPv${advert.version}, this instance runs v${this.config.version}`,
      };
    }
    if (advert.vrid !== this.config.vrid) {
      // another virtual router's packet: normal on a shared link, so not a warning
      return {
        reason: "wrong-vrid",
        detail: `VRID ${advert.vrid}, ours ${this.config.vrid}`,
        level: "debug",
      };
    }
    if (source === this.canonicalPrimary) {
      return { reason: "own-address", detail: "sent from our own primary address", level: "debug" };
    }
    if (this.peers.size > 0 && !this.peers.has(source)) {
      return { reason: "not-a-peer", detail: `${meta.src} is not among the unicast peers` };
    }
    if (advert.version === 2) {
      if (advert.authType === "ah") {
        return { reason: "auth-unsupported", detail: "IPsec AH authentication (type 2) is not supported" };
      }
      const password = this.config.authPassword;
      const wanted = password === undefined ? "none" : "simple";
      if (advert.authType !== wanted) {
        return { reason: "auth-mismatch", detail: `auth type ${advert.authType}, ours ${wanted}` };
      }
      if (password !== undefined && !Buffer.from(advert.authData).equals(simplePasswordAuthData(password))) {
        return { reason: "auth-mismatch", detail: "simple password differs" };
      }
      if (advert.advertIntervalS * 1000 !== this.config.advertIntervalMs) {
        return {
          reason: "interval-mismatch",
          detail: `advert interval ${advert.advertIntervalS} s, ours ${this.config.advertIntervalMs / 1000} s`,
        };
      }
    }
    return undefined;
  }

  private addressListMatches(advert: DecodedAdvert): boolean {
    if (advert.addresses.length !== this.ownVirtualAddresses.size) return false;
    return advert.addresses.every((address) => this.ownVirtualAddresses.has(address));
  }

  /** RFC 5798 6.4.2, "Backup": the advert passed validation. */
  private backupReceived(advert: DecodedAdvert, src: string): void {
    const now = this.nowUs();
    if (advert.priority === 0) {
      // the Master resigned: take over after Skew_Time, unless someone better speaks first
      this.masterAddress = undefined;
      this.masterPriority = undefined;
      this.armDownTimer("master-resigned", this.skewUs());
      this.log(
        "info",
        "master-resigned",
        `Master ${src} resigned (priority 0); down timer set to Skew_Time`,
        {
          src,
          skewMs: usToMs(this.skewUs()),
        },
      );
      return;
    }
    const preemptDelayPending =
      this.config.preemptDelayMs > 0 && (this.preemptAfterUs === undefined || this.preemptAfterUs > now);
    if (!this.config.preempt || advert.priority >= this.priority || preemptDelayPending) {
      if (advert.version === 3) this.masterAdverIntervalUs = advert.maxAdvertIntervalCs * 10_000;
      this.masterAddress = src;
      this.masterPriority = advert.priority;
      this.heldForSyncGroup = false;
      this.armDownTimer("master-down", this.masterDownUs());
      if (this.config.preempt && this.config.preemptDelayMs > 0) {
        if (advert.priority >= this.priority) this.preemptAfterUs = undefined;
        else this.preemptAfterUs ??= now + this.config.preemptDelayMs * 1000;
      }
      return;
    }
    // preempt: a lower-priority Master's adverts are discarded, so our down timer runs out
    this.tally.lowerPriorityDiscarded++;
    this.masterAddress = src;
    this.masterPriority = advert.priority;
    this.downTimerCause = "preempt";
    this.log(
      "debug",
      "lower-priority-discarded",
      `discarding advert from ${src} with lower priority ${advert.priority}`,
      {
        src,
        priority: advert.priority,
        ours: this.priority,
      },
    );
  }

  /** RFC 5798 6.4.3, "Master": the advert passed validation. */
  private masterReceived(advert: DecodedAdvert, src: string): void {
    if (advert.priority === 0) {
      // another router resigned: assert ourselves at once and reset the Adver_Timer (RFC 5798 6.4.3)
      this.startAdvertising();
      this.armRefreshTimer();
      return;
    }
    const order = advert.priority - this.priority || compareAddresses(src, this.config.primaryAddress);
    if (order > 0) {
      const detail =
        advert.priority > this.priority
          ? `advert from ${src} with priority ${advert.priority} > ours ${this.priority}`
          : `advert from ${src} with our priority ${advert.priority} and a higher primary address`;
      this.stopBeingMaster();
      if (advert.version === 3) this.masterAdverIntervalUs = advert.maxAdvertIntervalCs * 10_000;
      this.masterAddress = src;
      this.masterPriority = advert.priority;
      this.enterBackup("higher-priority", detail, "master-down", this.masterDownUs());
      return;
    }
    this.log(
      "info",
      "lower-priority-advert",
      `Master received advert from ${src} with lower priority ${advert.priority}`,
      {
        src,
        priority: advert.priority,
        ours: this.priority,
      },
    );
    if (this.config.advertOnLowerPriority) this.sendAdvert(this.priority);
  }

  private masterDownTimerFired(): void {
    this.downTimerDeadlineUs = undefined;
    const cause = this.downTimerCause;
    if (this.syncGroup !== undefined && !this.syncGroup.mayBecomeMaster(this)) {
      // keepalived's vrrp_sync_can_goto_master: wait for the rest of the group rather than thrash
      this.heldForSyncGroup = true;
      this.armDownTimer(cause, this.masterDownUs());
      this.log(
        "info",
        "sync-group-hold",
        `down timer expired; sync group ${this.syncGroup.name} holds us in Backup`,
      );
      return;
    }
    const detail = {
      "master-down":
        this.masterAddress === undefined ? "no advert heard" : `no advert from ${this.masterAddress}`,
      "master-resigned": "the Master resigned and Skew_Time passed",
      preempt: `preempting ${this.masterAddress ?? "the Master"} (priority ${this.masterPriority ?? "?"} < ${this.priority})`,
    }[cause];
    this.becomeMaster(cause, detail);
  }

  /** Backup (or Initialize/Fault) → Master: advert first, then addresses, then gratuitous ARPs, all in one turn. */
  private becomeMaster(reason: TransitionReason, detail: string): void {
    const now = this.nowUs();
    this.scheduler.cancelTimer("master-down");
    this.downTimerDeadlineUs = undefined;
    this.heldForSyncGroup = false;
    this.masterAddress = undefined;
    this.masterPriority = undefined;
    this.preemptAfterUs = undefined;
    this.masterAdverIntervalUs = this.ownAdvertIntervalUs();
    this.startAdvertising();
    this.actions.becomeMaster(this.config.virtualAddresses);
    const plan = this.garp.onBecomeMaster(now);
    this.announce(plan.now);
    if (plan.delayedAtUs !== undefined) this.setTimer("garp-delay", plan.delayedAtUs);
    this.armRefreshTimer();
    this.tally.becameMaster++;
    this.setState("master", reason, detail);
  }

  /** Leaves Master without resigning: timers off, addresses removed. */
  private stopBeingMaster(): void {
    this.stopAdvertising();
    this.scheduler.cancelTimer("garp-delay");
    this.scheduler.cancelTimer("garp-refresh");
    this.garp.onLeaveMaster();
    this.actions.leaveMaster(this.config.virtualAddresses);
    this.tally.releasedMaster++;
  }

  /** Leaves Master announcing it: priority-0 advert first so a Backup takes over after Skew_Time. */
  private resignMaster(): void {
    this.stopAdvertising();
    this.sendAdvert(0);
    this.stopBeingMaster();
  }

  private enterBackup(reason: TransitionReason, detail: string, cause: DownTimerCause, downUs: number): void {
    this.preemptAfterUs = undefined;
    this.armDownTimer(cause, downUs);
    this.setState("backup", reason, detail);
  }

  /** Initialize/Fault → Master (address owner) or Backup, as RFC 5798 6.4.1 "Initialize". */
  private leaveIdle(reason: "startup" | "fault-cleared"): void {
    this.masterAdverIntervalUs = this.ownAdvertIntervalUs();
    this.masterAddress = undefined;
    this.masterPriority = undefined;
    this.heldForSyncGroup = false;
    if (this.priority === 255) {
      this.becomeMaster("address-owner", "priority 255: we own the virtual addresses");
      return;
    }
    this.preemptAfterUs =
      this.config.preempt && this.config.preemptDelayMs > 0
        ? this.nowUs() + this.config.preemptDelayMs * 1000
        : undefined;
    this.armDownTimer("master-down", this.masterDownUs());
    this.setState("backup", reason, reason === "startup" ? "started" : "all faults cleared");
  }

  private enterFault(reason: TransitionReason, detail: string): void {
    if (this.current === "master") this.resignMaster();
    this.cancelAllTimers();
    this.heldForSyncGroup = false;
    this.setState("fault", reason, detail);
  }

  private applyFaults(why: string): void {
    if (!this.running) return;
    if (this.faultSources.size > 0 && this.current !== "fault") this.enterFault("fault", this.faultSummary());
    else if (this.faultSources.size === 0 && this.current === "fault") this.leaveIdle("fault-cleared");
    else if (this.current === "fault")
      this.log("info", "fault-update", `still in Fault (${why})`, { faults: this.faultSummary() });
  }

  private applyTracking(why: string): void {
    const status = this.tracker.status();
    if (status.effectivePriority !== this.priority) this.changePriority(status.effectivePriority, why);
    const trackingFault = status.faults.join("; ");
    const previous = this.faultSources.get(TRACKING_FAULT_SOURCE) ?? "";
    if (trackingFault !== previous) this.fault(trackingFault !== "", TRACKING_FAULT_SOURCE, trackingFault);
  }

  private changePriority(next: number, why: string): void {
    const previous = this.priority;
    const oldDownUs = this.masterDownUs();
    this.priority = next;
    this.log("info", "priority-changed", `effective priority ${previous} → ${next} (${why})`, {
      from: previous,
      to: next,
    });
    // a Master's next advert carries the new priority, on the running schedule
    if (this.current === "master") this.advertising?.update(this.currentAdvert());
    // keepalived: a Backup whose priority rose shortens the running down timer by the smaller skew
    if (this.current === "backup" && next > previous && this.downTimerDeadlineUs !== undefined) {
      this.downTimerDeadlineUs -= oldDownUs - this.masterDownUs();
      this.setTimer("master-down", this.downTimerDeadlineUs);
    }
  }

  private reconcileAddresses(previous: VrrpInstanceConfig): void {
    const key = (v: VirtualAddress): string => `${canonicalAddress(v.address)}/${v.prefixLength}`;
    const before = new Set(previous.virtualAddresses.map(key));
    const after = new Set(this.config.virtualAddresses.map(key));
    const add = this.config.virtualAddresses.filter((v) => !before.has(key(v)));
    const remove = previous.virtualAddresses.filter((v) => !after.has(key(v)));
    if (add.length === 0 && remove.length === 0) return;
    this.actions.updateAddresses({ add, remove });
    if (add.length > 0 && this.config.garp.masterRepeat > 0) {
      this.actions.announce({
        reason: "addresses-added",
        addresses: add,
        repeat: this.config.garp.masterRepeat,
        spacingMs: this.config.garp.intervalMs,
      });
    }
  }
}
