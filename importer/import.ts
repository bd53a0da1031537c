// The importer's entry point: keepalived.conf files (one, or one per node) → VrrpGroup and
// VirtualService objects plus located diagnostics. Pure apart from reading through the given
// file system; printing and exit codes are the CLI's business.
import { API_VERSION } from "../crds/definitions.js";
import type { VirtualServiceSpec } from "../crds/schema/virtual-service.js";
import type { VrrpGroupSpec } from "../crds/schema/vrrp-group.js";
import { ConfigSyntaxError, type Diagnostic, DiagnosticSink, formatDiagnostic } from "./diagnostics.js";
import type { ConfigFileSystem } from "./filesystem.js";
import { mapVirtualServers } from "./map-lvs.js";
import { mapInstances } from "./map-vrrp.js";
import { type MergedGroup, type MergedService, type NodeImport, mergeNodes } from "./merge.js";
import { parseConfig } from "./parser.js";
import { readConfig } from "./read-config.js";

export interface ConfigSource {
  /** Node name (--node NAME=FILE); omitted for a single configuration. */
  node?: string;
  file: string;
}

export interface ImportOptions {
  fs: ConfigFileSystem;
  /** Namespace of the VirtualServices. */
  namespace: string;
  /** Namespace of the Secrets holding VRRPv2 passwords (default: namespace). */
  secretNamespace?: string;
  /** keepalived config id for `@ID` lines of a single configuration (nodes use their name). */
  configId?: string;
  env?: Record<string, string | undefined>;
}

export interface KubernetesObject<Spec> {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec: Spec;
}

export interface ImportResult {
  /** VrrpGroups first, then VirtualServices; empty when there are errors. */
  objects: KubernetesObject<VrrpGroupSpec | VirtualServiceSpec>[];
  diagnostics: Diagnostic[];
  ok: boolean;
  /**
   * VRRPv2 passwords by Secret ("namespace/name"), for a caller that runs the configuration itself
   * (the standalone agent). The CLI never prints them.
   */
  secrets: Map<string, string>;
}

export const ANNOTATION_SOURCE = "kubelvs.io/imported-from";
export const ANNOTATION_ROUTER_ID = "kubelvs.io/keepalived-router-id";

const GROUP_FIELD_ORDER: (keyof VrrpGroupSpec)[] = [
  "vrid",
  "version",
  "advertIntervalMillis",
  "interface",
  "virtualIPs",
  "excludedVirtualIPs",
  "nodeSelector",
  "priority",
  "preempt",
  "preemptDelayMillis",
  "acceptMode",
  "unicast",
  "authentication",
  "track",
  "gratuitousARP",
  "syncGroup",
  "notify",
  "checksum",
  "connectionSync",
];

const SERVICE_FIELD_ORDER: (keyof VirtualServiceSpec)[] = [
  "virtualIP",
  "port",
  "protocol",
  "firewallMark",
  "addressFamily",
  "vrrpGroup",
  "scheduler",
  "schedulerFlags",
  "forwarding",
  "persistence",
  "onePacketScheduling",
  "initialState",
  "failureAction",
  "healthCheck",
  "sorryServer",
  "quorum",
  "realServers",
];

/** The same object with keys in a readable order (YAML output follows insertion order). */
function ordered<T extends object>(value: T, order: (keyof T)[]): T {
  const out = {} as T;
  for (const key of order) if (value[key] !== undefined) out[key] = value[key];
  for (const key of Object.keys(value) as (keyof T)[])
    if (!(key in out) && value[key] !== undefined) out[key] = value[key];
  return out;
}

function readNode(
  source: ConfigSource,
  options: ImportOptions,
  sink: DiagnosticSink,
  fileOrder: string[],
): NodeImport | undefined {
  const configId = source.node ?? options.configId;
  let tree;
  try {
    tree = parseConfig(source.file, { fs: options.fs, sink, configId, env: options.env });
  } catch (e) {
    if (e instanceof ConfigSyntaxError) {
      fileOrder.push(source.file);
      sink.diagnostics.push(e.diagnostic);
      return undefined;
    }
    throw e;
  }
  fileOrder.push(...tree.files);
  const config = readConfig(tree, sink);
  const groups = mapInstances(
    config,
    { secretNamespace: options.secretNamespace ?? options.namespace },
    sink,
  );
  const services = mapVirtualServers(config, sink);
  const routerId = (config.global.router_id ?? config.global.lvs_id)?.value;
  const node: NodeImport = { file: source.file, groups, services };
  if (source.node !== undefined) node.node = source.node;
  if (routerId !== undefined) node.routerId = routerId;
  return node;
}

/** Puts each VirtualService on the VrrpGroup whose addresses include its VIP. */
function attachServices(groups: MergedGroup[], services: MergedService[], sink: DiagnosticSink): void {
  for (const { service } of services) {
    const spec = service.spec;
    if (spec.virtualIP !== undefined) {
      const owner = groups.find((g) =>
        [...g.spec.virtualIPs, ...(g.spec.excludedVirtualIPs ?? [])].some(
          (v) => v.address === spec.virtualIP,
        ),
      );
      if (owner !== undefined) spec.vrrpGroup = owner.name;
      else {
        sink.warning(
          service.loc,
          `${service.title}: no vrrp_instance carries ${spec.virtualIP} (it is in no virtual_ipaddress), so the VirtualService names no vrrpGroup and kubelvs will not serve it until a VrrpGroup carries that address: add ${spec.virtualIP} to a group's spec.virtualIPs (or to a virtual_ipaddress block before importing)`,
        );
      }
      continue;
    }
    const family = spec.addressFamily ?? "IPv4";
    const candidates = groups.filter(
      (g) => (g.spec.virtualIPs[0]?.address.includes(":") ? "IPv6" : "IPv4") === family,
    );
    if (candidates.length === 1) {
      spec.vrrpGroup = candidates[0]!.name;
      sink.warning(
        service.loc,
        `${service.title}: a firewall-mark service has no VIP of its own; it is put on the only ${family} group, ${candidates[0]!.name} (spec.vrrpGroup)`,
      );
    } else {
      sink.error(
        service.loc,
        `${service.title}: a firewall-mark VirtualService needs a vrrpGroup, and ${candidates.length === 0 ? `no ${family} vrrp_instance was imported` : `${candidates.length} ${family} groups could carry it (${candidates.map((c) => c.name).join(", ")})`}; import it in a configuration whose only instance of that family is the one carrying the addresses the firewall marks select`,
      );
    }
  }
}

/** Messages in the order of the files and lines they point at (files in the order they were read). */
function sorted(diagnostics: Diagnostic[], fileOrder: string[]): Diagnostic[] {
  const rank = (file: string) => {
    const i = fileOrder.indexOf(file);
    return i < 0 ? fileOrder.length : i;
  };
  return (
    diagnostics
      .map((d, i) => ({ d, i }))
      .sort(
        (a, b) =>
          rank(a.d.loc.file) - rank(b.d.loc.file) ||
          a.d.loc.line - b.d.loc.line ||
          a.d.loc.column - b.d.loc.column ||
          a.i - b.i,
      )
      .map(({ d }) => d)
      // Two nodes sharing a file (includes) would report the same thing twice.
      .filter((d, i, all) => i === 0 || formatDiagnostic(d) !== formatDiagnostic(all[i - 1]!))
  );
}

/** The passwords of v2 groups by Secret; two nodes with different passwords for one group is an error. */
function passwords(nodes: NodeImport[], sink: DiagnosticSink): Map<string, string> {
  const out = new Map<string, string>();
  for (const node of nodes) {
    for (const g of node.groups) {
      const ref = g.spec.authentication?.passwordSecretRef;
      if (ref === undefined || g.password === undefined) continue;
      const key = `${ref.namespace}/${ref.name}`;
      const known = out.get(key);
      if (known !== undefined && known !== g.password && g.passwordLocation) {
        sink.error(
          g.passwordLocation,
          `vrrp_instance ${g.instanceName}: auth_pass differs from another node's (VRRP needs the same password on every router)`,
        );
      }
      out.set(key, g.password);
    }
  }
  return out;
}

export function importKeepalived(sources: ConfigSource[], options: ImportOptions): ImportResult {
  const sink = new DiagnosticSink();
  const nodes: NodeImport[] = [];
  const fileOrder: string[] = [];
  for (const source of sources) {
    const node = readNode(source, options, sink, fileOrder);
    if (node !== undefined) nodes.push(node);
  }
  const fail = (): ImportResult => ({
    objects: [],
    diagnostics: sorted(sink.diagnostics, fileOrder),
    ok: false,
    secrets: new Map(),
  });
  if (sink.hasErrors()) return fail();
  const { groups, services } = mergeNodes(nodes, sink);
  attachServices(groups, services, sink);
  const secrets = passwords(nodes, sink);
  if (sink.hasErrors()) return fail();

  const objects: ImportResult["objects"] = [];
  for (const group of groups) {
    const annotations: Record<string, string> = { [ANNOTATION_SOURCE]: group.sources.join(", ") };
    if (group.routerIds.length > 0) annotations[ANNOTATION_ROUTER_ID] = group.routerIds.join(", ");
    objects.push({
      apiVersion: API_VERSION,
      kind: "VrrpGroup",
      metadata: { name: group.name, annotations },
      spec: ordered(group.spec, GROUP_FIELD_ORDER),
    });
  }
  for (const { name, service, sources: where } of services) {
    objects.push({
      apiVersion: API_VERSION,
      kind: "VirtualService",
      metadata: {
        name,
        namespace: options.namespace,
        annotations: { [ANNOTATION_SOURCE]: where.join(", ") },
      },
      spec: ordered(service.spec, SERVICE_FIELD_ORDER),
    });
  }
  return {
    objects,
    diagnostics: sorted(sink.diagnostics, fileOrder),
    ok: true,
    secrets,
  };
}
