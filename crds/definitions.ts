// The three CustomResourceDefinitions, built from the TypeBox schemas. crds/*.yaml is generated from
// this module (npm run crds) and a unit test fails when the committed YAML differs, so the files a
// cluster installs, the offline validator and the TypeScript types all come from one definition.
import type { TSchema } from "@sinclair/typebox";
import { NodeStateSpec, NodeStateStatus } from "./schema/node-state.js";
import { VirtualServiceSpec, VirtualServiceStatus } from "./schema/virtual-service.js";
import { VrrpGroupSpec, VrrpGroupStatus } from "./schema/vrrp-group.js";

export const GROUP = "kubelvs.io";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "date" | "number" | "boolean";
  jsonPath: string;
  description: string;
  priority?: number;
}

export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: "Namespaced" | "Cluster";
  description: string;
  spec: TSchema;
  status: TSchema;
  printerColumns: PrinterColumn[];
}

export const KINDS: KindDefinition[] = [
  {
    kind: "VrrpGroup",
    plural: "vrrpgroups",
    singular: "vrrpgroup",
    shortNames: ["vrrp"],
    scope: "Cluster",
    description:
      "A VRRP instance: virtual IPs that float between the selected nodes, elected by priority (RFC 5798 / RFC 3768).",
    spec: VrrpGroupSpec,
    status: VrrpGroupStatus,
    printerColumns: [
      { name: "VRID", type: "integer", jsonPath: ".spec.vrid", description: "Virtual router ID" },
      { name: "VIPs", type: "string", jsonPath: ".spec.virtualIPs[*].address", description: "Virtual IPs" },
      { name: "Master", type: "string", jsonPath: ".status.master", description: "Node that is Master" },
      {
        name: "Nodes",
        type: "string",
        jsonPath: ".status.nodesReady",
        description: "Ready nodes / selected nodes",
      },
      {
        name: "Version",
        type: "integer",
        jsonPath: ".spec.version",
        description: "VRRP version",
        priority: 1,
      },
      { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp", description: "Age" },
    ],
  },
  {
    kind: "VirtualService",
    plural: "virtualservices",
    singular: "virtualservice",
    // "vs" belongs to Istio's VirtualService; "lvs" is unambiguous.
    shortNames: ["lvs", "lvsvs"],
    scope: "Namespaced",
    description:
      "An IPVS virtual server on a VrrpGroup's VIP: scheduler, forwarding, persistence, real servers and their health checks.",
    spec: VirtualServiceSpec,
    status: VirtualServiceStatus,
    printerColumns: [
      {
        name: "VIP:Port",
        type: "string",
        jsonPath: ".status.endpoint",
        description: "VIP:port/protocol or fwmark",
      },
      { name: "Scheduler", type: "string", jsonPath: ".spec.scheduler", description: "IPVS scheduler" },
      {
        name: "Forwarding",
        type: "string",
        jsonPath: ".spec.forwarding.method",
        description: "NAT, DR or TUN",
      },
      {
        name: "Real Servers",
        type: "string",
        jsonPath: ".status.realServersReady",
        description: "Healthy / total",
      },
      {
        name: "Master",
        type: "string",
        jsonPath: ".status.master",
        description: "Node where the table is active",
      },
      { name: "Group", type: "string", jsonPath: ".status.vrrpGroup", description: "VrrpGroup", priority: 1 },
      { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp", description: "Age" },
    ],
  },
  {
    kind: "NodeState",
    plural: "nodestates",
    singular: "nodestate",
    shortNames: ["lvsnode"],
    scope: "Cluster",
    description:
      "Per-node desired state rendered by the kubelvs operator (spec) and what that node's agent observes (status). Named after the node (<instance>.<node> for a named kubelvs instance).",
    spec: NodeStateSpec,
    status: NodeStateStatus,
    printerColumns: [
      {
        name: "Master Of",
        type: "string",
        jsonPath: ".status.masterOf",
        description: "Groups this node is Master of",
      },
      {
        name: "Last Report",
        type: "date",
        jsonPath: ".status.lastReportTime",
        description: "Last agent report",
      },
      { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp", description: "Age" },
    ],
  },
];

/** Plain JSON of a TypeBox schema: drops TypeBox's symbol markers. */
export function plainSchema(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

/** The whole-object schema of a kind, as it stands in the CRD's openAPIV3Schema. */
export function objectSchema(def: KindDefinition): Record<string, unknown> {
  return {
    type: "object",
    description: def.description,
    required: ["spec"],
    properties: {
      apiVersion: { type: "string", description: "APIVersion of this object." },
      kind: { type: "string", description: "Kind of this object." },
      metadata: { type: "object" },
      spec: plainSchema(def.spec),
      status: plainSchema(def.status),
    },
  };
}

export function customResourceDefinition(def: KindDefinition): Record<string, unknown> {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { "app.kubernetes.io/name": "kubelvs", "app.kubernetes.io/part-of": "kubelvs" },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: ["kubelvs"],
      },
      scope: def.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: { openAPIV3Schema: objectSchema(def) },
        },
      ],
    },
  };
}

export function kindDefinition(apiVersion: unknown, kind: unknown): KindDefinition | undefined {
  if (apiVersion !== API_VERSION) return undefined;
  return KINDS.find((k) => k.kind === kind);
}
