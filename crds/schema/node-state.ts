// NodeState: one per node (cluster-scoped, named after the node, or <instance>.<node> for a named kubelvs instance). `spec` is the desired state the
// operator renders for that node's agent; `status` is what the agent observes. The same `spec` is the
// agent's standalone configuration file (`kubelvs agent --config FILE`), so there is one format.
import { Type, type Static } from "@sinclair/typebox";
import {
  Conditions,
  DNSLabel,
  IPAddress,
  MapList,
  ObjectName,
  VRRPState,
  rules,
  withoutCelRules,
} from "./common.js";
import { instanceFieldsForNode, instanceRules, InterfaceSelection } from "./vrrp-group.js";
import { RealServerStatus, VirtualServiceSpec } from "./virtual-service.js";

export const NodeVrrpGroup = Type.Object(
  {
    name: ObjectName("The VrrpGroup (or keepalived vrrp_instance) this instance comes from."),
    ...instanceFieldsForNode,
    interface: InterfaceSelection,
    priority: Type.Integer({
      description: "This node's priority; 255 = address owner.",
      minimum: 1,
      maximum: 255,
      format: "int32",
    }),
    unicastPeers: Type.Optional(
      Type.Array(IPAddress("Peer address."), {
        maxItems: 256,
        "x-kubernetes-list-type": "set",
        description: "Unicast peers; empty or absent means multicast (224.0.0.18 / ff02::12).",
      }),
    ),
    unicastSourceAddress: Type.Optional(
      IPAddress("Source address of unicast adverts (default: the interface's primary address)."),
    ),
    authPassword: Type.Optional(
      Type.String({ description: "Version 2 simple password (at most 8 bytes).", maxLength: 8 }),
    ),
  },
  rules(...instanceRules, {
    rule: "!has(self.authPassword) || (has(self.version) && self.version == 2)",
    message: "authPassword exists only in version 2",
    fieldPath: ".authPassword",
  }),
);
export type NodeVrrpGroup = Static<typeof NodeVrrpGroup>;

/**
 * The VirtualService spec inside a NodeState, without its CEL rules: the API server prices every rule
 * by the worst-case list sizes, and 10,000 services × 1,000 real servers × the health-check rules is
 * far over its budget. The operator only copies specs the API server already validated as
 * VirtualServices; the standalone agent validates each embedded spec as a VirtualService itself.
 */
const RenderedVirtualServiceSpec = Type.Unsafe<VirtualServiceSpec>(withoutCelRules(VirtualServiceSpec));

export const NodeVirtualService = Type.Object({
  namespace: DNSLabel(
    "Namespace of the VirtualService (`standalone` for configurations without Kubernetes).",
  ),
  name: ObjectName("Name of the VirtualService."),
  vrrpGroup: ObjectName("The group whose Master carries the VIP."),
  spec: RenderedVirtualServiceSpec,
});
export type NodeVirtualService = Static<typeof NodeVirtualService>;

export const NodeStateSpec = Type.Object({
  nodeName: Type.Optional(ObjectName("The node this state is for.")),
  vrrpGroups: MapList(NodeVrrpGroup, ["name"], {
    maxItems: 255,
    description: "VRRP instances this node takes part in.",
  }),
  virtualServices: Type.Optional(
    MapList(NodeVirtualService, ["namespace", "name"], {
      maxItems: 10000,
      description: "IPVS virtual services carried by those groups.",
    }),
  ),
});
export type NodeStateSpec = Static<typeof NodeStateSpec>;

export const NodeGroupStatus = Type.Object({
  name: ObjectName("Group name."),
  state: VRRPState,
  priority: Type.Integer({ description: "Effective priority.", minimum: 0, maximum: 255, format: "int32" }),
  address: Type.Optional(IPAddress("This node's primary address in the group.")),
  masterAddress: Type.Optional(IPAddress("Address of the Master this node last heard (or its own).")),
  since: Type.Optional(Type.String({ format: "date-time" })),
  transitions: Type.Optional(Type.Integer({ minimum: 0, format: "int64" })),
  advertsSent: Type.Optional(Type.Integer({ minimum: 0, format: "int64" })),
  advertsReceived: Type.Optional(Type.Integer({ minimum: 0, format: "int64" })),
  packetsDropped: Type.Optional(Type.Integer({ minimum: 0, format: "int64" })),
  message: Type.Optional(Type.String({ maxLength: 1024 })),
});
export type NodeGroupStatus = Static<typeof NodeGroupStatus>;

export const NodeVirtualServiceStatus = Type.Object({
  namespace: DNSLabel("Namespace."),
  name: ObjectName("Name."),
  active: Type.Boolean({ description: "The service is programmed in this node's IPVS table." }),
  realServers: Type.Optional(Type.Array(RealServerStatus, { maxItems: 1000 })),
  message: Type.Optional(Type.String({ maxLength: 1024 })),
});
export type NodeVirtualServiceStatus = Static<typeof NodeVirtualServiceStatus>;

export const NodeStateStatus = Type.Object({
  observedContentHash: Type.Optional(
    Type.String({ description: "Content hash of the spec the agent applied.", maxLength: 128 }),
  ),
  agentVersion: Type.Optional(Type.String({ maxLength: 64 })),
  lastReportTime: Type.Optional(Type.String({ format: "date-time" })),
  masterOf: Type.Optional(
    Type.String({
      description: "Groups this node is Master of, comma separated (for display).",
      maxLength: 4096,
    }),
  ),
  vrrpGroups: Type.Optional(MapList(NodeGroupStatus, ["name"], { maxItems: 255 })),
  virtualServices: Type.Optional(
    MapList(NodeVirtualServiceStatus, ["namespace", "name"], { maxItems: 10000 }),
  ),
  conditions: Type.Optional(Conditions),
});
export type NodeStateStatus = Static<typeof NodeStateStatus>;
