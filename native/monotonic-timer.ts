// Precise one-shot timers for protocol deadlines (VRRP's Skew_Time and Master_Down_Interval).
// setTimeout counts whole milliseconds from libuv's cached loop time and fires 1-2 ms late on
// average; MonotonicTimer (a timerfd with an absolute CLOCK_MONOTONIC deadline) fires within tens
// of microseconds. Deadlines are on the monotonicNowMs() clock — never performance.now() or
// Date.now(), which are other clocks.
import { loadAddon, type MonotonicTimer, type NativeAddon } from "./addon.js";

/** A one-shot timer with an absolute deadline; fires once per arm(). */
export interface PreciseTimer {
  /**
   * Fires at `atMs` on the kernel edge's monotonicNowMs() clock (at once if that has passed),
   * replacing any earlier deadline. Keeps the process alive until it fires or is disarmed.
   */
  arm(atMs: number): void;
  /** Cancels the deadline; an expiry not yet delivered is dropped. */
  disarm(): void;
  /** Releases the timer; idempotent. */
  close(): void;
}

/**
 * PreciseTimer over the addon's MonotonicTimer. Like setTimeout, an armed timer keeps the process
 * alive and an unarmed one does not. The timerfd cannot fail once created; should polling it
 * fail anyway, the error is thrown from the event loop (process 'uncaughtException'), because a
 * protocol timer that silently stops would be worse.
 */
export class MonotonicPreciseTimer implements PreciseTimer {
  private readonly timer: MonotonicTimer;

  constructor(onFire: () => void, addon: NativeAddon = loadAddon()) {
    this.timer = new addon.MonotonicTimer();
    this.timer.start(
      () => {
        this.timer.unref();
        onFire();
      },
      (error) => {
        throw error;
      },
    );
    this.timer.unref();
  }

  arm(atMs: number): void {
    this.timer.arm(atMs);
    this.timer.ref();
  }

  disarm(): void {
    this.timer.disarm();
    this.timer.unref();
  }

  close(): void {
    this.timer.close();
  }
}
