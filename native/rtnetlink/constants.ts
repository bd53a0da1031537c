// rtnetlink numbers (include/uapi/linux/rtnetlink.h, if_link.h, if_addr.h, if.h) for links and
// addresses — only what kubelvs uses.

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;

/** Multicast groups (bit numbers as used with NETLINK_ADD_MEMBERSHIP). */
export const RTNLGRP_LINK = 1;
export const RTNLGRP_IPV4_IFADDR = 5;
export const RTNLGRP_IPV6_IFADDR = 9;

/** struct ifinfomsg is 16 bytes, struct ifaddrmsg 8. */
export const IFINFOMSG_LENGTH = 16;
export const IFADDRMSG_LENGTH = 8;

export const IFLA_ADDRESS = 1;
export const IFLA_BROADCAST = 2;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_LINK = 5;
export const IFLA_MASTER = 10;
export const IFLA_OPERSTATE = 16;
export const IFLA_LINKINFO = 18;
export const IFLA_EXT_MASK = 29;
export const IFLA_CARRIER = 33;
export const IFLA_INFO_KIND = 1;
export const RTEXT_FILTER_SKIP_STATS = 1 << 3;

export const IFLA_NAMES: Readonly<Record<number, string>> = {
  [IFLA_ADDRESS]: "IFLA_ADDRESS",
  [IFLA_BROADCAST]: "IFLA_BROADCAST",
  [IFLA_IFNAME]: "IFLA_IFNAME",
  [IFLA_MTU]: "IFLA_MTU",
  [IFLA_LINK]: "IFLA_LINK",
  [IFLA_MASTER]: "IFLA_MASTER",
  [IFLA_OPERSTATE]: "IFLA_OPERSTATE",
  [IFLA_LINKINFO]: "IFLA_LINKINFO",
  [IFLA_CARRIER]: "IFLA_CARRIER",
};

/** Interface flags (ifi_flags). */
export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_RUNNING = 0x40;
export const IFF_NOARP = 0x80;
export const IFF_MULTICAST = 0x1000;
export const IFF_LOWER_UP = 0x10000;

/** RFC 2863 operational states (IFLA_OPERSTATE), index = kernel value. */
export const OPERSTATES = [
  "unknown",
  "notpresent",
  "down",
  "lowerlayerdown",
  "testing",
  "dormant",
  "up",
] as const;

export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_BROADCAST = 4;
export const IFA_CACHEINFO = 6;
export const IFA_FLAGS = 8;
/** u8: who created the address (Linux 6.1+; 0-3 are the kernel's own, higher values are free). */
export const IFA_PROTO = 11;

export const IFA_NAMES: Readonly<Record<number, string>> = {
  [IFA_ADDRESS]: "IFA_ADDRESS",
  [IFA_LOCAL]: "IFA_LOCAL",
  [IFA_LABEL]: "IFA_LABEL",
  [IFA_BROADCAST]: "IFA_BROADCAST",
  [IFA_CACHEINFO]: "IFA_CACHEINFO",
  [IFA_FLAGS]: "IFA_FLAGS",
  [IFA_PROTO]: "IFA_PROTO",
};

/** Address flags (ifa_flags, extended to 32 bits by IFA_FLAGS), by the names `ip addr` prints. */
export const ADDRESS_FLAGS = {
  secondary: 0x01,
  nodad: 0x02,
  optimistic: 0x04,
  dadfailed: 0x08,
  homeaddress: 0x10,
  deprecated: 0x20,
  tentative: 0x40,
  permanent: 0x80,
  mngtmpaddr: 0x100,
  noprefixroute: 0x200,
  autojoin: 0x400,
  "stable-privacy": 0x800,
} as const;

export type AddressFlagName = keyof typeof ADDRESS_FLAGS;

/** Address scopes (ifa_scope). */
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_SITE = 200;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
export const RT_SCOPE_NOWHERE = 255;
