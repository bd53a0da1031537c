// One real server's health as keepalived's checkers track it (check/check_api.c and the checkers'
// epilogues), pure so every rule is unit-tested:
// - a success marks the server up at once and resets the retry count;
// - a failure while up (or before the first verdict) is retried `retries` times, each after
//   retryDelayMs instead of the interval; the failure after the last retry marks it down;
// - while down, failures are not retried: the next check comes after the interval;
// - initialState Unhealthy (keepalived's alpha) starts down; the first verdict is always reported,
//   so a server that starts down and fails runs its down notification once.
import type { CheckTiming, ProbeResult } from "./probe.js";

export type Verdict = "up" | "down";

export interface CheckOutcome {
  /** Set when the server's health changed, or on the first verdict when it starts down. */
  readonly notify?: Verdict;
  /** Healthy before and after, but the check asked for another weight (dynamic weight). */
  readonly weightChanged: boolean;
  /** When to check next. */
  readonly nextDelayMs: number;
}

export class CheckerState {
  private isHealthy: boolean;
  private hasRun = false;
  private retriesUsed = 0;
  private dynamicWeight: number | undefined;
  private message: string;
  private lastCheck: Date | undefined;

  constructor(
    private readonly timing: CheckTiming,
    initiallyHealthy: boolean,
  ) {
    this.isHealthy = initiallyHealthy;
    this.message = initiallyHealthy
      ? "not checked yet (initially healthy)"
      : "not checked yet (initially unhealthy)";
  }

  get healthy(): boolean {
    return this.isHealthy;
  }

  /** The weight the check asked for (dynamic weight), undefined for the configured one. */
  get weight(): number | undefined {
    return this.dynamicWeight;
  }

  get lastMessage(): string {
    return this.message;
  }

  get lastCheckTime(): Date | undefined {
    return this.lastCheck;
  }

  get checked(): boolean {
    return this.hasRun;
  }

  record(result: ProbeResult, at: Date = new Date()): CheckOutcome {
    this.lastCheck = at;
    const first = !this.hasRun;
    if (result.healthy) {
      this.message = result.message;
      this.retriesUsed = 0;
      this.hasRun = true;
      const weightChanged = this.isHealthy && result.weight !== this.dynamicWeight;
      this.dynamicWeight = result.weight;
      if (!this.isHealthy) {
        this.isHealthy = true;
        return { notify: "up", weightChanged: false, nextDelayMs: this.timing.intervalMs };
      }
      return { weightChanged, nextDelayMs: this.timing.intervalMs };
    }
    if ((this.isHealthy || first) && this.retriesUsed < this.timing.retries) {
      this.retriesUsed++;
      this.message = `${result.message} (retry ${this.retriesUsed} of ${this.timing.retries})`;
      return { weightChanged: false, nextDelayMs: this.timing.retryDelayMs };
    }
    this.message = result.message;
    this.retriesUsed = 0;
    this.hasRun = true;
    const wasHealthy = this.isHealthy;
    this.isHealthy = false;
    this.dynamicWeight = undefined;
    return {
      ...(wasHealthy || first ? { notify: "down" as const } : {}),
      weightChanged: false,
      nextDelayMs: this.timing.intervalMs,
    };
  }
}
