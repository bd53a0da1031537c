// Exponential backoff with jitter, for retries against the API server: many clients retrying after
// the same outage must not come back in lockstep.
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Growth per failure (default 2). */
  factor?: number;
  /** Each delay is drawn from [delay × (1 - jitter), delay] (default 0.2). */
  jitter?: number;
}

export class Backoff {
  private failures = 0;

  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const { initialMs, maxMs, factor = 2, jitter = 0.2 } = this.options;
    const base = Math.min(maxMs, initialMs * factor ** this.failures);
    this.failures++;
    return Math.round(base * (1 - jitter * this.random()));
  }

  reset(): void {
    this.failures = 0;
  }

  get attempts(): number {
    return this.failures;
  }
}
