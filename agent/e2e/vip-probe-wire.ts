// The VIP probe's packets. A client sends two UDP probes to the VIP per tick:
//   "U" — an ordinary datagram: it goes where the client's ARP entry for the VIP points, so its
//         answers show what a real client sees (which node serves it, and when that changes);
//   "B" — the same datagram inside an Ethernet BROADCAST frame: every node that holds the VIP at that
//         moment receives and answers it (Linux delivers a unicast IP datagram that came in an L2
//         broadcast unless drop_unicast_in_l2_multicast is set), so two answers to one "B" probe
//         mean two nodes hold the VIP at once, whatever the client's ARP entry says.
// Each node's echo responder answers with the probe's kind and sequence number and its own name.
import { parseIp, parseMac } from "../../native/ip-address.js";

export type ProbeKind = "U" | "B";

const PROBE_LENGTH = 5;

export function encodeProbe(kind: ProbeKind, seq: number): Buffer {
  const b = Buffer.alloc(PROBE_LENGTH);
  b.write(kind, 0, "latin1");
  b.writeUInt32BE(seq >>> 0, 1);
  return b;
}

/** Decodes a probe as the echo receives it; undefined for anything else. */
export function decodeProbe(b: Buffer): { kind: ProbeKind; seq: number } | undefined {
  if (b.length !== PROBE_LENGTH) return undefined;
  const kind = String.fromCharCode(b[0]!);
  return kind === "U" || kind === "B" ? { kind, seq: b.readUInt32BE(1) } : undefined;
}

/** The echo's answer: the probe's 5 bytes followed by the answering node's name. */
export function encodeReply(probe: Buffer, node: string): Buffer {
  return Buffer.concat([probe.subarray(0, PROBE_LENGTH), Buffer.from(node, "utf8")]);
}

export interface ProbeReply {
  kind: ProbeKind;
  seq: number;
  node: string;
}

/** Decodes an echo answer; undefined for anything else. */
export function decodeReply(b: Buffer): ProbeReply | undefined {
  if (b.length <= PROBE_LENGTH) return undefined;
  const kind = String.fromCharCode(b[0]!);
  if (kind !== "U" && kind !== "B") return undefined;
  return { kind, seq: b.readUInt32BE(1), node: b.subarray(PROBE_LENGTH).toString("utf8") };
}

function ipv4HeaderChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface BroadcastProbeFrame {
  sourceMac: string;
  source: string;
  destination: string;
  sourcePort: number;
  destinationPort: number;
  payload: Buffer;
}

/** Ethernet broadcast + IPv4 (TTL 64, DF) + UDP (checksum 0: optional over IPv4) around the payload. */
export function buildBroadcastProbeFrame(f: BroadcastProbeFrame): Buffer {
  const udpLength = 8 + f.payload.length;
  const frame = Buffer.alloc(Math.max(60, 14 + 20 + udpLength));
  frame.fill(0xff, 0, 6);
  parseMac(f.sourceMac, "probe source MAC").copy(frame, 6);
  frame.writeUInt16BE(0x0800, 12);
  const ip = frame.subarray(14, 34);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(20 + udpLength, 2);
  ip.writeUInt16BE(0x4000, 6);
  ip.writeUInt8(64, 8);
  ip.writeUInt8(17, 9);
  parseIp(f.source, "probe source").copy(ip, 12);
  parseIp(f.destination, "probe destination").copy(ip, 16);
  ip.writeUInt16BE(ipv4HeaderChecksum(ip), 10);
  const udp = frame.subarray(34);
  udp.writeUInt16BE(f.sourcePort, 0);
  udp.writeUInt16BE(f.destinationPort, 2);
  udp.writeUInt16BE(udpLength, 4);
  f.payload.copy(udp, 8);
  return frame;
}
