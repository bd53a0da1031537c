// One raw VRRP socket per address family for the whole agent, and one VRID demultiplexer per
// (family, interface), so every group sees only its own packets and one group's bad packet or
// exception never reaches another.
import type { KernelEdge, VrrpTransport } from "../../native/kernel.js";
import type { Logger } from "../../core/log.js";
import { VrrpDemux } from "../vrrp/demux.js";
import type { VrrpInstance } from "../vrrp/state-machine.js";
import type { Family } from "./instance-config.js";

export class TransportHub {
  private readonly transports = new Map<Family, VrrpTransport>();
  private readonly demuxes = new Map<string, VrrpDemux>();
  /** Packets that arrived on an interface where no group of ours runs. */
  unclaimed = 0;

  constructor(
    private readonly kernel: KernelEdge,
    private readonly log: Logger,
  ) {}

  transport(family: Family): VrrpTransport {
    let t = this.transports.get(family);
    if (!t) {
      t = this.kernel.openVrrpTransport(family === "ipv4" ? 4 : 6, {
        onAdvert: (payload, meta) => {
          const demux = this.demuxes.get(`${family}/${meta.ifindex}`);
          if (!demux) {
            this.unclaimed++;
            return;
          }
          try {
            demux.dispatch(payload, {
              src: meta.source,
              dst: meta.destination,
              ttl: meta.ttl,
              ifindex: meta.ifindex,
            });
          } catch (e) {
            // The core validates every packet itself; an exception here is a bug, and it must stay
            // inside the one group the packet was for.
            this.log.error("VRRP packet handling failed", {
              family,
              ifindex: meta.ifindex,
              vrid: payload[1],
              err: e,
            });
          }
        },
        onError: (error) =>
          this.log.warn("VRRP receive error (adverts may have been lost)", { family, err: error }),
      });
      this.transports.set(family, t);
    }
    return t;
  }

  /** Joins the VRRP group on the interface and routes its packets of this VRID to the instance. */
  attach(family: Family, ifindex: number, instance: VrrpInstance): void {
    const key = `${family}/${ifindex}`;
    let demux = this.demuxes.get(key);
    if (!demux) this.demuxes.set(key, (demux = new VrrpDemux()));
    demux.add(instance);
    this.transport(family).join(ifindex);
  }

  detach(family: Family, ifindex: number, instance: VrrpInstance): void {
    this.demuxes.get(`${family}/${ifindex}`)?.remove(instance);
    this.transports.get(family)?.leave(ifindex);
  }

  close(): void {
    for (const t of this.transports.values()) t.close();
    this.transports.clear();
    this.demuxes.clear();
  }
}
