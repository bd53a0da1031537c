// The controllers' work queue, with client-go's semantics: a key waiting in the queue is there once
// however often it is added (de-duplication); a key being processed is never handed to a second
// worker, and if it is added meanwhile it comes back once the first run is done; failed keys come
// back after an exponentially growing, per-key delay until forget() resets it. Urgent keys (those
// whose results others wait for) are handed out before the rest.
export interface Scheduler {
  now(): number;
  setTimer(callback: () => void, ms: number): { cancel(): void };
}

export const realScheduler: Scheduler = {
  now: () => Date.now(),
  setTimer: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

export interface WorkQueueOptions {
  /** Delay after the first failure of a key; doubles with each further failure. */
  baseRetryMs?: number;
  maxRetryMs?: number;
  scheduler?: Scheduler;
  /** Keys handed out before all others, in the order they were added. */
  urgent?: (key: string) => boolean;
}

export class WorkQueue {
  private readonly urgentOrder: string[] = [];
  private readonly order: string[] = [];
  /** Keys waiting to be processed (in `order`, or to be re-queued once their run is done). */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  /** Delayed adds: the earliest due time per key, and its timer. */
  private readonly delayed = new Map<string, { due: number; timer: { cancel(): void } }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly baseRetryMs: number;
  private readonly maxRetryMs: number;
  private readonly scheduler: Scheduler;
  private readonly urgent: (key: string) => boolean;

  constructor(options: WorkQueueOptions = {}) {
    this.urgent = options.urgent ?? (() => false);
    this.baseRetryMs = options.baseRetryMs ?? 100;
    this.maxRetryMs = options.maxRetryMs ?? 60_000;
    this.scheduler = options.scheduler ?? realScheduler;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else {
      (this.urgent(key) ? this.urgentOrder : this.order).push(key);
    }
  }

  /** Adds the key after `ms`; an earlier pending delayed add of the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const due = this.scheduler.now() + ms;
    const pending = this.delayed.get(key);
    if (pending !== undefined) {
      if (pending.due <= due) return;
      pending.timer.cancel();
    }
    const timer = this.scheduler.setTimer(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { due, timer });
  }

  /** Re-adds a key that failed, after its backoff delay; returns that delay. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = Math.min(this.maxRetryMs, this.baseRetryMs * 2 ** n);
    this.addAfter(key, delay);
    return delay;
  }

  /** The key succeeded: its next failure starts from the base delay again. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to process, waiting if there is none; undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    const key = this.urgentOrder.shift() ?? this.order.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks a key's run finished; a key added during the run goes back into the queue. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  /** Keys waiting (not counting delayed ones and those being processed). */
  get length(): number {
    return this.urgentOrder.length + this.order.length;
  }

  get busy(): boolean {
    return this.length > 0 || this.processing.size > 0;
  }

  /** Stops handing out keys: waiting get() calls resolve with undefined; delayed adds are dropped. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) timer.cancel();
    this.delayed.clear();
    for (const resolve of this.waiters.splice(0)) resolve(undefined);
  }
}
