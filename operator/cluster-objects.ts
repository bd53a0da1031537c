// The objects the operator caches, trimmed to what it reads, and how they become the renderer's
// input. Trimming matters at scale: a real Node object carries kilobytes of images and conditions,
// a NodeState the whole rendered spec; the operator keeps neither.
import type { NodeStateStatus } from "../crds/schema/node-state.js";
import type { VirtualServiceSpec, VirtualServiceStatus } from "../crds/schema/virtual-service.js";
import type { VrrpGroupSpec, VrrpGroupStatus } from "../crds/schema/vrrp-group.js";
import type { GroupInput, NamespaceInfo, NodeInfo, SecretKey, ServiceInput } from "../core/render/render.js";
import type { KubeObject, ObjectMeta } from "./kube/resources.js";

export const CONTENT_HASH_ANNOTATION = "kubelvs.io/content-hash";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "kubelvs-operator";

export interface CachedNode extends KubeObject {
  internalIPs: string[];
  /** Present when the node has any: DR/TUN real servers are matched against these too. */
  externalIPs?: string[];
}

export type CachedNamespace = KubeObject;

export interface CachedSecret extends KubeObject {
  data: Record<string, string>;
}

export interface VrrpGroupObject extends KubeObject {
  spec: VrrpGroupSpec;
  status?: VrrpGroupStatus;
}

export interface VirtualServiceObject extends KubeObject {
  spec: VirtualServiceSpec;
  status?: VirtualServiceStatus;
}

/** A NodeState without its spec: the content hash annotation says what the spec is. */
export interface CachedNodeState extends KubeObject {
  status?: NodeStateStatus;
}

function trimMeta(meta: ObjectMeta): ObjectMeta {
  return {
    name: meta.name,
    ...(meta.namespace === undefined ? {} : { namespace: meta.namespace }),
    ...(meta.uid === undefined ? {} : { uid: meta.uid }),
    ...(meta.resourceVersion === undefined ? {} : { resourceVersion: meta.resourceVersion }),
    ...(meta.generation === undefined ? {} : { generation: meta.generation }),
    ...(meta.creationTimestamp === undefined ? {} : { creationTimestamp: meta.creationTimestamp }),
    ...(meta.deletionTimestamp === undefined ? {} : { deletionTimestamp: meta.deletionTimestamp }),
    ...(meta.labels === undefined ? {} : { labels: meta.labels }),
    ...(meta.annotations === undefined ? {} : { annotations: meta.annotations }),
  };
}

export function trimNode(object: KubeObject): CachedNode {
  const addresses = (object as { status?: { addresses?: { type?: string; address?: string }[] } }).status
    ?.addresses;
  const { annotations: _a, ...metadata } = trimMeta(object.metadata);
  const ofType = (type: string) =>
    (addresses ?? []).flatMap((a) => (a.type === type && a.address ? [a.address] : []));
  const externalIPs = ofType("ExternalIP");
  return {
    metadata,
    internalIPs: ofType("InternalIP"),
    ...(externalIPs.length === 0 ? {} : { externalIPs }),
  };
}

export function trimNamespace(object: KubeObject): CachedNamespace {
  const { annotations: _a, ...metadata } = trimMeta(object.metadata);
  return { metadata };
}

export function trimSecret(object: KubeObject): CachedSecret {
  return {
    metadata: trimMeta(object.metadata),
    data: (object as { data?: Record<string, string> }).data ?? {},
  };
}

export function trimVrrpGroup(object: KubeObject): VrrpGroupObject {
  const o = object as VrrpGroupObject;
  return {
    metadata: trimMeta(o.metadata),
    spec: o.spec,
    ...(o.status === undefined ? {} : { status: o.status }),
  };
}

export function trimVirtualService(object: KubeObject): VirtualServiceObject {
  const o = object as VirtualServiceObject;
  return {
    metadata: trimMeta(o.metadata),
    spec: o.spec,
    ...(o.status === undefined ? {} : { status: o.status }),
  };
}

export function trimNodeState(object: KubeObject): CachedNodeState {
  const o = object as CachedNodeState;
  return { metadata: trimMeta(o.metadata), ...(o.status === undefined ? {} : { status: o.status }) };
}

export function nodeInfo(node: CachedNode): NodeInfo {
  return {
    name: node.metadata.name,
    labels: node.metadata.labels ?? {},
    internalIPs: node.internalIPs,
    ...(node.externalIPs === undefined ? {} : { externalIPs: node.externalIPs }),
  };
}

export function namespaceInfo(namespace: CachedNamespace): NamespaceInfo {
  return { name: namespace.metadata.name, labels: namespace.metadata.labels ?? {} };
}

export function groupInput(group: VrrpGroupObject): GroupInput {
  return {
    name: group.metadata.name,
    ...(group.metadata.creationTimestamp === undefined
      ? {}
      : { creationTimestamp: group.metadata.creationTimestamp }),
    spec: group.spec,
  };
}

export function serviceInput(service: VirtualServiceObject): ServiceInput {
  return {
    namespace: service.metadata.namespace ?? "",
    name: service.metadata.name,
    ...(service.metadata.creationTimestamp === undefined
      ? {}
      : { creationTimestamp: service.metadata.creationTimestamp }),
    spec: service.spec,
  };
}

/** The Secret keys the groups' v2 authentication refers to, as "namespace/name". */
export function referencedSecrets(groups: readonly VrrpGroupObject[]): Set<string> {
  const refs = new Set<string>();
  for (const g of groups) {
    const ref = g.spec.authentication?.passwordSecretRef;
    if (ref !== undefined) refs.add(`${ref.namespace}/${ref.name}`);
  }
  return refs;
}

/** A Secret's value for a key, decoded; undefined when the Secret or the key is missing. */
export function secretValue(secret: CachedSecret | undefined, ref: SecretKey): string | undefined {
  const encoded = secret?.data[ref.key];
  return encoded === undefined ? undefined : Buffer.from(encoded, "base64").toString("utf8");
}

export function contentHashOf(object: KubeObject | undefined): string | undefined {
  return object?.metadata.annotations?.[CONTENT_HASH_ANNOTATION];
}
