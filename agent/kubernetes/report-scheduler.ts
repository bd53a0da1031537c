// When the agent writes its report: soon after something changed (a transition, a new spec), but at
// most once per `minIntervalMs` — changes in between are coalesced into the next write, which
// always carries the state at the time of writing — and otherwise every `heartbeatMs`, so the
// operator can tell a live agent from a gone one. Failed writes are retried with backoff; the
// agent's data plane never waits for them.
import { Backoff } from "../../operator/kube/backoff.js";
import { realScheduler, type Scheduler } from "../../operator/work-queue.js";

export interface ReportSchedulerOptions {
  write: () => Promise<void>;
  minIntervalMs: number;
  heartbeatMs: number;
  onError: (error: unknown, retryInMs: number) => void;
  scheduler?: Scheduler;
  retry?: { initialMs: number; maxMs: number };
}

export class ReportScheduler {
  private lastWriteStart = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;
  /** A change arrived that no started write has covered yet. */
  private pending = false;
  private timer: { cancel(): void } | undefined;
  private timerDue = Number.POSITIVE_INFINITY;
  private stopped = false;
  private readonly scheduler: Scheduler;
  private readonly backoff: Backoff;

  constructor(private readonly options: ReportSchedulerOptions) {
    this.scheduler = options.scheduler ?? realScheduler;
    this.backoff = new Backoff(options.retry ?? { initialMs: 500, maxMs: 30_000 });
  }

  /** Something changed: write soon (now, or when the minimum interval since the last write is over). */
  request(): void {
    if (this.stopped) return;
    this.pending = true;
    if (this.inFlight !== undefined) return;
    this.schedule(Math.max(0, this.lastWriteStart + this.options.minIntervalMs - this.scheduler.now()));
  }

  /** Starts the heartbeat with a first write now. */
  start(): void {
    this.request();
  }

  /** Writes once more now (unless stopped), e.g. a final report; resolves when it is done or failed. */
  async flush(): Promise<void> {
    await this.inFlight;
    if (this.stopped) return;
    this.pending = true;
    await this.fire();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer();
    await this.inFlight;
  }

  private schedule(delayMs: number): void {
    const due = this.scheduler.now() + delayMs;
    if (this.timer !== undefined && this.timerDue <= due) return;
    this.cancelTimer();
    this.timerDue = due;
    this.timer = this.scheduler.setTimer(() => {
      this.timer = undefined;
      this.timerDue = Number.POSITIVE_INFINITY;
      void this.fire();
    }, delayMs);
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
  }

  private async fire(): Promise<void> {
    if (this.stopped) return;
    this.cancelTimer();
    this.pending = false;
    this.lastWriteStart = this.scheduler.now();
    const run = (async () => {
      try {
        await this.options.write();
        this.backoff.reset();
        return undefined;
      } catch (e) {
        return e ?? new Error("report write failed");
      }
    })();
    this.inFlight = run.then(() => undefined);
    const error = await run;
    this.inFlight = undefined;
    if (this.stopped) return;
    if (error !== undefined) {
      const delay = this.backoff.next();
      this.options.onError(error, delay);
      this.pending = true;
      this.schedule(delay);
    } else if (this.pending) {
      this.schedule(Math.max(0, this.lastWriteStart + this.options.minIntervalMs - this.scheduler.now()));
    } else {
      this.schedule(this.options.heartbeatMs);
    }
  }
}
