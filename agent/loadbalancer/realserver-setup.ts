// Prepares a Linux host to be an IPVS real server behind a DR or TUN virtual service (see
// docs/dr-tun.md). With direct routing and tunnelling the director forwards packets still
// addressed to the VIP, so the real server must accept them as local, and must never answer ARP
// for the VIP (the director holds it; a real server answering would steal the traffic):
// - DR: the VIP on `lo` (/32 or /128); net.ipv4.conf.all.arp_ignore=1 (answer ARP only for
//   addresses of the receiving interface) and arp_announce=2 (never use the VIP as the source of
//   ARP requests). IPv6 needs nothing more: neighbour solicitations are answered only for addresses
//   of the receiving interface.
// - TUN: the VIP on the IPIP device (tunl0, or ip6tnl0 for IPv6) and reverse-path filtering off on
//   it (decapsulated packets arrive from the director's address, not the client's route); the ARP
//   settings as for DR, since the VIP is still a local address.
// Not `arp -Ds` or static ARP tricks: the kernel's own per-address ARP policy does it.
// Plans are pure data, so they are unit-tested and printed by --dry-run.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { ipFamilyOf, normalizeIp, type IpFamily } from "../../native/ip-address.js";

export type RealServerMode = "dr" | "tun";

export type SetupStep =
  | { readonly kind: "sysctl"; readonly key: string; readonly value: string; readonly why: string }
  | { readonly kind: "tunnel-device"; readonly name: "tunl0" | "ip6tnl0"; readonly type: "ipip" | "ip6tnl" }
  | { readonly kind: "link-up"; readonly device: string }
  | {
      readonly kind: "address";
      readonly action: "add" | "remove";
      readonly address: string;
      readonly device: string;
    };

export interface RealServerRequest {
  readonly vips: readonly string[];
  readonly mode: RealServerMode;
  /** Take the VIPs away again (the sysctls stay: other VIPs may rely on them). */
  readonly remove?: boolean;
}

const TUNNEL_DEVICE: Record<IpFamily, { name: "tunl0" | "ip6tnl0"; type: "ipip" | "ip6tnl" }> = {
  4: { name: "tunl0", type: "ipip" },
  6: { name: "ip6tnl0", type: "ip6tnl" },
};

export function planRealServerSetup(request: RealServerRequest): SetupStep[] {
  if (request.vips.length === 0) throw new TypeError("give at least one --vip");
  const vips = request.vips.map((vip) => {
    const family = ipFamilyOf(vip);
    if (family === undefined) throw new TypeError(`--vip ${vip}: not an IP address`);
    return { address: normalizeIp(vip), family };
  });
  const deviceOf = (family: IpFamily) => (request.mode === "dr" ? "lo" : TUNNEL_DEVICE[family].name);
  if (request.remove === true)
    return vips.map(({ address, family }) => ({
      kind: "address",
      action: "remove",
      address,
      device: deviceOf(family),
    }));

  const steps: SetupStep[] = [];
  if (vips.some((v) => v.family === 4)) {
    steps.push(
      {
        kind: "sysctl",
        key: "net.ipv4.conf.all.arp_ignore",
        value: "1",
        why: "answer ARP only for addresses of the receiving interface, never for the VIP",
      },
      {
        kind: "sysctl",
        key: "net.ipv4.conf.all.arp_announce",
        value: "2",
        why: "never use the VIP as the source address of ARP requests",
      },
    );
  }
  if (request.mode === "tun") {
    for (const family of [...new Set(vips.map((v) => v.family))].sort()) {
      const device = TUNNEL_DEVICE[family];
      steps.push({ kind: "tunnel-device", ...device }, { kind: "link-up", device: device.name });
      if (family === 4) {
        // The kernel uses the larger of conf.all and conf.<device>: both must be 0.
        for (const scope of ["all", device.name])
          steps.push({
            kind: "sysctl",
            key: `net.ipv4.conf.${scope}.rp_filter`,
            value: "0",
            why: "decapsulated packets from a client arrive on the tunnel, not where the route to the client goes",
          });
      }
    }
  }
  for (const { address, family } of vips)
    steps.push({ kind: "address", action: "add", address, device: deviceOf(family) });
  return steps;
}

/** The step as a shell command, for --dry-run and the documentation. */
export function describeStep(step: SetupStep): string {
  switch (step.kind) {
    case "sysctl":
      return `sysctl -w ${step.key}=${step.value}    # ${step.why}`;
    case "tunnel-device":
      return `ip link add name ${step.name} type ${step.type}    # unless it exists (the module's fallback device)`;
    case "link-up":
      return `ip link set ${step.device} up`;
    case "address": {
      const prefix = step.address.includes(":") ? 128 : 32;
      return step.action === "add"
        ? `ip addr replace ${step.address}/${prefix} dev ${step.device}${prefix === 128 ? " nodad" : ""}`
        : `ip addr del ${step.address}/${prefix} dev ${step.device}    # if present`;
    }
  }
}

const ip = (...args: string[]): string =>
  execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

function addressPresent(address: string, device: string): boolean {
  const links = JSON.parse(ip("-j", "addr", "show", "dev", device)) as { addr_info?: { local?: string }[] }[];
  return links.some((link) =>
    (link.addr_info ?? []).some((a) => a.local !== undefined && normalizeIp(a.local) === address),
  );
}

/** Carries out a plan on this host (root, in the current network namespace). Idempotent. */
export function applyRealServerSetup(steps: readonly SetupStep[]): void {
  for (const step of steps) {
    try {
      switch (step.kind) {
        case "sysctl": {
          const path = `/proc/sys/${step.key.replace(/\./g, "/")}`;
          if (readFileSync(path, "utf8").trim() !== step.value) writeFileSync(path, step.value);
          break;
        }
        case "tunnel-device":
          if (existsSync(`/sys/class/net/${step.name}`)) break;
          try {
            ip("link", "add", "name", step.name, "type", step.type);
          } catch (error) {
            // Adding the first tunnel loads the module, which creates the fallback device itself.
            if (!existsSync(`/sys/class/net/${step.name}`)) throw error;
          }
          break;
        case "link-up":
          ip("link", "set", step.device, "up");
          break;
        case "address": {
          const prefix = step.address.includes(":") ? 128 : 32;
          if (step.action === "add")
            ip(
              "addr",
              "replace",
              `${step.address}/${prefix}`,
              "dev",
              step.device,
              ...(prefix === 128 ? ["nodad"] : []),
            );
          else if (existsSync(`/sys/class/net/${step.device}`) && addressPresent(step.address, step.device))
            ip("addr", "del", `${step.address}/${prefix}`, "dev", step.device);
          break;
        }
      }
    } catch (error) {
      const e = error as Error & { stderr?: string };
      throw new Error(`${describeStep(step).split("    #")[0]}: ${(e.stderr ?? "").trim() || e.message}`, {
        cause: error,
      });
    }
  }
}
