// Links (network interfaces): RTM_NEWLINK/RTM_DELLINK decoding and RTM_GETLINK requests.
import { AttributeSet, encodeAttributes } from "../netlink/attributes.js";
import { NetlinkDecodeError } from "../netlink/errors.js";
import type { NetlinkMessage } from "../netlink/message.js";
import { formatMac } from "../ip-address.js";
import {
  IFF_LOWER_UP,
  IFF_RUNNING,
  IFF_UP,
  IFINFOMSG_LENGTH,
  IFLA_ADDRESS,
  IFLA_BROADCAST,
  IFLA_EXT_MASK,
  IFLA_IFNAME,
  IFLA_INFO_KIND,
  IFLA_LINKINFO,
  IFLA_MASTER,
  IFLA_MTU,
  IFLA_NAMES,
  IFLA_OPERSTATE,
  OPERSTATES,
  RTEXT_FILTER_SKIP_STATS,
} from "./constants.js";

export type OperState = (typeof OPERSTATES)[number];

export interface Link {
  readonly index: number;
  readonly name: string;
  /** Raw ifi_flags (IFF_*). */
  readonly flags: number;
  /** Administratively up (IFF_UP). */
  readonly up: boolean;
  /** Operationally running (IFF_RUNNING). */
  readonly running: boolean;
  /** Carrier present (IFF_LOWER_UP). */
  readonly lowerUp: boolean;
  readonly operstate: OperState;
  /** Hardware address, "02:00:00:00:00:01"; undefined for links without one (e.g. some tunnels). */
  readonly mac?: string;
  readonly broadcastMac?: string;
  readonly mtu?: number;
  /** ARPHRD_* link type (1 = Ethernet, 772 = loopback). */
  readonly linkType: number;
  /** Driver kind from IFLA_LINKINFO ("veth", "bridge", "dummy"...), when the kernel reports one. */
  readonly kind?: string;
  /** ifindex of the master (bridge/bond) this link is enslaved to. */
  readonly master?: number;
}

/** Decodes an RTM_NEWLINK / RTM_DELLINK message. */
export function decodeLink(message: NetlinkMessage): Link {
  const payload = message.payload;
  if (payload.length < IFINFOMSG_LENGTH) {
    throw new NetlinkDecodeError("ifinfomsg", 0, `${payload.length} bytes, expected ${IFINFOMSG_LENGTH}`);
  }
  const linkType = payload.readUInt16LE(2);
  const index = payload.readInt32LE(4);
  const flags = payload.readUInt32LE(8);
  const attributes = new AttributeSet(payload.subarray(IFINFOMSG_LENGTH), "IFLA attributes", IFLA_NAMES);
  const name = attributes.string(IFLA_IFNAME);
  if (name === undefined)
    throw new NetlinkDecodeError("IFLA attributes", 0, `link ${index} has no IFLA_IFNAME`);
  const operstateValue = attributes.u8(IFLA_OPERSTATE);
  const mac = attributes.binary(IFLA_ADDRESS);
  const broadcast = attributes.binary(IFLA_BROADCAST);
  const mtu = attributes.u32(IFLA_MTU);
  const master = attributes.u32(IFLA_MASTER);
  const kind = attributes
    .nested(IFLA_LINKINFO, { [IFLA_INFO_KIND]: "IFLA_INFO_KIND" })
    ?.string(IFLA_INFO_KIND);
  return {
    index,
    name,
    flags,
    up: (flags & IFF_UP) !== 0,
    running: (flags & IFF_RUNNING) !== 0,
    lowerUp: (flags & IFF_LOWER_UP) !== 0,
    operstate: OPERSTATES[operstateValue ?? 0] ?? "unknown",
    linkType,
    ...(mac !== undefined && mac.length > 0 ? { mac: formatMac(mac) } : {}),
    ...(broadcast !== undefined && broadcast.length > 0 ? { broadcastMac: formatMac(broadcast) } : {}),
    ...(mtu !== undefined ? { mtu } : {}),
    ...(kind !== undefined ? { kind } : {}),
    ...(master !== undefined && master !== 0 ? { master } : {}),
  };
}

/** struct ifinfomsg (family AF_UNSPEC) selecting `index` (0 = any), plus request attributes. */
export function encodeLinkRequest(index: number, build?: Parameters<typeof encodeAttributes>[0]): Buffer {
  const header = Buffer.alloc(IFINFOMSG_LENGTH);
  header.writeInt32LE(index, 4);
  const attributes = encodeAttributes((w) => {
    // Counters are large and unused here: ask the kernel to leave them out.
    w.u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    build?.(w);
  });
  return Buffer.concat([header, attributes]);
}

/** Payload of an RTM_NEWLINK (NLM_F_CREATE | NLM_F_EXCL) creating a link of a kind without options, e.g. "ipip". */
export function encodeCreateLink(name: string, kind: string): Buffer {
  if (name.length === 0 || Buffer.byteLength(name) > 15)
    throw new RangeError(`link name '${name}' must be 1..15 bytes`);
  const header = Buffer.alloc(IFINFOMSG_LENGTH);
  const attributes = encodeAttributes((w) => {
    w.string(IFLA_IFNAME, name);
    w.nested(IFLA_LINKINFO, (info) => info.string(IFLA_INFO_KIND, kind));
  });
  return Buffer.concat([header, attributes]);
}

/** Payload of an RTM_NEWLINK setting IFF_UP on (or off) for the link `index`, leaving other flags. */
export function encodeSetLinkUp(index: number, up: boolean): Buffer {
  const header = Buffer.alloc(IFINFOMSG_LENGTH);
  header.writeInt32LE(index, 4);
  header.writeUInt32LE(up ? IFF_UP : 0, 8); // ifi_flags
  header.writeUInt32LE(IFF_UP, 12); // ifi_change: only IFF_UP changes
  return header;
}

/** Payload of an RTM_GETLINK for one interface, by index or by name. */
export function encodeGetLink(target: string | number): Buffer {
  if (typeof target === "number") return encodeLinkRequest(target);
  return encodeLinkRequest(0, (w) => w.string(IFLA_IFNAME, target));
}
