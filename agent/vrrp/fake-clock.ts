// A deterministic clock for driving VRRP instances in tests: time moves only when the test says so, and due
// callbacks run in deadline order (ties in the order they were scheduled). One clock serves any number of
// instances (each gets its own Scheduler) and other timed events such as simulated packet deliveries.
import type { Scheduler, TimerKind } from "./ports.js";

interface Entry {
  readonly atMs: number;
  readonly seq: number;
  readonly run: () => void;
  cancelled: boolean;
}

export class FakeClock {
  private nowMs: number;
  private seq = 0;
  private queue: Entry[] = [];

  constructor(startMs = 0) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  /** Runs `run` at `atMs` (or at the current time if that has passed). Returns a cancel function. */
  at(atMs: number, run: () => void): () => void {
    const entry: Entry = { atMs: Math.max(atMs, this.nowMs), seq: this.seq++, run, cancelled: false };
    let i = this.queue.length;
    while (i > 0 && this.isBefore(entry, this.queue[i - 1]!)) i--;
    this.queue.splice(i, 0, entry);
    return () => {
      entry.cancelled = true;
    };
  }

  private isBefore(a: Entry, b: Entry): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
  }

  /** The deadline of the next pending callback. */
  nextAt(): number | undefined {
    this.queue = this.queue.filter((e) => !e.cancelled);
    return this.queue[0]?.atMs;
  }

  /** Runs the next due callback, moving time to its deadline. Returns false when nothing is pending. */
  step(): boolean {
    for (;;) {
      const entry = this.queue.shift();
      if (entry === undefined) return false;
      if (entry.cancelled) continue;
      this.nowMs = entry.atMs;
      entry.run();
      return true;
    }
  }

  /** Runs everything due up to and including `targetMs`, then sets the time to `targetMs`. */
  advanceTo(targetMs: number): void {
    if (targetMs < this.nowMs)
      throw new RangeError(`fake clock cannot go back from ${this.nowMs} to ${targetMs} ms`);
    for (let next = this.nextAt(); next !== undefined && next <= targetMs; next = this.nextAt()) this.step();
    this.nowMs = targetMs;
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.nowMs + ms);
  }

  /**
   * Steps until `done()` holds (checked after every callback) or the time would pass `limitMs`.
   * Returns whether `done()` held; the clock then stands at the callback that made it true.
   */
  runUntil(done: () => boolean, limitMs: number): boolean {
    if (done()) return true;
    for (let next = this.nextAt(); next !== undefined && next <= limitMs; next = this.nextAt()) {
      this.step();
      if (done()) return true;
    }
    this.nowMs = Math.max(this.nowMs, limitMs);
    return false;
  }

  /** A Scheduler for one instance; bind it to the instance's timerFired once the instance exists. */
  scheduler(): FakeScheduler {
    return new FakeScheduler(this);
  }
}

export class FakeScheduler implements Scheduler {
  private readonly timers = new Map<TimerKind, { atMs: number; cancel: () => void }>();
  private handler: ((kind: TimerKind) => void) | undefined;
  private disposed = false;

  constructor(private readonly clock: FakeClock) {}

  /** Where fired timers go, normally `(kind) => instance.timerFired(kind)`. */
  bind(handler: (kind: TimerKind) => void): void {
    this.handler = handler;
  }

  now(): number {
    return this.clock.now();
  }

  setTimer(kind: TimerKind, atMs: number): void {
    this.cancelTimer(kind);
    if (this.disposed) return;
    const cancel = this.clock.at(atMs, () => {
      this.timers.delete(kind);
      if (this.handler === undefined)
        throw new Error(`fake scheduler: timer ${kind} fired with no handler bound`);
      this.handler(kind);
    });
    this.timers.set(kind, { atMs, cancel });
  }

  cancelTimer(kind: TimerKind): void {
    this.timers.get(kind)?.cancel();
    this.timers.delete(kind);
  }

  /** The deadline of a pending timer, for assertions. */
  deadline(kind: TimerKind): number | undefined {
    return this.timers.get(kind)?.atMs;
  }

  /** Cancels every timer and ignores new ones: the owner "crashed". */
  dispose(): void {
    this.disposed = true;
    for (const kind of [...this.timers.keys()]) this.cancelTimer(kind);
  }
}
