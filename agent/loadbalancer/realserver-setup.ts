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
// Plans are pure data, so they are unit-tested and printed by --dry-run. `kubelvs realserver` applies
// a plan with `ip` (applyRealServerSetup); the agent reconciles a node that is a real server of
// cluster services through netlink (agent/realserver/), from the same planner.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { ipFamilyOf, normalizeIp, type IpFamily } from "../../native/ip-address.js";

export type RealServerMode = "dr" | "tun";

export type SetupStep =
  | {
      readonly kind: "sysctl";
      readonly key: string;
      readonly value: string;
      readonly why: string;
      /** Present values that already do the job (arp_ignore 2 is stricter than 1, say); default: `value` only. */
      readonly satisfiedBy?: readonly string[];
    }
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

/** The devices a real server's VIPs live on: lo, tunl0, ip6tnl0. */
export const REAL_SERVER_DEVICES = ["lo", TUNNEL_DEVICE[4].name, TUNNEL_DEVICE[6].name] as const;

/** Where a VIP goes: lo for DR, the family's IP-in-IP device for TUN. */
export function vipDevice(family: IpFamily, mode: RealServerMode): string {
  return mode === "dr" ? "lo" : TUNNEL_DEVICE[family].name;
}

/** The ARP sysctls, which keep a real server from answering ARP for the VIPs it holds. */
export const ARP_SYSCTLS = ["net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.arp_announce"] as const;

/** A real-server VIP: its canonical address, family and how traffic reaches it. */
export interface RealServerVip {
  readonly address: string;
  readonly family: IpFamily;
  readonly mode: RealServerMode;
}

/** Parses VIPs given as text; errors name the offending value. */
export function realServerVips(vips: readonly string[], mode: RealServerMode): RealServerVip[] {
  return vips.map((vip) => {
    const family = ipFamilyOf(vip);
    if (family === undefined) throw new TypeError(`--vip ${vip}: not an IP address`);
    return { address: normalizeIp(vip), family, mode };
  });
}

/**
 * The host settings the VIPs need, in the order to apply them: the ARP sysctls (IPv4 VIPs), then per
 * tunnelled family the IP-in-IP device, up, with reverse-path filtering off. Addresses are not included.
 */
export function hostSettings(vips: readonly RealServerVip[]): SetupStep[] {
  const steps: SetupStep[] = [];
  if (vips.some((v) => v.family === 4)) {
    steps.push(
      {
        kind: "sysctl",
        key: ARP_SYSCTLS[0],
        value: "1",
        why: "answer ARP only for addresses of the receiving interface, never for the VIP",
        // 2 and 3 are stricter still, 8 answers nothing: all keep the VIP unanswered
        satisfiedBy: ["1", "2", "3", "8"],
      },
      {
        kind: "sysctl",
        key: ARP_SYSCTLS[1],
        value: "2",
        why: "never use the VIP as the source address of ARP requests",
      },
    );
  }
  const tunnelled = new Set(vips.filter((v) => v.mode === "tun").map((v) => v.family));
  for (const family of [...tunnelled].sort()) {
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
  return steps;
}

export function planRealServerSetup(request: RealServerRequest): SetupStep[] {
  if (request.vips.length === 0) throw new TypeError("give at least one --vip");
  const vips = realServerVips(request.vips, request.mode);
  if (request.remove === true)
    return vips.map(({ address, family }) => ({
      kind: "address",
      action: "remove",
      address,
      device: vipDevice(family, request.mode),
    }));
  return [
    ...hostSettings(vips),
    ...vips.map(({ address, family }): SetupStep => ({
      kind: "address",
      action: "add",
      address,
      device: vipDevice(family, request.mode),
    })),
  ];
}

/** A VIP-sized address found on one of REAL_SERVER_DEVICES. */
export interface PresentAddress {
  readonly address: string;
  readonly device: string;
  /** Added by this agent (its ownership mark is on it): only these are ever removed. */
  readonly owned: boolean;
}

/** What the host has now, as far as a reconcile cares. */
export interface RealServerHostState {
  /** Current values of the sysctls hostSettings() names; undefined when absent (no such device yet). */
  readonly sysctls: ReadonlyMap<string, string | undefined>;
  /** Devices that exist, and whether each is up. */
  readonly links: ReadonlyMap<string, { readonly up: boolean }>;
  /** /32 and /128 addresses on REAL_SERVER_DEVICES. */
  readonly addresses: readonly PresentAddress[];
}

/**
 * The steps that take the host from `state` to holding exactly the wanted VIPs that this agent is
 * responsible for: settings not yet right, VIPs missing from their device, and owned VIPs no longer
 * wanted there (removed before anything is added, so a VIP moving from lo to tunl0 moves). Addresses
 * it does not own are never removed; a wanted VIP someone else already put on its device is left as
 * it is. Sysctls are never reset: other real-server setups on the host may rely on them.
 */
export function planRealServerReconcile(
  wanted: readonly RealServerVip[],
  state: RealServerHostState,
): SetupStep[] {
  const steps: SetupStep[] = [];
  for (const step of hostSettings(wanted)) {
    if (step.kind === "sysctl") {
      const current = state.sysctls.get(step.key);
      if (current !== undefined && (step.satisfiedBy ?? [step.value]).includes(current)) continue;
    } else if (step.kind === "tunnel-device") {
      if (state.links.has(step.name)) continue;
    } else if (step.kind === "link-up") {
      if (state.links.get(step.device)?.up === true) continue;
    }
    steps.push(step);
  }
  const wantedAt = new Set(wanted.map((v) => `${v.address} ${vipDevice(v.family, v.mode)}`));
  for (const present of state.addresses)
    if (present.owned && !wantedAt.has(`${present.address} ${present.device}`))
      steps.push({ kind: "address", action: "remove", address: present.address, device: present.device });
  const presentAt = new Set(state.addresses.map((a) => `${a.address} ${a.device}`));
  for (const vip of wanted) {
    const device = vipDevice(vip.family, vip.mode);
    if (!presentAt.has(`${vip.address} ${device}`))
      steps.push({ kind: "address", action: "add", address: vip.address, device });
  }
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
          const current = readFileSync(path, "utf8").trim();
          if (!(step.satisfiedBy ?? [step.value]).includes(current)) writeFileSync(path, step.value);
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
