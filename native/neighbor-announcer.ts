// Tells the LAN that a virtual IP now lives here: gratuitous ARP for IPv4 (one AF_PACKET socket
// per interface), unsolicited neighbour advertisement for IPv6 (one send-only ICMPv6 raw socket).
import { loadAddon, type NativeAddon, type PacketSocket, type RawIpSocket } from "./addon.js";
import { ipFamilyOf, normalizeIp } from "./ip-address.js";
import {
  ALL_NODES_GROUP,
  buildGratuitousArp,
  buildUnsolicitedNeighborAdvertisement,
} from "./neighbor-packets.js";

const IPPROTO_ICMPV6 = 58;
/** RFC 4861: neighbour discovery packets must carry hop limit 255 or receivers drop them. */
const ND_HOP_LIMIT = 255;

export interface AnnounceTarget {
  /** Interface the VIP is on. */
  readonly ifindex: number;
  /** The VIP (IPv4 → gratuitous ARP, IPv6 → unsolicited NA). */
  readonly address: string;
  /** MAC of that interface (LinkControl.lookup gives it). */
  readonly mac: string;
  /** IPv6 only: source of the NA; default the VIP itself, which must be configured and not tentative (add it with nodad). */
  readonly source?: string;
}

export interface NeighborAnnouncer {
  /** Sends one announcement now; throws NativeSystemError naming the interface/address on failure. */
  announce(target: AnnounceTarget): void;
  /** Closes every socket; idempotent. */
  close(): void;
}

export class SocketNeighborAnnouncer implements NeighborAnnouncer {
  private readonly packetSockets = new Map<number, PacketSocket>();
  private icmpv6: RawIpSocket | undefined;

  constructor(private readonly addon: NativeAddon = loadAddon()) {}

  announce(target: AnnounceTarget): void {
    const family = ipFamilyOf(target.address);
    if (family === 4) {
      this.sendFrame(target.ifindex, buildGratuitousArp(target.address, target.mac));
    } else if (family === 6) {
      this.icmpv6 ??= new this.addon.RawIpSocket(6, IPPROTO_ICMPV6, { sendOnly: true });
      this.icmpv6.send(buildUnsolicitedNeighborAdvertisement(target.address, target.mac), ALL_NODES_GROUP, {
        ifindex: target.ifindex,
        source: normalizeIp(target.source ?? target.address),
        ttl: ND_HOP_LIMIT,
      });
    } else {
      throw new TypeError(`announce: '${target.address}' is not an IP address`);
    }
  }

  close(): void {
    for (const socket of this.packetSockets.values()) socket.close();
    this.packetSockets.clear();
    this.icmpv6?.close();
    this.icmpv6 = undefined;
  }

  private sendFrame(ifindex: number, frame: Buffer): void {
    let socket = this.packetSockets.get(ifindex);
    if (socket === undefined) {
      socket = new this.addon.PacketSocket(ifindex);
      this.packetSockets.set(ifindex, socket);
    }
    try {
      socket.send(frame);
    } catch (error) {
      // The interface may be gone (or replaced under the same index): start afresh next time.
      socket.close();
      this.packetSockets.delete(ifindex);
      throw error;
    }
  }
}
