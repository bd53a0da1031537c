// The VRRP core's Scheduler on the real event loop: the kernel's monotonic clock (immune to wall-clock
// steps) and one precise timer per timer kind. Node's setTimeout would do in principle, but it rounds to
// whole milliseconds against a cached loop time and fires 1-2 ms late on average; the RFC timers must be
// kept within a few milliseconds and two Backups' Skew_Times can differ by under 2 ms (10 ms adverts), so
// the timers are timerfds with microsecond deadlines (native/).
import type { PreciseTimer } from "../../native/kernel.js";
import type { Scheduler, TimerKind } from "../vrrp/ports.js";

/** Where the clock and the timers come from: the kernel edge, or a fake in tests. */
export interface TimerSource {
  monotonicNowMs(): number;
  createTimer(onFire: () => void): PreciseTimer;
}

export class TimerScheduler implements Scheduler {
  private readonly timers = new Map<TimerKind, PreciseTimer>();

  constructor(
    private readonly source: TimerSource,
    private readonly onFire: (kind: TimerKind) => void,
  ) {}

  now(): number {
    return this.source.monotonicNowMs();
  }

  setTimer(kind: TimerKind, atMs: number): void {
    let timer = this.timers.get(kind);
    if (timer === undefined) {
      timer = this.source.createTimer(() => this.onFire(kind));
      this.timers.set(kind, timer);
    }
    timer.arm(atMs);
  }

  cancelTimer(kind: TimerKind): void {
    this.timers.get(kind)?.disarm();
  }

  /** Cancels every timer and releases them (their file descriptors); the scheduler is done. */
  close(): void {
    for (const timer of this.timers.values()) timer.close();
    this.timers.clear();
  }
}
