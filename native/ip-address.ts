// IP and MAC addresses between text and the kernel's bytes (network byte order). Text output is
// canonical (RFC 5952 for IPv6: lowercase, longest zero run compressed), so an address read back
// from the kernel compares equal to the same address written canonically by a caller.
import { isIPv4, isIPv6 } from "node:net";

export type IpFamily = 4 | 6;

/** 4 or 6 for an IP address in text form, undefined otherwise. */
export function ipFamilyOf(address: string): IpFamily | undefined {
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  return undefined;
}

/** Parses an IPv4 (4 bytes) or IPv6 (16 bytes) address; throws a TypeError naming `what`. */
export function parseIp(address: string, what = "address"): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split(".").map(Number));
  if (!isIPv6(address)) throw new TypeError(`${what}: not an IP address: '${address}'`);
  if (address.includes("%")) throw new TypeError(`${what}: IPv6 zone ids are not supported: '${address}'`);
  let text = address;
  // An embedded IPv4 tail (::ffff:198.51.100.1) becomes the last two 16-bit groups.
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (isIPv4(tail)) {
    const [a, b, c, d] = tail.split(".").map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split("::") as [string, string | undefined];
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = rest === undefined || rest === "" ? [] : rest.split(":");
  const groups =
    rest === undefined
      ? headGroups
      : [
          ...headGroups,
          ...new Array<string>(8 - headGroups.length - tailGroups.length).fill("0"),
          ...tailGroups,
        ];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, index) => bytes.writeUInt16BE(parseInt(group, 16), index * 2));
  return bytes;
}

/** Formats 4 or 16 bytes as canonical text; other lengths are a RangeError. */
export function formatIp(bytes: Uint8Array): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) throw new RangeError(`an IP address has 4 or 16 bytes, not ${b.length}`);
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIp(b.subarray(12))}`; // IPv4-mapped keeps its dotted tail (RFC 5952 5.)
  }
  let bestStart = -1;
  let bestLength = 1; // a single zero group is never compressed
  for (let start = 0; start < 8; start++) {
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}

/** The canonical text of an address, e.g. "2001:DB8:0::1" → "2001:db8::1". */
export function normalizeIp(address: string, what = "address"): string {
  return formatIp(parseIp(address, what));
}

/** "02:00:00:00:00:01" for 6 bytes (any length is formatted the same way). */
export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join(":");
}

/** Parses "aa:bb:cc:dd:ee:ff" (or with dashes) into 6 bytes; throws a TypeError naming `what`. */
export function parseMac(mac: string, what = "MAC address"): Buffer {
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new TypeError(`${what}: not a MAC address: '${mac}'`);
  }
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}
