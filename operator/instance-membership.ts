// Which VrrpGroups and VirtualServices an instance serves. Groups say it themselves (their
// kubelvs.io/instance label); a VirtualService belongs to the instance of the group it attaches to,
// so app teams name a VIP or a group and never an instance. The answer is the same in every
// operator, since each sees every group: exactly one instance renders a service and writes its status.
//
// - spec.vrrpGroup: the instance of that group.
// - a virtual IP only: the instance of the oldest group (then by name) that lists the VIP, the group
//   the renderer would pick if both instances were one.
// - attached to no group at all (a group or VIP nobody has): the unnamed instance, whose operator
//   then reports UnknownGroup or UnknownVIP on it.
import { canonicalAddress } from "../core/render/render.js";
import type { VirtualServiceObject, VrrpGroupObject } from "./cluster-objects.js";
import { UNNAMED_INSTANCE, instanceOf } from "./instance.js";

export interface InstanceMembers {
  groups: VrrpGroupObject[];
  services: VirtualServiceObject[];
}

function oldestFirst(a: VrrpGroupObject, b: VrrpGroupObject): number {
  const ta = a.metadata.creationTimestamp ?? "";
  const tb = b.metadata.creationTimestamp ?? "";
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/** Which instance serves each service ("namespace/name" → instance), given every group of the cluster. */
export class ServiceAttachment {
  private readonly groupInstance = new Map<string, string>();
  private readonly vipInstance = new Map<string, string>();

  constructor(groups: readonly VrrpGroupObject[]) {
    for (const group of [...groups].sort(oldestFirst)) {
      const instance = instanceOf(group.metadata);
      this.groupInstance.set(group.metadata.name, instance);
      const { virtualIPs, excludedVirtualIPs = [] } = group.spec;
      for (const vip of [...virtualIPs, ...excludedVirtualIPs]) {
        const key = canonicalAddress(vip.address);
        if (!this.vipInstance.has(key)) this.vipInstance.set(key, instance);
      }
    }
  }

  instanceOf(service: VirtualServiceObject): string {
    const { vrrpGroup, virtualIP } = service.spec;
    if (vrrpGroup !== undefined) return this.groupInstance.get(vrrpGroup) ?? UNNAMED_INSTANCE;
    if (virtualIP !== undefined) return this.vipInstance.get(canonicalAddress(virtualIP)) ?? UNNAMED_INSTANCE;
    return UNNAMED_INSTANCE;
  }
}

/** The groups and services `instance` serves, out of every group and service of the cluster. */
export function instanceMembers(
  instance: string,
  groups: readonly VrrpGroupObject[],
  services: readonly VirtualServiceObject[],
): InstanceMembers {
  const attachment = new ServiceAttachment(groups);
  return {
    groups: groups.filter((g) => instanceOf(g.metadata) === instance),
    services: services.filter((s) => attachment.instanceOf(s) === instance),
  };
}
