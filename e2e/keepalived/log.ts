// Reading keepalived 2.2.7's console log (-l -D): each instance's state, and the lines in which it
// rejects a received advert. The patterns are keepalived's own messages (vrrp.c), so "keepalived
// accepts our adverts" becomes "none of these lines appear".

export type KeepalivedState = "MASTER" | "BACKUP" | "FAULT" | "STOP";

const STATE_LINE = /\(([^)\s]+)\) Entering (MASTER|BACKUP|FAULT|STOP) STATE/;

/** Each instance's latest state by its "(NAME) Entering X STATE" lines. */
export function instanceStates(log: string): Map<string, KeepalivedState> {
  const states = new Map<string, KeepalivedState>();
  for (const line of log.split("\n")) {
    const m = STATE_LINE.exec(line);
    if (m) states.set(m[1]!, m[2] as KeepalivedState);
  }
  return states;
}

/** How many times an instance entered a state (e.g. to tell a fresh takeover from an old one). */
export function stateEntries(log: string, instance: string, state: KeepalivedState): number {
  let n = 0;
  for (const line of log.split("\n")) {
    const m = STATE_LINE.exec(line);
    if (m && m[1] === instance && m[2] === state) n++;
  }
  return n;
}

/** What keepalived logs when it rejects a received VRRP packet, by problem. */
export const KEEPALIVED_PACKET_ERRORS: Readonly<Record<string, RegExp>> = {
  checksum: /Invalid VRRPv[23] checksum/,
  ttl: /invalid TTL\/HL|TTL\/HL \d+ not in range/,
  auth: /received an invalid passwd|auth, expecting|AH header|IPSEC-AH/,
  interval: /advertisement interval mismatch/,
  version: /wrong version\. Received/,
  type: /Invalid packet type/,
  length: /vrrp packet too (short|long)|ip_tot_len mismatch/,
  addresses: /unexpected ip number count|expected \d+ VIPs but received|not present in MASTER advert/,
  transport: /Expected (uni|multi)cast packet but received/,
  bogus: /Discarding bogus packet/,
};

export interface KeepalivedPacketError {
  problem: string;
  line: string;
}

/** Every log line in which keepalived rejected a received packet. */
export function packetErrors(log: string): KeepalivedPacketError[] {
  const errors: KeepalivedPacketError[] = [];
  for (const line of log.split("\n")) {
    for (const [problem, pattern] of Object.entries(KEEPALIVED_PACKET_ERRORS)) {
      if (pattern.test(line)) {
        errors.push({ problem, line });
        break;
      }
    }
  }
  return errors;
}
