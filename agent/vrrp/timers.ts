// The RFC timer arithmetic, in integer microseconds like keepalived (so results match it to the microsecond).
//   Skew_Time            v3: ((256 - Priority) * Master_Adver_Interval) / 256     (RFC 5798 6.1)
//                        v2: (256 - Priority) / 256 seconds                          (RFC 3768 6.1)
//   Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time
import type { VrrpVersion } from "./config.js";

export const MICROS_PER_MS = 1000;
const MICROS_PER_SECOND = 1_000_000;

export function skewTimeUs(version: VrrpVersion, priority: number, masterAdverIntervalUs: number): number {
  const weight = 256 - priority;
  if (version === 2) return Math.floor((weight * MICROS_PER_SECOND) / 256);
  return Math.floor((weight * masterAdverIntervalUs) / 256);
}

export function masterDownIntervalUs(
  version: VrrpVersion,
  priority: number,
  masterAdverIntervalUs: number,
): number {
  return 3 * masterAdverIntervalUs + skewTimeUs(version, priority, masterAdverIntervalUs);
}

/** Milliseconds (fractional, microsecond resolution) for a duration or instant held in microseconds. */
export function usToMs(us: number): number {
  return us / MICROS_PER_MS;
}

/** Microseconds for a clock reading in milliseconds, rounded to the microsecond the core works in. */
export function msToUs(ms: number): number {
  return Math.round(ms * MICROS_PER_MS);
}
