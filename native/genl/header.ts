// The generic netlink header (struct genlmsghdr) that follows nlmsghdr in every genl message,
// and the family description nlctrl returns for CTRL_CMD_GETFAMILY.
import { AttributeSet, encodeAttributes } from "../netlink/attributes.js";
import { NetlinkDecodeError } from "../netlink/errors.js";
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_HDRSIZE,
  CTRL_ATTR_MAXATTR,
  CTRL_ATTR_MCAST_GROUPS,
  CTRL_ATTR_MCAST_GRP_ID,
  CTRL_ATTR_MCAST_GRP_NAME,
  CTRL_ATTR_OP_FLAGS,
  CTRL_ATTR_OP_ID,
  CTRL_ATTR_OPS,
  CTRL_ATTR_VERSION,
  CTRL_ATTRIBUTE_NAMES,
  GENL_HDRLEN,
  GENL_NAMSIZ,
} from "./constants.js";

export interface GenlHeader {
  readonly command: number;
  readonly version: number;
}

export interface GenlMessage extends GenlHeader {
  /** The attributes after the genl header (and after any family-specific fixed header). */
  readonly attributes: Buffer;
}

/** The payload of an nlmsghdr for a genl request: genlmsghdr followed by the attributes. */
export function encodeGenlPayload(header: GenlHeader, attributes: Uint8Array = Buffer.alloc(0)): Buffer {
  if (!Number.isInteger(header.command) || header.command < 0 || header.command > 0xff) {
    throw new RangeError(`generic netlink command ${header.command} is not an 8-bit unsigned integer`);
  }
  if (!Number.isInteger(header.version) || header.version < 0 || header.version > 0xff) {
    throw new RangeError(`generic netlink version ${header.version} is not an 8-bit unsigned integer`);
  }
  const payload = Buffer.alloc(GENL_HDRLEN + attributes.length);
  payload.writeUInt8(header.command, 0);
  payload.writeUInt8(header.version, 1);
  payload.set(attributes, GENL_HDRLEN);
  return payload;
}

/**
 * Splits an nlmsghdr payload into the genl header and its attributes. `familyHeaderSize` is the
 * family's own fixed header (CTRL_ATTR_HDRSIZE; 0 for IPVS and nlctrl), skipped before attributes.
 */
export function decodeGenlPayload(payload: Buffer, context: string, familyHeaderSize = 0): GenlMessage {
  const headerSize = GENL_HDRLEN + familyHeaderSize;
  if (payload.length < headerSize) {
    throw new NetlinkDecodeError(
      context,
      0,
      `${payload.length} bytes, less than the ${headerSize}-byte generic netlink header`,
    );
  }
  return {
    command: payload.readUInt8(0),
    version: payload.readUInt8(1),
    attributes: payload.subarray(headerSize),
  };
}

export interface GenlMulticastGroup {
  readonly name: string;
  readonly id: number;
}

/** A generic netlink family as nlctrl describes it. */
export interface GenlFamily {
  readonly name: string;
  /** The nlmsg_type of this family's messages in this network namespace. */
  readonly id: number;
  readonly version: number;
  readonly headerSize: number;
  readonly maxAttribute: number;
  /** Command numbers the family implements. */
  readonly commands: readonly number[];
  readonly multicastGroups: readonly GenlMulticastGroup[];
}

/** Attributes of a CTRL_CMD_GETFAMILY request for one family, by name. */
export function encodeGetFamilyAttributes(name: string): Buffer {
  if (name.length === 0 || Buffer.byteLength(name) >= GENL_NAMSIZ) {
    throw new RangeError(`generic netlink family name '${name}' must be 1-${GENL_NAMSIZ - 1} bytes`);
  }
  return encodeAttributes((writer) => writer.string(CTRL_ATTR_FAMILY_NAME, name));
}

/** Decodes nlctrl's CTRL_CMD_NEWFAMILY reply (its attributes, after the genl header). */
export function decodeFamily(attributes: Buffer): GenlFamily {
  const set = new AttributeSet(attributes, "nlctrl family attributes", CTRL_ATTRIBUTE_NAMES);
  const commands: number[] = [];
  const ops = set.nested(CTRL_ATTR_OPS);
  for (const entry of ops?.list ?? []) {
    const op = new AttributeSet(entry.value, "CTRL_ATTR_OPS entry");
    const id = op.u32(CTRL_ATTR_OP_ID);
    op.u32(CTRL_ATTR_OP_FLAGS); // length-checked, though the permission bits are not needed here
    if (id !== undefined) commands.push(id);
  }
  const multicastGroups: GenlMulticastGroup[] = [];
  for (const entry of set.nested(CTRL_ATTR_MCAST_GROUPS)?.list ?? []) {
    const group = new AttributeSet(entry.value, "CTRL_ATTR_MCAST_GROUPS entry");
    const name = group.string(CTRL_ATTR_MCAST_GRP_NAME);
    const id = group.u32(CTRL_ATTR_MCAST_GRP_ID);
    if (name !== undefined && id !== undefined) multicastGroups.push({ name, id });
  }
  return {
    name: set.required(CTRL_ATTR_FAMILY_NAME, (s, t) => s.string(t)),
    id: set.required(CTRL_ATTR_FAMILY_ID, (s, t) => s.u16(t)),
    version: set.u32(CTRL_ATTR_VERSION) ?? 0,
    headerSize: set.u32(CTRL_ATTR_HDRSIZE) ?? 0,
    maxAttribute: set.u32(CTRL_ATTR_MAXATTR) ?? 0,
    commands,
    multicastGroups,
  };
}
