// The gratuitous ARP / unsolicited NA schedule of a Master, after keepalived:
//  - on becoming Master: one burst of garp_master_repeat messages, right after the first advert;
//  - garp_master_delay later (if not 0 and still Master): the same burst again;
//  - every garp_master_refresh (if not 0) while Master: a burst of garp_master_refresh_repeat. keepalived checks
//    the refresh on each advert it sends, so the refresh goes out with the first advert at or after the period
//    and the next period starts then; the core keeps that timing with a timer aligned to the advert ticks.
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
  private nextRefreshUs: number | undefined;
  private delayedPending = false;

  constructor(private config: GarpConfig) {}

  /** New settings on reload; `nowUsIfMaster` is the current time when we are Master (refresh on/off applies at once). */
  reconfigure(config: GarpConfig, nowUsIfMaster?: number): void {
    this.config = config;
    if (nowUsIfMaster === undefined) return;
    if (config.masterRefreshMs === 0) this.nextRefreshUs = undefined;
    else this.nextRefreshUs ??= nowUsIfMaster + config.masterRefreshMs * 1000;
  }

  private burst(reason: AnnounceReason, repeat: number): AnnounceBurst | undefined {
    return repeat > 0 ? { reason, repeat, spacingMs: this.config.intervalMs } : undefined;
  }

  onBecomeMaster(nowUs: number): BecomeMasterPlan {
    const { masterRepeat, masterDelayMs, masterRefreshMs } = this.config;
    this.nextRefreshUs = masterRefreshMs > 0 ? nowUs + masterRefreshMs * 1000 : undefined;
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

  /** When the next refresh is due (microseconds) while Master, if refreshing is on. */
  get refreshDueUs(): number | undefined {
    return this.nextRefreshUs;
  }

  /** The refresh timer went off (at an advert tick at or after the due time): the burst, if due. */
  onRefreshTimer(nowUs: number): AnnounceBurst | undefined {
    if (this.nextRefreshUs === undefined || nowUs < this.nextRefreshUs) return undefined;
    this.nextRefreshUs = nowUs + this.config.masterRefreshMs * 1000;
    return this.burst("refresh", this.config.masterRefreshRepeat);
  }

  onLeaveMaster(): void {
    this.nextRefreshUs = undefined;
    this.delayedPending = false;
  }
}
