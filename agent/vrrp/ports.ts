// The edges of the VRRP core: the clock it is driven by and the actions it asks the I/O layer to perform.
// The core never reads a real clock and never touches a socket; everything goes through these interfaces.
import type { VirtualAddress } from "./config.js";
import type { VrrpAdvert } from "./packet.js";

/** The instance's timers: one of each kind at most, re-arming a kind replaces it. */
export type TimerKind =
  /** Backup: the Master_Down_Timer */
  | "master-down"
  /** Master: the second gratuitous ARP burst (garp_master_delay) */
  | "garp-delay"
  /** Master: the periodic gratuitous ARP refresh (garp_master_refresh) */
  | "garp-refresh";

/**
 * Monotonic clock and timers in milliseconds. Values may carry a fraction: the core computes in whole
 * microseconds (Skew_Time is not a whole number of milliseconds) and asks for deadlines at that resolution.
 * When a timer is due the owner calls `instance.timerFired(kind)`.
 */
export interface Scheduler {
  now(): number;
  setTimer(kind: TimerKind, atMs: number): void;
  cancelTimer(kind: TimerKind): void;
}

export type VrrpState = "initialize" | "backup" | "master" | "fault";

export type TransitionReason =
  /** Initialize → Master: priority 255, we own the addresses */
  | "address-owner"
  /** Initialize/Fault → Backup */
  | "startup"
  /** Backup → Master: no advert for Master_Down_Interval (the Master died, or none was ever heard) */
  | "master-down"
  /** Backup → Master: the Master resigned (priority 0) and Skew_Time passed */
  | "master-resigned"
  /** Backup → Master: we discarded a lower-priority Master's adverts (preemption) */
  | "preempt"
  /** Master → Backup: a higher priority, or an equal one from a higher primary address */
  | "higher-priority"
  /** moved by the sync group together with another member */
  | "sync-group"
  | "fault"
  | "fault-cleared"
  /** → Initialize on stop (resign) */
  | "stop";

export interface TransitionEvent {
  readonly instance: string;
  readonly from: VrrpState;
  readonly to: VrrpState;
  readonly reason: TransitionReason;
  readonly detail: string;
  readonly atMs: number;
  readonly priority: number;
}

export type AnnounceReason = "become-master" | "master-delay" | "refresh" | "addresses-added";

/** A burst of gratuitous ARPs (IPv4) or unsolicited neighbour advertisements (IPv6) for the addresses. */
export interface AnnounceRequest {
  readonly reason: AnnounceReason;
  readonly addresses: readonly VirtualAddress[];
  /** Messages per address. */
  readonly repeat: number;
  /** Spacing between the messages of the burst (keepalived's garp_interval); 0 = back to back. */
  readonly spacingMs: number;
}

export type LogLevel = "debug" | "info" | "warn" | "error";

/** A structured log record; the I/O layer writes it as JSON. */
export interface VrrpLogEntry {
  readonly level: LogLevel;
  readonly instance: string;
  readonly event: string;
  readonly message: string;
  readonly fields?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * The Master's Adver_Timer, run by the I/O layer: the same advert every interval. The core hands the whole
 * period to the I/O layer because a Master's adverts never change between events, so the steady state
 * needs no work from the core (the agent sends them from native code without entering JavaScript).
 */
export interface AdvertSchedule {
  /** Adverts sent so far by this schedule, the first (immediate) one included. */
  readonly rounds: number;
  /**
   * Rounds not sent because the agent's event loop was stalled past its lease (the advert thread
   * falls silent with a hung agent, so a Backup takes over instead of a zombie Master holding on).
   */
  readonly withheld: number;
  /**
   * Rounds skipped because the sender woke after the next round was due already (an overloaded
   * node): late rounds are dropped, never sent in a burst.
   */
  readonly missed: number;
  /** The next rounds carry this advert (a new priority, addresses...); the phase is kept, nothing is sent now. */
  update(advert: VrrpAdvert): void;
  /** Stops sending; idempotent. */
  stop(): void;
}

/**
 * What the core asks the I/O layer to do, in the order it must happen. On becoming Master the calls come
 * back to back in one turn: startAdvertising, becomeMaster, announce, transition; the I/O layer sends the
 * first advert and the gratuitous ARPs in the same millisecond.
 */
export interface VrrpActionSink {
  /**
   * Send this advert now and then every `intervalMs` (RFC 5798 Adver_Timer), phase-locked to this call,
   * until the schedule is stopped. At most one schedule runs per instance: the core stops the previous one
   * first. Encode for the multicast group or each unicast peer with the instance's checksum variant.
   */
  startAdvertising(advert: VrrpAdvert, intervalMs: number): AdvertSchedule;
  /** Send this advert once (a priority-0 resign, or the answer to a lower-priority Master). */
  sendAdvert(advert: VrrpAdvert): void;
  /** Add the virtual addresses (and, in accept mode, let them answer). */
  becomeMaster(addresses: readonly VirtualAddress[]): void;
  /** Remove the virtual addresses. */
  leaveMaster(addresses: readonly VirtualAddress[]): void;
  /** While Master, the configured addresses changed on reload: add and remove these. */
  updateAddresses(change: {
    readonly add: readonly VirtualAddress[];
    readonly remove: readonly VirtualAddress[];
  }): void;
  announce(request: AnnounceRequest): void;
  transition(event: TransitionEvent): void;
  log(entry: VrrpLogEntry): void;
}

/** Metadata of a received VRRP packet, from the IP header and the socket. */
export interface AdvertMeta {
  readonly src: string;
  readonly dst: string;
  /** IPv4 TTL or IPv6 hop limit; RFC 5798 requires 255. */
  readonly ttl: number;
  readonly ifindex?: number;
}
