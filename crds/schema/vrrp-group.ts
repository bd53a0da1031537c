// VrrpGroup: one VRRP instance (RFC 5798 v3 / RFC 3768 v2) spread over the nodes a selector picks.
// Cluster-scoped and owned by cluster admins; VirtualServices in namespaces attach to its VIPs
// (the Gateway/Route split).
import { Type, type Static } from "@sinclair/typebox";
import {
  CIDR,
  Command,
  Conditions,
  DNSLabel,
  IPAddress,
  IntegerEnum,
  InterfaceName,
  LabelSelector,
  MapList,
  Millis,
  ObjectName,
  StringEnum,
  VRRPState,
  rules,
} from "./common.js";

export const VirtualIP = Type.Object(
  {
    address: IPAddress("The virtual address (IPv4 or IPv6)."),
    prefixLength: Type.Optional(
      Type.Integer({
        description: "Prefix length of the address on the interface; default /32 (IPv4) or /128 (IPv6).",
        minimum: 0,
        maximum: 128,
        format: "int32",
      }),
    ),
    device: Type.Optional(InterfaceName("Put the address on this device instead of the group's interface.")),
    label: Type.Optional(
      Type.String({
        description:
          "IPv4 address label (e.g. eth0:vip), as keepalived's `label`; it starts with the device name.",
        minLength: 1,
        maxLength: 15,
        pattern: "^[^/\\s]+$",
      }),
    ),
  },
  rules(
    {
      rule: "!has(self.prefixLength) || self.address.contains(':') || self.prefixLength <= 32",
      message: "an IPv4 address has a prefix length of at most 32",
      fieldPath: ".prefixLength",
    },
    {
      rule: "!has(self.label) || !self.address.contains(':')",
      message: "labels exist only for IPv4 addresses",
      fieldPath: ".label",
    },
  ),
);
export type VirtualIP = Static<typeof VirtualIP>;

export const VirtualIPs = (description: string, minItems: number) =>
  Type.Array(VirtualIP, {
    description,
    minItems,
    maxItems: 64,
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["address"],
  });

export const InterfaceSelection = Type.Object(
  {
    name: Type.Optional(InterfaceName("The interface's name, the same on every node.")),
    cidr: Type.Optional(
      CIDR("Pick, on each node, the interface that has an address inside this CIDR (e.g. 198.51.100.0/24)."),
    ),
  },
  {
    description: "Where VRRP runs on each node: by interface name, or by the subnet the interface is on.",
    ...rules({ rule: "has(self.name) != has(self.cidr)", message: "set exactly one of name or cidr" }),
  },
);
export type InterfaceSelection = Static<typeof InterfaceSelection>;

export const TrackedInterface = Type.Object({
  name: InterfaceName("Interface whose link state is tracked."),
  weight: Type.Optional(
    Type.Integer({
      description:
        "0 (default): the interface going down puts the group into Fault. Otherwise the priority is lowered by |weight| while it is down.",
      minimum: -254,
      maximum: 254,
      default: 0,
      format: "int32",
    }),
  ),
});
export type TrackedInterface = Static<typeof TrackedInterface>;

export const TrackedScript = Type.Object({
  name: DNSLabel("Name of the check, used in status and metrics."),
  command: Command("argv of the check; exit code 0 means OK. Runs on the node, in the agent's context."),
  intervalMillis: Type.Optional(Millis("How often the check runs.", 10, 3_600_000, 1000)),
  timeoutMillis: Type.Optional(Millis("A run taking longer counts as a failure.", 10, 3_600_000)),
  rise: Type.Optional(
    Type.Integer({
      description: "Successes in a row to become OK.",
      minimum: 1,
      maximum: 100,
      default: 1,
      format: "int32",
    }),
  ),
  fall: Type.Optional(
    Type.Integer({
      description: "Failures in a row to become failed.",
      minimum: 1,
      maximum: 100,
      default: 1,
      format: "int32",
    }),
  ),
  weight: Type.Optional(
    Type.Integer({
      description:
        "0 (default): failure puts the group into Fault. Positive: added to the priority while OK. Negative: subtracted while failed (keepalived vrrp_script semantics).",
      minimum: -254,
      maximum: 254,
      default: 0,
      format: "int32",
    }),
  ),
});
export type TrackedScript = Static<typeof TrackedScript>;

export const Tracking = Type.Object({
  interfaces: Type.Optional(MapList(TrackedInterface, ["name"], { maxItems: 32 })),
  scripts: Type.Optional(MapList(TrackedScript, ["name"], { maxItems: 32 })),
});
export type Tracking = Static<typeof Tracking>;

export const GratuitousARP = Type.Object(
  {
    masterRepeat: Type.Optional(
      Type.Integer({
        description: "Gratuitous ARPs / unsolicited NAs sent at once on becoming Master.",
        minimum: 1,
        maximum: 255,
        default: 5,
        format: "int32",
      }),
    ),
    masterDelayMillis: Type.Optional(
      Millis(
        "Delay before a second burst after becoming Master; 0 disables the second burst.",
        0,
        3_600_000,
        5000,
      ),
    ),
    masterRefreshMillis: Type.Optional(
      Millis("Period of refresh bursts while Master; 0 (default) disables refreshing.", 0, 86_400_000, 0),
    ),
    masterRefreshRepeat: Type.Optional(
      Type.Integer({
        description: "Announcements per refresh burst.",
        minimum: 1,
        maximum: 255,
        default: 1,
        format: "int32",
      }),
    ),
    intervalMillis: Type.Optional(Millis("Gap between announcements within a burst.", 0, 10_000, 0)),
  },
  { description: "Gratuitous ARP (IPv4) and unsolicited neighbour advertisement (IPv6) timing." },
);
export type GratuitousARP = Static<typeof GratuitousARP>;

export const Notify = Type.Object(
  {
    master: Type.Optional(Command("Run on becoming Master.")),
    backup: Type.Optional(Command("Run on becoming Backup.")),
    fault: Type.Optional(Command("Run on entering Fault.")),
    stop: Type.Optional(Command("Run when the group stops on this node.")),
  },
  {
    description:
      "Commands run on transitions (keepalived notify_*); arguments GROUP STATE PRIORITY are appended.",
  },
);
export type Notify = Static<typeof Notify>;

export const ConnectionSync = Type.Object(
  {
    enabled: Type.Boolean({
      description: "Run the kernel's IPVS sync daemon, master on the VRRP Master, backup elsewhere.",
    }),
    syncID: Type.Optional(
      Type.Integer({
        description: "Sync ID (0-255) separating sync traffic of several groups.",
        minimum: 0,
        maximum: 255,
        default: 0,
        format: "int32",
      }),
    ),
    interface: Type.Optional(InterfaceName("Interface for sync traffic; defaults to the group's interface.")),
    maxPacketLength: Type.Optional(
      Type.Integer({
        description: "Largest sync packet payload.",
        minimum: 0,
        maximum: 65535,
        format: "int32",
      }),
    ),
  },
  {
    description:
      "IPVS connection synchronisation so established connections survive a failover (keepalived lvs_sync_daemon).",
  },
);
export type ConnectionSync = Static<typeof ConnectionSync>;

/** Fields of a VRRP instance that are the same whether declared cluster-wide or rendered per node. */
export const instanceFieldsForNode = {
  vrid: Type.Integer({
    description: "Virtual router ID, 1-255, unique per interface (LAN).",
    minimum: 1,
    maximum: 255,
    format: "int32",
  }),
  version: Type.Optional(
    IntegerEnum([2, 3] as const, {
      description: "VRRP version: 3 (RFC 5798, default) or 2 (RFC 3768, for interoperation).",
      default: 3,
    }),
  ),
  advertIntervalMillis: Type.Optional(
    Millis(
      "Advertisement interval. v3: 10 ms to 40.95 s in steps of 10 ms; v2: whole seconds, 1-255 s.",
      10,
      255_000,
      1000,
    ),
  ),
  virtualIPs: VirtualIPs(
    "The addresses that follow the Master. All of one family; IPv4 only in version 2.",
    1,
  ),
  excludedVirtualIPs: Type.Optional(
    VirtualIPs(
      "Addresses that follow the Master but are not listed in adverts (keepalived virtual_ipaddress_excluded); may mix families.",
      0,
    ),
  ),
  preempt: Type.Optional(
    Type.Boolean({
      description: "A higher-priority node takes over from a live lower-priority Master (default true).",
      default: true,
    }),
  ),
  preemptDelayMillis: Type.Optional(
    Millis("After start, wait this long before preempting (keepalived preempt_delay).", 0, 1_000_000, 0),
  ),
  acceptMode: Type.Optional(
    Type.Boolean({
      description: "v3 accept mode: the Master accepts packets addressed to the VIPs it does not own.",
      default: false,
    }),
  ),
  track: Type.Optional(Tracking),
  gratuitousARP: Type.Optional(GratuitousARP),
  syncGroup: Type.Optional(
    DNSLabel("Groups naming the same sync group fail over together (keepalived vrrp_sync_group)."),
  ),
  notify: Type.Optional(Notify),
  checksum: Type.Optional(
    StringEnum(["WithPseudoHeader", "WithoutPseudoHeader"] as const, {
      description:
        "v3 over IPv4: RFC checksum with the pseudo-header (default, as keepalived) or without (some routers; keepalived v3_checksum_as_v2).",
      default: "WithPseudoHeader",
    }),
  ),
  connectionSync: Type.Optional(ConnectionSync),
};

/** Cross-field rules shared by the cluster-wide and the per-node form of an instance. */
export const instanceRules = [
  {
    rule: "!has(self.advertIntervalMillis) || (has(self.version) && self.version == 2 ? self.advertIntervalMillis % 1000 == 0 : self.advertIntervalMillis % 10 == 0 && self.advertIntervalMillis <= 40950)",
    message:
      "advertIntervalMillis: version 2 carries whole seconds (1000-255000); version 3 carries centiseconds (10-40950, a multiple of 10)",
    fieldPath: ".advertIntervalMillis",
  },
  {
    rule: "self.virtualIPs.all(v, v.address.contains(':')) || self.virtualIPs.all(v, !v.address.contains(':'))",
    message:
      "virtualIPs must all be IPv4 or all IPv6 (a VRRP instance serves one family; use excludedVirtualIPs or a second group)",
    fieldPath: ".virtualIPs",
  },
  {
    rule: "!has(self.version) || self.version == 3 || self.virtualIPs.all(v, !v.address.contains(':'))",
    message: "version 2 is IPv4 only",
    fieldPath: ".virtualIPs",
  },
  {
    rule: "!has(self.preemptDelayMillis) || self.preemptDelayMillis == 0 || !has(self.preempt) || self.preempt",
    message: "preemptDelayMillis has no effect with preempt: false",
    fieldPath: ".preemptDelayMillis",
  },
  {
    rule: "!has(self.checksum) || self.checksum == 'WithPseudoHeader' || !has(self.version) || self.version == 3",
    message:
      "checksum WithoutPseudoHeader applies to version 3 only (version 2 never includes the pseudo-header)",
    fieldPath: ".checksum",
  },
];

export const NodePriority = Type.Object({
  nodeName: ObjectName("The node."),
  priority: Type.Integer({
    description: "1-254; 255 only on the node that owns the addresses.",
    minimum: 1,
    maximum: 255,
    format: "int32",
  }),
});

export const Priority = Type.Object({
  default: Type.Optional(
    Type.Integer({
      description: "Priority of selected nodes not listed below.",
      minimum: 1,
      maximum: 254,
      default: 100,
      format: "int32",
    }),
  ),
  nodes: Type.Optional(
    MapList(NodePriority, ["nodeName"], { maxItems: 256, description: "Per-node priorities." }),
  ),
});

export const Unicast = Type.Object(
  {
    fromSelectedNodes: Type.Optional(
      Type.Boolean({
        description:
          "Peers are the InternalIPs (of the group's family) of the other selected nodes (default true).",
        default: true,
      }),
    ),
    extraPeers: Type.Optional(
      Type.Array(IPAddress("A peer outside the cluster (e.g. a keepalived router)."), {
        maxItems: 64,
        "x-kubernetes-list-type": "set",
      }),
    ),
  },
  {
    description:
      "Send adverts by unicast to the peers instead of multicast; adverts from non-peers are dropped.",
  },
);

export const SecretKeyRef = Type.Object({
  name: ObjectName("Secret name."),
  namespace: DNSLabel("Secret namespace."),
  key: Type.Optional(
    Type.String({
      description: "Key in the Secret (default `password`).",
      default: "password",
      maxLength: 253,
    }),
  ),
});

export const Authentication = Type.Object(
  {
    type: StringEnum(["Password"] as const, {
      description: "Simple password (RFC 3768 type 1). IPsec AH is not supported (deprecated).",
    }),
    passwordSecretRef: SecretKeyRef,
  },
  { description: "Version 2 authentication. Only the first 8 bytes are used, as on the wire." },
);

export const AllowedNamespaces = Type.Object(
  {
    from: StringEnum(["All", "Selector", "None"] as const, {
      description: "Which namespaces may attach VirtualServices to this group's VIPs.",
      default: "All",
    }),
    selector: Type.Optional(LabelSelector("Namespaces whose labels match (from: Selector).")),
  },
  rules({
    rule: "self.from != 'Selector' || has(self.selector)",
    message: "from: Selector needs a selector",
    fieldPath: ".selector",
  }),
);

export const VrrpGroupSpec = Type.Object(
  {
    ...instanceFieldsForNode,
    interface: InterfaceSelection,
    nodeSelector: Type.Optional(LabelSelector("Nodes that take part; all nodes when absent.")),
    priority: Type.Optional(Priority),
    unicast: Type.Optional(Unicast),
    authentication: Type.Optional(Authentication),
    allowedNamespaces: Type.Optional(AllowedNamespaces),
  },
  rules(...instanceRules, {
    rule: "!has(self.authentication) || (has(self.version) && self.version == 2)",
    message: "authentication exists only in version 2 (RFC 5798 removed it)",
    fieldPath: ".authentication",
  }),
);
export type VrrpGroupSpec = Static<typeof VrrpGroupSpec>;

export const VrrpGroupNodeStatus = Type.Object({
  name: ObjectName("Node name."),
  state: VRRPState,
  priority: Type.Optional(
    Type.Integer({
      description: "Effective priority (after tracking).",
      minimum: 0,
      maximum: 255,
      format: "int32",
    }),
  ),
  address: Type.Optional(IPAddress("The node's primary address in the group.")),
  since: Type.Optional(
    Type.String({ format: "date-time", description: "When the node entered this state." }),
  ),
  message: Type.Optional(Type.String({ maxLength: 1024 })),
});
export type VrrpGroupNodeStatus = Static<typeof VrrpGroupNodeStatus>;

export const VrrpGroupStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0, format: "int64" })),
  master: Type.Optional(
    Type.String({ description: "Node currently Master (empty when none or more than one).", maxLength: 253 }),
  ),
  nodesReady: Type.Optional(
    Type.String({
      description: "Nodes reporting Master or Backup / selected nodes, e.g. 3/3.",
      maxLength: 16,
    }),
  ),
  nodes: Type.Optional(MapList(VrrpGroupNodeStatus, ["name"], { maxItems: 1000 })),
  conditions: Type.Optional(Conditions),
});
export type VrrpGroupStatus = Static<typeof VrrpGroupStatus>;
