// Virtual services <-> the attributes of an IPVS_CMD_ATTR_SERVICE nest.
//
// Wire details that are easy to get wrong (include/uapi/linux/ip_vs.h, ip_vs_ctl.c):
// - PORT is big-endian (the kernel keeps it as __be16); AF, PROTOCOL, FWMARK are host order.
// - ADDR is up to 16 bytes; the kernel answers with all 16 (an IPv4 address in the first 4).
// - NETMASK is u32: for IPv4 the mask's bytes in network order, for IPv6 the prefix length as a
//   host-order integer.
// - FLAGS is struct ip_vs_flags { u32 flags; u32 mask }: the kernel changes only the masked bits.
import type { AttributeWriter } from "../netlink/attributes.js";
import { AttributeSet } from "../netlink/attributes.js";
import { NetlinkDecodeError } from "../netlink/errors.js";
import {
  AF_INET,
  AF_INET6,
  IP_VS_PENAME_MAXLEN,
  IP_VS_SCHEDNAME_MAXLEN,
  IP_VS_SVC_F_ONEPACKET,
  IP_VS_SVC_F_PERSISTENT,
  IP_VS_SVC_F_SCHED1,
  IP_VS_SVC_F_SCHED2,
  IP_VS_SVC_F_SCHED3,
  IP_VS_SVC_USER_FLAGS,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPVS_SVC_ATTR_ADDR,
  IPVS_SVC_ATTR_AF,
  IPVS_SVC_ATTR_FLAGS,
  IPVS_SVC_ATTR_FWMARK,
  IPVS_SVC_ATTR_NETMASK,
  IPVS_SVC_ATTR_PE_NAME,
  IPVS_SVC_ATTR_PORT,
  IPVS_SVC_ATTR_PROTOCOL,
  IPVS_SVC_ATTR_SCHED_NAME,
  IPVS_SVC_ATTR_STATS,
  IPVS_SVC_ATTR_STATS64,
  IPVS_SVC_ATTR_TIMEOUT,
  SERVICE_ATTRIBUTE_NAMES,
} from "./constants.js";
import { parseIp, type IpFamily } from "../ip-address.js";
import { addressLength, decodeAddress } from "./address.js";
import {
  describeService,
  IpvsValidationError,
  serviceFamily,
  type IpvsProtocol,
  type IpvsService,
  type IpvsServiceState,
  type ServiceFlags,
  type ServiceKey,
} from "./model.js";
import { decodeStats } from "./stats-codec.js";
import { checkInteger, checkKernelName, checkPort, checkU32 } from "./validate.js";

const PROTOCOL_NUMBERS: Record<IpvsProtocol, number> = {
  tcp: IPPROTO_TCP,
  udp: IPPROTO_UDP,
  sctp: IPPROTO_SCTP,
};
const PROTOCOL_NAMES = new Map<number, IpvsProtocol>([
  [IPPROTO_TCP, "tcp"],
  [IPPROTO_UDP, "udp"],
  [IPPROTO_SCTP, "sctp"],
]);

export const familyNumber = (family: IpFamily): number => (family === 4 ? AF_INET : AF_INET6);

/** Address family number → 4 | 6; anything else is a decode error in `context`. */
export function decodeFamilyNumber(value: number, context: string, offset: number): IpFamily {
  if (value === AF_INET) return 4;
  if (value === AF_INET6) return 6;
  throw new NetlinkDecodeError(context, offset, `address family ${value} is neither AF_INET nor AF_INET6`);
}

/** Writes the identifying attributes of a service (enough for delete, get, and destination commands). */
export function writeServiceKey(writer: AttributeWriter, key: ServiceKey): void {
  const family = serviceFamily(key);
  writer.u16(IPVS_SVC_ATTR_AF, familyNumber(family));
  if (key.kind === "fwmark") {
    checkInteger(key.fwmark, 1, 0xffffffff, `${describeService(key)} firewall mark`);
    writer.u32(IPVS_SVC_ATTR_FWMARK, key.fwmark);
    return;
  }
  const protocol = PROTOCOL_NUMBERS[key.protocol] as number | undefined;
  if (protocol === undefined) {
    throw new IpvsValidationError(
      describeService(key),
      `protocol must be tcp, udp or sctp, not '${String(key.protocol)}'`,
    );
  }
  writer.u16(IPVS_SVC_ATTR_PROTOCOL, protocol);
  writer.binary(IPVS_SVC_ATTR_ADDR, parseIp(key.address, describeService(key)));
  writer.u16be(IPVS_SVC_ATTR_PORT, checkPort(key.port, describeService(key)));
}

export function encodeFlags(flags: ServiceFlags): number {
  return (
    (flags.persistent ? IP_VS_SVC_F_PERSISTENT : 0) |
    (flags.onePacket ? IP_VS_SVC_F_ONEPACKET : 0) |
    (flags.sched1 ? IP_VS_SVC_F_SCHED1 : 0) |
    (flags.sched2 ? IP_VS_SVC_F_SCHED2 : 0) |
    (flags.sched3 ? IP_VS_SVC_F_SCHED3 : 0)
  );
}

export function decodeFlags(bits: number): ServiceFlags {
  return {
    persistent: (bits & IP_VS_SVC_F_PERSISTENT) !== 0,
    onePacket: (bits & IP_VS_SVC_F_ONEPACKET) !== 0,
    sched1: (bits & IP_VS_SVC_F_SCHED1) !== 0,
    sched2: (bits & IP_VS_SVC_F_SCHED2) !== 0,
    sched3: (bits & IP_VS_SVC_F_SCHED3) !== 0,
  };
}

function writeNetmask(writer: AttributeWriter, service: IpvsService, family: IpFamily): void {
  const what = `${describeService(service.key)} netmask`;
  if (family === 4) {
    if (typeof service.netmask !== "string") {
      throw new IpvsValidationError(what, `an IPv4 service takes a dotted netmask, not ${service.netmask}`);
    }
    const mask = parseIp(service.netmask, what);
    if (mask.length !== 4) throw new IpvsValidationError(what, `not an IPv4 netmask: '${service.netmask}'`);
    writer.binary(IPVS_SVC_ATTR_NETMASK, mask);
    return;
  }
  if (typeof service.netmask !== "number") {
    throw new IpvsValidationError(what, `an IPv6 service takes a prefix length, not '${service.netmask}'`);
  }
  writer.u32(IPVS_SVC_ATTR_NETMASK, checkInteger(service.netmask, 0, 128, what));
}

/** Writes every attribute NEW_SERVICE / SET_SERVICE need (the kernel rejects partial ones). */
export function writeService(writer: AttributeWriter, service: IpvsService): void {
  const name = describeService(service.key);
  writeServiceKey(writer, service.key);
  writer.string(
    IPVS_SVC_ATTR_SCHED_NAME,
    checkKernelName(service.scheduler, IP_VS_SCHEDNAME_MAXLEN, `${name} scheduler`),
  );
  if (service.persistenceEngine !== undefined) {
    writer.string(
      IPVS_SVC_ATTR_PE_NAME,
      checkKernelName(service.persistenceEngine, IP_VS_PENAME_MAXLEN, `${name} persistence engine`),
    );
  }
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE(encodeFlags(service.flags), 0);
  flags.writeUInt32LE(IP_VS_SVC_USER_FLAGS, 4);
  writer.binary(IPVS_SVC_ATTR_FLAGS, flags);
  writer.u32(IPVS_SVC_ATTR_TIMEOUT, checkU32(service.timeout, `${name} persistence timeout`));
  writeNetmask(writer, service, serviceFamily(service.key));
}

/** Reads the identifying attributes of a service (AF and FWMARK, or AF, PROTOCOL, ADDR, PORT). */
export function readServiceKey(set: AttributeSet): ServiceKey {
  const context = set.context;
  const family = decodeFamilyNumber(
    set.required(IPVS_SVC_ATTR_AF, (s, t) => s.u16(t)),
    context,
    0,
  );
  const fwmark = set.u32(IPVS_SVC_ATTR_FWMARK);
  if (fwmark !== undefined && fwmark !== 0) return { kind: "fwmark", family, fwmark };
  const protocolNumber = set.required(IPVS_SVC_ATTR_PROTOCOL, (s, t) => s.u16(t));
  const protocol = PROTOCOL_NAMES.get(protocolNumber);
  if (protocol === undefined)
    throw new NetlinkDecodeError(context, 0, `unknown protocol number ${protocolNumber}`);
  const address = set.required(IPVS_SVC_ATTR_ADDR, (s, t) => s.binary(t));
  if (address.length < addressLength(family)) {
    throw new NetlinkDecodeError(
      context,
      0,
      `IPVS_SVC_ATTR_ADDR has ${address.length} bytes, too few for IPv${family}`,
    );
  }
  return {
    kind: "address",
    protocol,
    address: decodeAddress(family, address),
    port: set.required(IPVS_SVC_ATTR_PORT, (s, t) => s.u16be(t)),
  };
}

/** Reads NETMASK the way the kernel stores it: IPv4 mask bytes, or an IPv6 prefix length. */
export function readNetmask(set: AttributeSet, family: IpFamily): string | number {
  if (family === 6) return set.required(IPVS_SVC_ATTR_NETMASK, (s, t) => s.u32(t));
  const mask = set.required(IPVS_SVC_ATTR_NETMASK, (s, t) => s.binary(t));
  if (mask.length < 4)
    throw new NetlinkDecodeError(set.context, 0, `IPVS_SVC_ATTR_NETMASK has ${mask.length} bytes`);
  return decodeAddress(4, mask);
}

/** Decodes the contents of an IPVS_CMD_ATTR_SERVICE nest from a GET_SERVICE reply or dump. */
export function decodeService(nest: Buffer): IpvsServiceState {
  const context = "IPVS service attributes";
  const set = new AttributeSet(nest, context, SERVICE_ATTRIBUTE_NAMES);
  const key = readServiceKey(set);
  const flagsValue = set.required(IPVS_SVC_ATTR_FLAGS, (s, t) => s.binary(t));
  if (flagsValue.length < 4)
    throw new NetlinkDecodeError(context, 0, `IPVS_SVC_ATTR_FLAGS has ${flagsValue.length} bytes`);
  const netmask = readNetmask(set, serviceFamily(key));
  const persistenceEngine = set.string(IPVS_SVC_ATTR_PE_NAME);
  return {
    key,
    scheduler: set.required(IPVS_SVC_ATTR_SCHED_NAME, (s, t) => s.string(t)),
    flags: decodeFlags(flagsValue.readUInt32LE(0)),
    timeout: set.required(IPVS_SVC_ATTR_TIMEOUT, (s, t) => s.u32(t)),
    netmask,
    ...(persistenceEngine !== undefined && persistenceEngine !== "" ? { persistenceEngine } : {}),
    stats: decodeStats(set, IPVS_SVC_ATTR_STATS, IPVS_SVC_ATTR_STATS64),
  };
}
