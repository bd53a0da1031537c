// Kubernetes names for imported objects: DNS-1123 labels derived from keepalived names
// (`LVS_VIP` → `lvs-vip`) and from a virtual service's VIP, port and protocol.
import type { IPAddress } from "./values.js";

const MAX_LABEL = 63;

/** A DNS-1123 label from any text: lower case, runs of other characters become one "-". */
export function dnsLabel(text: string, fallback: string): string {
  let name = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (name.length > MAX_LABEL) name = name.slice(0, MAX_LABEL).replace(/-+$/, "");
  return name === "" ? fallback : name;
}

/** `198.51.100.10` → `198-51-100-10`; `2001:db8::1` → `2001-db8--1` (`::` stays recognisable). */
export function addressLabel(address: IPAddress): string {
  let name = address.text.toLowerCase().replace(/[.:]/g, "-");
  if (name.startsWith("-")) name = "0" + name;
  if (name.endsWith("-")) name = name + "0";
  return name;
}

export function serviceName(address: IPAddress, port: number, protocol: string): string {
  return `${addressLabel(address)}-${port}-${protocol.toLowerCase()}`;
}

export function firewallMarkServiceName(mark: number, family: "IPv4" | "IPv6" | undefined): string {
  return family === "IPv6" ? `fwmark-${mark}-ipv6` : `fwmark-${mark}`;
}

/** Hands out names, adding -2, -3... when two keepalived names map to the same Kubernetes name. */
export class NameAllocator {
  private readonly used = new Set<string>();

  allocate(base: string): string {
    let name = base;
    for (let n = 2; this.used.has(name); n++) {
      const suffix = `-${n}`;
      name = base.slice(0, MAX_LABEL - suffix.length).replace(/-+$/, "") + suffix;
    }
    this.used.add(name);
    return name;
  }
}
