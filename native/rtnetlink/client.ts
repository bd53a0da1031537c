// rtnetlink operations kubelvs needs: list/look up links, list/add/remove addresses, and watch
// link and address changes.
import { NetlinkConnection, type NetlinkConnectionOptions } from "../netlink/connection.js";
import { NETLINK_ROUTE, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE } from "../netlink/constants.js";
import { NetlinkError } from "../netlink/errors.js";
import type { IpFamily } from "../ip-address.js";
import {
  decodeAddress,
  describeAddress,
  encodeAddAddress,
  encodeListAddresses,
  encodeRemoveAddress,
  type AddressSpec,
  type InterfaceAddress,
} from "./address.js";
import {
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_NEWADDR,
  RTM_DELADDR,
  RTM_NEWLINK,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_IPV6_IFADDR,
  RTNLGRP_LINK,
} from "./constants.js";
import { decodeRtnetlinkEvent, type RtnetlinkEvent } from "./events.js";
import {
  decodeLink,
  encodeCreateLink,
  encodeGetLink,
  encodeLinkRequest,
  encodeSetLinkUp,
  type Link,
} from "./link.js";

export interface AddressFilter {
  readonly family?: IpFamily;
  readonly ifindex?: number;
}

export interface AddAddressOptions {
  /** Replace an existing identical address instead of failing with EEXIST. */
  readonly replace?: boolean;
}

export class RtnetlinkClient {
  /** Opens a NETLINK_ROUTE request connection (no multicast groups). */
  static open(options: NetlinkConnectionOptions = {}): RtnetlinkClient {
    return new RtnetlinkClient(NetlinkConnection.open(NETLINK_ROUTE, options));
  }

  constructor(private readonly connection: NetlinkConnection) {}

  async listLinks(): Promise<Link[]> {
    const messages = await this.connection.dump({
      type: RTM_GETLINK,
      payload: encodeLinkRequest(0),
      description: "list links",
    });
    return messages.filter((m) => m.type === RTM_NEWLINK).map(decodeLink);
  }

  /** One link by name or index; rejects with NetlinkError ENODEV when there is none. */
  async getLink(target: string | number): Promise<Link> {
    const replies = await this.connection.request({
      type: RTM_GETLINK,
      payload: encodeGetLink(target),
      description: `look up link ${typeof target === "number" ? `ifindex ${target}` : `'${target}'`}`,
    });
    const reply = replies.find((m) => m.type === RTM_NEWLINK);
    if (reply === undefined)
      throw new Error(`look up link ${target}: the kernel acknowledged without a link`);
    return decodeLink(reply);
  }

  /** Like getLink, but undefined when the link does not exist. */
  async findLink(target: string | number): Promise<Link | undefined> {
    try {
      return await this.getLink(target);
    } catch (error) {
      if (error instanceof NetlinkError && error.code === "ENODEV") return undefined;
      throw error;
    }
  }

  /**
   * Creates a link of a kind that needs no options (e.g. "ipip", "ip6tnl"); rejects with NetlinkError
   * EEXIST when the name is taken. The kernel loads the kind's module if needed, which may create a
   * device of that name itself (tunl0, ip6tnl0: the modules' fallback devices).
   */
  async createLink(name: string, kind: string): Promise<void> {
    await this.connection.request({
      type: RTM_NEWLINK,
      flags: NLM_F_CREATE | NLM_F_EXCL,
      payload: encodeCreateLink(name, kind),
      description: `create link '${name}' of kind ${kind}`,
    });
  }

  /** Sets a link administratively up or down (ip link set … up/down). */
  async setLinkUp(index: number, up: boolean): Promise<void> {
    await this.connection.request({
      type: RTM_NEWLINK,
      payload: encodeSetLinkUp(index, up),
      description: `set link ifindex ${index} ${up ? "up" : "down"}`,
    });
  }

  async listAddresses(filter: AddressFilter = {}): Promise<InterfaceAddress[]> {
    const messages = await this.connection.dump({
      type: RTM_GETADDR,
      payload: encodeListAddresses(filter.family),
      description: `list ${filter.family ? `IPv${filter.family} ` : ""}addresses`,
    });
    return messages
      .filter((m) => m.type === RTM_NEWADDR)
      .map(decodeAddress)
      .filter(
        (a) =>
          (filter.ifindex === undefined || a.ifindex === filter.ifindex) &&
          (filter.family === undefined || a.family === filter.family),
      );
  }

  /** Adds an address; rejects with NetlinkError EEXIST if present (unless `replace`). */
  async addAddress(spec: AddressSpec, options: AddAddressOptions = {}): Promise<void> {
    await this.connection.request({
      type: RTM_NEWADDR,
      flags: NLM_F_CREATE | (options.replace ? NLM_F_REPLACE : NLM_F_EXCL),
      payload: encodeAddAddress(spec),
      description: `add address ${describeAddress(spec)}`,
    });
  }

  /** Removes an address; rejects with NetlinkError EADDRNOTAVAIL when it is not there. */
  async removeAddress(
    spec: Pick<AddressSpec, "ifindex" | "address" | "prefixLength" | "label">,
  ): Promise<void> {
    await this.connection.request({
      type: RTM_DELADDR,
      payload: encodeRemoveAddress(spec),
      description: `remove address ${describeAddress(spec)}`,
    });
  }

  close(): void {
    this.connection.close();
  }
}

export interface RtnetlinkWatchOptions {
  readonly links?: boolean;
  readonly ipv4Addresses?: boolean;
  readonly ipv6Addresses?: boolean;
  /** Receive buffer for bursts of notifications; default 1 MiB. */
  readonly receiveBufferSize?: number;
}

export interface RtnetlinkWatchListener {
  onEvent(event: RtnetlinkEvent): void;
  /** Notifications were lost (overrun or undecodable): re-read the state you track. */
  onResync(reason: Error): void;
  /** The watch socket failed and delivers nothing more; open a new watch. */
  onError(error: Error): void;
}

export interface RtnetlinkWatch {
  close(): void;
}

/** The multicast groups for the watch options (all three when none is chosen). */
export function watchGroups(options: RtnetlinkWatchOptions): number[] {
  const any = options.links || options.ipv4Addresses || options.ipv6Addresses;
  const groups: number[] = [];
  if (!any || options.links) groups.push(RTNLGRP_LINK);
  if (!any || options.ipv4Addresses) groups.push(RTNLGRP_IPV4_IFADDR);
  if (!any || options.ipv6Addresses) groups.push(RTNLGRP_IPV6_IFADDR);
  return groups;
}

/** Subscribes `listener` to link/address notifications on a connection of their own. */
export function watchRtnetlinkOn(
  connection: NetlinkConnection,
  listener: RtnetlinkWatchListener,
): RtnetlinkWatch {
  const unsubscribe = connection.subscribe({
    onMessage: (message) => {
      let event: RtnetlinkEvent | undefined;
      try {
        event = decodeRtnetlinkEvent(message);
      } catch (error) {
        listener.onResync(error as Error);
        return;
      }
      if (event) listener.onEvent(event);
    },
    onLost: (error) => listener.onResync(error),
    onError: (error) => listener.onError(error),
  });
  return {
    close: () => {
      unsubscribe();
      connection.close();
    },
  };
}

/** Opens a NETLINK_ROUTE socket joined to the chosen groups and delivers decoded events. */
export function watchRtnetlink(
  options: RtnetlinkWatchOptions,
  listener: RtnetlinkWatchListener,
): RtnetlinkWatch {
  const connection = NetlinkConnection.open(NETLINK_ROUTE, {
    groups: watchGroups(options),
    receiveBufferSize: options.receiveBufferSize ?? 1024 * 1024,
  });
  return watchRtnetlinkOn(connection, listener);
}
