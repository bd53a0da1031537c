// Per-instance counters: what the status command and the metrics show (keepalived -S style).
import { VRRP_DECODE_ERROR_REASONS } from "./packet.js";
import type { VrrpDecodeErrorReason } from "./packet.js";

/** Why a received advert was not processed. Decode failures keep the codec's reason. */
export type DropReason =
  | VrrpDecodeErrorReason
  /** the instance is stopped or in Fault: adverts are not processed */
  | "inactive"
  /** TTL / hop limit is not 255 (RFC 5798 7.1): it was routed, not sent on our link */
  | "bad-ttl"
  /** the packet's addresses are not of the instance's family */
  | "wrong-family"
  /** a valid advert of the other VRRP version */
  | "wrong-version"
  /** a valid advert for another virtual router */
  | "wrong-vrid"
  /** our own advert, looped back */
  | "own-address"
  /** unicast mode: the sender is not a configured peer */
  | "not-a-peer"
  /** VRRPv2: auth type or password differs */
  | "auth-mismatch"
  /** VRRPv2: IPsec AH authentication (type 2), decoded but never accepted */
  | "auth-unsupported"
  /** VRRPv2: the advert interval differs from ours (RFC 3768 7.1) */
  | "interval-mismatch"
  /** the advert's address list differs from ours and the policy is "drop" */
  | "address-list-mismatch";

export const DROP_REASONS: readonly DropReason[] = [
  ...VRRP_DECODE_ERROR_REASONS,
  "inactive",
  "bad-ttl",
  "wrong-family",
  "wrong-version",
  "wrong-vrid",
  "own-address",
  "not-a-peer",
  "auth-mismatch",
  "auth-unsupported",
  "interval-mismatch",
  "address-list-mismatch",
];

export interface VrrpCounters {
  /** Adverts that passed validation and were processed. */
  advertsReceived: number;
  advertsSent: number;
  /** Advert rounds the I/O layer held back while the agent's event loop was stalled. */
  advertsWithheld: number;
  /** Advert rounds the I/O layer skipped because it woke too late to send them on time. */
  advertsMissed: number;
  priorityZeroReceived: number;
  priorityZeroSent: number;
  becameMaster: number;
  releasedMaster: number;
  /** Adverts whose address list differed but were processed because the policy is "accept". */
  addressListMismatchAccepted: number;
  /** Lower-priority adverts a preempting Backup discarded (RFC 5798 6.4.2). */
  lowerPriorityDiscarded: number;
  readonly drops: Record<DropReason, number>;
}

export function newCounters(): VrrpCounters {
  return {
    advertsReceived: 0,
    advertsSent: 0,
    advertsWithheld: 0,
    advertsMissed: 0,
    priorityZeroReceived: 0,
    priorityZeroSent: 0,
    becameMaster: 0,
    releasedMaster: 0,
    addressListMismatchAccepted: 0,
    lowerPriorityDiscarded: 0,
    drops: Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<DropReason, number>,
  };
}
