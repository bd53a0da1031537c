// The API resources kubelvs reads and writes, and their REST paths.
import { GROUP, VERSION } from "../../crds/definitions.js";

export interface ResourceType {
  /** API group; "" for the core group. */
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export const NODES: ResourceType = {
  group: "",
  version: "v1",
  kind: "Node",
  plural: "nodes",
  namespaced: false,
};
export const NAMESPACES: ResourceType = {
  group: "",
  version: "v1",
  kind: "Namespace",
  plural: "namespaces",
  namespaced: false,
};
export const SECRETS: ResourceType = {
  group: "",
  version: "v1",
  kind: "Secret",
  plural: "secrets",
  namespaced: true,
};
export const LEASES: ResourceType = {
  group: "coordination.k8s.io",
  version: "v1",
  kind: "Lease",
  plural: "leases",
  namespaced: true,
};
export const EVENTS: ResourceType = {
  group: "events.k8s.io",
  version: "v1",
  kind: "Event",
  plural: "events",
  namespaced: true,
};
export const VRRP_GROUPS: ResourceType = {
  group: GROUP,
  version: VERSION,
  kind: "VrrpGroup",
  plural: "vrrpgroups",
  namespaced: false,
};
export const VIRTUAL_SERVICES: ResourceType = {
  group: GROUP,
  version: VERSION,
  kind: "VirtualService",
  plural: "virtualservices",
  namespaced: true,
};
export const NODE_STATES: ResourceType = {
  group: GROUP,
  version: VERSION,
  kind: "NodeState",
  plural: "nodestates",
  namespaced: false,
};

export function apiVersionOf(resource: ResourceType): string {
  return resource.group === "" ? resource.version : `${resource.group}/${resource.version}`;
}

function groupPath(resource: ResourceType): string {
  return resource.group === "" ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
}

/** The collection: all namespaces when a namespaced resource is given no namespace. */
export function collectionPath(resource: ResourceType, namespace?: string): string {
  const ns =
    resource.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${groupPath(resource)}${ns}/${resource.plural}`;
}

export function objectPath(resource: ResourceType, name: string, namespace?: string): string {
  if (resource.namespaced && namespace === undefined)
    throw new Error(`${resource.kind} ${name}: a namespaced resource needs a namespace`);
  return `${collectionPath(resource, namespace)}/${encodeURIComponent(name)}`;
}

export function statusPath(resource: ResourceType, name: string, namespace?: string): string {
  return `${objectPath(resource, name, namespace)}/status`;
}

/** The metadata every object has, as far as kubelvs reads it. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

/** "namespace/name", or "name" for cluster-scoped objects: the key of caches and work queues. */
export function objectKey(meta: { name: string; namespace?: string }): string {
  return meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;
}
