// Interface addresses: RTM_NEWADDR/RTM_DELADDR decoding and the add/remove requests.
import { AttributeSet, encodeAttributes } from "../netlink/attributes.js";
import { NetlinkDecodeError } from "../netlink/errors.js";
import type { NetlinkMessage } from "../netlink/message.js";
import { formatIp, ipFamilyOf, parseIp, type IpFamily } from "../ip-address.js";
import {
  ADDRESS_FLAGS,
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  IFA_ADDRESS,
  IFA_BROADCAST,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFA_NAMES,
  IFA_PROTO,
  IFADDRMSG_LENGTH,
  RT_SCOPE_UNIVERSE,
  type AddressFlagName,
} from "./constants.js";

export interface InterfaceAddress {
  readonly family: IpFamily;
  readonly ifindex: number;
  /** The interface's own address (IFA_LOCAL, or IFA_ADDRESS when there is no IFA_LOCAL). */
  readonly address: string;
  readonly prefixLength: number;
  /** Point-to-point peer (IFA_ADDRESS differing from IFA_LOCAL). */
  readonly peer?: string;
  readonly broadcast?: string;
  /** IPv4 label, e.g. "eth0:vip". */
  readonly label?: string;
  /** IFA_F_* bits (IFA_FLAGS when present, else the 8-bit ifa_flags). */
  readonly flags: number;
  /** The flags by name, e.g. ["permanent", "nodad"]. */
  readonly flagNames: readonly AddressFlagName[];
  /** RT_SCOPE_* (0 global, 253 link, 254 host). */
  readonly scope: number;
  /** IFA_PROTO, who created the address; absent when 0 or on kernels before 6.1. */
  readonly protocol?: number;
}

export interface AddressSpec {
  readonly ifindex: number;
  readonly address: string;
  readonly prefixLength: number;
  /** IPv4 only (the kernel has no IPv6 labels); at most 15 characters, by convention "<ifname>:<suffix>". */
  readonly label?: string;
  /** e.g. ["nodad", "noprefixroute"]: nodad makes an IPv6 address usable at once (no DAD). */
  readonly flags?: readonly AddressFlagName[];
  /** IPv4 broadcast address to set (none by default). */
  readonly broadcast?: string;
  readonly scope?: number;
  /** IFA_PROTO (1-255): marks who created the address; kernels before 6.1 ignore it. */
  readonly protocol?: number;
}

const familyCode = (family: IpFamily): number => (family === 4 ? AF_INET : AF_INET6);

/** IFA_F_* names of a flags value, in bit order. */
export function addressFlagNames(flags: number): AddressFlagName[] {
  return (Object.entries(ADDRESS_FLAGS) as [AddressFlagName, number][])
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => name);
}

/** IFA_F_* bits of flag names. */
export function addressFlagBits(names: readonly AddressFlagName[]): number {
  let bits = 0;
  for (const name of names) {
    const bit = (ADDRESS_FLAGS as Record<string, number | undefined>)[name];
    if (bit === undefined)
      throw new TypeError(`unknown address flag '${name}'; known: ${Object.keys(ADDRESS_FLAGS).join(", ")}`);
    bits |= bit;
  }
  return bits;
}

/** Decodes an RTM_NEWADDR / RTM_DELADDR message. */
export function decodeAddress(message: NetlinkMessage): InterfaceAddress {
  const payload = message.payload;
  if (payload.length < IFADDRMSG_LENGTH) {
    throw new NetlinkDecodeError("ifaddrmsg", 0, `${payload.length} bytes, expected ${IFADDRMSG_LENGTH}`);
  }
  const familyValue = payload.readUInt8(0);
  const family: IpFamily | undefined = familyValue === AF_INET ? 4 : familyValue === AF_INET6 ? 6 : undefined;
  if (family === undefined)
    throw new NetlinkDecodeError(
      "ifaddrmsg",
      0,
      `address family ${familyValue} is neither AF_INET nor AF_INET6`,
    );
  const prefixLength = payload.readUInt8(1);
  const shortFlags = payload.readUInt8(2);
  const scope = payload.readUInt8(3);
  const ifindex = payload.readUInt32LE(4);
  const attributes = new AttributeSet(payload.subarray(IFADDRMSG_LENGTH), "IFA attributes", IFA_NAMES);
  const size = family === 4 ? 4 : 16;
  const readAddress = (type: number): string | undefined => {
    const value = attributes.binary(type);
    if (value === undefined) return undefined;
    if (value.length !== size) {
      throw new NetlinkDecodeError(
        "IFA attributes",
        0,
        `${attributes.nameOf(type)} has ${value.length} bytes, expected ${size} for IPv${family}`,
      );
    }
    return formatIp(value);
  };
  const local = readAddress(IFA_LOCAL);
  const peerOrPrefix = readAddress(IFA_ADDRESS);
  const address = local ?? peerOrPrefix;
  if (address === undefined)
    throw new NetlinkDecodeError(
      "IFA attributes",
      0,
      `address on ifindex ${ifindex} has neither IFA_LOCAL nor IFA_ADDRESS`,
    );
  const broadcast = readAddress(IFA_BROADCAST);
  const label = attributes.string(IFA_LABEL);
  const flags = attributes.u32(IFA_FLAGS) ?? shortFlags;
  const protocol = attributes.u8(IFA_PROTO);
  return {
    family,
    ifindex,
    address,
    prefixLength,
    ...(local !== undefined && peerOrPrefix !== undefined && peerOrPrefix !== local
      ? { peer: peerOrPrefix }
      : {}),
    ...(broadcast !== undefined ? { broadcast } : {}),
    ...(label !== undefined ? { label } : {}),
    flags,
    flagNames: addressFlagNames(flags),
    scope,
    ...(protocol !== undefined && protocol !== 0 ? { protocol } : {}),
  };
}

/** Validates a spec and returns its family; errors name the address. */
export function checkAddressSpec(spec: AddressSpec): IpFamily {
  const family = ipFamilyOf(spec.address);
  if (family === undefined) throw new TypeError(`not an IP address: '${spec.address}'`);
  const maxPrefix = family === 4 ? 32 : 128;
  if (!Number.isInteger(spec.prefixLength) || spec.prefixLength < 0 || spec.prefixLength > maxPrefix) {
    throw new RangeError(`${spec.address}: prefix length ${spec.prefixLength} is not in 0..${maxPrefix}`);
  }
  if (!Number.isInteger(spec.ifindex) || spec.ifindex < 1)
    throw new RangeError(`${spec.address}: ifindex ${spec.ifindex} is not a positive integer`);
  if (spec.label !== undefined) {
    if (family === 6)
      throw new TypeError(`${spec.address}: IPv6 addresses have no labels (label '${spec.label}')`);
    if (spec.label.length === 0 || Buffer.byteLength(spec.label) > 15)
      throw new RangeError(`${spec.address}: label '${spec.label}' must be 1..15 bytes`);
  }
  if (spec.broadcast !== undefined && ipFamilyOf(spec.broadcast) !== 4) {
    throw new TypeError(`${spec.address}: broadcast '${spec.broadcast}' must be an IPv4 address`);
  }
  if (spec.broadcast !== undefined && family !== 4)
    throw new TypeError(`${spec.address}: broadcast is IPv4 only`);
  if (
    spec.protocol !== undefined &&
    (!Number.isInteger(spec.protocol) || spec.protocol < 1 || spec.protocol > 255)
  )
    throw new RangeError(`${spec.address}: address protocol ${spec.protocol} is not in 1..255`);
  return family;
}

/** Describes an address operation for errors: "198.51.100.10/24 on ifindex 3". */
export function describeAddress(spec: Pick<AddressSpec, "address" | "prefixLength" | "ifindex">): string {
  return `${spec.address}/${spec.prefixLength} on ifindex ${spec.ifindex}`;
}

function ifaddrmsg(
  family: IpFamily,
  prefixLength: number,
  flags: number,
  scope: number,
  ifindex: number,
): Buffer {
  const header = Buffer.alloc(IFADDRMSG_LENGTH);
  header.writeUInt8(familyCode(family), 0);
  header.writeUInt8(prefixLength, 1);
  header.writeUInt8(flags & 0xff, 2);
  header.writeUInt8(scope, 3);
  header.writeUInt32LE(ifindex, 4);
  return header;
}

/** Payload of RTM_NEWADDR for `spec`. */
export function encodeAddAddress(spec: AddressSpec): Buffer {
  const family = checkAddressSpec(spec);
  const flags = addressFlagBits(spec.flags ?? []);
  const bytes = parseIp(spec.address);
  const attributes = encodeAttributes((w) => {
    // IFA_LOCAL is the address itself; IFA_ADDRESS equals it on a broadcast link (no peer).
    w.binary(IFA_LOCAL, bytes).binary(IFA_ADDRESS, bytes);
    if (spec.broadcast !== undefined) w.binary(IFA_BROADCAST, parseIp(spec.broadcast));
    if (spec.label !== undefined) w.string(IFA_LABEL, spec.label);
    // The 8-bit ifa_flags cannot hold noprefixroute and later flags; IFA_FLAGS holds them all.
    w.u32(IFA_FLAGS, flags);
    if (spec.protocol !== undefined) w.u8(IFA_PROTO, spec.protocol);
  });
  return Buffer.concat([
    ifaddrmsg(family, spec.prefixLength, flags, spec.scope ?? RT_SCOPE_UNIVERSE, spec.ifindex),
    attributes,
  ]);
}

/** Payload of RTM_DELADDR: the kernel matches address, prefix length and (IPv4) label. */
export function encodeRemoveAddress(
  spec: Pick<AddressSpec, "ifindex" | "address" | "prefixLength" | "label">,
): Buffer {
  const family = checkAddressSpec(spec);
  const bytes = parseIp(spec.address);
  const attributes = encodeAttributes((w) => {
    w.binary(IFA_LOCAL, bytes).binary(IFA_ADDRESS, bytes);
    if (spec.label !== undefined) w.string(IFA_LABEL, spec.label);
  });
  return Buffer.concat([ifaddrmsg(family, spec.prefixLength, 0, 0, spec.ifindex), attributes]);
}

/** Payload of an RTM_GETADDR dump, optionally of one family. */
export function encodeListAddresses(family?: IpFamily): Buffer {
  const header = Buffer.alloc(IFADDRMSG_LENGTH);
  header.writeUInt8(family === undefined ? AF_UNSPEC : familyCode(family), 0);
  return header;
}
