// Decoding of IPVS statistics. The kernel sends two nests per service and destination:
// *_ATTR_STATS (connection and packet counters and rates as u32, byte counters as u64) and, since
// Linux 4.1, *_ATTR_STATS64 (everything u64). The 64-bit nest is preferred: the u32 counters wrap.
import type { AttributeSet } from "../netlink/attributes.js";
import {
  IPVS_STATS_ATTR_CONNS,
  IPVS_STATS_ATTR_CPS,
  IPVS_STATS_ATTR_INBPS,
  IPVS_STATS_ATTR_INBYTES,
  IPVS_STATS_ATTR_INPKTS,
  IPVS_STATS_ATTR_INPPS,
  IPVS_STATS_ATTR_OUTBPS,
  IPVS_STATS_ATTR_OUTBYTES,
  IPVS_STATS_ATTR_OUTPKTS,
  IPVS_STATS_ATTR_OUTPPS,
  STATS_ATTRIBUTE_NAMES,
} from "./constants.js";
import { ZERO_STATS, type IpvsStats } from "./model.js";

/** Reads the statistics of a service or destination attribute set; zeros when neither nest is there. */
export function decodeStats(parent: AttributeSet, stats32Type: number, stats64Type: number): IpvsStats {
  const stats64 = parent.nested(stats64Type, STATS_ATTRIBUTE_NAMES);
  if (stats64 !== undefined) {
    const u64 = (type: number): bigint => stats64.u64(type) ?? 0n;
    return {
      connections: u64(IPVS_STATS_ATTR_CONNS),
      inPackets: u64(IPVS_STATS_ATTR_INPKTS),
      outPackets: u64(IPVS_STATS_ATTR_OUTPKTS),
      inBytes: u64(IPVS_STATS_ATTR_INBYTES),
      outBytes: u64(IPVS_STATS_ATTR_OUTBYTES),
      connectionRate: u64(IPVS_STATS_ATTR_CPS),
      inPacketRate: u64(IPVS_STATS_ATTR_INPPS),
      outPacketRate: u64(IPVS_STATS_ATTR_OUTPPS),
      inByteRate: u64(IPVS_STATS_ATTR_INBPS),
      outByteRate: u64(IPVS_STATS_ATTR_OUTBPS),
    };
  }
  const stats32 = parent.nested(stats32Type, STATS_ATTRIBUTE_NAMES);
  if (stats32 === undefined) return ZERO_STATS;
  const u32 = (type: number): bigint => BigInt(stats32.u32(type) ?? 0);
  return {
    connections: u32(IPVS_STATS_ATTR_CONNS),
    inPackets: u32(IPVS_STATS_ATTR_INPKTS),
    outPackets: u32(IPVS_STATS_ATTR_OUTPKTS),
    inBytes: stats32.u64(IPVS_STATS_ATTR_INBYTES) ?? 0n,
    outBytes: stats32.u64(IPVS_STATS_ATTR_OUTBYTES) ?? 0n,
    connectionRate: u32(IPVS_STATS_ATTR_CPS),
    inPacketRate: u32(IPVS_STATS_ATTR_INPPS),
    outPacketRate: u32(IPVS_STATS_ATTR_OUTPPS),
    inByteRate: u32(IPVS_STATS_ATTR_INBPS),
    outByteRate: u32(IPVS_STATS_ATTR_OUTBPS),
  };
}
