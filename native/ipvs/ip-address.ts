// IP address text <-> the kernel's binary form (network byte order), for IPVS attributes that carry
// addresses as raw bytes. Text output is canonical (RFC 5952 for IPv6), so addresses read back
// from the kernel compare equal to the ones a caller wrote in canonical form.
import { isIPv4, isIPv6 } from "node:net";

export type IpFamily = 4 | 6;

/** Family of an address in text form, or undefined when it is not an IP address. */
export function familyOf(address: string): IpFamily | undefined {
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  return undefined;
}

/** Address length in bytes for a family. */
export const addressLength = (family: IpFamily): number => (family === 4 ? 4 : 16);

/** Parses a textual IPv4 or IPv6 address into 4 or 16 bytes; throws a TypeError naming `what`. */
export function encodeAddress(address: string, what: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split(".").map(Number));
  if (!isIPv6(address)) throw new TypeError(`${what}: not an IP address: '${address}'`);
  let text = address;
  const zone = text.indexOf("%");
  if (zone >= 0) throw new TypeError(`${what}: IPv6 zone ids are not supported: '${address}'`);
  const bytes = Buffer.alloc(16);
  // An embedded IPv4 tail (::ffff:198.51.100.1) becomes two 16-bit groups.
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
  groups.forEach((group, index) => bytes.writeUInt16BE(parseInt(group, 16), index * 2));
  return bytes;
}

/** Formats 4 (IPv4) or 16 (IPv6) bytes starting at `offset` as canonical text. */
export function decodeAddress(family: IpFamily, bytes: Buffer, offset = 0): string {
  if (family === 4) return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(bytes.readUInt16BE(offset + i * 2));
  // RFC 5952: IPv4-mapped addresses keep their dotted tail.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${decodeAddress(4, bytes, offset + 12)}`;
  }
  // RFC 5952: compress the longest run (first on ties) of two or more zero groups.
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8;) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
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

/** The canonical text of an address (e.g. "2001:DB8:0::1" → "2001:db8::1"). */
export function canonicalAddress(address: string, what = "address"): string {
  const bytes = encodeAddress(address, what);
  return decodeAddress(bytes.length === 4 ? 4 : 6, bytes);
}

/** "198.51.100.1:80" or "[2001:db8::1]:80", as ipvsadm prints endpoints. */
export function formatEndpoint(address: string, port: number): string {
  return familyOf(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}
