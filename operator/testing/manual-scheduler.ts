// A Scheduler whose clock only moves when a test says so: timers fire in due order on advance().
import type { Scheduler } from "../work-queue.js";

export class ManualScheduler implements Scheduler {
  private time = 0;
  private nextId = 0;
  private readonly timers = new Map<number, { due: number; callback: () => void }>();

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, ms: number): { cancel(): void } {
    const id = this.nextId++;
    this.timers.set(id, { due: this.time + ms, callback });
    return { cancel: () => this.timers.delete(id) };
  }

  /** Moves the clock forward, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: [number, { due: number; callback: () => void }] | undefined;
      for (const entry of this.timers)
        if (entry[1].due <= end && (!next || entry[1].due < next[1].due)) next = entry;
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.time = next[1].due;
      next[1].callback();
    }
    this.time = end;
  }

  get pendingTimers(): number {
    return this.timers.size;
  }
}
