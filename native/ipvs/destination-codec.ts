// Destinations (real servers) <-> the attributes of an IPVS_CMD_ATTR_DEST nest.
//
// PORT and TUN_PORT are big-endian; ADDR_FAMILY (u16), TUN_TYPE (u8), TUN_FLAGS (u16) and the
// u32 counters are host order. ADDR_FAMILY is always sent: a destination may have another family
// than its service (only with the tunnel method), and without it the kernel assumes the service's.
import type { AttributeWriter } from "../netlink/attributes.js";
import { AttributeSet } from "../netlink/attributes.js";
import { NetlinkDecodeError } from "../netlink/errors.js";
import {
  DEST_ATTRIBUTE_NAMES,
  IP_VS_CONN_F_BYPASS,
  IP_VS_CONN_F_DROUTE,
  IP_VS_CONN_F_FWD_MASK,
  IP_VS_CONN_F_LOCALNODE,
  IP_VS_CONN_F_MASQ,
  IP_VS_CONN_F_TUNNEL,
  IP_VS_CONN_F_TUNNEL_TYPE_GRE,
  IP_VS_CONN_F_TUNNEL_TYPE_GUE,
  IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
  IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
  IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM,
  IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
  IPVS_DEST_ATTR_ACTIVE_CONNS,
  IPVS_DEST_ATTR_ADDR,
  IPVS_DEST_ATTR_ADDR_FAMILY,
  IPVS_DEST_ATTR_FWD_METHOD,
  IPVS_DEST_ATTR_INACT_CONNS,
  IPVS_DEST_ATTR_L_THRESH,
  IPVS_DEST_ATTR_PERSIST_CONNS,
  IPVS_DEST_ATTR_PORT,
  IPVS_DEST_ATTR_STATS,
  IPVS_DEST_ATTR_STATS64,
  IPVS_DEST_ATTR_TUN_FLAGS,
  IPVS_DEST_ATTR_TUN_PORT,
  IPVS_DEST_ATTR_TUN_TYPE,
  IPVS_DEST_ATTR_U_THRESH,
  IPVS_DEST_ATTR_WEIGHT,
} from "./constants.js";
import { ipFamilyOf, parseIp, type IpFamily } from "../ip-address.js";
import { addressLength, decodeAddress } from "./address.js";
import {
  describeDestination,
  IpvsValidationError,
  type ForwardingMethod,
  type IpvsDestination,
  type IpvsDestinationState,
  type TunnelChecksum,
  type TunnelType,
} from "./model.js";
import { decodeFamilyNumber, familyNumber } from "./service-codec.js";
import { decodeStats } from "./stats-codec.js";
import { checkInt32, checkPort } from "./validate.js";

const FORWARDING_NUMBERS: Record<ForwardingMethod, number> = {
  masq: IP_VS_CONN_F_MASQ,
  local: IP_VS_CONN_F_LOCALNODE,
  tunnel: IP_VS_CONN_F_TUNNEL,
  route: IP_VS_CONN_F_DROUTE,
  bypass: IP_VS_CONN_F_BYPASS,
};
const FORWARDING_NAMES = new Map(
  Object.entries(FORWARDING_NUMBERS).map(([name, n]) => [n, name as ForwardingMethod]),
);

const TUNNEL_TYPE_NUMBERS: Record<TunnelType, number> = {
  ipip: IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
  gue: IP_VS_CONN_F_TUNNEL_TYPE_GUE,
  gre: IP_VS_CONN_F_TUNNEL_TYPE_GRE,
};
const TUNNEL_TYPE_NAMES = new Map(
  Object.entries(TUNNEL_TYPE_NUMBERS).map(([name, n]) => [n, name as TunnelType]),
);

const CHECKSUM_NUMBERS: Record<TunnelChecksum, number> = {
  nocsum: IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM,
  csum: IP_VS_TUNNEL_ENCAP_FLAG_CSUM,
  remcsum: IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
};
const CHECKSUM_NAMES = new Map(
  Object.entries(CHECKSUM_NUMBERS).map(([name, n]) => [n, name as TunnelChecksum]),
);

function destinationFamily(destination: Pick<IpvsDestination, "address" | "port">): IpFamily {
  const family = ipFamilyOf(destination.address);
  if (family === undefined) {
    throw new IpvsValidationError("destination", `not an IP address: '${destination.address}'`);
  }
  return family;
}

/** Writes address, port and family: all DEL_DEST needs. */
export function writeDestinationKey(
  writer: AttributeWriter,
  destination: Pick<IpvsDestination, "address" | "port">,
): void {
  const what = `destination ${describeDestination(destination)}`;
  writer.u16(IPVS_DEST_ATTR_ADDR_FAMILY, familyNumber(destinationFamily(destination)));
  writer.binary(IPVS_DEST_ATTR_ADDR, parseIp(destination.address, what));
  writer.u16be(IPVS_DEST_ATTR_PORT, checkPort(destination.port, what));
}

/** Writes every attribute NEW_DEST / SET_DEST need (the kernel rejects partial ones). */
export function writeDestination(writer: AttributeWriter, destination: IpvsDestination): void {
  const what = `destination ${describeDestination(destination)}`;
  writeDestinationKey(writer, destination);
  const forwarding = FORWARDING_NUMBERS[destination.forwarding] as number | undefined;
  if (forwarding === undefined) {
    throw new IpvsValidationError(
      what,
      `forwarding must be one of ${Object.keys(FORWARDING_NUMBERS).join(", ")}, not '${String(destination.forwarding)}'`,
    );
  }
  writer.u32(IPVS_DEST_ATTR_FWD_METHOD, forwarding);
  writer.u32(IPVS_DEST_ATTR_WEIGHT, checkInt32(destination.weight, `${what} weight`));
  writer.u32(IPVS_DEST_ATTR_U_THRESH, checkInt32(destination.upperThreshold, `${what} upper threshold`));
  writer.u32(IPVS_DEST_ATTR_L_THRESH, checkInt32(destination.lowerThreshold, `${what} lower threshold`));
  const tunnel = destination.tunnel;
  if (tunnel === undefined) return;
  if (destination.forwarding !== "tunnel") {
    throw new IpvsValidationError(
      what,
      `tunnel settings need forwarding 'tunnel', not '${destination.forwarding}'`,
    );
  }
  const type = TUNNEL_TYPE_NUMBERS[tunnel.type] as number | undefined;
  if (type === undefined)
    throw new IpvsValidationError(what, `tunnel type must be ipip, gue or gre, not '${String(tunnel.type)}'`);
  const checksum = CHECKSUM_NUMBERS[tunnel.checksum] as number | undefined;
  if (checksum === undefined) {
    throw new IpvsValidationError(
      what,
      `tunnel checksum must be nocsum, csum or remcsum, not '${String(tunnel.checksum)}'`,
    );
  }
  writer.u8(IPVS_DEST_ATTR_TUN_TYPE, type);
  writer.u16be(IPVS_DEST_ATTR_TUN_PORT, checkPort(tunnel.port, `${what} tunnel`));
  writer.u16(IPVS_DEST_ATTR_TUN_FLAGS, checksum);
}

/** Reads address (of ADDR_FAMILY, else the service's family) and port of a destination. */
export function readDestinationKey(
  set: AttributeSet,
  serviceFamily: IpFamily,
): Pick<IpvsDestination, "address" | "port"> {
  const familyValue = set.u16(IPVS_DEST_ATTR_ADDR_FAMILY);
  const family = familyValue === undefined ? serviceFamily : decodeFamilyNumber(familyValue, set.context, 0);
  const address = set.required(IPVS_DEST_ATTR_ADDR, (s, t) => s.binary(t));
  if (address.length < addressLength(family)) {
    throw new NetlinkDecodeError(
      set.context,
      0,
      `IPVS_DEST_ATTR_ADDR has ${address.length} bytes, too few for IPv${family}`,
    );
  }
  return {
    address: decodeAddress(family, address),
    port: set.required(IPVS_DEST_ATTR_PORT, (s, t) => s.u16be(t)),
  };
}

/** Forwarding method number → name; undefined for numbers the kernel does not define. */
export const forwardingName = (value: number): ForwardingMethod | undefined => FORWARDING_NAMES.get(value);
export const tunnelTypeName = (value: number): TunnelType | undefined => TUNNEL_TYPE_NAMES.get(value);
export const tunnelChecksumName = (value: number): TunnelChecksum | undefined => CHECKSUM_NAMES.get(value);

/**
 * Decodes the contents of an IPVS_CMD_ATTR_DEST nest from a GET_DEST dump. `serviceFamily` is the
 * fallback for kernels that do not report IPVS_DEST_ATTR_ADDR_FAMILY (before Linux 4.3).
 */
export function decodeDestination(nest: Buffer, serviceFamily: IpFamily): IpvsDestinationState {
  const set = new AttributeSet(nest, "IPVS destination attributes", DEST_ATTRIBUTE_NAMES);
  const context = set.context;
  const { address, port } = readDestinationKey(set, serviceFamily);
  const forwardingValue = set.required(IPVS_DEST_ATTR_FWD_METHOD, (s, t) => s.u32(t)) & IP_VS_CONN_F_FWD_MASK;
  const forwarding = FORWARDING_NAMES.get(forwardingValue);
  if (forwarding === undefined)
    throw new NetlinkDecodeError(context, 0, `unknown forwarding method ${forwardingValue}`);

  let tunnel: IpvsDestination["tunnel"];
  if (forwarding === "tunnel") {
    const typeValue = set.u8(IPVS_DEST_ATTR_TUN_TYPE) ?? IP_VS_CONN_F_TUNNEL_TYPE_IPIP;
    const type = TUNNEL_TYPE_NAMES.get(typeValue);
    if (type === undefined) throw new NetlinkDecodeError(context, 0, `unknown tunnel type ${typeValue}`);
    const checksumValue = set.u16(IPVS_DEST_ATTR_TUN_FLAGS) ?? IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM;
    const checksum = CHECKSUM_NAMES.get(checksumValue);
    if (checksum === undefined)
      throw new NetlinkDecodeError(context, 0, `unknown tunnel flags ${checksumValue}`);
    tunnel = { type, port: set.u16be(IPVS_DEST_ATTR_TUN_PORT) ?? 0, checksum };
  }
  return {
    address,
    port,
    forwarding,
    weight: set.required(IPVS_DEST_ATTR_WEIGHT, (s, t) => s.s32(t)),
    upperThreshold: set.required(IPVS_DEST_ATTR_U_THRESH, (s, t) => s.u32(t)),
    lowerThreshold: set.required(IPVS_DEST_ATTR_L_THRESH, (s, t) => s.u32(t)),
    ...(tunnel !== undefined ? { tunnel } : {}),
    activeConnections: set.u32(IPVS_DEST_ATTR_ACTIVE_CONNS) ?? 0,
    inactiveConnections: set.u32(IPVS_DEST_ATTR_INACT_CONNS) ?? 0,
    persistentConnections: set.u32(IPVS_DEST_ATTR_PERSIST_CONNS) ?? 0,
    stats: decodeStats(set, IPVS_DEST_ATTR_STATS, IPVS_DEST_ATTR_STATS64),
  };
}
