// Generic netlink numbers from include/uapi/linux/genetlink.h (the header every genl family
// shares, and the nlctrl family that resolves family names to message types).

/** struct genlmsghdr: u8 cmd, u8 version, u16 reserved. */
export const GENL_HDRLEN = 4;

/** The controller family has a fixed id; every other family's id is assigned at registration. */
export const GENL_ID_CTRL = 0x10;

/** nlctrl commands. */
export const CTRL_CMD_NEWFAMILY = 1;
export const CTRL_CMD_GETFAMILY = 3;

/** nlctrl version this client speaks (the kernel accepts any). */
export const CTRL_VERSION = 2;

/** nlctrl attributes (enum CTRL_ATTR_*). */
export const CTRL_ATTR_FAMILY_ID = 1;
export const CTRL_ATTR_FAMILY_NAME = 2;
export const CTRL_ATTR_VERSION = 3;
export const CTRL_ATTR_HDRSIZE = 4;
export const CTRL_ATTR_MAXATTR = 5;
export const CTRL_ATTR_OPS = 6;
export const CTRL_ATTR_MCAST_GROUPS = 7;

/** Attributes inside each CTRL_ATTR_OPS entry. */
export const CTRL_ATTR_OP_ID = 1;
export const CTRL_ATTR_OP_FLAGS = 2;

/** Attributes inside each CTRL_ATTR_MCAST_GROUPS entry. */
export const CTRL_ATTR_MCAST_GRP_NAME = 1;
export const CTRL_ATTR_MCAST_GRP_ID = 2;

/** Family names are at most GENL_NAMSIZ bytes including the NUL. */
export const GENL_NAMSIZ = 16;

export const CTRL_ATTRIBUTE_NAMES: Readonly<Record<number, string>> = {
  [CTRL_ATTR_FAMILY_ID]: "CTRL_ATTR_FAMILY_ID",
  [CTRL_ATTR_FAMILY_NAME]: "CTRL_ATTR_FAMILY_NAME",
  [CTRL_ATTR_VERSION]: "CTRL_ATTR_VERSION",
  [CTRL_ATTR_HDRSIZE]: "CTRL_ATTR_HDRSIZE",
  [CTRL_ATTR_MAXATTR]: "CTRL_ATTR_MAXATTR",
  [CTRL_ATTR_OPS]: "CTRL_ATTR_OPS",
  [CTRL_ATTR_MCAST_GROUPS]: "CTRL_ATTR_MCAST_GROUPS",
};
