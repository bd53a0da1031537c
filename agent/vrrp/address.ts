// IP address helpers for the VRRP core: bytes on the wire, one canonical text form, numeric order.
// Canonical text matters because the core compares addresses from config, packets and sockets.
import { isIP } from "node:net";

export type IpFamily = "ipv4" | "ipv6";

export class AddressError extends TypeError {
  constructor(
    readonly address: string,
    message: string,
  ) {
    super(`invalid IP address ${JSON.stringify(address)}: ${message}`);
    this.name = "AddressError";
  }
}

/** Drops an IPv6 zone ("fe80::1%eth0" → "fe80::1"): the zone is a socket detail, not part of the address. */
function withoutZone(address: string): string {
  const percent = address.indexOf("%");
  return percent < 0 ? address : address.slice(0, percent);
}

/** The family of a textual address, or undefined when it is not an IP address. */
export function ipFamily(address: string): IpFamily | undefined {
  switch (isIP(withoutZone(address))) {
    case 4:
      return "ipv4";
    case 6:
      return "ipv6";
    default:
      return undefined;
  }
}

export function addressLength(family: IpFamily): 4 | 16 {
  return family === "ipv4" ? 4 : 16;
}

function parseIpv4(text: string, original: string): number[] {
  const parts = text.split(".");
  if (parts.length !== 4) throw new AddressError(original, "an IPv4 address has 4 dotted parts");
  return parts.map((part) => {
    const value = Number(part);
    if (!/^\d{1,3}$/.test(part) || value > 255) throw new AddressError(original, `bad IPv4 part ${part}`);
    return value;
  });
}

function parseIpv6(text: string, original: string): number[] {
  const halves = text.split("::");
  if (halves.length > 2) throw new AddressError(original, '"::" may appear only once');
  const groupsOf = (half: string): number[] => {
    if (half === "") return [];
    const out: number[] = [];
    const pieces = half.split(":");
    pieces.forEach((piece, i) => {
      if (i === pieces.length - 1 && piece.includes(".")) {
        const [a, b, c, d] = parseIpv4(piece, original) as [number, number, number, number];
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) throw new AddressError(original, `bad IPv6 group ${piece}`);
        out.push(parseInt(piece, 16));
      }
    });
    return out;
  };
  const head = groupsOf(halves[0] ?? "");
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? "") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1)
    throw new AddressError(original, "wrong number of groups");
  const groups = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/** Network-order bytes of an address (4 for IPv4, 16 for IPv6). Throws AddressError on anything else. */
export function parseAddress(address: string): Buffer {
  const text = withoutZone(address);
  const family = ipFamily(text);
  if (family === undefined) throw new AddressError(address, "not an IPv4 or IPv6 address");
  return Buffer.from(family === "ipv4" ? parseIpv4(text, address) : parseIpv6(text, address));
}

/** Text for 4 or 16 network-order bytes; IPv6 in the RFC 5952 form (lower case, longest zero run as "::"). */
export function formatAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join(".");
  if (bytes.length !== 16) throw new TypeError(`an IP address has 4 or 16 bytes, got ${bytes.length}`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // IPv4-mapped addresses keep the dotted tail, as RFC 5952 section 5 recommends.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${Array.from(bytes.subarray(12)).join(".")}`;
  }
  let bestStart = -1;
  let bestLength = 1; // a single zero group is never compressed
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (list: number[]): string => list.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** The one text form the core uses for comparisons and output. */
export function canonicalAddress(address: string): string {
  return formatAddress(parseAddress(address));
}

/** Numeric order of two addresses (IPv4 before IPv6); negative, zero or positive like a sort comparator. */
export function compareAddresses(a: string, b: string): number {
  const left = parseAddress(a);
  const right = parseAddress(b);
  if (left.length !== right.length) return left.length - right.length;
  return Buffer.compare(left, right);
}

export function sameAddress(a: string, b: string): boolean {
  return compareAddresses(a, b) === 0;
}
