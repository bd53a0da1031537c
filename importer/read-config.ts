// From the statement tree to keepalived's configuration as the importer uses it: the catalogue
// reads every block (reporting unknown and unsupported keywords), then the cross-references
// keepalived resolves at start-up are checked (duplicate names, sync group members, VRIDs).
import type { ConfigTree, SourceLocation } from "./ast.js";
import {
  type GlobalValues,
  type InstanceValues,
  type Named,
  type ScriptValues,
  type SyncGroupValues,
  TOP_LEVEL,
  type VirtualServerBlock,
  type GroupMember,
} from "./catalogue.js";
import { type DiagnosticSink, formatLocation } from "./diagnostics.js";
import { type Located, readBlock } from "./read-block.js";
import type { Word } from "./ast.js";

export interface VirtualServerGroupDefinition {
  name: Word;
  members: Located<GroupMember>[];
}

export interface KeepalivedConfig {
  tree: ConfigTree;
  /** All global_defs blocks folded into one; a later value wins, as in keepalived. */
  global: GlobalValues;
  scripts: Map<string, Named<ScriptValues>>;
  instances: Named<InstanceValues>[];
  syncGroups: Named<SyncGroupValues>[];
  virtualServerGroups: Map<string, VirtualServerGroupDefinition>;
  virtualServers: Located<VirtualServerBlock>[];
}

function byName<V>(
  items: Located<Named<V>>[] | undefined,
  what: string,
  sink: DiagnosticSink,
): Map<string, Named<V>> {
  const map = new Map<string, Named<V>>();
  for (const { value } of items ?? []) {
    const name = value.name.text;
    const first = map.get(name);
    if (first !== undefined) {
      sink.error(
        value.name.loc,
        `${what} "${name}" is defined twice (first at ${formatLocation(first.name.loc)}); names must be unique`,
      );
      continue;
    }
    map.set(name, value);
  }
  return map;
}

export function readConfig(tree: ConfigTree, sink: DiagnosticSink): KeepalivedConfig {
  const top = readBlock(TOP_LEVEL, tree.statements, sink);
  const global: GlobalValues = {};
  for (const block of top.global_defs ?? []) Object.assign(global, block.value);
  const scripts = byName(top.vrrp_script, "vrrp_script", sink);
  const instances = [...byName(top.vrrp_instance, "vrrp_instance", sink).values()];
  const syncGroups = [...byName(top.vrrp_sync_group, "vrrp_sync_group", sink).values()];
  const virtualServerGroups = new Map<string, VirtualServerGroupDefinition>();
  for (const { value } of top.virtual_server_group ?? []) {
    const first = virtualServerGroups.get(value.name.text);
    if (first !== undefined) {
      sink.error(
        value.name.loc,
        `virtual_server_group "${value.name.text}" is defined twice (first at ${formatLocation(first.name.loc)})`,
      );
      continue;
    }
    virtualServerGroups.set(value.name.text, value);
  }
  checkDuplicateRouterIds(instances, sink);
  return {
    tree,
    global,
    scripts,
    instances,
    syncGroups,
    virtualServerGroups,
    virtualServers: top.virtual_server ?? [],
  };
}

/** keepalived refuses two instances with one VRID on one interface and address family. */
function checkDuplicateRouterIds(instances: Named<InstanceValues>[], sink: DiagnosticSink): void {
  const seen = new Map<string, { name: string; loc: SourceLocation }>();
  for (const instance of instances) {
    const vrid = instance.values.virtual_router_id;
    const ifname = instance.values.interface?.value ?? "";
    const family = instance.values.virtual_ipaddress?.value[0]?.value.address.family ?? 4;
    if (vrid === undefined) continue;
    const key = `${ifname}/${family}/${vrid.value}`;
    const first = seen.get(key);
    if (first !== undefined) {
      sink.error(
        vrid.statement.args[0]!.loc,
        `vrrp_instance ${instance.name.text}: virtual_router_id ${vrid.value} on ${ifname || "the same interface"} is already used by vrrp_instance ${first.name} (${formatLocation(first.loc)}); VRRP tells routers apart by VRID, so each instance on one network needs its own`,
      );
      continue;
    }
    seen.set(key, { name: instance.name.text, loc: vrid.loc });
  }
}
