// VRRP transport (IP protocol 112): one raw socket per address family, shared by every VRRP
// instance of the agent. It joins the VRRP multicast group per interface (reference-counted, so
// instances on the same interface can join and leave independently), sends adverts with TTL / hop
// limit 255 from a chosen source out of a chosen interface, and delivers received adverts with
// the fields RFC 5798 5.1.1 / 7.1 checks: TTL, ingress interface, source and destination.
// A Master's steady-state adverts go through startPeriodic(): the addon re-sends the same bytes
// every interval from a thread of its own, without entering JavaScript, while the event loop lives.
import {
  loadAddon,
  type NativeAddon,
  type NativeSystemError,
  type PeriodicSender,
  type RawIpSocket,
} from "./addon.js";
import { normalizeIp, type IpFamily } from "./ip-address.js";
import { withIpHeader } from "./ip-header.js";

export const IPPROTO_VRRP = 112;
/** Send-only raw sockets: the kernel delivers no received packet to protocol 255 (see ip-header.ts). */
const IPPROTO_RAW = 255;
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

/** One advert of a periodic transmission and where it goes (the VRRP group or a unicast peer). */
export interface PeriodicAdvert {
  readonly payload: Buffer;
  readonly destination: string;
}

export interface PeriodicSendOptions {
  /** Outgoing interface. */
  readonly ifindex: number;
  /** Source address: the interface's primary IPv4 address or IPv6 link-local address. */
  readonly source: string;
  /** Default 255. */
  readonly ttl?: number;
}

/** Adverts re-sent natively every interval; see VrrpTransport.startPeriodic. */
export interface PeriodicTransmission {
  /** Rounds sent so far (each restart's immediate round included), failed ones too. */
  readonly rounds: number;
  /** Intervals skipped because the sending thread woke late (their rounds were merged into one). */
  readonly missed: number;
  /** Adverts whose sendmsg failed. */
  readonly failures: number;
  /**
   * Rounds not sent because the event loop had stalled for max(1 s, 3 intervals): a hung agent
   * stops advertising so a Backup takes over, as a hung keepalived does.
   */
  readonly withheld: number;
  /**
   * Replaces the adverts and the interval: sends them now and starts a new phase from this send.
   * Throws once the transmission is stopped.
   */
  restart(adverts: readonly PeriodicAdvert[], intervalMs: number): void;
  /**
   * Replaces the adverts from the next round on (a new priority, new addresses); the phase is
   * kept and nothing is sent now. Throws once the transmission is stopped.
   */
  update(adverts: readonly PeriodicAdvert[]): void;
  /** Stops sending; idempotent. */
  stop(): void;
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
  /**
   * Sends every advert now, then every intervalMs (phase-locked to this first send) without
   * entering JavaScript, until stopped or the transport is closed; rounds are withheld while the
   * event loop is stalled for max(1 s, 3 intervals) (PeriodicTransmission.withheld). Send errors
   * (the link is down, the source address is gone) go to onError — asynchronously, also for the
   * first round — and the schedule keeps running, so adverts resume when the link does; each errno
   * is reported once until a round succeeds again. Throws for invalid adverts (addresses of the
   * wrong family, etc.).
   */
  startPeriodic(
    adverts: readonly PeriodicAdvert[],
    options: PeriodicSendOptions,
    intervalMs: number,
    onError: (error: NativeSystemError) => void,
  ): PeriodicTransmission;
  /** Stops the periodic transmissions and closes the socket. */
  close(): void;
}

export class RawVrrpTransport implements VrrpTransport {
  private readonly socket: RawIpSocket;
  private readonly kernelChecksum: boolean;
  private sendOnlySocket: RawIpSocket | undefined;
  private readonly joins = new Map<number, number>();
  private readonly group: string;
  private readonly transmissions = new Set<NativePeriodicTransmission>();

  constructor(
    readonly family: IpFamily,
    handlers: VrrpTransportHandlers,
    options: VrrpTransportOptions = {},
    private readonly addon: NativeAddon = loadAddon(),
  ) {
    this.group = vrrpGroup(family);
    this.kernelChecksum = family === 6 && options.kernelChecksum === true;
    this.socket = new addon.RawIpSocket(
      family,
      IPPROTO_VRRP,
      this.kernelChecksum ? { checksumOffset: VRRP_CHECKSUM_OFFSET } : {},
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

  startPeriodic(
    adverts: readonly PeriodicAdvert[],
    options: PeriodicSendOptions,
    intervalMs: number,
    onError: (error: NativeSystemError) => void,
  ): PeriodicTransmission {
    // With the kernel computing the IPv6 checksum the adverts go out on the protocol-112 socket,
    // the only one the kernel does that for; otherwise on the send-only IPPROTO_RAW socket with a
    // header written here (native/ip-header.ts: no receive clones, the kernel's short send path).
    const withHeader = !this.kernelChecksum;
    const family = this.family;
    const transmission = new NativePeriodicTransmission(
      new this.addon.PeriodicSender(withHeader ? this.headerSocket() : this.socket),
      {
        ifindex: options.ifindex,
        source: options.source,
        ...(options.ttl !== undefined && !withHeader ? { ttl: options.ttl } : {}),
      },
      withHeader
        ? (advert) => ({
            payload: withIpHeader(family, advert.payload, {
              source: options.source,
              destination: advert.destination,
              ...(options.ttl !== undefined ? { ttl: options.ttl } : {}),
            }),
            destination: advert.destination,
          })
        : (advert) => advert,
      onError,
      () => this.transmissions.delete(transmission),
    );
    try {
      transmission.restart(adverts, intervalMs);
    } catch (error) {
      transmission.stop();
      throw error;
    }
    this.transmissions.add(transmission);
    return transmission;
  }

  close(): void {
    for (const transmission of [...this.transmissions]) transmission.stop();
    this.joins.clear();
    this.socket.close(); // closing the socket drops its memberships
    this.sendOnlySocket?.close();
    this.sendOnlySocket = undefined;
  }

  /** The periodic adverts' socket, opened with the first Master schedule and kept until close(). */
  private headerSocket(): RawIpSocket {
    this.sendOnlySocket ??= new this.addon.RawIpSocket(this.family, IPPROTO_RAW, { sendOnly: true });
    return this.sendOnlySocket;
  }
}

/** What goes on the wire for one advert: as given, or behind an IP header. */
type Framing = (advert: PeriodicAdvert) => PeriodicAdvert;

const framed = (adverts: readonly PeriodicAdvert[], frame: Framing): PeriodicAdvert[] =>
  adverts.map((advert) => frame({ payload: advert.payload, destination: normalizeIp(advert.destination) }));

class NativePeriodicTransmission implements PeriodicTransmission {
  private stopped = false;
  private starting = false;

  constructor(
    private readonly sender: PeriodicSender,
    private readonly options: PeriodicSendOptions,
    private readonly frame: Framing,
    private readonly onError: (error: NativeSystemError) => void,
    private readonly onStop: () => void,
  ) {}

  get rounds(): number {
    return this.sender.rounds;
  }

  get missed(): number {
    return this.sender.missed;
  }

  get failures(): number {
    return this.sender.failures;
  }

  get withheld(): number {
    return this.sender.withheld;
  }

  restart(adverts: readonly PeriodicAdvert[], intervalMs: number): void {
    if (this.stopped) throw new Error("restart: this periodic VRRP transmission is stopped");
    const datagrams = framed(adverts, this.frame);
    this.starting = true;
    try {
      this.sender.start(datagrams, this.options, intervalMs, (error) => this.report(error));
    } finally {
      this.starting = false;
    }
  }

  update(adverts: readonly PeriodicAdvert[]): void {
    if (this.stopped) throw new Error("update: this periodic VRRP transmission is stopped");
    this.sender.update(framed(adverts, this.frame));
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.sender.close();
    this.onStop();
  }

  private report(error: NativeSystemError): void {
    // The addon reports the first round's errors before start() returns; the caller may not hold
    // this transmission yet, so those wait for the current call to finish.
    if (this.starting) queueMicrotask(() => this.onError(error));
    else this.onError(error);
  }
}
