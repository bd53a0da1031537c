// VRRP advertisement codec: version 2 (RFC 3768, IPv4) and version 3 (RFC 5798/9568, IPv4 and IPv6).
// The codec covers the VRRP message only (the IP payload); IP header fields such as TTL are the
// receiver's business and reach the state machine as metadata.
import { addressLength, formatAddress, ipFamily, parseAddress } from "./address.js";
import type { IpFamily } from "./address.js";
import { internetChecksum, ipv4PseudoHeader, ipv6PseudoHeader } from "./checksum.js";

export const VRRP_MULTICAST_IPV4 = "224.0.0.18";
export const VRRP_MULTICAST_IPV6 = "ff02::12";
export const VRRP_AUTH_DATA_LENGTH = 8;
const HEADER_LENGTH = 8;
const TYPE_ADVERTISEMENT = 1;

/** VRRPv2 authentication types (RFC 2338): AH is decoded and reported, never accepted by the core. */
export type VrrpAuthType = "none" | "simple" | "ah";
const AUTH_TYPE_CODES: Record<VrrpAuthType, number> = { none: 0, simple: 1, ah: 2 };
const AUTH_TYPES_BY_CODE: readonly VrrpAuthType[] = ["none", "simple", "ah"];

export interface VrrpV2Advert {
  readonly version: 2;
  readonly vrid: number;
  readonly priority: number;
  readonly addresses: readonly string[];
  readonly authType: VrrpAuthType;
  /** Always 8 bytes; the zero-padded password for "simple", zeros otherwise. */
  readonly authData: Uint8Array;
  readonly advertIntervalS: number;
}

export interface VrrpV3Advert {
  readonly version: 3;
  readonly vrid: number;
  readonly priority: number;
  readonly addresses: readonly string[];
  /** 12-bit Max Advertise Interval in centiseconds. */
  readonly maxAdvertIntervalCs: number;
}

export type VrrpAdvert = VrrpV2Advert | VrrpV3Advert;

/**
 * Which bytes a VRRPv3 IPv4 checksum covers: the RFC's pseudo-header variant (keepalived's default) or the
 * VRRP message alone (keepalived's `v3_checksum_as_v2`, as some routers send it). VRRPv2 always uses
 * "vrrp-only" and VRRPv3 over IPv6 always "pseudo-header"; the option only matters for VRRPv3 over IPv4.
 */
export type ChecksumVariant = "pseudo-header" | "vrrp-only";

export interface PacketAddresses {
  /** IP source of the packet (the sender's primary address). */
  readonly src: string;
  /** IP destination (the VRRP multicast group, or a unicast peer). */
  readonly dst: string;
}

export interface EncodeOptions extends PacketAddresses {
  readonly checksumVariant?: ChecksumVariant;
}

export interface DecodeOptions extends PacketAddresses {
  /** Which VRRPv3 IPv4 checksum variant to accept; "either" tries the pseudo-header variant first. */
  readonly checksumMode?: ChecksumVariant | "either";
}

export type DecodedAdvert = VrrpAdvert & {
  readonly family: IpFamily;
  /** The checksum field as received. */
  readonly checksum: number;
  /** The variant the checksum verified with. */
  readonly checksumVariant: ChecksumVariant;
};

export type VrrpDecodeErrorReason =
  | "truncated"
  | "bad-version"
  | "bad-type"
  | "bad-vrid"
  | "bad-auth-type"
  | "bad-interval"
  | "address-count-mismatch"
  | "bad-checksum";

export const VRRP_DECODE_ERROR_REASONS: readonly VrrpDecodeErrorReason[] = [
  "truncated",
  "bad-version",
  "bad-type",
  "bad-vrid",
  "bad-auth-type",
  "bad-interval",
  "address-count-mismatch",
  "bad-checksum",
];

export class VrrpDecodeError extends Error {
  constructor(
    readonly reason: VrrpDecodeErrorReason,
    readonly detail: string,
    readonly src: string,
  ) {
    super(`VRRP packet from ${src} rejected (${reason}): ${detail}`);
    this.name = "VrrpDecodeError";
  }
}

export class VrrpEncodeError extends RangeError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`cannot encode VRRP advertisement: ${field} ${message}`);
    this.name = "VrrpEncodeError";
  }
}

/** The address family both ends of the packet share; a caller error (TypeError) otherwise. */
function familyOf(addresses: PacketAddresses): IpFamily {
  const src = ipFamily(addresses.src);
  const dst = ipFamily(addresses.dst);
  if (src === undefined)
    throw new TypeError(`VRRP packet source ${JSON.stringify(addresses.src)} is not an IP address`);
  if (dst === undefined) {
    throw new TypeError(`VRRP packet destination ${JSON.stringify(addresses.dst)} is not an IP address`);
  }
  if (src !== dst)
    throw new TypeError(
      `VRRP packet source ${addresses.src} and destination ${addresses.dst} differ in family`,
    );
  return src;
}

function checksumOver(
  message: Uint8Array,
  family: IpFamily,
  variant: ChecksumVariant,
  addresses: PacketAddresses,
): number {
  if (variant === "vrrp-only") return internetChecksum(message);
  const pseudo =
    family === "ipv4"
      ? ipv4PseudoHeader(addresses.src, addresses.dst, message.length)
      : ipv6PseudoHeader(addresses.src, addresses.dst, message.length);
  return internetChecksum(pseudo, message);
}

/** The checksum variant a packet of this version and family uses, given the per-group option. */
function effectiveVariant(version: 2 | 3, family: IpFamily, requested: ChecksumVariant): ChecksumVariant {
  if (version === 2) return "vrrp-only";
  if (family === "ipv6") return "pseudo-header";
  return requested;
}

function requireInteger(field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new VrrpEncodeError(field, `must be an integer in ${min}..${max}, got ${value}`);
  }
}

/** Builds the VRRP message (IP payload) for an advert, checksum included. */
export function encodeAdvert(advert: VrrpAdvert, options: EncodeOptions): Buffer {
  const family = familyOf(options);
  if (advert.version === 2 && family !== "ipv4")
    throw new VrrpEncodeError("version", "2 is IPv4-only (RFC 3768)");
  requireInteger("vrid", advert.vrid, 1, 255);
  requireInteger("priority", advert.priority, 0, 255);
  requireInteger("addresses.length", advert.addresses.length, 1, 255);
  const size = addressLength(family);
  const authLength = advert.version === 2 ? VRRP_AUTH_DATA_LENGTH : 0;
  const message = Buffer.alloc(HEADER_LENGTH + advert.addresses.length * size + authLength);
  message[0] = (advert.version << 4) | TYPE_ADVERTISEMENT;
  message[1] = advert.vrid;
  message[2] = advert.priority;
  message[3] = advert.addresses.length;
  if (advert.version === 2) {
    requireInteger("advertIntervalS", advert.advertIntervalS, 1, 255);
    if (advert.authData.length !== VRRP_AUTH_DATA_LENGTH) {
      throw new VrrpEncodeError(
        "authData",
        `must be ${VRRP_AUTH_DATA_LENGTH} bytes, got ${advert.authData.length}`,
      );
    }
    message[4] = AUTH_TYPE_CODES[advert.authType];
    message[5] = advert.advertIntervalS;
    message.set(advert.authData, HEADER_LENGTH + advert.addresses.length * size);
  } else {
    requireInteger("maxAdvertIntervalCs", advert.maxAdvertIntervalCs, 1, 0xfff);
    message.writeUInt16BE(advert.maxAdvertIntervalCs, 4); // the 4 reserved bits stay zero
  }
  advert.addresses.forEach((address, i) => {
    if (ipFamily(address) !== family) {
      throw new VrrpEncodeError(
        `addresses[${i}]`,
        `${address} is not an ${family} address like the packet's`,
      );
    }
    parseAddress(address).copy(message, HEADER_LENGTH + i * size);
  });
  const variant = effectiveVariant(advert.version, family, options.checksumVariant ?? "pseudo-header");
  message.writeUInt16BE(checksumOver(message, family, variant, options), 6);
  return message;
}

export type DecodeResult =
  | { readonly ok: true; readonly advert: DecodedAdvert }
  | { readonly ok: false; readonly error: VrrpDecodeError };

/** Decodes and verifies a VRRP message; throws VrrpDecodeError (or TypeError for bad src/dst arguments). */
export function decodeAdvert(packet: Uint8Array, options: DecodeOptions): DecodedAdvert {
  const result = tryDecodeAdvert(packet, options);
  if (!result.ok) throw result.error;
  return result.advert;
}

/** Like decodeAdvert, but reports a bad packet as a value: the receive path drops and counts, it does not throw. */
export function tryDecodeAdvert(packet: Uint8Array, options: DecodeOptions): DecodeResult {
  const family = familyOf(options);
  const fail = (reason: VrrpDecodeErrorReason, detail: string): DecodeResult => ({
    ok: false,
    error: new VrrpDecodeError(reason, detail, options.src),
  });
  const bytes = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  if (bytes.length < HEADER_LENGTH) return fail("truncated", `${bytes.length} bytes, the header alone is 8`);
  const version = (bytes[0] ?? 0) >> 4;
  const type = (bytes[0] ?? 0) & 0x0f;
  if (version !== 2 && version !== 3) return fail("bad-version", `version ${version}, expected 2 or 3`);
  if (version === 2 && family !== "ipv4") return fail("bad-version", "VRRPv2 is IPv4-only (RFC 3768)");
  if (type !== TYPE_ADVERTISEMENT) return fail("bad-type", `type ${type}, only 1 (advertisement) exists`);
  const vrid = bytes[1] ?? 0;
  if (vrid === 0) return fail("bad-vrid", "VRID 0 is not a valid virtual router");
  const priority = bytes[2] ?? 0;
  const count = bytes[3] ?? 0;
  if (count === 0)
    return fail("address-count-mismatch", "count is 0, an advertisement carries at least 1 address");
  const size = addressLength(family);
  const authLength = version === 2 ? VRRP_AUTH_DATA_LENGTH : 0;
  const expected = HEADER_LENGTH + count * size + authLength;
  if (bytes.length < expected) {
    return fail("truncated", `count ${count} needs ${expected} bytes, packet has ${bytes.length}`);
  }
  if (bytes.length > expected) {
    return fail(
      "address-count-mismatch",
      `count ${count} needs ${expected} bytes, packet has ${bytes.length}`,
    );
  }
  let authType: VrrpAuthType = "none";
  let interval: number;
  if (version === 2) {
    const code = bytes[4] ?? 0;
    const known = AUTH_TYPES_BY_CODE[code];
    if (known === undefined) return fail("bad-auth-type", `auth type ${code}, expected 0, 1 or 2`);
    authType = known;
    interval = bytes[5] ?? 0;
  } else {
    interval = bytes.readUInt16BE(4) & 0x0fff; // the top 4 bits are reserved: ignored on receipt
  }
  if (interval === 0) return fail("bad-interval", "advertisement interval 0");

  const checksum = bytes.readUInt16BE(6);
  const mode = options.checksumMode ?? "pseudo-header";
  const candidates: ChecksumVariant[] =
    version === 3 && family === "ipv4" && mode === "either"
      ? ["pseudo-header", "vrrp-only"]
      : [effectiveVariant(version, family, mode === "either" ? "pseudo-header" : mode)];
  const checksumVariant = candidates.find((variant) => checksumOver(bytes, family, variant, options) === 0);
  if (checksumVariant === undefined) {
    const zeroed = Buffer.from(bytes);
    zeroed.writeUInt16BE(0, 6);
    const want = candidates.map((v) => `0x${checksumOver(zeroed, family, v, options).toString(16)} (${v})`);
    return fail("bad-checksum", `checksum 0x${checksum.toString(16)}, computed ${want.join(" or ")}`);
  }

  const addresses: string[] = [];
  for (let i = 0; i < count; i++) {
    const start = HEADER_LENGTH + i * size;
    addresses.push(formatAddress(bytes.subarray(start, start + size)));
  }
  const common = { family, vrid, priority, addresses, checksum, checksumVariant };
  if (version === 2) {
    const authStart = HEADER_LENGTH + count * size;
    const authData = Uint8Array.from(bytes.subarray(authStart, authStart + VRRP_AUTH_DATA_LENGTH));
    return { ok: true, advert: { version: 2, ...common, authType, authData, advertIntervalS: interval } };
  }
  return { ok: true, advert: { version: 3, ...common, maxAdvertIntervalCs: interval } };
}

/** The 8 bytes of VRRPv2 simple-password auth data: the password zero-padded (RFC 2338 section 5.3.10). */
export function simplePasswordAuthData(password: string): Uint8Array {
  const bytes = Buffer.from(password, "utf8");
  if (bytes.length > VRRP_AUTH_DATA_LENGTH) {
    throw new VrrpEncodeError(
      "authPassword",
      `is ${bytes.length} bytes, at most ${VRRP_AUTH_DATA_LENGTH} fit`,
    );
  }
  const data = new Uint8Array(VRRP_AUTH_DATA_LENGTH);
  data.set(bytes);
  return data;
}

export function vrrpMulticastGroup(family: IpFamily): string {
  return family === "ipv4" ? VRRP_MULTICAST_IPV4 : VRRP_MULTICAST_IPV6;
}
