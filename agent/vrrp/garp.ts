// The gratuitous ARP / unsolicited NA schedule of a Master, after keepalived:
//  - on becoming Master: one burst of garp_master_repeat messages, right after the first advert;
//  - garp_master_delay later (if not 0 and still Master): the same burst again;
//  - every garp_master_refresh (if not 0) while Master: a burst of garp_master_refresh_repeat. keepalived checks
//    the refresh on each advert it sends; so does this schedule: the refresh goes out with the first advert
//    at or after the period, and the next period starts then.
// Leaving Master drops whatever is pending.
import type { GarpConfig } from "./config.js";
import type { AnnounceReason } from "./ports.js";

export interface AnnounceBurst {
  readonly reason: AnnounceReason;
  readonly repeat: number;
  readonly spacingMs: number;
}

export interface BecomeMasterPlan {
  /** Sent at once, after the first advert. */
  readonly now: AnnounceBurst | undefined;
  /** When to send the delayed burst (microseconds), if at all. */
  readonly delayedAtUs: number | undefined;
}

export class GarpSchedule {
  private refreshDueUs: number | undefined;
  private delayedPending = false;

  constructor(private config: GarpConfig) {}

  /** New settings on reload; `nowUsIfMaster` is the current time when we are Master (refresh on/off applies at once). */
  reconfigure(config: GarpConfig, nowUsIfMaster?: number): void {
    this.config = config;
    if (nowUsIfMaster === undefined) return;
    if (config.masterRefreshMs === 0) this.refreshDueUs = undefined;
    else this.refreshDueUs ??= nowUsIfMaster + config.masterRefreshMs * 1000;
  }

  private burst(reason: AnnounceReason, repeat: number): AnnounceBurst | undefined {
    return repeat > 0 ? { reason, repeat, spacingMs: this.config.intervalMs } : undefined;
  }

  onBecomeMaster(nowUs: number): BecomeMasterPlan {
    const { masterRepeat, masterDelayMs, masterRefreshMs } = this.config;
    this.refreshDueUs = masterRefreshMs > 0 ? nowUs + masterRefreshMs * 1000 : undefined;
    this.delayedPending = masterDelayMs > 0 && masterRepeat > 0;
    return {
      now: this.burst("become-master", masterRepeat),
      delayedAtUs: this.delayedPending ? nowUs + masterDelayMs * 1000 : undefined,
    };
  }

  /** The garp_master_delay timer went off. */
  onDelayElapsed(): AnnounceBurst | undefined {
    if (!this.delayedPending) return undefined;
    this.delayedPending = false;
    return this.burst("master-delay", this.config.masterRepeat);
  }

  /** The Master sent a periodic advert: a refresh burst if one is due. */
  onAdvertSent(nowUs: number): AnnounceBurst | undefined {
    if (this.refreshDueUs === undefined || nowUs < this.refreshDueUs) return undefined;
    this.refreshDueUs = nowUs + this.config.masterRefreshMs * 1000;
    return this.burst("refresh", this.config.masterRefreshRepeat);
  }

  onLeaveMaster(): void {
    this.refreshDueUs = undefined;
    this.delayedPending = false;
  }
}
