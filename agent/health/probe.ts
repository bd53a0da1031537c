// One health-check attempt against one real server. A probe never rejects: every failure (refused,
// timed out, wrong status, bad body) is an unhealthy result whose message says what happened, for
// the real server's status and the logs.
import type { HealthCheck } from "../../crds/schema/virtual-service.js";

export interface ProbeTarget {
  readonly address: string;
  readonly port: number;
  /** Source address of the check (keepalived bindto). */
  readonly sourceAddress?: string;
  /** One attempt's time limit (keepalived connect_timeout). */
  readonly timeoutMs: number;
}

export interface ProbeResult {
  readonly healthy: boolean;
  readonly message: string;
  /** A weight the check itself asks for (Exec with dynamicWeight); absent means the configured one. */
  readonly weight?: number;
}

/** Aborted when the attempt must end (timeout backstop, real server removed, agent stopping). */
export type Probe = (target: ProbeTarget, signal: AbortSignal) => Promise<ProbeResult>;

/** The check's effective timing with the API's defaults (keepalived's names in comments). */
export interface CheckTiming {
  /** delay_loop */
  readonly intervalMs: number;
  /** connect_timeout */
  readonly timeoutMs: number;
  /** retry: further attempts after a failed one before the server is marked down */
  readonly retries: number;
  /** delay_before_retry */
  readonly retryDelayMs: number;
  /** warmup: the first check comes after a random delay of up to this */
  readonly warmupMs: number | undefined;
}

export function checkTiming(check: HealthCheck): CheckTiming {
  return {
    intervalMs: check.intervalMillis ?? 6000,
    timeoutMs: check.connectTimeoutMillis ?? 5000,
    retries: check.retries ?? 1,
    retryDelayMs: check.retryDelayMillis ?? 1000,
    warmupMs: check.warmupMillis,
  };
}

/** "connect 203.0.113.1:80" / "connect [2001:db8::1]:80": an endpoint in messages. */
export const endpoint = (target: Pick<ProbeTarget, "address" | "port">): string =>
  target.address.includes(":") ? `[${target.address}]:${target.port}` : `${target.address}:${target.port}`;

/** An error's errno code or message, for result messages. */
export const errorText = (error: unknown): string => {
  const e = error as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(error);
};
