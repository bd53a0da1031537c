// The VRRP core's Scheduler on the real event loop: a monotonic clock (performance.now, immune to
// wall-clock steps) and one Node timer per timer kind.
import type { Scheduler, TimerKind } from "../vrrp/ports.js";

export class TimerScheduler implements Scheduler {
  private readonly timers = new Map<TimerKind, NodeJS.Timeout>();

  constructor(private readonly onFire: (kind: TimerKind) => void) {}

  now(): number {
    return performance.now();
  }

  setTimer(kind: TimerKind, atMs: number): void {
    this.cancelTimer(kind);
    // Node timers have millisecond resolution and never fire early when rounded up; the core's
    // deadlines carry microseconds (Skew_Time), so the error is below 1 ms plus event-loop latency.
    const delay = Math.max(0, Math.ceil(atMs - performance.now()));
    this.timers.set(
      kind,
      setTimeout(() => {
        this.timers.delete(kind);
        this.onFire(kind);
      }, delay),
    );
  }

  cancelTimer(kind: TimerKind): void {
    const t = this.timers.get(kind);
    if (t !== undefined) clearTimeout(t);
    this.timers.delete(kind);
  }

  cancelAll(): void {
    for (const kind of [...this.timers.keys()]) this.cancelTimer(kind);
  }
}
