// Hands each VRRP packet received on one socket (one interface and family) to the instances of its VRID.
// A packet for a VRID nobody here runs is normal on a shared link: it is counted, not an error of any group.
// Only the VRID byte is looked at; each instance validates the packet against its own configuration.
import { ipFamily } from "./address.js";
import type { AdvertMeta } from "./ports.js";
import type { VrrpInstance } from "./state-machine.js";

export interface DemuxCounters {
  /** Packets per VRID that no instance on this socket runs. */
  readonly unknownVrid: Map<number, number>;
  /** Packets too short to carry a VRID. */
  truncated: number;
}

export class VrrpDemux {
  private readonly byVrid = new Map<number, VrrpInstance[]>();
  readonly counters: DemuxCounters = { unknownVrid: new Map(), truncated: 0 };

  add(instance: VrrpInstance): void {
    const list = this.byVrid.get(instance.instanceConfig.vrid) ?? [];
    if (list.some((i) => i.name === instance.name)) {
      throw new Error(`VRRP instance ${instance.name} is already on this socket`);
    }
    const family = instance.instanceConfig.family;
    const clash = list.find((i) => i.instanceConfig.family === family);
    if (clash !== undefined) {
      throw new Error(
        `VRRP instances ${clash.name} and ${instance.name} both run VRID ${instance.instanceConfig.vrid} (${family}) on one interface`,
      );
    }
    this.byVrid.set(instance.instanceConfig.vrid, [...list, instance]);
  }

  remove(instance: VrrpInstance): void {
    const list = (this.byVrid.get(instance.instanceConfig.vrid) ?? []).filter((i) => i !== instance);
    if (list.length === 0) this.byVrid.delete(instance.instanceConfig.vrid);
    else this.byVrid.set(instance.instanceConfig.vrid, list);
  }

  /** Delivers the packet; returns false when no instance here runs its VRID (or it is too short to tell). */
  dispatch(packet: Uint8Array, meta: AdvertMeta): boolean {
    const vrid = packet[1];
    if (vrid === undefined) {
      this.counters.truncated++;
      return false;
    }
    const family = ipFamily(meta.src);
    const target = this.byVrid.get(vrid)?.find((i) => i.instanceConfig.family === family);
    if (target === undefined) {
      this.counters.unknownVrid.set(vrid, (this.counters.unknownVrid.get(vrid) ?? 0) + 1);
      return false;
    }
    target.advertReceived(packet, meta);
    return true;
  }
}
