import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { formatIssue, validateObject, validateYaml } from "./validate.js";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));

function vrrpGroup(spec: Record<string, unknown>) {
  return {
    apiVersion: "kubelvs.io/v1alpha1",
    kind: "VrrpGroup",
    metadata: { name: "web" },
    spec: {
      vrid: 51,
      interface: { name: "eth0" },
      virtualIPs: [{ address: "198.51.100.254", prefixLength: 24 }],
      ...spec,
    },
  };
}

/** A NodeState (the agent's configuration file) carrying one VirtualService spec. */
function nodeState(spec: Record<string, unknown>) {
  return {
    apiVersion: "kubelvs.io/v1alpha1",
    kind: "NodeState",
    metadata: { name: "n1" },
    spec: {
      nodeName: "n1",
      vrrpGroups: [],
      virtualServices: [{ namespace: "default", name: "web", vrrpGroup: "web", spec }],
    },
  };
}

function virtualService(spec: Record<string, unknown>) {
  return {
    apiVersion: "kubelvs.io/v1alpha1",
    kind: "VirtualService",
    metadata: { name: "web", namespace: "default" },
    spec: {
      virtualIP: "198.51.100.254",
      port: 80,
      realServers: [{ address: "203.0.113.10", port: 80 }],
      ...spec,
    },
  };
}

test("every example manifest validates", () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml"));
  assert.ok(files.length >= 3);
  for (const f of files) {
    const r = validateYaml(readFileSync(EXAMPLES + f, "utf8"));
    assert.deepEqual(
      r.issues.map((i) => formatIssue(f, i)),
      [],
    );
    assert.ok(r.objects.length > 0);
  }
});

test("defaults are applied as the API server would", () => {
  const obj = vrrpGroup({});
  assert.deepEqual(validateObject(obj), []);
  assert.equal((obj.spec as Record<string, unknown>).version, 3);
  assert.equal((obj.spec as Record<string, unknown>).advertIntervalMillis, 1000);
  assert.equal((obj.spec as Record<string, unknown>).preempt, true);
  const vs = virtualService({});
  assert.deepEqual(validateObject(vs), []);
  assert.equal((vs.spec as Record<string, unknown>).scheduler, "wlc");
  assert.equal((vs.spec as Record<string, unknown>).protocol, "TCP");
  assert.equal((vs.spec as Record<string, unknown>).drainTimeoutSeconds, 120);
});

test("drainTimeoutSeconds from 0 (no drain) to 86400 (a day) is valid, in a VirtualService and a NodeState", () => {
  for (const drainTimeoutSeconds of [0, 2, 86400]) {
    const vs = virtualService({ drainTimeoutSeconds });
    assert.deepEqual(validateObject(vs), [], `${drainTimeoutSeconds}`);
    assert.equal((vs.spec as Record<string, unknown>).drainTimeoutSeconds, drainTimeoutSeconds);
    const node = nodeState(virtualService({ drainTimeoutSeconds }).spec);
    assert.deepEqual(validateObject(node), [], `NodeState with ${drainTimeoutSeconds}`);
  }
});

// Each case: an object, then the expected "path: message" lines.
const bad: [string, unknown, string[]][] = [
  ["VRID 0", vrrpGroup({ vrid: 0 }), ["spec.vrid: must be >= 1"]],
  ["VRID 256", vrrpGroup({ vrid: 256 }), ["spec.vrid: must be <= 255"]],
  ["version 4", vrrpGroup({ version: 4 }), ["spec.version: must be one of: 2, 3"]],
  [
    "v2 with a sub-second interval",
    vrrpGroup({ version: 2, advertIntervalMillis: 500 }),
    [
      "spec.advertIntervalMillis: advertIntervalMillis: version 2 carries whole seconds (1000-255000); version 3 carries centiseconds (10-40950, a multiple of 10)",
    ],
  ],
  [
    "v3 interval beyond 40.95 s",
    vrrpGroup({ advertIntervalMillis: 41000 }),
    [
      "spec.advertIntervalMillis: advertIntervalMillis: version 2 carries whole seconds (1000-255000); version 3 carries centiseconds (10-40950, a multiple of 10)",
    ],
  ],
  [
    "interval below 10 ms",
    vrrpGroup({ advertIntervalMillis: 5 }),
    ["spec.advertIntervalMillis: must be >= 10"],
  ],
  [
    "bad VIP",
    vrrpGroup({ virtualIPs: [{ address: "198.51.100.300" }] }),
    ["spec.virtualIPs[0].address: must be an IPv4 or IPv6 address"],
  ],
  ["no VIP", vrrpGroup({ virtualIPs: [] }), ["spec.virtualIPs: must NOT have fewer than 1 items"]],
  [
    "IPv4 prefix /33",
    vrrpGroup({ virtualIPs: [{ address: "198.51.100.254", prefixLength: 33 }] }),
    ["spec.virtualIPs[0].prefixLength: an IPv4 address has a prefix length of at most 32"],
  ],
  [
    "mixed families",
    vrrpGroup({ virtualIPs: [{ address: "198.51.100.254" }, { address: "2001:db8::1" }] }),
    [
      "spec.virtualIPs: virtualIPs must all be IPv4 or all IPv6 (a VRRP instance serves one family; use excludedVirtualIPs or a second group)",
    ],
  ],
  [
    "IPv6 in version 2",
    vrrpGroup({ version: 2, virtualIPs: [{ address: "2001:db8::1" }] }),
    ["spec.virtualIPs: version 2 is IPv4 only"],
  ],
  [
    "interface name and cidr",
    vrrpGroup({ interface: { name: "eth0", cidr: "198.51.100.0/24" } }),
    ["spec.interface: set exactly one of name or cidr"],
  ],
  [
    "interface cidr invalid",
    vrrpGroup({ interface: { cidr: "198.51.100.0/40" } }),
    ['spec.interface.cidr: must match format "cidr"'],
  ],
  [
    "interface name too long",
    vrrpGroup({ interface: { name: "a-very-long-interface-name" } }),
    ["spec.interface.name: must NOT have more than 15 characters"],
  ],
  [
    "priority 255 as default",
    vrrpGroup({ priority: { default: 255 } }),
    ["spec.priority.default: must be <= 254"],
  ],
  [
    "priority 0 for a node",
    vrrpGroup({ priority: { nodes: [{ nodeName: "n1", priority: 0 }] } }),
    ["spec.priority.nodes[0].priority: must be >= 1"],
  ],
  [
    "authentication in version 3",
    vrrpGroup({
      authentication: { type: "Password", passwordSecretRef: { name: "vrrp", namespace: "kube-system" } },
    }),
    ["spec.authentication: authentication exists only in version 2 (RFC 5798 removed it)"],
  ],
  [
    "preempt delay without preempt",
    vrrpGroup({ preempt: false, preemptDelayMillis: 1000 }),
    ["spec.preemptDelayMillis: preemptDelayMillis has no effect with preempt: false"],
  ],
  [
    "unknown field",
    vrrpGroup({ virtualRouterID: 5 }),
    ['spec.virtualRouterID: unknown field "virtualRouterID"'],
  ],
  [
    "namespace on a cluster-scoped kind",
    { ...vrrpGroup({}), metadata: { name: "web", namespace: "x" } },
    ["metadata.namespace: VrrpGroup is cluster-scoped and has no namespace"],
  ],
  [
    "bad object name",
    { ...vrrpGroup({}), metadata: { name: "Web_1" } },
    ["metadata.name: must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-', '.')"],
  ],
  [
    "unknown scheduler",
    virtualService({ scheduler: "random" }),
    [
      'spec.scheduler: must be one of: "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"',
    ],
  ],
  ["port 65536", virtualService({ port: 65536 }), ["spec.port: must be <= 65535"]],
  [
    "weight out of range",
    virtualService({ realServers: [{ address: "203.0.113.10", port: 80, weight: 70000 }] }),
    ["spec.realServers[0].weight: must be <= 65535"],
  ],
  [
    "DR with port mapping",
    virtualService({ forwarding: { method: "DR" }, realServers: [{ address: "203.0.113.10", port: 8080 }] }),
    ["spec.realServers: DR and TUN cannot map ports: each real server's port must equal the virtual port"],
  ],
  [
    "fwmark together with a VIP",
    virtualService({ firewallMark: 7 }),
    ["spec: set virtualIP and port, or firewallMark with vrrpGroup (and neither virtualIP nor port)"],
  ],
  [
    "port 0 without persistence",
    virtualService({ port: 0 }),
    ["spec.port: port 0 (all ports) needs persistence"],
  ],
  [
    "scheduler flags on wlc",
    virtualService({ schedulerFlags: { port: true } }),
    ["spec.schedulerFlags: schedulerFlags apply to the sh and mh schedulers only"],
  ],
  [
    "one-packet scheduling on TCP",
    virtualService({ onePacketScheduling: true }),
    ["spec.onePacketScheduling: onePacketScheduling applies to UDP services"],
  ],
  [
    "HTTP check without http",
    virtualService({ healthCheck: { type: "HTTP" } }),
    ["spec.healthCheck.http: HTTP and HTTPS checks need http"],
  ],
  [
    "GUE without port",
    virtualService({ forwarding: { method: "TUN", tunnel: { type: "GUE" } } }),
    ["spec.forwarding.tunnel.port: GUE needs a port"],
  ],
  [
    "tunnel with NAT",
    virtualService({ forwarding: { method: "NAT", tunnel: { type: "IPIP" } } }),
    ["spec.forwarding.tunnel: tunnel applies to method TUN only"],
  ],
  [
    "bad digest",
    virtualService({ healthCheck: { type: "HTTP", http: { paths: [{ path: "/", digest: "xyz" }] } } }),
    ['spec.healthCheck.http.paths[0].digest: must match pattern "^[0-9a-f]{32}$"'],
  ],
  [
    "duplicate real servers",
    virtualService({
      realServers: [
        { address: "203.0.113.10", port: 80 },
        { address: "203.0.113.10", port: 80 },
      ],
    }),
    ['spec.realServers[1]: duplicate entry (address="203.0.113.10", port=80)'],
  ],
  [
    "negative drain timeout",
    virtualService({ drainTimeoutSeconds: -1 }),
    ["spec.drainTimeoutSeconds: must be >= 0"],
  ],
  [
    "drain timeout over a day",
    virtualService({ drainTimeoutSeconds: 86401 }),
    ["spec.drainTimeoutSeconds: must be <= 86400"],
  ],
  [
    "drain timeout with a fraction",
    virtualService({ drainTimeoutSeconds: 1.5 }),
    ["spec.drainTimeoutSeconds: must be integer", 'spec.drainTimeoutSeconds: must match format "int32"'],
  ],
  [
    "drain timeout as a string",
    virtualService({ drainTimeoutSeconds: "2m" }),
    ["spec.drainTimeoutSeconds: must be integer"],
  ],
  [
    "negative drain timeout in a NodeState (the agent's configuration file)",
    nodeState(virtualService({ drainTimeoutSeconds: -5 }).spec),
    ["spec.virtualServices[0].spec.drainTimeoutSeconds: must be >= 0"],
  ],
  [
    "wrong apiVersion",
    { ...vrrpGroup({}), apiVersion: "v1" },
    ['apiVersion: must be kubelvs.io/v1alpha1 (kinds: VrrpGroup, VirtualService, NodeState), got "v1"'],
  ],
  [
    "unknown kind",
    { ...vrrpGroup({}), kind: "VrrpInstance" },
    ['kind: must be one of VrrpGroup, VirtualService, NodeState, got "VrrpInstance"'],
  ],
];

for (const [name, obj, expected] of bad) {
  test(`rejects: ${name}`, () => {
    const issues = validateObject(obj).map((i) => `${i.path}: ${i.message}`);
    assert.deepEqual(issues, expected);
  });
}

test("an address label in keepalived's device:name form is valid", () => {
  assert.deepEqual(
    validateObject(vrrpGroup({ virtualIPs: [{ address: "198.51.100.254", label: "eth0:vip" }] })),
    [],
  );
});

test("errors carry file, document and path", () => {
  const text =
    "apiVersion: kubelvs.io/v1alpha1\nkind: VrrpGroup\nmetadata: {name: a}\nspec: {vrid: 1, interface: {name: eth0}, virtualIPs: [{address: 198.51.100.1}]}\n---\napiVersion: kubelvs.io/v1alpha1\nkind: VrrpGroup\nmetadata: {name: b}\nspec: {vrid: 300, interface: {name: eth0}, virtualIPs: [{address: 198.51.100.2}]}\n";
  const r = validateYaml(text);
  assert.deepEqual(
    r.issues.map((i) => formatIssue("g.yaml", i)),
    ["g.yaml:2:spec.vrid: must be <= 255"],
  );
  assert.equal(r.objects.length, 2);
});

test("YAML syntax errors are reported, not thrown", () => {
  const r = validateYaml("kind: [unterminated\n");
  assert.equal(r.issues.length, 1);
  assert.match(r.issues[0]!.message, /^YAML: /);
});
