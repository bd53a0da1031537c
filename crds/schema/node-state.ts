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
  StringEnum,
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

/** A virtual IP this node receives as a DR or TUN real server (the operator renders it from VirtualServices). */
export const NodeRealServerVIP = Type.Object({
  address: IPAddress(
    "A virtual IP that DR or TUN services forward to this node with: the agent makes it a local address of the node (on lo for DR, on tunl0/ip6tnl0 for TUN) that the node never answers ARP for.",
  ),
  forwarding: StringEnum(["DR", "TUN"] as const, {
    description:
      "DR: the VIP on lo. TUN: the VIP on the IP-in-IP device (tunl0, ip6tnl0 for IPv6), which is up with reverse-path filtering off; TUN when any of the services tunnels to this node (a VIP on the tunnel device is local for direct-routed packets too).",
  }),
  virtualServices: Type.Array(
    Type.String({ description: "namespace/name of a VirtualService.", minLength: 3, maxLength: 317 }),
    {
      maxItems: 10000,
      "x-kubernetes-list-type": "set",
      description: "The VirtualServices (namespace/name) whose real servers include this node with this VIP.",
    },
  ),
});
export type NodeRealServerVIP = Static<typeof NodeRealServerVIP>;

export const NodeRealServer = Type.Object(
  {
    vips: MapList(NodeRealServerVIP, ["address"], {
      maxItems: 1024,
      description: "The VIPs to make local, one entry per address.",
    }),
  },
  {
    description:
      "This node as a real server of DR/TUN VirtualServices: the agent puts each VIP on lo or the tunnel device and sets net.ipv4.conf.all.arp_ignore=1 and arp_announce=2 (see docs/dr-tun.md). Absent when no DR/TUN service forwards to one of the node's addresses.",
  },
);
export type NodeRealServer = Static<typeof NodeRealServer>;

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
  realServer: Type.Optional(NodeRealServer),
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

export const NodeRealServerStatus = Type.Object(
  {
    prepared: Type.Array(IPAddress("A VIP that is a local address of this node, ready for DR/TUN traffic."), {
      maxItems: 1024,
      "x-kubernetes-list-type": "set",
      description: "The spec's VIPs that are local addresses of this node, with ARP for them suppressed.",
    }),
    message: Type.Optional(
      Type.String({
        maxLength: 1024,
        description:
          "What is wrong or left alone (a failed address or sysctl write, an address not the agent's).",
      }),
    ),
  },
  { description: "What the agent made of spec.realServer." },
);
export type NodeRealServerStatus = Static<typeof NodeRealServerStatus>;

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
  realServer: Type.Optional(NodeRealServerStatus),
  conditions: Type.Optional(Conditions),
});
export type NodeStateStatus = Static<typeof NodeStateStatus>;
