// The fully resolved configuration of one VRRP instance, as the core consumes it. Whatever the source
// (keepalived.conf through the importer, the agent YAML, the Kubernetes per-node object) maps onto this.
import { canonicalAddress, ipFamily } from "./address.js";
import type { IpFamily } from "./address.js";
import { VRRP_AUTH_DATA_LENGTH } from "./packet.js";
import type { ChecksumVariant } from "./packet.js";

export type VrrpVersion = 2 | 3;

export interface VirtualAddress {
  readonly address: string;
  readonly prefixLength: number;
}

/**
 * Gratuitous ARP / unsolicited NA schedule, with keepalived's names and defaults:
 * on becoming Master `masterRepeat` messages go out at once (garp_master_repeat, 5), the same burst again
 * after `masterDelayMs` (garp_master_delay, 5 s; 0 = no second burst), and while Master a burst of
 * `masterRefreshRepeat` (garp_master_refresh_repeat, 1) every `masterRefreshMs` (garp_master_refresh, 0 = off).
 * `intervalMs` (garp_interval / gna_interval, 0) spaces the messages of one burst; the I/O layer applies it.
 */
export interface GarpConfig {
  readonly masterRepeat: number;
  readonly masterDelayMs: number;
  readonly masterRefreshMs: number;
  readonly masterRefreshRepeat: number;
  readonly intervalMs: number;
}

export const DEFAULT_GARP: GarpConfig = {
  masterRepeat: 5,
  masterDelayMs: 5000,
  masterRefreshMs: 0,
  masterRefreshRepeat: 1,
  intervalMs: 0,
};

/**
 * A tracked interface, keepalived's track_interface: weight 0 puts the instance in Fault while the interface
 * is down; a positive weight adds to the priority while it is up, a negative one subtracts while it is down.
 * `reverse` turns the effect around (keepalived's "weight N reverse").
 */
export interface TrackedInterfaceConfig {
  readonly name: string;
  readonly weight: number;
  readonly reverse: boolean;
}

/**
 * A tracked script, keepalived's vrrp_script as referenced by track_script. The I/O layer runs `command`
 * every `intervalMs` with `timeoutMs` and feeds each exit status in; the core applies rise/fall and weight.
 */
export interface TrackedScriptConfig {
  readonly name: string;
  readonly command: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly rise: number;
  readonly fall: number;
  readonly weight: number;
  readonly reverse: boolean;
  /** keepalived's init_fail: the script counts as failed until it has succeeded `rise` times. */
  readonly initFail: boolean;
}

/** Commands the I/O layer runs on transitions (keepalived's notify_master/backup/fault/stop and notify). */
export interface NotifyCommands {
  readonly master?: string;
  readonly backup?: string;
  readonly fault?: string;
  readonly stop?: string;
  readonly any?: string;
}

/** What to do with an advert whose address list differs from ours (RFC 5798 6.4.3: log; keepalived: drop). */
export type AddressListPolicy = "drop" | "accept";

export interface VrrpInstanceConfig {
  readonly name: string;
  readonly interface: string;
  readonly vrid: number;
  readonly version: VrrpVersion;
  readonly family: IpFamily;
  /** Base priority 1..255; 255 makes this router the address owner. */
  readonly priority: number;
  /** Advertisement interval: whole seconds for v2, units of 10 ms (10..40950) for v3. */
  readonly advertIntervalMs: number;
  /** false is keepalived's nopreempt. */
  readonly preempt: boolean;
  readonly preemptDelayMs: number;
  /** VRRPv3 Accept_Mode: whether the Master answers on the virtual addresses it does not own (I/O layer). */
  readonly acceptMode: boolean;
  readonly virtualAddresses: readonly VirtualAddress[];
  /** Our primary address on the interface: the source of our adverts, the tie-breaker. IPv6: link-local. */
  readonly primaryAddress: string;
  /** Unicast peers; empty means multicast. In unicast mode adverts from anyone else are dropped. */
  readonly unicastPeers: readonly string[];
  /** VRRPv2 simple password (at most 8 bytes); undefined means no authentication. */
  readonly authPassword: string | undefined;
  /** VRRPv3 over IPv4 only: checksum with the pseudo-header (RFC, keepalived default) or without. */
  readonly checksumVariant: ChecksumVariant;
  readonly addressListPolicy: AddressListPolicy;
  /** keepalived's default: a Master answers a lower-priority advert with its own at once (lower_prio_no_advert off). */
  readonly advertOnLowerPriority: boolean;
  readonly garp: GarpConfig;
  readonly trackInterfaces: readonly TrackedInterfaceConfig[];
  readonly trackScripts: readonly TrackedScriptConfig[];
  readonly notify: NotifyCommands;
}

type Defaulted =
  | "version"
  | "family"
  | "priority"
  | "advertIntervalMs"
  | "preempt"
  | "preemptDelayMs"
  | "acceptMode"
  | "unicastPeers"
  | "authPassword"
  | "checksumVariant"
  | "addressListPolicy"
  | "advertOnLowerPriority"
  | "garp"
  | "trackInterfaces"
  | "trackScripts"
  | "notify";

export type TrackedScriptConfigInput = Pick<TrackedScriptConfig, "name" | "command"> &
  Partial<Omit<TrackedScriptConfig, "name" | "command">>;

export type VrrpInstanceConfigInput = Omit<
  VrrpInstanceConfig,
  Defaulted | "garp" | "trackInterfaces" | "trackScripts"
> &
  Partial<Omit<VrrpInstanceConfig, "garp" | "trackInterfaces" | "trackScripts">> & {
    readonly garp?: Partial<GarpConfig>;
    readonly trackInterfaces?: readonly (Pick<TrackedInterfaceConfig, "name"> &
      Partial<TrackedInterfaceConfig>)[];
    readonly trackScripts?: readonly TrackedScriptConfigInput[];
  };

export class VrrpConfigError extends Error {
  constructor(
    readonly instance: string,
    readonly field: string,
    problem: string,
  ) {
    super(`VRRP instance ${JSON.stringify(instance)}: ${field} ${problem}`);
    this.name = "VrrpConfigError";
  }
}

/**
 * Fills keepalived's defaults (version 2 for IPv4 and 3 for IPv6, priority 100, advert 1 s, preempt on,
 * GARP 5 + 5 after 5 s, scripts interval 1 s / rise 1 / fall 1 / weight 0) and validates the result.
 */
export function resolveInstanceConfig(input: VrrpInstanceConfigInput): VrrpInstanceConfig {
  const family = input.family ?? ipFamily(input.primaryAddress) ?? "ipv4";
  const config: VrrpInstanceConfig = {
    name: input.name,
    interface: input.interface,
    vrid: input.vrid,
    version: input.version ?? (family === "ipv6" ? 3 : 2),
    family,
    priority: input.priority ?? 100,
    advertIntervalMs: input.advertIntervalMs ?? 1000,
    preempt: input.preempt ?? true,
    preemptDelayMs: input.preemptDelayMs ?? 0,
    acceptMode: input.acceptMode ?? false,
    virtualAddresses: input.virtualAddresses,
    primaryAddress: input.primaryAddress,
    unicastPeers: input.unicastPeers ?? [],
    authPassword: input.authPassword,
    checksumVariant: input.checksumVariant ?? "pseudo-header",
    addressListPolicy: input.addressListPolicy ?? "drop",
    advertOnLowerPriority: input.advertOnLowerPriority ?? true,
    garp: { ...DEFAULT_GARP, ...input.garp },
    trackInterfaces: (input.trackInterfaces ?? []).map((t) => ({
      name: t.name,
      weight: t.weight ?? 0,
      reverse: t.reverse ?? false,
    })),
    trackScripts: (input.trackScripts ?? []).map((s) => ({
      name: s.name,
      command: s.command,
      intervalMs: s.intervalMs ?? 1000,
      timeoutMs: s.timeoutMs ?? s.intervalMs ?? 1000,
      rise: s.rise ?? 1,
      fall: s.fall ?? 1,
      weight: s.weight ?? 0,
      reverse: s.reverse ?? false,
      initFail: s.initFail ?? false,
    })),
    notify: input.notify ?? {},
  };
  validateInstanceConfig(config);
  return config;
}

/** Throws VrrpConfigError naming the instance and field for anything the core cannot run with. */
export function validateInstanceConfig(config: VrrpInstanceConfig): void {
  const fail = (field: string, problem: string): never => {
    throw new VrrpConfigError(config.name, field, problem);
  };
  const integerIn = (field: string, value: number, min: number, max: number): void => {
    if (!Number.isInteger(value) || value < min || value > max) {
      fail(field, `must be an integer in ${min}..${max}, got ${value}`);
    }
  };
  if (config.name === "") fail("name", "must not be empty");
  if (config.interface === "") fail("interface", "must not be empty");
  integerIn("vrid", config.vrid, 1, 255);
  if (config.version !== 2 && config.version !== 3)
    fail("version", `must be 2 or 3, got ${String(config.version)}`);
  if (config.version === 2 && config.family === "ipv6") fail("version", "2 is IPv4-only; IPv6 needs VRRPv3");
  integerIn("priority", config.priority, 1, 255);
  if (config.version === 2) {
    if (config.advertIntervalMs % 1000 !== 0) fail("advertIntervalMs", "must be whole seconds for VRRPv2");
    integerIn("advertIntervalMs", config.advertIntervalMs, 1000, 255_000);
  } else {
    if (config.advertIntervalMs % 10 !== 0)
      fail("advertIntervalMs", "must be a multiple of 10 ms for VRRPv3");
    integerIn("advertIntervalMs", config.advertIntervalMs, 10, 40_950);
  }
  integerIn("preemptDelayMs", config.preemptDelayMs, 0, 3_600_000);
  const familyOf = (field: string, address: string): void => {
    const family = ipFamily(address);
    if (family === undefined) fail(field, `${JSON.stringify(address)} is not an IP address`);
    if (family !== config.family) fail(field, `${address} is not an ${config.family} address`);
  };
  familyOf("primaryAddress", config.primaryAddress);
  if (config.virtualAddresses.length === 0) fail("virtualAddresses", "must list at least one address");
  if (config.virtualAddresses.length > 255)
    fail("virtualAddresses", "holds more than the 255 an advert can carry");
  config.virtualAddresses.forEach((vip, i) => {
    familyOf(`virtualAddresses[${i}].address`, vip.address);
    integerIn(
      `virtualAddresses[${i}].prefixLength`,
      vip.prefixLength,
      1,
      config.family === "ipv4" ? 32 : 128,
    );
  });
  const seen = new Set<string>();
  config.virtualAddresses.forEach((vip, i) => {
    const canonical = canonicalAddress(vip.address);
    if (seen.has(canonical)) fail(`virtualAddresses[${i}]`, `repeats ${canonical}`);
    seen.add(canonical);
  });
  config.unicastPeers.forEach((peer, i) => familyOf(`unicastPeers[${i}]`, peer));
  if (config.authPassword !== undefined) {
    if (config.version !== 2) fail("authPassword", "is VRRPv2 only (RFC 5798 removed authentication)");
    const length = Buffer.byteLength(config.authPassword, "utf8");
    if (length === 0 || length > VRRP_AUTH_DATA_LENGTH)
      fail("authPassword", `must be 1..8 bytes, got ${length}`);
  }
  integerIn("garp.masterRepeat", config.garp.masterRepeat, 0, 255);
  integerIn("garp.masterDelayMs", config.garp.masterDelayMs, 0, 3_600_000);
  integerIn("garp.masterRefreshMs", config.garp.masterRefreshMs, 0, 3_600_000);
  integerIn("garp.masterRefreshRepeat", config.garp.masterRefreshRepeat, 1, 255);
  integerIn("garp.intervalMs", config.garp.intervalMs, 0, 60_000);
  const names = new Set<string>();
  config.trackInterfaces.forEach((t, i) => {
    if (t.name === "") fail(`trackInterfaces[${i}].name`, "must not be empty");
    if (names.has(`if:${t.name}`)) fail(`trackInterfaces[${i}].name`, `repeats ${t.name}`);
    names.add(`if:${t.name}`);
    integerIn(`trackInterfaces[${i}].weight`, t.weight, -253, 253);
  });
  config.trackScripts.forEach((s, i) => {
    if (s.name === "") fail(`trackScripts[${i}].name`, "must not be empty");
    if (names.has(`script:${s.name}`)) fail(`trackScripts[${i}].name`, `repeats ${s.name}`);
    names.add(`script:${s.name}`);
    if (s.command === "") fail(`trackScripts[${i}].command`, "must not be empty");
    integerIn(`trackScripts[${i}].intervalMs`, s.intervalMs, 1, 86_400_000);
    integerIn(`trackScripts[${i}].timeoutMs`, s.timeoutMs, 1, 86_400_000);
    integerIn(`trackScripts[${i}].rise`, s.rise, 1, 1_000_000);
    integerIn(`trackScripts[${i}].fall`, s.fall, 1, 1_000_000);
    integerIn(`trackScripts[${i}].weight`, s.weight, -253, 253);
  });
}

/** How a field change is applied to a running instance. */
type FieldEffect =
  /** the instance must be torn down and created anew (another virtual router, socket or address) */
  | "restart"
  /** applied to the running instance; its state is kept and the protocol carries on from there */
  | "live";

const FIELD_EFFECTS: Record<keyof VrrpInstanceConfig, FieldEffect> = {
  name: "restart",
  interface: "restart",
  vrid: "restart",
  version: "restart",
  family: "restart",
  primaryAddress: "restart",
  priority: "live",
  advertIntervalMs: "live",
  preempt: "live",
  preemptDelayMs: "live",
  acceptMode: "live",
  virtualAddresses: "live",
  unicastPeers: "live",
  authPassword: "live",
  checksumVariant: "live",
  addressListPolicy: "live",
  advertOnLowerPriority: "live",
  garp: "live",
  trackInterfaces: "live",
  trackScripts: "live",
  notify: "live",
};

export interface InstanceConfigDiff {
  /** True when the running instance can take the new config and keep its state (and VIPs): no flip on reload. */
  readonly keepsState: boolean;
  /** Every changed field, identity fields first. */
  readonly changed: readonly (keyof VrrpInstanceConfig)[];
  /** The changed fields that force a new instance. */
  readonly requiresRestart: readonly (keyof VrrpInstanceConfig)[];
}

function canonicalForComparison(config: VrrpInstanceConfig): Record<keyof VrrpInstanceConfig, unknown> {
  const canonicalList = (list: readonly string[]): string[] => list.map(canonicalAddress).sort();
  return {
    ...config,
    primaryAddress: canonicalAddress(config.primaryAddress),
    // order carries no meaning on the wire checks (the address list is compared as a set)
    virtualAddresses: config.virtualAddresses
      .map((v) => `${canonicalAddress(v.address)}/${v.prefixLength}`)
      .sort(),
    unicastPeers: canonicalList(config.unicastPeers),
    trackInterfaces: [...config.trackInterfaces].sort((a, b) => a.name.localeCompare(b.name)),
    trackScripts: [...config.trackScripts].sort((a, b) => a.name.localeCompare(b.name)),
  };
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

/**
 * Compares two configs of one instance for a reload (SIGHUP). Only identity changes (name, interface, VRID,
 * version, family, primary address) and a switch between multicast and unicast need a new instance; every
 * other change is applied live and keeps the state, so a reload never flips an unchanged or lightly changed group.
 */
export function diffInstanceConfig(
  previous: VrrpInstanceConfig,
  next: VrrpInstanceConfig,
): InstanceConfigDiff {
  const before = canonicalForComparison(previous);
  const after = canonicalForComparison(next);
  const changed = (Object.keys(FIELD_EFFECTS) as (keyof VrrpInstanceConfig)[]).filter(
    (field) => stableJson(before[field]) !== stableJson(after[field]),
  );
  const requiresRestart = changed.filter((field) => FIELD_EFFECTS[field] === "restart");
  if (
    changed.includes("unicastPeers") &&
    (previous.unicastPeers.length === 0) !== (next.unicastPeers.length === 0) &&
    !requiresRestart.includes("unicastPeers")
  ) {
    requiresRestart.push("unicastPeers"); // multicast ↔ unicast changes the sockets
  }
  return { keepsState: requiresRestart.length === 0, changed, requiresRestart };
}
