// The kernel edge the agent depends on: interfaces only, so the agent's logic runs against fakes
// (native/testing/fake-kernel.ts) in unit tests, and createKernelEdge() supplies the real
// implementations over the addon. IPVS has its own interface (native/ipvs/control.ts).
import { loadAddon, type NativeSystemError } from "./addon.js";
import type { IpFamily } from "./ip-address.js";
import { MonotonicPreciseTimer, type PreciseTimer } from "./monotonic-timer.js";
import { SocketNeighborAnnouncer, type NeighborAnnouncer } from "./neighbor-announcer.js";
import type { AddressSpec, InterfaceAddress } from "./rtnetlink/address.js";
import {
  RtnetlinkClient,
  watchRtnetlink,
  type AddAddressOptions,
  type AddressFilter,
} from "./rtnetlink/client.js";
import type { Link } from "./rtnetlink/link.js";
import {
  RawVrrpTransport,
  type VrrpTransport,
  type VrrpTransportHandlers,
  type VrrpTransportOptions,
} from "./vrrp-socket.js";

export type { AnnounceTarget, NeighborAnnouncer } from "./neighbor-announcer.js";
export type { AddressSpec, InterfaceAddress } from "./rtnetlink/address.js";
export type { AddAddressOptions, AddressFilter } from "./rtnetlink/client.js";
export type { Link, OperState } from "./rtnetlink/link.js";
export type { PreciseTimer } from "./monotonic-timer.js";
export type {
  PeriodicAdvert,
  PeriodicSendOptions,
  PeriodicTransmission,
  VrrpAdvertMeta,
  VrrpSendOptions,
  VrrpTransport,
  VrrpTransportHandlers,
  VrrpTransportOptions,
} from "./vrrp-socket.js";

export interface Subscription {
  /** Stops delivery and releases the socket; idempotent. */
  close(): void;
}

export interface WatchListener {
  /** Events may have been lost (buffer overrun): re-read the state you track with list(). */
  onResync(reason: Error): void;
  /** The watch is dead (socket failure); open a new one. */
  onError(error: Error): void;
}

export interface AddressWatchListener extends WatchListener {
  /** "new" on add or change, "delete" on removal — by anyone, including other processes. */
  onAddress(action: "new" | "delete", address: InterfaceAddress): void;
}

export interface LinkWatchListener extends WatchListener {
  /** "new" on creation and every change (up/down, carrier, MTU, MAC), "delete" on removal. */
  onLink(action: "new" | "delete", link: Link): void;
}

/** Interface addresses (VIPs). Failures reject with NetlinkError (errno, code, the address). */
export interface AddressControl {
  list(filter?: AddressFilter): Promise<InterfaceAddress[]>;
  /** EEXIST when present (unless options.replace). */
  add(spec: AddressSpec, options?: AddAddressOptions): Promise<void>;
  /** EADDRNOTAVAIL when absent. */
  remove(spec: Pick<AddressSpec, "ifindex" | "address" | "prefixLength" | "label">): Promise<void>;
  watch(listener: AddressWatchListener): Subscription;
}

/** Network interfaces: lookup (index, MAC, state) and state changes. */
export interface LinkControl {
  list(): Promise<Link[]>;
  /** By name or index; undefined when there is no such interface. */
  lookup(target: string | number): Promise<Link | undefined>;
  watch(listener: LinkWatchListener): Subscription;
}

/** Everything the agent needs from the kernel except IPVS. */
export interface KernelEdge {
  readonly addresses: AddressControl;
  readonly links: LinkControl;
  readonly neighbors: NeighborAnnouncer;
  /** One transport per family is enough for all VRRP instances. */
  openVrrpTransport(
    family: IpFamily,
    handlers: VrrpTransportHandlers,
    options?: VrrpTransportOptions,
  ): VrrpTransport;
  /**
   * Now on the clock of createTimer() deadlines, in ms: CLOCK_MONOTONIC (process.hrtime's clock).
   * Never mix it with performance.now() or Date.now(), which are offset from it.
   */
  monotonicNowMs(): number;
  /**
   * A one-shot timer with an absolute deadline on the monotonicNowMs() clock, microsecond-precise
   * (setTimeout is 1-2 ms late on average). Armed, it keeps the process alive; unarmed, it does not.
   */
  createTimer(onFire: () => void): PreciseTimer;
  /** Closes the request socket and the announcer (watches, transports and timers are closed by their owners). */
  close(): void;
}

class RtnetlinkAddressControl implements AddressControl {
  constructor(private readonly client: RtnetlinkClient) {}

  list(filter?: AddressFilter): Promise<InterfaceAddress[]> {
    return this.client.listAddresses(filter);
  }

  add(spec: AddressSpec, options?: AddAddressOptions): Promise<void> {
    return this.client.addAddress(spec, options);
  }

  remove(spec: Pick<AddressSpec, "ifindex" | "address" | "prefixLength" | "label">): Promise<void> {
    return this.client.removeAddress(spec);
  }

  watch(listener: AddressWatchListener): Subscription {
    return watchRtnetlink(
      { ipv4Addresses: true, ipv6Addresses: true },
      {
        onEvent: (event) => {
          if (event.kind === "address") listener.onAddress(event.action, event.address);
        },
        onResync: (reason) => listener.onResync(reason),
        onError: (error) => listener.onError(error),
      },
    );
  }
}

class RtnetlinkLinkControl implements LinkControl {
  constructor(private readonly client: RtnetlinkClient) {}

  list(): Promise<Link[]> {
    return this.client.listLinks();
  }

  lookup(target: string | number): Promise<Link | undefined> {
    return this.client.findLink(target);
  }

  watch(listener: LinkWatchListener): Subscription {
    return watchRtnetlink(
      { links: true },
      {
        onEvent: (event) => {
          if (event.kind === "link") listener.onLink(event.action, event.link);
        },
        onResync: (reason) => listener.onResync(reason),
        onError: (error) => listener.onError(error),
      },
    );
  }
}

/** The real kernel edge of the network namespace this process runs in. */
export function createKernelEdge(): KernelEdge {
  const addon = loadAddon();
  const client = RtnetlinkClient.open();
  let neighbors: SocketNeighborAnnouncer | undefined;
  const lazyNeighbors: NeighborAnnouncer = {
    announce: (target) => (neighbors ??= new SocketNeighborAnnouncer()).announce(target),
    close: () => neighbors?.close(),
  };
  return {
    addresses: new RtnetlinkAddressControl(client),
    links: new RtnetlinkLinkControl(client),
    neighbors: lazyNeighbors,
    openVrrpTransport: (family, handlers, options) => new RawVrrpTransport(family, handlers, options, addon),
    monotonicNowMs: () => addon.monotonicNowMs(),
    createTimer: (onFire) => new MonotonicPreciseTimer(onFire, addon),
    close: () => {
      client.close();
      lazyNeighbors.close();
    },
  };
}

export type { NativeSystemError };
