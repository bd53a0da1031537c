// VRRP transport (IP protocol 112): one raw socket per address family, shared by every VRRP
// instance of the agent. It joins the VRRP multicast group per interface (reference-counted, so
// instances on the same interface can join and leave independently), sends adverts with TTL / hop
// limit 255 from a chosen source out of a chosen interface, and delivers received adverts with
// the fields RFC 5798 5.1.1 / 7.1 checks: TTL, ingress interface, source and destination.
import { loadAddon, type NativeAddon, type NativeSystemError, type RawIpSocket } from "./addon.js";
import { normalizeIp, type IpFamily } from "./ip-address.js";

export const IPPROTO_VRRP = 112;
export const VRRP_GROUP_IPV4 = "224.0.0.18";
export const VRRP_GROUP_IPV6 = "ff02::12";
/** VRRPv3 checksum offset within the VRRP header (for the kernel-computed IPv6 checksum). */
const VRRP_CHECKSUM_OFFSET = 6;

export const vrrpGroup = (family: IpFamily): string => (family === 4 ? VRRP_GROUP_IPV4 : VRRP_GROUP_IPV6);

export interface VrrpAdvertMeta {
  readonly source: string;
  readonly destination: string;
  /** Ingress interface. */
  readonly ifindex: number;
  /** TTL (IPv4) or hop limit (IPv6) as received; RFC 5798 requires 255. */
  readonly ttl: number;
}

export interface VrrpSendOptions {
  /** Outgoing interface. */
  readonly ifindex: number;
  /** Source address: the interface's primary IPv4 address or IPv6 link-local address. */
  readonly source: string;
  /** A unicast peer; default the VRRP multicast group. */
  readonly destination?: string;
  /** Default 255; lower values exist for tests of receivers' TTL checks. */
  readonly ttl?: number;
}

export interface VrrpTransportHandlers {
  onAdvert(payload: Buffer, meta: VrrpAdvertMeta): void;
  /** Receive failures (ENOBUFS: adverts were dropped); the transport keeps running unless closed. */
  onError(error: NativeSystemError): void;
}

export interface VrrpTransportOptions {
  /**
   * IPv6 only: let the kernel compute (and verify on receive!) the VRRPv3 checksum. Off by
   * default, because verification would drop bad-checksum adverts before they can be counted.
   */
  readonly kernelChecksum?: boolean;
}

export interface VrrpTransport {
  readonly family: IpFamily;
  /** Joins the VRRP group on the interface (counted: the n-th join is a no-op for the kernel). */
  join(ifindex: number): void;
  /** Undoes one join; the membership is dropped with the last one. */
  leave(ifindex: number): void;
  /** Sends one advert; throws NativeSystemError naming destination, source and interface. */
  send(payload: Buffer, options: VrrpSendOptions): void;
  close(): void;
}

export class RawVrrpTransport implements VrrpTransport {
  private readonly socket: RawIpSocket;
  private readonly joins = new Map<number, number>();
  private readonly group: string;

  constructor(
    readonly family: IpFamily,
    handlers: VrrpTransportHandlers,
    options: VrrpTransportOptions = {},
    addon: NativeAddon = loadAddon(),
  ) {
    this.group = vrrpGroup(family);
    this.socket = new addon.RawIpSocket(
      family,
      IPPROTO_VRRP,
      family === 6 && options.kernelChecksum ? { checksumOffset: VRRP_CHECKSUM_OFFSET } : {},
    );
    this.socket.start(
      (packet) =>
        handlers.onAdvert(packet.payload, {
          source: packet.source,
          destination: packet.destination,
          ifindex: packet.ifindex,
          ttl: packet.ttl,
        }),
      (error) => handlers.onError(error),
    );
  }

  join(ifindex: number): void {
    const count = this.joins.get(ifindex) ?? 0;
    if (count === 0) this.socket.joinGroup(this.group, ifindex);
    this.joins.set(ifindex, count + 1);
  }

  leave(ifindex: number): void {
    const count = this.joins.get(ifindex) ?? 0;
    if (count === 0) return;
    if (count === 1) {
      this.joins.delete(ifindex);
      this.socket.leaveGroup(this.group, ifindex);
    } else {
      this.joins.set(ifindex, count - 1);
    }
  }

  send(payload: Buffer, options: VrrpSendOptions): void {
    this.socket.send(
      payload,
      options.destination === undefined ? this.group : normalizeIp(options.destination),
      {
        ifindex: options.ifindex,
        source: options.source,
        ...(options.ttl !== undefined ? { ttl: options.ttl } : {}),
      },
    );
  }

  close(): void {
    this.joins.clear();
    this.socket.close(); // closing the socket drops its memberships
  }
}
