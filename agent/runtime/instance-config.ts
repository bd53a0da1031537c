// From the per-node desired state (one NodeState group) and what this host has (links, addresses) to
// the VRRP core's fully resolved instance configuration. Pure: the runner passes in what it listed.
import type { NodeVrrpGroup } from "../../crds/schema/node-state.js";
import type { VirtualIP } from "../../crds/schema/vrrp-group.js";
import type { InterfaceAddress, Link } from "../../native/kernel.js";
import { canonicalAddress } from "../vrrp/address.js";
import { resolveInstanceConfig, type VrrpInstanceConfig } from "../vrrp/config.js";

export type Family = "ipv4" | "ipv6";

export interface ResolvedInterface {
  name: string;
  ifindex: number;
  mac: string;
  /** Source of our adverts and the election tie-breaker: the primary IPv4 address, or the IPv6 link-local one. */
  primaryAddress: string;
}

export class InterfaceResolutionError extends Error {
  constructor(group: string, problem: string) {
    super(`VRRP group ${group}: ${problem}`);
    this.name = "InterfaceResolutionError";
  }
}

export function groupFamily(group: Pick<NodeVrrpGroup, "virtualIPs">): Family {
  return group.virtualIPs[0]?.address.includes(":") ? "ipv6" : "ipv4";
}

function inCidr(address: string, cidr: string): boolean {
  const [net = "", lenText = "0"] = cidr.split("/");
  const bits = (a: string): string =>
    a.includes(":")
      ? canonicalAddress(a)
          .split(":")
          .map((g) => Number.parseInt(g, 16).toString(2).padStart(16, "0"))
          .join("")
      : a
          .split(".")
          .map((o) => Number(o).toString(2).padStart(8, "0"))
          .join("");
  const x = bits(address);
  const y = bits(net);
  const len = Number(lenText);
  return x.length === y.length && x.slice(0, len) === y.slice(0, len);
}

const isVip = (group: NodeVrrpGroup, address: string): boolean =>
  [...group.virtualIPs, ...(group.excludedVirtualIPs ?? [])].some(
    (v) => canonicalAddress(v.address) === canonicalAddress(address),
  );

/**
 * Picks the group's interface (by name, or the one holding an address in the CIDR) and our primary
 * address on it. Our own VIPs never count as the primary address, even when a previous run left them.
 */
export function resolveInterface(
  group: NodeVrrpGroup,
  links: Link[],
  addresses: InterfaceAddress[],
): ResolvedInterface {
  const family = groupFamily(group);
  const familyCode = family === "ipv4" ? 4 : 6;
  let link: Link | undefined;
  if (group.interface.name !== undefined) {
    link = links.find((l) => l.name === group.interface.name);
    if (!link)
      throw new InterfaceResolutionError(
        group.name,
        `interface ${group.interface.name} does not exist on this node`,
      );
  } else {
    const cidr = group.interface.cidr ?? "";
    const holder = addresses.find(
      (a) => a.family === (cidr.includes(":") ? 6 : 4) && !isVip(group, a.address) && inCidr(a.address, cidr),
    );
    link = holder && links.find((l) => l.index === holder.ifindex);
    if (!link)
      throw new InterfaceResolutionError(group.name, `no interface on this node has an address in ${cidr}`);
  }
  const own = addresses.filter(
    (a) => a.ifindex === link.index && a.family === familyCode && !isVip(group, a.address),
  );
  let primary: string | undefined;
  if (group.unicastSourceAddress !== undefined) {
    primary = group.unicastSourceAddress;
    if (!own.some((a) => canonicalAddress(a.address) === canonicalAddress(primary!))) {
      throw new InterfaceResolutionError(
        group.name,
        `unicast source ${primary} is not an address of ${link.name}`,
      );
    }
  } else if (family === "ipv6") {
    // RFC 5798 5.1.2.1: IPv6 adverts come from the interface's link-local address.
    primary = own.find((a) => a.address.toLowerCase().startsWith("fe80:"))?.address;
  } else {
    const inSubnet = group.interface.cidr
      ? own.find((a) => inCidr(a.address, group.interface.cidr!))
      : undefined;
    primary = (inSubnet ?? own.find((a) => a.scope === 0))?.address;
  }
  if (primary === undefined) {
    throw new InterfaceResolutionError(
      group.name,
      `interface ${link.name} has no ${family === "ipv6" ? "IPv6 link-local" : "IPv4"} address to send adverts from`,
    );
  }
  if (link.mac === undefined)
    throw new InterfaceResolutionError(group.name, `interface ${link.name} has no hardware address`);
  return { name: link.name, ifindex: link.index, mac: link.mac, primaryAddress: primary };
}

export const defaultPrefixLength = (v: VirtualIP): number =>
  v.prefixLength ?? (v.address.includes(":") ? 128 : 32);

export function toInstanceConfig(group: NodeVrrpGroup, iface: ResolvedInterface): VrrpInstanceConfig {
  const garp = group.gratuitousARP ?? {};
  return resolveInstanceConfig({
    name: group.name,
    interface: iface.name,
    vrid: group.vrid,
    version: group.version ?? 3,
    family: groupFamily(group),
    priority: group.priority,
    advertIntervalMs: group.advertIntervalMillis ?? 1000,
    preempt: group.preempt ?? true,
    preemptDelayMs: group.preemptDelayMillis ?? 0,
    acceptMode: group.acceptMode ?? false,
    virtualAddresses: group.virtualIPs.map((v) => ({
      address: v.address,
      prefixLength: defaultPrefixLength(v),
    })),
    primaryAddress: iface.primaryAddress,
    unicastPeers: group.unicastPeers ?? [],
    authPassword: group.authPassword,
    checksumVariant: group.checksum === "WithoutPseudoHeader" ? "vrrp-only" : "pseudo-header",
    garp: {
      masterRepeat: garp.masterRepeat ?? 5,
      masterDelayMs: garp.masterDelayMillis ?? 5000,
      masterRefreshMs: garp.masterRefreshMillis ?? 0,
      masterRefreshRepeat: garp.masterRefreshRepeat ?? 1,
      intervalMs: garp.intervalMillis ?? 0,
    },
    trackInterfaces: (group.track?.interfaces ?? []).map((t) => ({ name: t.name, weight: t.weight ?? 0 })),
    trackScripts: (group.track?.scripts ?? []).map((s) => ({
      name: s.name,
      command: s.command.join(" "),
      intervalMs: s.intervalMillis ?? 1000,
      timeoutMs: s.timeoutMillis ?? s.intervalMillis ?? 1000,
      rise: s.rise ?? 1,
      fall: s.fall ?? 1,
      weight: s.weight ?? 0,
    })),
    // Notify commands are argv lists; the runner runs them itself.
    notify: {},
  });
}
