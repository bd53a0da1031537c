// VirtualService: one IPVS virtual server (keepalived's `virtual_server` block) on a VIP that a
// VrrpGroup carries. Namespaced and owned by application teams.
import { Type, type Static } from "@sinclair/typebox";
import {
  Command,
  Conditions,
  IPAddress,
  MapList,
  Millis,
  ObjectName,
  Port,
  StringEnum,
  UInt32,
  rules,
} from "./common.js";

/** Every scheduler the Linux kernel ships (net/netfilter/ipvs/ip_vs_*.c). */
export const SCHEDULERS = [
  "rr",
  "wrr",
  "lc",
  "wlc",
  "lblc",
  "lblcr",
  "dh",
  "sh",
  "sed",
  "nq",
  "fo",
  "ovf",
  "mh",
] as const;

export const Tunnel = Type.Object(
  {
    type: Type.Optional(
      StringEnum(["IPIP", "GUE", "GRE"] as const, {
        description: "Encapsulation (default IPIP).",
        default: "IPIP",
      }),
    ),
    port: Type.Optional(Port("Destination UDP port of GUE encapsulation.")),
    checksum: Type.Optional(
      StringEnum(["None", "Checksum", "RemoteChecksum"] as const, {
        description: "GUE/GRE checksum mode.",
        default: "None",
      }),
    ),
  },
  rules(
    {
      rule: "!has(self.type) || self.type != 'GUE' || has(self.port)",
      message: "GUE needs a port",
      fieldPath: ".port",
    },
    {
      rule: "!has(self.port) || (has(self.type) && self.type == 'GUE')",
      message: "port applies to GUE only",
      fieldPath: ".port",
    },
    {
      rule: "!has(self.checksum) || self.checksum == 'None' || (has(self.type) && self.type != 'IPIP')",
      message: "IPIP has no checksum option",
      fieldPath: ".checksum",
    },
  ),
);
export type Tunnel = Static<typeof Tunnel>;

export const Forwarding = Type.Object(
  {
    method: StringEnum(["NAT", "DR", "TUN"] as const, {
      description:
        "NAT (masquerading), DR (direct routing: real servers hold the VIP, ARP suppressed), TUN (tunnelling).",
      default: "NAT",
    }),
    tunnel: Type.Optional(Tunnel),
  },
  rules({
    rule: "!has(self.tunnel) || self.method == 'TUN'",
    message: "tunnel applies to method TUN only",
    fieldPath: ".tunnel",
  }),
);
export type Forwarding = Static<typeof Forwarding>;

export const HTTPPath = Type.Object({
  path: Type.String({
    description: "Request path, e.g. /healthz.",
    minLength: 1,
    maxLength: 2048,
    pattern: "^/",
  }),
  statusCodes: Type.Optional(
    Type.Array(Type.Integer({ minimum: 100, maximum: 599, format: "int32" }), {
      description: "Accepted status codes (default: any 2xx).",
      maxItems: 32,
    }),
  ),
  digest: Type.Optional(
    Type.String({ description: "MD5 of the body, hex (keepalived `digest`).", pattern: "^[0-9a-f]{32}$" }),
  ),
  bodyRegex: Type.Optional(
    Type.String({
      description: "The body must match this regular expression (keepalived `regex`).",
      maxLength: 1024,
    }),
  ),
});
export type HTTPPath = Static<typeof HTTPPath>;

export const HTTPCheck = Type.Object({
  paths: Type.Array(HTTPPath, {
    minItems: 1,
    maxItems: 16,
    description: "Each path is fetched; all must pass.",
  }),
  virtualHost: Type.Optional(
    Type.String({ description: "Host header (keepalived `virtualhost`).", maxLength: 253 }),
  ),
  verifyCertificate: Type.Optional(
    Type.Boolean({
      description: "HTTPS: verify the server certificate (default false, as keepalived's SSL_GET).",
      default: false,
    }),
  ),
  serverName: Type.Optional(
    Type.String({ description: "HTTPS: TLS SNI name (default: virtualHost).", maxLength: 253 }),
  ),
});
export type HTTPCheck = Static<typeof HTTPCheck>;

export const DNSCheck = Type.Object({
  name: Type.Optional(
    Type.String({ description: "Name queried (default `.`).", default: ".", maxLength: 253 }),
  ),
  type: Type.Optional(
    StringEnum(["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"] as const, {
      description: "Query type (default SOA, as keepalived).",
      default: "SOA",
    }),
  ),
});

export const UDPCheck = Type.Object({
  payload: Type.Optional(
    Type.String({
      description: "Payload sent, hex encoded (default empty).",
      pattern: "^([0-9a-fA-F]{2})*$",
      maxLength: 2048,
    }),
  ),
  requireReply: Type.Optional(
    Type.Boolean({
      description: "Healthy only if a reply comes back (otherwise: no ICMP port unreachable).",
      default: false,
    }),
  ),
  replyRegex: Type.Optional(
    Type.String({ description: "The reply must match (implies requireReply).", maxLength: 1024 }),
  ),
});

export const ExecCheck = Type.Object({
  command: Command("argv; exit 0 means healthy (keepalived MISC_CHECK misc_path)."),
  dynamicWeight: Type.Optional(
    Type.Boolean({
      description: "Exit codes 2-255 set the weight to code-2 (keepalived misc_dynamic).",
      default: false,
    }),
  ),
});

export const HealthCheck = Type.Object(
  {
    type: StringEnum(["TCP", "HTTP", "HTTPS", "UDP", "DNS", "Exec", "None"] as const, {
      description: "TCP connect, HTTP/HTTPS GET, UDP probe, DNS query, a command, or None (always healthy).",
    }),
    intervalMillis: Type.Optional(
      Millis("Delay between checks (keepalived delay_loop).", 100, 86_400_000, 6000),
    ),
    connectTimeoutMillis: Type.Optional(
      Millis("Timeout of one attempt (keepalived connect_timeout).", 10, 600_000, 5000),
    ),
    retries: Type.Optional(
      Type.Integer({
        description:
          "Further attempts after a failed one before the server is marked down (keepalived retry); 0: the first failure marks it down.",
        minimum: 0,
        maximum: 100,
        default: 1,
        format: "int32",
      }),
    ),
    retryDelayMillis: Type.Optional(
      Millis("Delay before a retry (keepalived delay_before_retry).", 0, 600_000, 1000),
    ),
    warmupMillis: Type.Optional(
      Millis("Random delay of up to this before the first check (keepalived warmup).", 0, 600_000),
    ),
    port: Type.Optional(Port("Port to check (keepalived connect_port); default the real server's port.")),
    sourceAddress: Type.Optional(IPAddress("Source address of checks (keepalived bindto).")),
    http: Type.Optional(HTTPCheck),
    dns: Type.Optional(DNSCheck),
    udp: Type.Optional(UDPCheck),
    exec: Type.Optional(ExecCheck),
  },
  rules(
    {
      rule: "!(self.type in ['HTTP', 'HTTPS']) || has(self.http)",
      message: "HTTP and HTTPS checks need http",
      fieldPath: ".http",
    },
    { rule: "self.type != 'Exec' || has(self.exec)", message: "Exec checks need exec", fieldPath: ".exec" },
    {
      rule: "!has(self.http) || self.type in ['HTTP', 'HTTPS']",
      message: "http applies to HTTP and HTTPS checks",
      fieldPath: ".http",
    },
    { rule: "!has(self.dns) || self.type == 'DNS'", message: "dns applies to DNS checks", fieldPath: ".dns" },
    { rule: "!has(self.udp) || self.type == 'UDP'", message: "udp applies to UDP checks", fieldPath: ".udp" },
    {
      rule: "!has(self.exec) || self.type == 'Exec'",
      message: "exec applies to Exec checks",
      fieldPath: ".exec",
    },
  ),
);
export type HealthCheck = Static<typeof HealthCheck>;

export const RealServer = Type.Object({
  address: IPAddress("The real server."),
  port: Type.Integer({
    description:
      "Port on the real server. DR and TUN cannot map ports: use the virtual port. 0 for firewall-mark and all-port services.",
    minimum: 0,
    maximum: 65535,
    format: "int32",
  }),
  weight: Type.Optional(
    Type.Integer({
      description: "Scheduling weight; 0 takes no new connections.",
      minimum: 0,
      maximum: 65535,
      default: 1,
      format: "int32",
    }),
  ),
  upperThreshold: Type.Optional(UInt32("Maximum connections (keepalived uthreshold); 0 = no limit.")),
  lowerThreshold: Type.Optional(
    UInt32("Connections below which an overloaded server is used again (keepalived lthreshold)."),
  ),
  forwarding: Type.Optional(Forwarding),
  healthCheck: Type.Optional(HealthCheck),
  failureAction: Type.Optional(
    StringEnum(["Remove", "Inhibit"] as const, {
      description: "Override of the service's failureAction for this server.",
    }),
  ),
  notify: Type.Optional(
    Type.Object({
      up: Type.Optional(Command("Run when the server becomes healthy (keepalived notify_up).")),
      down: Type.Optional(Command("Run when the server becomes unhealthy (keepalived notify_down).")),
    }),
  ),
});
export type RealServer = Static<typeof RealServer>;

export const SorryServer = Type.Object(
  {
    address: IPAddress("Server used when the quorum is lost."),
    port: Type.Optional(Port("Port; default the virtual port.")),
    forwarding: Type.Optional(Forwarding),
    inhibit: Type.Optional(
      Type.Boolean({
        description:
          "Keep it in the table with weight 0 instead of removing it while not in use (keepalived sorry_server_inhibit).",
        default: false,
      }),
    ),
  },
  {
    description:
      "Server that takes the traffic while the real servers' quorum is lost (keepalived sorry_server).",
  },
);

export const Quorum = Type.Object(
  {
    minimumWeight: Type.Optional(
      Type.Integer({
        description: "Sum of healthy servers' weights needed (keepalived quorum).",
        minimum: 1,
        maximum: 4294967295,
        default: 1,
        format: "int64",
      }),
    ),
    hysteresis: Type.Optional(
      Type.Integer({
        description:
          "Quorum is lost below minimumWeight-hysteresis and regained at minimumWeight+hysteresis.",
        minimum: 0,
        maximum: 4294967295,
        default: 0,
        format: "int64",
      }),
    ),
    up: Type.Optional(Command("Run when the quorum is gained (keepalived quorum_up).")),
    down: Type.Optional(Command("Run when the quorum is lost (keepalived quorum_down).")),
  },
  rules({
    rule: "!has(self.hysteresis) || !has(self.minimumWeight) || self.hysteresis < self.minimumWeight",
    message: "hysteresis must be smaller than minimumWeight",
    fieldPath: ".hysteresis",
  }),
);

export const Persistence = Type.Object(
  {
    timeoutSeconds: Type.Integer({
      description: "Clients stick to one real server for this long (keepalived persistence_timeout).",
      minimum: 1,
      maximum: 2678400,
      format: "int32",
    }),
    granularityPrefixLength: Type.Optional(
      Type.Integer({
        description:
          "Clients in one prefix of this length share a server (keepalived persistence_granularity); default /32 or /128.",
        minimum: 1,
        maximum: 128,
        format: "int32",
      }),
    ),
    engine: Type.Optional(
      StringEnum(["sip"] as const, {
        description: "Persistence engine (the kernel ships sip, for SIP Call-ID).",
      }),
    ),
  },
  { description: "Session persistence." },
);

export const VirtualServiceSpec = Type.Object(
  {
    virtualIP: Type.Optional(
      IPAddress("The VIP; it must be one of a VrrpGroup's virtualIPs. Absent for firewall-mark services."),
    ),
    port: Type.Optional(
      Type.Integer({
        description: "Virtual port; 0 means all ports (needs persistence).",
        minimum: 0,
        maximum: 65535,
        format: "int32",
      }),
    ),
    protocol: Type.Optional(
      StringEnum(["TCP", "UDP", "SCTP"] as const, {
        description: "Transport protocol (default TCP).",
        default: "TCP",
      }),
    ),
    firewallMark: Type.Optional(
      Type.Integer({
        description: "A firewall-mark service instead of VIP:port (keepalived `virtual_server fwmark`).",
        minimum: 1,
        maximum: 4294967295,
        format: "int64",
      }),
    ),
    addressFamily: Type.Optional(
      StringEnum(["IPv4", "IPv6"] as const, {
        description: "Family of a firewall-mark service (derived from virtualIP otherwise).",
      }),
    ),
    vrrpGroup: Type.Optional(
      ObjectName(
        "The VrrpGroup carrying this service. Optional when the VIP identifies it; required for firewall-mark services.",
      ),
    ),
    scheduler: Type.Optional(
      StringEnum(SCHEDULERS, { description: "IPVS scheduler (default wlc).", default: "wlc" }),
    ),
    schedulerFlags: Type.Optional(
      Type.Object(
        {
          fallback: Type.Optional(
            Type.Boolean({ description: "sh/mh: skip overloaded or weight-0 servers (flag-1)." }),
          ),
          port: Type.Optional(Type.Boolean({ description: "sh/mh: hash the source port too (flag-2)." })),
        },
        { description: "Scheduler flags, for sh and mh." },
      ),
    ),
    forwarding: Type.Optional(Forwarding),
    persistence: Type.Optional(Persistence),
    onePacketScheduling: Type.Optional(
      Type.Boolean({
        description: "Schedule each UDP datagram on its own (keepalived ops).",
        default: false,
      }),
    ),
    realServers: MapList(RealServer, ["address", "port"], {
      maxItems: 1000,
      description: "The real servers, unique by address and port.",
    }),
    healthCheck: Type.Optional(HealthCheck),
    initialState: Type.Optional(
      StringEnum(["Healthy", "Unhealthy"] as const, {
        description:
          "State of a server before its first check: Unhealthy is keepalived's alpha (default Healthy).",
        default: "Healthy",
      }),
    ),
    failureAction: Type.Optional(
      StringEnum(["Remove", "Inhibit"] as const, {
        description:
          "A failed server is removed from the table, or kept with weight 0 so established connections finish (keepalived inhibit_on_failure).",
        default: "Remove",
      }),
    ),
    sorryServer: Type.Optional(SorryServer),
    quorum: Type.Optional(Quorum),
    drainTimeoutSeconds: Type.Optional(
      Type.Integer({
        description:
          "Graceful drain: a real server leaving the table (removed from realServers, failed with failureAction Remove, or replaced by the sorry server), or the whole service once deleted, gets weight 0 and is deleted when its active connections end or this long after it left; 0 deletes it at once, as keepalived does. A change applies to drains under way (measured from their start).",
        minimum: 0,
        maximum: 86400,
        default: 120,
        format: "int32",
      }),
    ),
  },
  rules(
    {
      rule: "has(self.firewallMark) ? !has(self.virtualIP) && !has(self.port) && has(self.vrrpGroup) : has(self.virtualIP) && has(self.port)",
      message: "set virtualIP and port, or firewallMark with vrrpGroup (and neither virtualIP nor port)",
    },
    {
      rule: "!has(self.addressFamily) || has(self.firewallMark)",
      message: "addressFamily applies to firewall-mark services only (otherwise it follows virtualIP)",
      fieldPath: ".addressFamily",
    },
    {
      rule: "!has(self.port) || self.port != 0 || has(self.persistence)",
      message: "port 0 (all ports) needs persistence",
      fieldPath: ".port",
    },
    {
      rule: "!has(self.schedulerFlags) || (has(self.scheduler) && self.scheduler in ['sh', 'mh'])",
      message: "schedulerFlags apply to the sh and mh schedulers only",
      fieldPath: ".schedulerFlags",
    },
    {
      rule: "!has(self.onePacketScheduling) || !self.onePacketScheduling || has(self.firewallMark) || (has(self.protocol) && self.protocol == 'UDP')",
      message: "onePacketScheduling applies to UDP services",
      fieldPath: ".onePacketScheduling",
    },
    {
      rule: "!has(self.forwarding) || self.forwarding.method == 'NAT' || !has(self.port) || self.realServers.all(r, r.port == self.port)",
      message: "DR and TUN cannot map ports: each real server's port must equal the virtual port",
      fieldPath: ".realServers",
    },
    {
      rule: "!has(self.persistence) || !has(self.persistence.granularityPrefixLength) || !has(self.virtualIP) || self.virtualIP.contains(':') || self.persistence.granularityPrefixLength <= 32",
      message: "an IPv4 service's persistence granularity is at most /32",
      fieldPath: ".persistence.granularityPrefixLength",
    },
  ),
);
export type VirtualServiceSpec = Static<typeof VirtualServiceSpec>;

export const RealServerStatus = Type.Object({
  address: IPAddress("Real server."),
  port: Type.Integer({ minimum: 0, maximum: 65535, format: "int32" }),
  healthy: Type.Boolean(),
  weight: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 65535, format: "int32", description: "Weight in the kernel table." }),
  ),
  message: Type.Optional(Type.String({ maxLength: 1024, description: "Last check result." })),
  lastCheckTime: Type.Optional(Type.String({ format: "date-time" })),
});
export type RealServerStatus = Static<typeof RealServerStatus>;

export const VirtualServiceStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0, format: "int64" })),
  endpoint: Type.Optional(
    Type.String({ description: "VIP:port/protocol or fwmark:N, for display.", maxLength: 128 }),
  ),
  vrrpGroup: Type.Optional(Type.String({ description: "The VrrpGroup carrying the VIP.", maxLength: 253 })),
  master: Type.Optional(
    Type.String({
      description: "Node that is Master of the VIP (where the table is active).",
      maxLength: 253,
    }),
  ),
  realServersReady: Type.Optional(
    Type.String({ description: "Healthy/total real servers, e.g. 2/3.", maxLength: 16 }),
  ),
  healthyRealServers: Type.Optional(Type.Integer({ minimum: 0, format: "int32" })),
  totalRealServers: Type.Optional(Type.Integer({ minimum: 0, format: "int32" })),
  realServers: Type.Optional(Type.Array(RealServerStatus, { maxItems: 1000 })),
  conditions: Type.Optional(Conditions),
});
export type VirtualServiceStatus = Static<typeof VirtualServiceStatus>;
