// Announcement packets for a virtual IP taking over: the gratuitous ARP frame (IPv4) and the
// unsolicited neighbour advertisement (IPv6, RFC 4861 7.2.6). Pure builders plus decoders used by
// tests to check what was sent and received.
import { formatIp, formatMac, ipFamilyOf, parseIp, parseMac } from "./ip-address.js";

/** Bytes that are not a well-formed ARP frame / neighbour advertisement. */
export class PacketDecodeError extends Error {
  constructor(
    readonly packet: string,
    problem: string,
  ) {
    super(`cannot decode ${packet}: ${problem}`);
    this.name = "PacketDecodeError";
  }
}

const ETHERTYPE_ARP = 0x0806;
const ARP_HARDWARE_ETHERNET = 1;
const ARP_PROTOCOL_IPV4 = 0x0800;
export const ARP_OPERATION_REQUEST = 1;
export const ARP_OPERATION_REPLY = 2;
const ETHERNET_HEADER = 14;
const ARP_BODY = 28;
/** Frames shorter than 60 bytes (without FCS) are runts; pad like a NIC would. */
const ETHERNET_MIN_FRAME = 60;
const BROADCAST_MAC = Buffer.alloc(6, 0xff);

export interface ArpFrame {
  readonly destinationMac: string;
  readonly sourceMac: string;
  readonly operation: number;
  readonly senderMac: string;
  readonly senderIp: string;
  readonly targetMac: string;
  readonly targetIp: string;
}

/**
 * A gratuitous ARP in request form (RFC 5227 "ARP announcement"): broadcast, sender = target =
 * the VIP, sender MAC = our MAC, target MAC zero. Linux treats sender IP == target IP as a
 * gratuitous ARP and lets it override a neighbour entry even inside the lock time.
 */
export function buildGratuitousArp(vip: string, mac: string): Buffer {
  if (ipFamilyOf(vip) !== 4) throw new TypeError(`gratuitous ARP: '${vip}' is not an IPv4 address`);
  const sender = parseMac(mac, "gratuitous ARP sender MAC");
  const ip = parseIp(vip);
  const frame = Buffer.alloc(ETHERNET_MIN_FRAME);
  BROADCAST_MAC.copy(frame, 0);
  sender.copy(frame, 6);
  frame.writeUInt16BE(ETHERTYPE_ARP, 12);
  let at = ETHERNET_HEADER;
  at = frame.writeUInt16BE(ARP_HARDWARE_ETHERNET, at);
  at = frame.writeUInt16BE(ARP_PROTOCOL_IPV4, at);
  at = frame.writeUInt8(6, at);
  at = frame.writeUInt8(4, at);
  at = frame.writeUInt16BE(ARP_OPERATION_REQUEST, at);
  at += sender.copy(frame, at);
  at += ip.copy(frame, at);
  at += 6; // target MAC: zero
  ip.copy(frame, at);
  return frame;
}

export function decodeArpFrame(frame: Buffer): ArpFrame {
  if (frame.length < ETHERNET_HEADER + ARP_BODY) {
    throw new PacketDecodeError("ARP frame", `${frame.length} bytes, need ${ETHERNET_HEADER + ARP_BODY}`);
  }
  const etherType = frame.readUInt16BE(12);
  if (etherType !== ETHERTYPE_ARP)
    throw new PacketDecodeError("ARP frame", `EtherType 0x${etherType.toString(16)} is not ARP`);
  const body = frame.subarray(ETHERNET_HEADER);
  if (
    body.readUInt16BE(0) !== ARP_HARDWARE_ETHERNET ||
    body.readUInt16BE(2) !== ARP_PROTOCOL_IPV4 ||
    body[4] !== 6 ||
    body[5] !== 4
  ) {
    throw new PacketDecodeError(
      "ARP frame",
      "not Ethernet/IPv4 ARP (hardware, protocol or address lengths differ)",
    );
  }
  return {
    destinationMac: formatMac(frame.subarray(0, 6)),
    sourceMac: formatMac(frame.subarray(6, 12)),
    operation: body.readUInt16BE(6),
    senderMac: formatMac(body.subarray(8, 14)),
    senderIp: formatIp(body.subarray(14, 18)),
    targetMac: formatMac(body.subarray(18, 24)),
    targetIp: formatIp(body.subarray(24, 28)),
  };
}

export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
const NA_FLAG_ROUTER = 0x80000000;
const NA_FLAG_SOLICITED = 0x40000000;
const NA_FLAG_OVERRIDE = 0x20000000;
const ND_OPTION_TARGET_LINK_ADDRESS = 2;
const NA_HEADER = 24; // type, code, checksum, flags, target
/** All-nodes multicast: where unsolicited advertisements go. */
export const ALL_NODES_GROUP = "ff02::1";

export interface NeighborAdvertisement {
  readonly router: boolean;
  readonly solicited: boolean;
  readonly override: boolean;
  readonly target: string;
  /** From the target link-layer address option, when present. */
  readonly targetMac?: string;
}

/**
 * The ICMPv6 part of an unsolicited neighbour advertisement for `vip`: Override set (so receivers
 * replace the old link-layer address), Solicited clear, with the target link-layer address option.
 * The checksum is left zero: raw ICMPv6 sockets have the kernel fill it in.
 */
export function buildUnsolicitedNeighborAdvertisement(
  vip: string,
  mac: string,
  options: { router?: boolean } = {},
): Buffer {
  if (ipFamilyOf(vip) !== 6) throw new TypeError(`neighbour advertisement: '${vip}' is not an IPv6 address`);
  const packet = Buffer.alloc(NA_HEADER + 8);
  packet.writeUInt8(ICMPV6_NEIGHBOR_ADVERTISEMENT, 0);
  packet.writeUInt32BE((NA_FLAG_OVERRIDE | (options.router ? NA_FLAG_ROUTER : 0)) >>> 0, 4);
  parseIp(vip).copy(packet, 8);
  packet.writeUInt8(ND_OPTION_TARGET_LINK_ADDRESS, NA_HEADER);
  packet.writeUInt8(1, NA_HEADER + 1); // option length in units of 8 bytes
  parseMac(mac, "neighbour advertisement MAC").copy(packet, NA_HEADER + 2);
  return packet;
}

export function decodeNeighborAdvertisement(packet: Buffer): NeighborAdvertisement {
  if (packet.length < NA_HEADER)
    throw new PacketDecodeError("neighbour advertisement", `${packet.length} bytes, need ${NA_HEADER}`);
  if (packet[0] !== ICMPV6_NEIGHBOR_ADVERTISEMENT)
    throw new PacketDecodeError("neighbour advertisement", `ICMPv6 type ${packet[0]} is not 136`);
  if (packet[1] !== 0)
    throw new PacketDecodeError("neighbour advertisement", `ICMPv6 code ${packet[1]} is not 0`);
  const flags = packet.readUInt32BE(4);
  let targetMac: string | undefined;
  for (let at = NA_HEADER; at < packet.length;) {
    if (packet.length - at < 2)
      throw new PacketDecodeError("neighbour advertisement", `truncated option at byte ${at}`);
    const type = packet[at]!;
    const length = packet[at + 1]! * 8;
    if (length === 0)
      throw new PacketDecodeError("neighbour advertisement", `option of length 0 at byte ${at}`);
    if (at + length > packet.length)
      throw new PacketDecodeError("neighbour advertisement", `option at byte ${at} runs past the end`);
    if (type === ND_OPTION_TARGET_LINK_ADDRESS && length >= 8)
      targetMac = formatMac(packet.subarray(at + 2, at + 8));
    at += length;
  }
  return {
    router: (flags & NA_FLAG_ROUTER) !== 0,
    solicited: (flags & NA_FLAG_SOLICITED) !== 0,
    override: (flags & NA_FLAG_OVERRIDE) !== 0,
    target: formatIp(packet.subarray(8, 24)),
    ...(targetMac !== undefined ? { targetMac } : {}),
  };
}
