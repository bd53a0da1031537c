import { test } from "node:test";
import assert from "node:assert/strict";
import { canonicalAddress, render, type GroupInput, type NodeInfo, type ServiceInput } from "./render.js";
import { contentHash } from "./content-hash.js";
import { selectorMatches } from "./label-selector.js";
import { validateObject } from "../../crds/validate.js";

const nodes: NodeInfo[] = [
  { name: "n1", labels: { lb: "true", zone: "a" }, internalIPs: ["198.51.100.1", "2001:db8::1"] },
  { name: "n2", labels: { lb: "true", zone: "b" }, internalIPs: ["198.51.100.2", "2001:db8::2"] },
  { name: "n3", labels: { zone: "a" }, internalIPs: ["198.51.100.3"] },
];

function group(name: string, spec: Partial<GroupInput["spec"]> = {}, creationTimestamp?: string): GroupInput {
  return {
    name,
    ...(creationTimestamp ? { creationTimestamp } : {}),
    spec: {
      vrid: 51,
      interface: { name: "eth0" },
      virtualIPs: [{ address: "198.51.100.254", prefixLength: 24 }],
      ...spec,
    },
  };
}

function service(
  namespace: string,
  name: string,
  spec: Partial<ServiceInput["spec"]> = {},
  creationTimestamp?: string,
): ServiceInput {
  return {
    namespace,
    name,
    ...(creationTimestamp ? { creationTimestamp } : {}),
    spec: {
      virtualIP: "198.51.100.254",
      port: 80,
      realServers: [{ address: "203.0.113.10", port: 80 }],
      ...spec,
    },
  };
}

test("a group renders on the nodes its selector picks, with per-node priority and unicast peers", () => {
  const out = render({
    nodes,
    groups: [
      group("web", {
        nodeSelector: { matchLabels: { lb: "true" } },
        priority: { default: 90, nodes: [{ nodeName: "n1", priority: 150 }] },
        unicast: { extraPeers: ["198.51.100.200"] },
      }),
    ],
    services: [service("default", "http")],
  });
  assert.deepEqual(out.problems, []);
  assert.deepEqual(out.groupNodes.get("web"), ["n1", "n2"]);
  const n1 = out.nodeStates.get("n1")!;
  assert.equal(n1.vrrpGroups[0]!.priority, 150);
  assert.deepEqual(n1.vrrpGroups[0]!.unicastPeers, ["198.51.100.2", "198.51.100.200"]);
  assert.equal(n1.vrrpGroups[0]!.unicastSourceAddress, "198.51.100.1");
  assert.equal(out.nodeStates.get("n2")!.vrrpGroups[0]!.priority, 90);
  assert.deepEqual(out.nodeStates.get("n3"), { nodeName: "n3", vrrpGroups: [], virtualServices: [] });
  assert.deepEqual(
    n1.virtualServices?.map((s) => `${s.namespace}/${s.name}@${s.vrrpGroup}`),
    ["default/http@web"],
  );
  // what the renderer writes must be a valid NodeState
  for (const [name, spec] of out.nodeStates) {
    assert.deepEqual(
      validateObject({ apiVersion: "kubelvs.io/v1alpha1", kind: "NodeState", metadata: { name }, spec }),
      [],
    );
  }
});

test("rendering is deterministic whatever the input order", () => {
  const groups = [
    group("a", { vrid: 1, virtualIPs: [{ address: "198.51.100.11" }] }),
    group("b", { vrid: 2, virtualIPs: [{ address: "198.51.100.12" }] }),
  ];
  const services = [
    service("x", "s1", { virtualIP: "198.51.100.11" }),
    service("y", "s2", { virtualIP: "198.51.100.12" }),
  ];
  const one = render({ nodes, groups, services });
  const two = render({
    nodes: [...nodes].reverse(),
    groups: [...groups].reverse(),
    services: [...services].reverse(),
  });
  for (const n of nodes)
    assert.equal(contentHash(one.nodeStates.get(n.name)), contentHash(two.nodeStates.get(n.name)));
});

test("a VRID clash on one interface: the older group wins, the newer is reported and not rendered", () => {
  const out = render({
    nodes,
    groups: [
      group("newer", { virtualIPs: [{ address: "198.51.100.20" }] }, "2026-01-02T00:00:00Z"),
      group("older", {}, "2026-01-01T00:00:00Z"),
    ],
    services: [],
  });
  assert.deepEqual(out.problems, [
    {
      kind: "VrrpGroup",
      name: "newer",
      reason: "VRIDConflict",
      message: "VRID 51 (IPv4) is already used on the same interface by VrrpGroup older",
    },
  ]);
  assert.deepEqual([...out.groupNodes.keys()], ["older"]);
});

test("the same VRID is fine on another interface, on disjoint subnets, and across families", () => {
  const out = render({
    nodes,
    groups: [
      group("a"),
      group("b", { interface: { name: "eth1" }, virtualIPs: [{ address: "198.51.100.30" }] }),
      group("c", { interface: { name: "eth0" }, virtualIPs: [{ address: "2001:db8::30" }] }),
      group("d", { interface: { cidr: "203.0.113.0/24" }, virtualIPs: [{ address: "203.0.113.30" }] }),
      group("e", { interface: { cidr: "198.51.100.0/25" }, virtualIPs: [{ address: "198.51.100.31" }] }),
    ],
    services: [],
  });
  assert.deepEqual(out.problems, []);
});

test("overlapping subnets by CIDR clash", () => {
  const out = render({
    nodes,
    groups: [
      group("a", { interface: { cidr: "198.51.100.0/24" } }),
      group("b", { interface: { cidr: "198.51.100.128/25" }, virtualIPs: [{ address: "198.51.100.131" }] }),
    ],
    services: [],
  });
  assert.deepEqual(
    out.problems.map((p) => `${p.name}:${p.reason}`),
    ["b:VRIDConflict"],
  );
});

test("a VIP claimed by two groups (also in another spelling) is a conflict", () => {
  const out = render({
    nodes,
    groups: [
      group("a", { vrid: 1, virtualIPs: [{ address: "2001:db8::10" }] }),
      group("b", { vrid: 2, virtualIPs: [{ address: "2001:DB8:0:0::10" }] }),
    ],
    services: [],
  });
  assert.deepEqual(
    out.problems.map((p) => p.message),
    ["virtual IP 2001:db8:0:0:0:0:0:10 already belongs to VrrpGroup a"],
  );
});

test("services: unknown VIP, unknown group, namespace not allowed, endpoint claimed twice", () => {
  const out = render({
    nodes,
    namespaces: [
      { name: "web", labels: { team: "web" } },
      { name: "other", labels: {} },
    ],
    groups: [
      group("g", { allowedNamespaces: { from: "Selector", selector: { matchLabels: { team: "web" } } } }),
    ],
    services: [
      service("web", "first", {}, "2026-01-01T00:00:00Z"),
      service("web", "second", {}, "2026-01-02T00:00:00Z"),
      service("other", "sneaky", { port: 443 }),
      service("web", "nowhere", { virtualIP: "198.51.100.99" }),
      service("web", "ghost", { vrrpGroup: "missing" }),
      service("web", "udp", { protocol: "UDP" }),
    ],
  });
  assert.deepEqual(
    out.problems.map((p) => `${p.namespace}/${p.name} ${p.reason}: ${p.message}`),
    [
      // objects without a creation time first, then by namespace/name
      "other/sneaky NamespaceNotAllowed: VrrpGroup g does not allow VirtualServices from namespace other",
      "web/ghost UnknownGroup: VrrpGroup missing does not exist",
      "web/nowhere UnknownVIP: no VrrpGroup carries virtual IP 198.51.100.99",
      "web/second EndpointConflict: TCP 198.51.100.254:80 is already served by VirtualService web/first",
    ],
  );
  assert.deepEqual([...out.serviceGroups.keys()].sort(), ["web/first", "web/udp"]);
});

test("v2 password comes from the Secret and is cut to 8 bytes; a missing Secret is reported", () => {
  const auth = { type: "Password" as const, passwordSecretRef: { name: "vrrp", namespace: "kube-system" } };
  const ok = render({
    nodes,
    groups: [group("g", { version: 2, authentication: auth })],
    services: [],
    secretValue: (ref) => (ref.name === "vrrp" && ref.key === "password" ? "longpassword" : undefined),
  });
  assert.equal(ok.nodeStates.get("n1")!.vrrpGroups[0]!.authPassword, "longpass");
  const missing = render({ nodes, groups: [group("g", { version: 2, authentication: auth })], services: [] });
  assert.deepEqual(
    missing.problems.map((p) => p.reason),
    ["SecretMissing"],
  );
});

test("label selectors: matchLabels and every matchExpressions operator", () => {
  const labels = { a: "1", b: "2" };
  assert.equal(selectorMatches(undefined, labels), true);
  assert.equal(selectorMatches({}, labels), true);
  assert.equal(selectorMatches({ matchLabels: { a: "1" } }, labels), true);
  assert.equal(selectorMatches({ matchLabels: { a: "2" } }, labels), false);
  assert.equal(
    selectorMatches({ matchExpressions: [{ key: "a", operator: "In", values: ["1", "3"] }] }, labels),
    true,
  );
  assert.equal(
    selectorMatches({ matchExpressions: [{ key: "a", operator: "NotIn", values: ["1"] }] }, labels),
    false,
  );
  assert.equal(
    selectorMatches({ matchExpressions: [{ key: "c", operator: "NotIn", values: ["1"] }] }, labels),
    true,
  );
  assert.equal(selectorMatches({ matchExpressions: [{ key: "b", operator: "Exists" }] }, labels), true);
  assert.equal(
    selectorMatches({ matchExpressions: [{ key: "b", operator: "DoesNotExist" }] }, labels),
    false,
  );
});

test("canonical addresses", () => {
  assert.equal(canonicalAddress("2001:DB8::1"), "2001:db8:0:0:0:0:0:1");
  assert.equal(canonicalAddress("::1"), "0:0:0:0:0:0:0:1");
  assert.equal(canonicalAddress("198.51.100.1"), "198.51.100.1");
});
