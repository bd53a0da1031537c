// What the guard needs to resign for an agent that died while Master: the priority-0 adverts,
// already encoded (the guard runs no VRRP logic), and the VIPs to remove. The agent sends a fresh
// set after every transition; the guard acts on the last one it received.
export interface ResignPlan {
  group: string;
  family: "ipv4" | "ipv6";
  ifindex: number;
  /** Source address of the adverts (the group's primary address). */
  source: string;
  /** One advert per destination (multicast group or each unicast peer), base64. */
  packets: { destination: string; payload: string }[];
  vips: { ifindex: number; address: string; prefixLength: number }[];
}

/** Agent → guard messages, one JSON object per line on the guard pipe. */
export type GuardMessage =
  | { type: "plans"; plans: ResignPlan[] }
  /** The agent resigned by itself (SIGTERM): nothing left to do if it exits now. */
  | { type: "released" };

export function encodeGuardMessage(message: GuardMessage): string {
  return JSON.stringify(message) + "\n";
}

/** Parses one line; throws on anything that is not a guard message. */
export function decodeGuardMessage(line: string): GuardMessage {
  const value = JSON.parse(line) as GuardMessage;
  if (value.type === "released") return value;
  if (value.type === "plans" && Array.isArray(value.plans)) return value;
  throw new Error(`not a guard message: ${line.slice(0, 80)}`);
}
