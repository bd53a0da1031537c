// vrrp_instance (with its vrrp_scripts, sync group and the global VRRP defaults) → the node-
// independent part of a VrrpGroup spec. Priorities, node selection and unicast peers depend on
// which nodes the configuration belongs to and are finished in import.ts.
import type { SourceLocation } from "./ast.js";
import type { InstanceValues, Named, ScriptValues } from "./catalogue.js";
import type { ScriptCommand, Tracked, VirtualAddress } from "./value-forms.js";
import type { VrrpGroupSpec } from "../crds/schema/vrrp-group.js";
import { type DiagnosticSink, formatLocation } from "./diagnostics.js";
import type { KeepalivedConfig } from "./read-config.js";
import type { Located } from "./read-block.js";
import { NameAllocator, dnsLabel } from "./names.js";
import { isIPv4Broadcast, isIPv4Network } from "./values.js";

export type GroupSpecCommon = Omit<VrrpGroupSpec, "priority" | "nodeSelector" | "unicast">;
type VirtualIP = VrrpGroupSpec["virtualIPs"][number];
type TrackedScript = NonNullable<NonNullable<VrrpGroupSpec["track"]>["scripts"]>[number];
type TrackedInterface = NonNullable<NonNullable<VrrpGroupSpec["track"]>["interfaces"]>[number];

/** keepalived's defaults where the configuration says nothing. */
export const KEEPALIVED_DEFAULT_PRIORITY = 100;
const KEEPALIVED_DEFAULT_VERSION = 2;
const KEEPALIVED_DEFAULT_ADVERT_MILLIS = 1000;
const KEEPALIVED_DEFAULT_SCRIPT_INTERVAL_MILLIS = 1000;

export interface ImportedGroup {
  instanceName: string;
  /** The VrrpGroup's name. */
  name: string;
  loc: SourceLocation;
  spec: GroupSpecCommon;
  priority: { value: number; loc: SourceLocation };
  state?: Located<"MASTER" | "BACKUP">;
  unicast?: {
    loc: SourceLocation;
    sourceAddress?: { text: string; loc: SourceLocation };
    peers: { text: string; loc: SourceLocation }[];
  };
  /** Where each spec field came from, for messages about contradictions between nodes. */
  fieldLocations: Partial<Record<keyof GroupSpecCommon, SourceLocation>>;
  /** The auth_pass statement, when the password must be put into a Secret. */
  passwordLocation?: SourceLocation;
  /** The password itself (first 8 bytes), for the standalone agent; never printed. */
  password?: string;
}

export interface GroupMappingOptions {
  /** Namespace of the Secrets that hold v2 passwords. */
  secretNamespace: string;
}

function commandOf(c: Located<ScriptCommand>, what: string, sink: DiagnosticSink): string[] {
  if (c.value.user !== undefined) {
    sink.warning(
      c.value.user.loc,
      `${what}: the user "${c.value.user.text}" is ignored: kubelvs runs commands in the agent's context`,
    );
  }
  return c.value.argv;
}

function virtualIP(entry: Located<VirtualAddress>, list: string, sink: DiagnosticSink): VirtualIP {
  const { address, device, label, otherOptions } = entry.value;
  const vip: VirtualIP = { address: address.text };
  if (address.prefixLength !== undefined) vip.prefixLength = address.prefixLength;
  if (device !== undefined) vip.device = device.text;
  if (label !== undefined) {
    if (address.family === 6)
      sink.warning(label.loc, `${list}: labels exist only for IPv4 addresses; "label" ignored`);
    else vip.label = label.text;
  }
  for (const option of otherOptions) {
    sink.warning(
      option.loc,
      `${list}: address option "${option.text}" has no kubelvs equivalent and is ignored`,
    );
  }
  if (address.family === 4 && address.prefixLength !== undefined) {
    if (isIPv4Broadcast(address.text, address.prefixLength)) {
      sink.warning(
        entry.loc,
        `${list}: ${address.text}/${address.prefixLength} is the broadcast address of its subnet; hosts on that subnet treat packets to it as broadcast, so clients there cannot reach a service on it (pick another address)`,
      );
    } else if (isIPv4Network(address.text, address.prefixLength)) {
      sink.warning(
        entry.loc,
        `${list}: ${address.text}/${address.prefixLength} is the network address of its subnet`,
      );
    }
  }
  return vip;
}

function trackedScript(
  reference: Located<Tracked>,
  script: Named<ScriptValues>,
  scriptNames: NameAllocatorByKey,
  sink: DiagnosticSink,
): TrackedScript | undefined {
  const v = script.values;
  if (v.script === undefined) {
    sink.error(script.name.loc, `vrrp_script ${script.name.text} has no "script" to run`);
    return undefined;
  }
  const tracked: TrackedScript = {
    name: scriptNames.get(script.name.text),
    command: commandOf(v.script, `vrrp_script ${script.name.text}`, sink),
  };
  tracked.intervalMillis = v.interval?.value ?? KEEPALIVED_DEFAULT_SCRIPT_INTERVAL_MILLIS;
  if (v.timeout !== undefined) tracked.timeoutMillis = v.timeout.value;
  if (v.rise !== undefined) tracked.rise = v.rise.value;
  if (v.fall !== undefined) tracked.fall = v.fall.value;
  const weight = reference.value.weight ?? v.weight?.value.weight;
  if (weight !== undefined && weight !== 0) tracked.weight = weight;
  const reverse =
    reference.value.reverse ?? (reference.value.weight === undefined ? v.weight?.value.reverse : undefined);
  if (reverse !== undefined) {
    sink.warning(
      reverse.loc,
      `track_script ${script.name.text}: "reverse" has no kubelvs equivalent and is ignored`,
    );
  }
  return tracked;
}

function trackedInterface(entry: Located<Tracked>, sink: DiagnosticSink): TrackedInterface {
  const tracked: TrackedInterface = { name: entry.value.name.text };
  if (entry.value.weight !== undefined && entry.value.weight !== 0) tracked.weight = entry.value.weight;
  if (entry.value.reverse !== undefined) {
    sink.warning(
      entry.value.reverse.loc,
      `track_interface ${tracked.name}: "reverse" has no kubelvs equivalent and is ignored`,
    );
  }
  return tracked;
}

/** One Kubernetes name per keepalived name, stable across instances of one import. */
class NameAllocatorByKey {
  private readonly names = new Map<string, string>();
  constructor(
    private readonly allocator: NameAllocator,
    private readonly fallback: string,
  ) {}
  get(key: string): string {
    let name = this.names.get(key);
    if (name === undefined) {
      name = this.allocator.allocate(dnsLabel(key, this.fallback));
      this.names.set(key, name);
    }
    return name;
  }
}

export function mapInstances(
  config: KeepalivedConfig,
  options: GroupMappingOptions,
  sink: DiagnosticSink,
): ImportedGroup[] {
  const groupNames = new NameAllocatorByKey(new NameAllocator(), "vrrp-group");
  const scriptNames = new NameAllocatorByKey(new NameAllocator(), "script");
  const syncGroupOf = new Map<string, { name: string; tracks: SyncTracking }>();
  for (const group of config.syncGroups) {
    const members = group.values.group?.value ?? [];
    if (members.length === 0) {
      sink.warning(
        group.name.loc,
        `vrrp_sync_group ${group.name.text} has no "group { ... }" members and is ignored`,
      );
      continue;
    }
    if (members.length === 1) {
      sink.warning(
        group.name.loc,
        `vrrp_sync_group ${group.name.text} has a single member; a sync group of one changes nothing`,
      );
    }
    for (const member of members) {
      const name = member.value.text;
      const previous = syncGroupOf.get(name);
      if (previous !== undefined) {
        sink.error(
          member.loc,
          `vrrp_instance ${name} is already in vrrp_sync_group ${previous.name}; an instance belongs to one sync group`,
        );
        continue;
      }
      if (!config.instances.some((i) => i.name.text === name)) {
        sink.warning(
          member.loc,
          `vrrp_sync_group ${group.name.text}: no vrrp_instance "${name}" is defined (ignored, as keepalived does)`,
        );
        continue;
      }
      syncGroupOf.set(name, {
        name: group.name.text,
        tracks: {
          interfaces: group.values.track_interface?.value ?? [],
          scripts: group.values.track_script?.value ?? [],
        },
      });
    }
  }
  const groups: ImportedGroup[] = [];
  for (const instance of config.instances) {
    const group = mapInstance(
      instance,
      config,
      options,
      syncGroupOf.get(instance.name.text),
      groupNames,
      scriptNames,
      sink,
    );
    if (group !== undefined) groups.push(group);
  }
  return groups;
}

interface SyncTracking {
  interfaces: Located<Tracked>[];
  scripts: Located<Tracked>[];
}

function mapInstance(
  instance: Named<InstanceValues>,
  config: KeepalivedConfig,
  options: GroupMappingOptions,
  syncGroup: { name: string; tracks: SyncTracking } | undefined,
  groupNames: NameAllocatorByKey,
  scriptNames: NameAllocatorByKey,
  sink: DiagnosticSink,
): ImportedGroup | undefined {
  const v = instance.values;
  const g = config.global;
  const title = `vrrp_instance ${instance.name.text}`;
  const errorsBefore = sink.errors.length;
  const at = instance.name.loc;
  // A keyword that is present but invalid was reported already; only its absence is reported here.
  const lines = instance.statement.block!.statements;
  const mentions = (keyword: string) => lines.some((s) => s.keyword.text === keyword);
  if (!mentions("virtual_router_id")) sink.error(at, `${title} has no virtual_router_id (1-255)`);
  if (!mentions("interface")) {
    sink.error(
      at,
      `${title} has no interface; a VrrpGroup names the interface VRRP runs on (spec.interface)`,
    );
  }
  const addresses = v.virtual_ipaddress?.value ?? [];
  const addressLines = lines
    .filter((s) => s.keyword.text === "virtual_ipaddress")
    .reduce((n, s) => n + (s.block?.statements.length ?? 0), 0);
  if (addressLines === 0) {
    sink.error(at, `${title} has no virtual_ipaddress; a VrrpGroup carries at least one address`);
  }
  const families = new Set(addresses.map((a) => a.value.address.family));
  if (families.size > 1) {
    sink.error(
      addresses.find((a) => a.value.address.family !== addresses[0]!.value.address.family)!.loc,
      `${title}: virtual_ipaddress mixes IPv4 and IPv6; one VRRP instance serves one family (put the others in virtual_ipaddress_excluded or a second instance)`,
    );
  }
  const family = addresses[0]?.value.address.family ?? 4;

  // Version: keepalived's default is VRRPv2 (global vrrp_version), and IPv6 always runs v3.
  let version = (v.version?.value ?? g.vrrp_version?.value ?? KEEPALIVED_DEFAULT_VERSION) as 2 | 3;
  if (family === 6 && version === 2) {
    if (v.version !== undefined) {
      sink.error(
        v.version.statement.args[0]!.loc,
        `${title}: VRRP version 2 is IPv4 only; IPv6 addresses need version 3`,
      );
    }
    version = 3;
  }
  const fieldLocations: ImportedGroup["fieldLocations"] = {};
  fieldLocations.version = v.version?.loc ?? g.vrrp_version?.loc ?? at;

  let advert = v.advert_int?.value ?? KEEPALIVED_DEFAULT_ADVERT_MILLIS;
  if (v.advert_int !== undefined) {
    const word = v.advert_int.statement.args[0]!;
    if (version === 2 && advert % 1000 !== 0) {
      sink.error(
        word.loc,
        `${title}: advert_int ${word.text} needs VRRP version 3 (version 2 carries whole seconds); add "version 3" or use whole seconds`,
      );
    } else if (version === 3 && advert > 40950) {
      sink.error(
        word.loc,
        `${title}: advert_int ${word.text} is too long for VRRP version 3 (at most 40.95 s)`,
      );
    } else if (version === 3 && advert % 10 !== 0) {
      const rounded = Math.max(10, Math.round(advert / 10) * 10);
      sink.warning(
        word.loc,
        `${title}: advert_int ${word.text} is rounded to ${rounded / 1000} s (VRRPv3 counts in centiseconds)`,
      );
      advert = rounded;
    }
  }
  fieldLocations.advertIntervalMillis = v.advert_int?.loc ?? at;

  const spec: GroupSpecCommon = {
    vrid: v.virtual_router_id?.value ?? 1,
    version,
    advertIntervalMillis: advert,
    interface: { name: v.interface?.value ?? "" },
    virtualIPs: addresses.map((a) => virtualIP(a, "virtual_ipaddress", sink)),
  };
  // `dev` naming the instance's own interface says nothing more than the default.
  for (const vip of spec.virtualIPs) if (vip.device === spec.interface.name) delete vip.device;
  fieldLocations.vrid = v.virtual_router_id?.loc ?? at;
  fieldLocations.interface = v.interface?.loc ?? at;
  fieldLocations.virtualIPs = v.virtual_ipaddress?.loc ?? at;
  if (v.interface !== undefined && !/^[^/\s:]{1,15}$/.test(v.interface.value)) {
    sink.error(
      v.interface.statement.args[0]!.loc,
      `${title}: "${v.interface.value}" is not an interface name (1-15 characters, no "/", ":" or spaces)`,
    );
  }
  const excluded = v.virtual_ipaddress_excluded?.value ?? [];
  if (excluded.length > 0) {
    spec.excludedVirtualIPs = excluded.map((a) => virtualIP(a, "virtual_ipaddress_excluded", sink));
    fieldLocations.excludedVirtualIPs = v.virtual_ipaddress_excluded!.loc;
  }

  // Preemption. keepalived ignores nopreempt (and preempt_delay) when the initial state is MASTER.
  const state = v.state;
  const priority = v.priority?.value ?? KEEPALIVED_DEFAULT_PRIORITY;
  if (v.nopreempt !== undefined) {
    if (state?.value === "MASTER") {
      sink.warning(
        v.nopreempt.loc,
        `${title}: nopreempt does not work with "state MASTER" (keepalived clears it too); the group preempts`,
      );
    } else if (priority === 255) {
      sink.warning(
        v.nopreempt.loc,
        `${title}: the address owner (priority 255) always preempts; nopreempt is ignored (as keepalived does)`,
      );
    } else if (v.preempt !== undefined && v.preempt.loc.line > v.nopreempt.loc.line) {
      // a later `preempt` wins
    } else {
      spec.preempt = false;
      fieldLocations.preempt = v.nopreempt.loc;
    }
  }
  if (v.preempt_delay !== undefined && v.preempt_delay.value > 0) {
    if (spec.preempt === false) {
      sink.warning(
        v.preempt_delay.loc,
        `${title}: preempt_delay has no effect with nopreempt and is ignored`,
      );
    } else {
      spec.preemptDelayMillis = v.preempt_delay.value;
      fieldLocations.preemptDelayMillis = v.preempt_delay.loc;
      if (state?.value === "MASTER") {
        sink.warning(
          v.preempt_delay.loc,
          `${title}: keepalived ignores preempt_delay with "state MASTER"; kubelvs applies it to every node`,
        );
      }
    }
  }

  // Accept mode: keepalived accepts packets to the VIPs unless no_accept or strict mode.
  const strict = v.strict_mode?.value ?? g.vrrp_strict !== undefined;
  if (v.strict_mode?.value === true || (v.strict_mode === undefined && g.vrrp_strict !== undefined)) {
    sink.warning(
      (v.strict_mode ?? g.vrrp_strict)!.loc,
      `${title}: kubelvs has no strict mode; its effect on accept mode is kept (acceptMode false), its other restrictions are not enforced`,
    );
  }
  const accept = v.no_accept !== undefined ? false : v.accept !== undefined ? true : !strict;
  if (accept) {
    spec.acceptMode = true;
    fieldLocations.acceptMode = (v.accept ?? instance.statement.keyword).loc;
  }

  // Tracking: the instance's own, plus its sync group's (keepalived applies those to every member).
  const interfaces = [...(v.track_interface?.value ?? []), ...(syncGroup?.tracks.interfaces ?? [])];
  const scriptRefs = [...(v.track_script?.value ?? []), ...(syncGroup?.tracks.scripts ?? [])];
  const track: NonNullable<GroupSpecCommon["track"]> = {};
  const trackedInterfaces = new Map<string, TrackedInterface>();
  for (const entry of interfaces) {
    if (!trackedInterfaces.has(entry.value.name.text))
      trackedInterfaces.set(entry.value.name.text, trackedInterface(entry, sink));
  }
  if (trackedInterfaces.size > 0) track.interfaces = [...trackedInterfaces.values()];
  const scripts = new Map<string, TrackedScript>();
  for (const reference of scriptRefs) {
    const name = reference.value.name.text;
    const script = config.scripts.get(name);
    if (script === undefined) {
      sink.warning(
        reference.loc,
        `${title}: track_script "${name}" refers to no vrrp_script (keepalived skips it too); the group tracks nothing for it — define vrrp_script ${name} { script "..." } or remove the reference`,
      );
      continue;
    }
    if (scripts.has(name)) continue;
    const tracked = trackedScript(reference, script, scriptNames, sink);
    if (tracked !== undefined) scripts.set(name, tracked);
  }
  if (scripts.size > 0) track.scripts = [...scripts.values()];
  if (track.interfaces !== undefined || track.scripts !== undefined) {
    spec.track = track;
    fieldLocations.track = (v.track_script ?? v.track_interface)?.loc ?? at;
    if (
      priority === 255 &&
      [...scripts.values(), ...trackedInterfaces.values()].some((t) => t.weight !== undefined)
    ) {
      sink.warning(
        at,
        `${title}: the address owner (priority 255) ignores tracking weights in keepalived; kubelvs applies them`,
      );
    }
  }

  // Gratuitous ARP: instance settings, else the global vrrp_garp_* defaults.
  const garp: NonNullable<GroupSpecCommon["gratuitousARP"]> = {};
  const minGarp = g.vrrp_min_garp?.value === true;
  const repeat = v.garp_master_repeat ?? g.vrrp_garp_master_repeat;
  const delay = v.garp_master_delay ?? g.vrrp_garp_master_delay;
  if (repeat !== undefined) garp.masterRepeat = repeat.value;
  else if (minGarp) garp.masterRepeat = 1;
  if (delay !== undefined) garp.masterDelayMillis = delay.value;
  else if (minGarp) garp.masterDelayMillis = 0;
  const refresh = v.garp_master_refresh ?? g.vrrp_garp_master_refresh;
  if (refresh !== undefined) garp.masterRefreshMillis = refresh.value;
  const refreshRepeat = v.garp_master_refresh_repeat ?? g.vrrp_garp_master_refresh_repeat;
  if (refreshRepeat !== undefined) garp.masterRefreshRepeat = refreshRepeat.value;
  const interval = family === 6 ? g.vrrp_gna_interval : g.vrrp_garp_interval;
  if (interval !== undefined) garp.intervalMillis = interval.value;
  if (Object.keys(garp).length > 0) {
    spec.gratuitousARP = garp;
    fieldLocations.gratuitousARP = (repeat ??
      delay ??
      refresh ??
      refreshRepeat ??
      interval ??
      g.vrrp_min_garp)!.loc;
  }

  if (syncGroup !== undefined) {
    spec.syncGroup = dnsLabel(syncGroup.name, "sync-group");
    fieldLocations.syncGroup = at;
  }

  // Notify commands. The catch-all `notify` fills the transitions that have no script of their own.
  const notify: NonNullable<GroupSpecCommon["notify"]> = {};
  const transitions = [
    ["master", v.notify_master],
    ["backup", v.notify_backup],
    ["fault", v.notify_fault],
    ["stop", v.notify_stop],
  ] as const;
  for (const [transition, script] of transitions) {
    if (script !== undefined) notify[transition] = commandOf(script, `${title} notify_${transition}`, sink);
  }
  if (v.notify !== undefined) {
    const argv = commandOf(v.notify, `${title} notify`, sink);
    for (const [transition] of transitions) notify[transition] ??= argv;
    sink.warning(
      v.notify.loc,
      `${title}: "notify" runs on every transition; keepalived appends INSTANCE NAME STATE PRIORITY, kubelvs appends GROUP STATE PRIORITY — adjust the script's argument positions`,
    );
  }
  if (Object.keys(notify).length > 0) {
    spec.notify = notify;
    fieldLocations.notify = (v.notify_master ??
      v.notify_backup ??
      v.notify_fault ??
      v.notify_stop ??
      v.notify)!.loc;
  }

  const checksumAsV2 = v.v3_checksum_as_v2 ?? g.v3_checksum_as_v2;
  if (checksumAsV2?.value === true) {
    if (version === 3 && family === 4) {
      spec.checksum = "WithoutPseudoHeader";
      fieldLocations.checksum = checksumAsV2.loc;
    } else {
      sink.warning(
        checksumAsV2.loc,
        `${title}: v3_checksum_as_v2 applies to VRRPv3 over IPv4 only and is ignored here`,
      );
    }
  }

  const sync = g.lvs_sync_daemon;
  if (sync !== undefined) {
    const target = sync.value.instance?.text;
    const applies = target === instance.name.text || (target === undefined && config.instances.length === 1);
    if (applies) {
      const cs: NonNullable<GroupSpecCommon["connectionSync"]> = {
        enabled: true,
        syncID: sync.value.syncId ?? spec.vrid,
      };
      if (sync.value.interface.text !== spec.interface.name) cs.interface = sync.value.interface.text;
      if (sync.value.maxlen !== undefined) cs.maxPacketLength = sync.value.maxlen;
      spec.connectionSync = cs;
      fieldLocations.connectionSync = sync.loc;
      for (const option of sync.value.otherOptions) {
        sink.warning(
          option.loc,
          `lvs_sync_daemon: "${option.text}" has no kubelvs equivalent and is ignored`,
        );
      }
    }
  }

  // Authentication (VRRPv2 only). The password itself goes into a Secret.
  let passwordLocation: SourceLocation | undefined;
  let password: string | undefined;
  const auth = v.authentication?.value;
  if (auth !== undefined) {
    const authAt = v.authentication!.loc;
    if (auth.auth_type?.value === "AH") {
      sink.error(
        auth.auth_type.statement.args[0]!.loc,
        `${title}: auth_type AH (IPsec) is not supported by kubelvs; use PASS or remove the authentication block`,
      );
    } else if (version === 3) {
      sink.warning(
        authAt,
        `${title}: VRRPv3 has no authentication (RFC 5798); keepalived ignores the block for version 3 and so does the import`,
      );
    } else if (auth.auth_pass === undefined) {
      sink.error(authAt, `${title}: authentication needs auth_pass`);
    } else {
      const name = groupNames.get(instance.name.text);
      spec.authentication = {
        type: "Password",
        passwordSecretRef: {
          name: `${name}-vrrp-password`,
          namespace: options.secretNamespace,
          key: "password",
        },
      };
      fieldLocations.authentication = authAt;
      passwordLocation = auth.auth_pass.loc;
      password = Buffer.from(auth.auth_pass.value, "utf8").subarray(0, 8).toString("utf8");
      if (Buffer.byteLength(auth.auth_pass.value) > 8) {
        sink.warning(
          auth.auth_pass.loc,
          `${title}: only the first 8 bytes of auth_pass are used (as keepalived does)`,
        );
      }
      sink.warning(
        auth.auth_pass.loc,
        `${title}: the VRRP password moves to a Secret: kubectl -n ${options.secretNamespace} create secret generic ${name}-vrrp-password --from-literal=password='<auth_pass of this line>'`,
      );
    }
  }

  if (sink.errors.length > errorsBefore) return undefined;

  const group: ImportedGroup = {
    instanceName: instance.name.text,
    name: groupNames.get(instance.name.text),
    loc: at,
    spec,
    priority: { value: priority, loc: v.priority?.loc ?? at },
    fieldLocations,
  };
  if (state !== undefined) group.state = state;
  if (passwordLocation !== undefined) group.passwordLocation = passwordLocation;
  if (password !== undefined) group.password = password;
  const peers = v.unicast_peer?.value ?? [];
  if (peers.length > 0 || v.unicast_src_ip !== undefined) {
    group.unicast = {
      loc: (v.unicast_peer ?? v.unicast_src_ip)!.loc,
      peers: peers.map((p) => {
        for (const option of p.value.otherOptions) {
          sink.warning(option.loc, `unicast_peer: "${option.text}" has no kubelvs equivalent and is ignored`);
        }
        return { text: p.value.address.text, loc: p.loc };
      }),
    };
    if (v.unicast_src_ip !== undefined) {
      group.unicast.sourceAddress = { text: v.unicast_src_ip.value.text, loc: v.unicast_src_ip.loc };
    }
    if (peers.length === 0) {
      sink.warning(
        v.unicast_src_ip!.loc,
        `${title}: unicast_src_ip without unicast_peer; keepalived uses multicast, and so does the group`,
      );
      delete group.unicast;
    }
  }
  return group;
}

export function describeLocation(loc: SourceLocation): string {
  return formatLocation(loc);
}
