// The Internet checksum (RFC 1071) and the IPv4/IPv6 pseudo-headers VRRPv3 covers (RFC 5798 section 5.2.8).
import { parseAddress } from "./address.js";

export const VRRP_IP_PROTOCOL = 112;

/**
 * One's-complement sum of the chunks taken as one byte stream, folded and inverted.
 * Over data that already holds a correct checksum the result is 0.
 */
export function internetChecksum(...chunks: Uint8Array[]): number {
  let sum = 0;
  let highByte = true; // position of the next byte within its 16-bit word, across chunk boundaries
  for (const chunk of chunks) {
    for (const byte of chunk) {
      sum += highByte ? byte << 8 : byte;
      highByte = !highByte;
      // fold early so the sum stays far below 2^31, where bitwise operators stay exact
      if (sum > 0xffffff) sum = (sum & 0xffff) + (sum >>> 16);
    }
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** IPv4 pseudo-header: source, destination, zero, protocol, upper-layer length. */
export function ipv4PseudoHeader(
  src: string,
  dst: string,
  length: number,
  protocol = VRRP_IP_PROTOCOL,
): Buffer {
  const header = Buffer.alloc(12);
  parseAddress(src).copy(header, 0);
  parseAddress(dst).copy(header, 4);
  header[9] = protocol;
  header.writeUInt16BE(length, 10);
  return header;
}

/** IPv6 pseudo-header: source, destination, 32-bit upper-layer length, 3 zero bytes, next header. */
export function ipv6PseudoHeader(
  src: string,
  dst: string,
  length: number,
  nextHeader = VRRP_IP_PROTOCOL,
): Buffer {
  const header = Buffer.alloc(40);
  parseAddress(src).copy(header, 0);
  parseAddress(dst).copy(header, 16);
  header.writeUInt32BE(length, 32);
  header[39] = nextHeader;
  return header;
}
