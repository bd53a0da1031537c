// A small reader for classic pcap files (not pcapng) with Ethernet link type, for tests that replay
// captured traffic. It yields the IPv4/IPv6 packets with their IP payload; ARP and everything else is skipped.
import { formatAddress } from "../../agent/vrrp/address.js";

const LINKTYPE_ETHERNET = 1;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
// IPv6 extension headers that may sit between the fixed header and the upper-layer payload
const IPV6_EXTENSION_HEADERS = new Set([0 /* hop-by-hop */, 43 /* routing */, 60 /* destination options */]);

export interface PcapIpPacket {
  /** Index of the frame in the file, counting every record (also the skipped ones), from 0. */
  readonly frame: number;
  /** Capture time in microseconds since the Unix epoch. */
  readonly timestampUs: number;
  readonly ethernetSrc: string;
  readonly ethernetDst: string;
  readonly ipVersion: 4 | 6;
  readonly ipSrc: string;
  readonly ipDst: string;
  /** IPv4 TTL or IPv6 hop limit. */
  readonly ttl: number;
  /** IPv4 protocol or the IPv6 upper-layer next header. */
  readonly protocol: number;
  /** The IP payload, cut to the IP header's length (Ethernet padding removed). */
  readonly payload: Buffer;
}

export class PcapFormatError extends Error {
  constructor(message: string) {
    super(`pcap: ${message}`);
    this.name = "PcapFormatError";
  }
}

interface FileHeader {
  readonly littleEndian: boolean;
  readonly nanosecond: boolean;
  readonly linkType: number;
}

function readFileHeader(file: Buffer): FileHeader {
  if (file.length < 24)
    throw new PcapFormatError(`file of ${file.length} bytes is shorter than the 24-byte header`);
  const magic = file.readUInt32LE(0);
  const variants: Record<number, { littleEndian: boolean; nanosecond: boolean }> = {
    0xa1b2c3d4: { littleEndian: true, nanosecond: false },
    0xd4c3b2a1: { littleEndian: false, nanosecond: false },
    0xa1b23c4d: { littleEndian: true, nanosecond: true },
    0x4d3cb2a1: { littleEndian: false, nanosecond: true },
  };
  const variant = variants[magic];
  if (variant === undefined) {
    throw new PcapFormatError(`magic 0x${magic.toString(16)} is not classic pcap (pcapng is not supported)`);
  }
  const linkType = variant.littleEndian ? file.readUInt32LE(20) : file.readUInt32BE(20);
  return { ...variant, linkType: linkType & 0x0fffffff };
}

function macAddress(bytes: Buffer): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(":");
}

function ipPacket(
  frame: number,
  timestampUs: number,
  data: Buffer,
): Omit<PcapIpPacket, "frame" | "timestampUs"> | undefined {
  if (data.length < 14) return undefined;
  const ethernetDst = macAddress(data.subarray(0, 6));
  const ethernetSrc = macAddress(data.subarray(6, 12));
  let offset = 12;
  let etherType = data.readUInt16BE(offset);
  while ((etherType === ETHERTYPE_VLAN || etherType === ETHERTYPE_QINQ) && data.length >= offset + 6) {
    offset += 4;
    etherType = data.readUInt16BE(offset);
  }
  const ip = data.subarray(offset + 2);
  if (etherType === ETHERTYPE_IPV4) {
    if (ip.length < 20 || ip[0]! >> 4 !== 4) return undefined;
    const headerLength = (ip[0]! & 0x0f) * 4;
    const totalLength = ip.readUInt16BE(2);
    if (headerLength < 20 || totalLength < headerLength || totalLength > ip.length) {
      throw new PcapFormatError(
        `frame ${frame}: IPv4 lengths (header ${headerLength}, total ${totalLength}) do not fit`,
      );
    }
    return {
      ethernetSrc,
      ethernetDst,
      ipVersion: 4,
      ipSrc: formatAddress(ip.subarray(12, 16)),
      ipDst: formatAddress(ip.subarray(16, 20)),
      ttl: ip[8]!,
      protocol: ip[9]!,
      payload: Buffer.from(ip.subarray(headerLength, totalLength)),
    };
  }
  if (etherType === ETHERTYPE_IPV6) {
    if (ip.length < 40 || ip[0]! >> 4 !== 6) return undefined;
    const end = 40 + ip.readUInt16BE(4);
    if (end > ip.length) throw new PcapFormatError(`frame ${frame}: IPv6 payload length runs past the frame`);
    let nextHeader = ip[6]!;
    let start = 40;
    while (IPV6_EXTENSION_HEADERS.has(nextHeader)) {
      if (start + 2 > end)
        throw new PcapFormatError(`frame ${frame}: IPv6 extension header runs past the payload`);
      const following = ip[start]!;
      start += (ip[start + 1]! + 1) * 8;
      nextHeader = following;
    }
    if (start > end) throw new PcapFormatError(`frame ${frame}: IPv6 extension headers run past the payload`);
    return {
      ethernetSrc,
      ethernetDst,
      ipVersion: 6,
      ipSrc: formatAddress(ip.subarray(8, 24)),
      ipDst: formatAddress(ip.subarray(24, 40)),
      ttl: ip[7]!,
      protocol: nextHeader,
      payload: Buffer.from(ip.subarray(start, end)),
    };
  }
  return undefined; // ARP and other protocols are not for us
}

/** Yields every IPv4/IPv6 packet of a classic Ethernet pcap file, in file order. */
export function* readPcapIpPackets(file: Buffer): Generator<PcapIpPacket> {
  const header = readFileHeader(file);
  if (header.linkType !== LINKTYPE_ETHERNET) {
    throw new PcapFormatError(`link type ${header.linkType} is not Ethernet (1)`);
  }
  const u32 = (at: number): number => (header.littleEndian ? file.readUInt32LE(at) : file.readUInt32BE(at));
  let offset = 24;
  for (let frame = 0; offset < file.length; frame++) {
    if (offset + 16 > file.length)
      throw new PcapFormatError(`frame ${frame}: record header cut off at byte ${offset}`);
    const seconds = u32(offset);
    const fraction = u32(offset + 4);
    const capturedLength = u32(offset + 8);
    offset += 16;
    if (offset + capturedLength > file.length) {
      throw new PcapFormatError(
        `frame ${frame}: ${capturedLength} captured bytes run past the end of the file`,
      );
    }
    const data = file.subarray(offset, offset + capturedLength);
    offset += capturedLength;
    const timestampUs = seconds * 1_000_000 + (header.nanosecond ? Math.floor(fraction / 1000) : fraction);
    const packet = ipPacket(frame, timestampUs, data);
    if (packet !== undefined) yield { frame, timestampUs, ...packet };
  }
}
