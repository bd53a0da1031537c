// Runs the renderer over the informer caches and publishes the result: the desired NodeState spec
// and content hash of every node, and each VrrpGroup's and VirtualService's verdict. It writes
// nothing itself; it tells the per-kind controllers which of their keys the new result changed.
// The caches hold every group and service of the cluster; only the instance's members are rendered
// (instance-membership.ts), and only they have a verdict here.
import type { NodeStateSpec } from "../crds/schema/node-state.js";
import { canonicalJSON } from "../core/render/content-hash.js";
import { render, type Problem, type RealServerNode, type RenderOutput } from "../core/render/render.js";
import {
  groupInput,
  namespaceInfo,
  nodeInfo,
  referencedSecrets,
  serviceInput,
  type CachedNamespace,
  type CachedNode,
  type VirtualServiceObject,
  type VrrpGroupObject,
} from "./cluster-objects.js";
import { instanceMembers } from "./instance-membership.js";
import { instanceOf } from "./instance.js";
import type { Informer } from "./kube/informer.js";
import { NodeStateHasher } from "./node-state-hash.js";
import type { SecretWatcher } from "./secret-watcher.js";

export interface DesiredNodeState {
  spec: NodeStateSpec;
  hash: string;
}

export interface RenderSnapshot {
  desired: Map<string, DesiredNodeState>;
  groupNodes: Map<string, string[]>;
  /** "namespace/name" → carrying group, for rendered services. */
  serviceGroups: Map<string, string>;
  /** "namespace/name" → its DR/TUN real servers on cluster nodes (prepared, or left out and why). */
  realServerNodes: Map<string, RealServerNode[]>;
  /** Rendered services per carrying group. */
  servicesByGroup: Map<string, string[]>;
  /** Keyed "VrrpGroup/name" or "VirtualService/namespace/name". */
  problems: Map<string, Problem>;
  /** The status keys of the groups and services this instance serves: the only ones it writes. */
  members: Set<string>;
  /** metadata.generation of each group and service the verdicts were computed from (same keys). */
  generations: Map<string, number | undefined>;
  /** What each group's and service's status depends on in this result (same keys). */
  fingerprints: Map<string, string>;
  problemCounts: Map<string, number>;
}

export interface RenderSources {
  /** The instance whose groups and services are rendered. */
  instance: string;
  nodes: Informer<CachedNode>;
  namespaces: Informer<CachedNamespace>;
  groups: Informer<VrrpGroupObject>;
  services: Informer<VirtualServiceObject>;
  secrets: SecretWatcher;
}

export function groupKey(name: string): string {
  return `VrrpGroup/${name}`;
}

export function serviceKey(namespace: string, name: string): string {
  return `VirtualService/${namespace}/${name}`;
}

const SECRET_SYNC_TIMEOUT_MS = 5000;

export class RenderController {
  private current: RenderSnapshot | undefined;
  private readonly hasher = new NodeStateHasher();

  constructor(private readonly sources: RenderSources) {}

  get snapshot(): RenderSnapshot | undefined {
    return this.current;
  }

  /** True when the latest render counts this status key among the instance's groups and services. */
  serves(statusKey: string): boolean {
    return this.current?.members.has(statusKey) ?? false;
  }

  /**
   * Renders and publishes a new snapshot; returns the status keys ("VrrpGroup/…",
   * "VirtualService/…") whose verdict, carrying group, selected nodes or generation changed.
   */
  async reconcile(): Promise<string[]> {
    const { instance, nodes, namespaces, groups, services, secrets } = this.sources;
    const allGroups = groups.list();
    secrets.want(referencedSecrets(allGroups.filter((g) => instanceOf(g.metadata) === instance)));
    // A Secret not listed yet would read as missing: wait for it rather than report SecretMissing.
    await secrets.waitForSync(SECRET_SYNC_TIMEOUT_MS);
    const { groups: groupObjects, services: serviceObjects } = instanceMembers(
      instance,
      allGroups,
      services.list(),
    );
    const output = render({
      nodes: nodes.list().map(nodeInfo),
      namespaces: namespaces.list().map(namespaceInfo),
      groups: groupObjects.map(groupInput),
      services: serviceObjects.map(serviceInput),
      secretValue: (ref) => secrets.value(ref),
    });
    const next = snapshotOf(output, groupObjects, serviceObjects, this.hasher);
    const previous = this.current;
    this.current = next;
    const changed: string[] = [];
    for (const [key, fingerprint] of next.fingerprints)
      if (previous?.fingerprints.get(key) !== fingerprint) changed.push(key);
    return changed;
  }
}

function snapshotOf(
  output: RenderOutput,
  groups: readonly VrrpGroupObject[],
  services: readonly VirtualServiceObject[],
  hasher: NodeStateHasher,
): RenderSnapshot {
  const desired = new Map<string, DesiredNodeState>();
  for (const [node, spec] of output.nodeStates) desired.set(node, { spec, hash: hasher.hash(spec) });

  const problems = new Map<string, Problem>();
  const problemCounts = new Map<string, number>();
  for (const p of output.problems) {
    const key = p.kind === "VrrpGroup" ? groupKey(p.name) : serviceKey(p.namespace ?? "", p.name);
    problems.set(key, p);
    problemCounts.set(p.reason, (problemCounts.get(p.reason) ?? 0) + 1);
  }
  const servicesByGroup = new Map<string, string[]>();
  for (const [service, group] of output.serviceGroups) {
    const list = servicesByGroup.get(group) ?? [];
    list.push(service);
    servicesByGroup.set(group, list);
  }

  const generations = new Map<string, number | undefined>();
  const fingerprints = new Map<string, string>();
  for (const g of groups) {
    const key = groupKey(g.metadata.name);
    generations.set(key, g.metadata.generation);
    fingerprints.set(
      key,
      canonicalJSON([g.metadata.generation, problems.get(key), output.groupNodes.get(g.metadata.name)]),
    );
  }
  for (const s of services) {
    const id = `${s.metadata.namespace ?? ""}/${s.metadata.name}`;
    const key = serviceKey(s.metadata.namespace ?? "", s.metadata.name);
    generations.set(key, s.metadata.generation);
    fingerprints.set(
      key,
      canonicalJSON([
        s.metadata.generation,
        problems.get(key),
        output.serviceGroups.get(id),
        output.realServerNodes.get(id),
      ]),
    );
  }
  return {
    desired,
    groupNodes: output.groupNodes,
    serviceGroups: output.serviceGroups,
    realServerNodes: output.realServerNodes,
    servicesByGroup,
    problems,
    members: new Set(fingerprints.keys()),
    generations,
    fingerprints,
    problemCounts,
  };
}
