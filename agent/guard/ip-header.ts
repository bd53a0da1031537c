// The IP header the guard puts in front of a pre-encoded advert. Its sockets are IPPROTO_RAW: those
// are send-only by construction (the kernel delivers no received packet to protocol 255), whereas
// any raw socket of protocol 112, even one with a drop-all filter, makes the kernel clone every VRRP
// packet that reaches the node for it. A guard sits on every node for its whole life, so on each
// Backup that was one extra clone per advert heard, paid by the Master's send path on a bridged LAN.
// IPPROTO_RAW implies IP_HDRINCL (IPV6_HDRINCL for IPv6, Linux 4.5+), hence this header.
// Only native/ helpers here: the guard stays small and loads none of the VRRP core (cli/agent-imports.test.ts).
import { parseIp } from "../../native/ip-address.js";

const VRRP_IP_PROTOCOL = 112;

/** RFC 5798 section 5.1.1.3 / 5.1.2.3: adverts leave with TTL / hop limit 255. */
const VRRP_TTL = 255;
const IPV4_HEADER_LENGTH = 20;
const IPV6_HEADER_LENGTH = 40;
/** Don't Fragment, as the kernel sets it on the agent's own raw-socket adverts (path MTU discovery on). */
const IPV4_DONT_FRAGMENT = 0x4000;

export interface Addressing {
  source: string;
  destination: string;
}

/**
 * `payload` (a VRRP advert with its checksum already computed) behind an IPv4 or IPv6 header from
 * `source` to `destination`. For IPv4 the kernel fills in the header checksum and the identification;
 * everything else is as given, so both are left zero here.
 */
export function withIpHeader(
  family: "ipv4" | "ipv6",
  payload: Uint8Array,
  { source, destination }: Addressing,
): Buffer {
  const src = parseIp(source, "advert source");
  const dst = parseIp(destination, "advert destination");
  const expected = family === "ipv4" ? 4 : 16;
  if (src.length !== expected || dst.length !== expected) {
    throw new TypeError(`${family} header from ${source} to ${destination}: an address of the other family`);
  }
  if (family === "ipv4") {
    const packet = Buffer.alloc(IPV4_HEADER_LENGTH + payload.length);
    packet[0] = 0x45; // version 4, 5 words of header (no options)
    packet.writeUInt16BE(packet.length, 2);
    packet.writeUInt16BE(IPV4_DONT_FRAGMENT, 6);
    packet[8] = VRRP_TTL;
    packet[9] = VRRP_IP_PROTOCOL;
    src.copy(packet, 12);
    dst.copy(packet, 16);
    packet.set(payload, IPV4_HEADER_LENGTH);
    return packet;
  }
  const packet = Buffer.alloc(IPV6_HEADER_LENGTH + payload.length);
  packet.writeUInt32BE(0x6000_0000, 0); // version 6, traffic class 0, flow label 0
  packet.writeUInt16BE(payload.length, 4);
  packet[6] = VRRP_IP_PROTOCOL;
  packet[7] = VRRP_TTL;
  src.copy(packet, 8);
  dst.copy(packet, 24);
  packet.set(payload, IPV6_HEADER_LENGTH);
  return packet;
}
