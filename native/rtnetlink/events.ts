// rtnetlink notifications (RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR) as typed events.
import type { NetlinkMessage } from "../netlink/message.js";
import { decodeAddress, type InterfaceAddress } from "./address.js";
import { RTM_DELADDR, RTM_DELLINK, RTM_NEWADDR, RTM_NEWLINK } from "./constants.js";
import { decodeLink, type Link } from "./link.js";

export type RtnetlinkEvent =
  /** "new" covers creation and every change (flags, operstate, MTU...); "delete" is removal. */
  | { readonly kind: "link"; readonly action: "new" | "delete"; readonly link: Link }
  | { readonly kind: "address"; readonly action: "new" | "delete"; readonly address: InterfaceAddress };

/** Decodes a notification; undefined for message types that are not link/address changes. */
export function decodeRtnetlinkEvent(message: NetlinkMessage): RtnetlinkEvent | undefined {
  switch (message.type) {
    case RTM_NEWLINK:
    case RTM_DELLINK:
      return {
        kind: "link",
        action: message.type === RTM_NEWLINK ? "new" : "delete",
        link: decodeLink(message),
      };
    case RTM_NEWADDR:
    case RTM_DELADDR:
      return {
        kind: "address",
        action: message.type === RTM_NEWADDR ? "new" : "delete",
        address: decodeAddress(message),
      };
    default:
      return undefined;
  }
}
