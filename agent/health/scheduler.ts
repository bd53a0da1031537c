// Runs thousands of periodic checks from one timer: due times live in a binary heap, a single
// timer is armed for the earliest, and at most maxConcurrent checks run at once (the rest wait in
// arrival order). Each check returns its own next delay, so keepalived's retry delays and
// intervals are the checks' business, not the scheduler's. No timer per check, no burst when a
// thousand checks share an interval: callers spread first runs with jitter (see firstDelay).

export interface SchedulerClock {
  now(): number;
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

export const realClock: SchedulerClock = {
  now: () => performance.now(),
  setTimer: (callback, delayMs) => {
    const timer = setTimeout(callback, Math.max(0, Math.ceil(delayMs)));
    timer.unref();
    return timer;
  },
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface ScheduledCheck {
  readonly id: string;
  /** Runs one check; resolves with the delay until the next. `signal` aborts when it is removed. */
  run(signal: AbortSignal): Promise<number>;
}

export interface SchedulerStats {
  readonly checks: number;
  readonly running: number;
  readonly waiting: number;
  /** Largest delay between a check's due time and its start so far (ms): saturation shows here. */
  readonly maxLagMs: number;
}

interface Entry {
  readonly check: ScheduledCheck;
  /** Bumped on replace/remove, so heap items of an older registration are ignored. */
  readonly generation: number;
  running?: AbortController;
}

interface HeapItem {
  readonly at: number;
  readonly order: number;
  readonly id: string;
  readonly generation: number;
}

export class CheckScheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly heap: HeapItem[] = [];
  private readonly ready: HeapItem[] = [];
  private readyHead = 0;
  private running = 0;
  private order = 0;
  private generation = 0;
  private timer: unknown;
  private timerAt = Infinity;
  private maxLag = 0;
  private stopped = false;
  private readonly clock: SchedulerClock;
  private readonly maxConcurrent: number;
  private readonly onError: (id: string, error: unknown) => void;

  constructor(
    options: {
      /** Most checks running at once; default 128. */
      maxConcurrent?: number;
      clock?: SchedulerClock;
      /** A check's run() threw or rejected (a bug in the check; it is retried after 10 s). */
      onError?: (id: string, error: unknown) => void;
    } = {},
  ) {
    this.clock = options.clock ?? realClock;
    this.maxConcurrent = options.maxConcurrent ?? 128;
    this.onError = options.onError ?? (() => undefined);
  }

  /** Registers a check (replacing one with the same id) to first run after `firstDelayMs`. */
  add(check: ScheduledCheck, firstDelayMs: number): void {
    if (this.stopped) return;
    this.remove(check.id);
    const generation = ++this.generation;
    this.entries.set(check.id, { check, generation });
    this.push({ at: this.clock.now() + firstDelayMs, order: this.order++, id: check.id, generation });
    this.arm();
  }

  /** Unregisters a check; a run in progress is aborted and its result ignored. */
  remove(id: string): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    this.entries.delete(id);
    entry.running?.abort(new Error(`health check ${id} removed`));
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  stop(): void {
    this.stopped = true;
    for (const id of [...this.entries.keys()]) this.remove(id);
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  stats(): SchedulerStats {
    return {
      checks: this.entries.size,
      running: this.running,
      waiting: this.ready.length - this.readyHead,
      maxLagMs: this.maxLag,
    };
  }

  /** Whether a timer is armed (at most one ever is). */
  get timerArmed(): boolean {
    return this.timer !== undefined;
  }

  private current(item: HeapItem): Entry | undefined {
    const entry = this.entries.get(item.id);
    return entry !== undefined && entry.generation === item.generation ? entry : undefined;
  }

  private arm(): void {
    while (this.heap.length > 0 && this.current(this.heap[0]!) === undefined) this.pop();
    const next = this.heap[0];
    if (next === undefined || this.stopped) {
      if (this.timer !== undefined) this.clock.clearTimer(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
      return;
    }
    if (this.timer !== undefined && this.timerAt <= next.at) return;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timerAt = next.at;
    this.timer = this.clock.setTimer(() => this.fire(), next.at - this.clock.now());
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    while (this.heap.length > 0 && this.heap[0]!.at <= now) {
      const item = this.pop();
      if (this.current(item) !== undefined) this.ready.push(item);
    }
    this.dispatch();
    this.arm();
  }

  private dispatch(): void {
    while (this.running < this.maxConcurrent && this.readyHead < this.ready.length) {
      const item = this.ready[this.readyHead++]!;
      const entry = this.current(item);
      if (entry === undefined) continue;
      this.start(item, entry);
    }
    if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
      this.ready.splice(0, this.readyHead);
      this.readyHead = 0;
    }
  }

  private start(item: HeapItem, entry: Entry): void {
    const now = this.clock.now();
    this.maxLag = Math.max(this.maxLag, now - item.at);
    const controller = new AbortController();
    entry.running = controller;
    this.running++;
    const settle = (nextDelayMs: number | undefined) => {
      this.running--;
      entry.running = undefined;
      if (!this.stopped && this.entries.get(item.id) === entry && nextDelayMs !== undefined) {
        this.push({
          at: this.clock.now() + nextDelayMs,
          order: this.order++,
          id: item.id,
          generation: item.generation,
        });
      }
      this.dispatch();
      this.arm();
    };
    const failed = (error: unknown) => {
      this.onError(item.id, error);
      // A check that throws is a bug in it; keep it going at a slow pace rather than losing it.
      settle(ERROR_RETRY_MS);
    };
    try {
      entry.check.run(controller.signal).then(settle, failed);
    } catch (error) {
      failed(error);
    }
  }

  private push(item: HeapItem): void {
    const heap = this.heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): HeapItem {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === i) break;
        [heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!];
        i = smallest;
      }
    }
    return top;
  }
}

const ERROR_RETRY_MS = 10_000;

const before = (a: HeapItem, b: HeapItem): boolean => a.at < b.at || (a.at === b.at && a.order < b.order);

/**
 * Delay of a check's first run: a random point within warmupMs when configured (keepalived
 * warmup), otherwise within min(interval, 1 s) so checks added together do not all fire together.
 */
export function firstDelay(
  intervalMs: number,
  warmupMs: number | undefined,
  random: () => number = Math.random,
): number {
  const spread = warmupMs ?? Math.min(intervalMs, 1000);
  return Math.floor(random() * spread);
}
