// The IP header in front of a pre-encoded advert sent on an IPPROTO_RAW socket (the Master's periodic
// adverts, the guard's priority-0 adverts). Such sockets are send-only by construction: the kernel
// delivers no received packet to protocol 255, whereas any raw socket of protocol 112, even one with
// a drop-all filter, makes the kernel clone every VRRP packet that reaches the node for it. And a
// datagram with its header takes the kernel's short raw_send_hdrinc path instead of the general
// ip_append_data one, as keepalived's adverts do. IPPROTO_RAW implies IP_HDRINCL (IPV6_HDRINCL for
// IPv6, Linux 4.5+), hence this header. Nothing of the VRRP core here: the guard loads this module
// and stays small (cli/agent-imports.test.ts).
import { parseIp, type IpFamily } from "./ip-address.js";

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
  /** TTL / hop limit; default 255. */
  ttl?: number;
}

/**
 * `payload` (a VRRP advert with its checksum already computed) behind an IPv4 or IPv6 header from
 * `source` to `destination`. For IPv4 the kernel fills in the header checksum and the identification;
 * everything else is as given, so both are left zero here.
 */
export function withIpHeader(
  family: IpFamily,
  payload: Uint8Array,
  { source, destination, ttl = VRRP_TTL }: Addressing,
): Buffer {
  const src = parseIp(source, "advert source");
  const dst = parseIp(destination, "advert destination");
  const expected = family === 4 ? 4 : 16;
  if (src.length !== expected || dst.length !== expected) {
    throw new TypeError(
      `IPv${family} header from ${source} to ${destination}: an address of the other family`,
    );
  }
  if (family === 4) {
    const packet = Buffer.alloc(IPV4_HEADER_LENGTH + payload.length);
    packet[0] = 0x45; // version 4, 5 words of header (no options)
    packet.writeUInt16BE(packet.length, 2);
    packet.writeUInt16BE(IPV4_DONT_FRAGMENT, 6);
    packet[8] = ttl;
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
  packet[7] = ttl;
  src.copy(packet, 8);
  dst.copy(packet, 24);
  packet.set(payload, IPV6_HEADER_LENGTH);
  return packet;
}
