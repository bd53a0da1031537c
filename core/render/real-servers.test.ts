// The renderer's real-server preparation: DR/TUN real servers (and sorry servers) whose address is a
// cluster node's get the service's VIP in that node's NodeState spec.realServer; directors of the
// VIP are left out and named; NAT and firewall-mark services render nothing.
import assert from "node:assert/strict";
import { test } from "node:test";
import { validateObject } from "../../crds/validate.js";
import { contentHash } from "./content-hash.js";
import { render, type GroupInput, type NodeInfo, type ServiceInput } from "./render.js";

// n1 and n2 are directors (label lb); n3, n4 and n5 are workers that serve as real servers.
const nodes: NodeInfo[] = [
  { name: "n1", labels: { lb: "true" }, internalIPs: ["198.51.100.1", "2001:db8::1"] },
  { name: "n2", labels: { lb: "true" }, internalIPs: ["198.51.100.2", "2001:db8::2"] },
  { name: "n3", labels: {}, internalIPs: ["198.51.100.3", "2001:db8::3"] },
  { name: "n4", labels: {}, internalIPs: ["198.51.100.4"], externalIPs: ["203.0.113.4"] },
  { name: "n5", labels: {}, internalIPs: ["2001:db8::5"] },
];

const directors = (name: string, vips: string[], vrid = 51): GroupInput => ({
  name,
  spec: {
    vrid,
    interface: { name: "eth0" },
    nodeSelector: { matchLabels: { lb: "true" } },
    virtualIPs: vips.map((address) => ({ address })),
  },
});

const service = (name: string, spec: Partial<ServiceInput["spec"]>): ServiceInput => ({
  namespace: "shop",
  name,
  spec: { virtualIP: "198.51.100.200", port: 80, realServers: [], ...spec },
});

const realServer = (address: string, method?: "NAT" | "DR" | "TUN") => ({
  address,
  port: 80,
  ...(method === undefined ? {} : { forwarding: { method } }),
});

const realServerVips = (out: ReturnType<typeof render>) =>
  Object.fromEntries(
    [...out.nodeStates].flatMap(([node, spec]) =>
      spec.realServer === undefined ? [] : [[node, spec.realServer.vips]],
    ),
  );

test("a DR service's real servers on nodes get the VIP; others (off-cluster, NAT) get nothing", () => {
  const out = render({
    nodes,
    groups: [directors("web", ["198.51.100.200", "198.51.100.201"])],
    services: [
      service("dr", {
        forwarding: { method: "DR" },
        realServers: [realServer("198.51.100.3"), realServer("203.0.113.4"), realServer("198.51.100.99")],
      }),
      service("nat", { virtualIP: "198.51.100.201", realServers: [realServer("198.51.100.3")] }),
    ],
  });
  assert.deepEqual(out.problems, []);
  assert.deepEqual(realServerVips(out), {
    n3: [{ address: "198.51.100.200", forwarding: "DR", virtualServices: ["shop/dr"] }],
    // matched by its ExternalIP
    n4: [{ address: "198.51.100.200", forwarding: "DR", virtualServices: ["shop/dr"] }],
  });
  assert.deepEqual(out.realServerNodes.get("shop/dr"), [
    { node: "n3", address: "198.51.100.3", vip: "198.51.100.200", forwarding: "DR" },
    { node: "n4", address: "203.0.113.4", vip: "198.51.100.200", forwarding: "DR" },
  ]);
  assert.equal(out.realServerNodes.has("shop/nat"), false);
  // nodes without a real server keep the plain spec, and every rendered spec is a valid NodeState
  assert.deepEqual(out.nodeStates.get("n5"), { nodeName: "n5", vrrpGroups: [], virtualServices: [] });
  for (const [name, spec] of out.nodeStates)
    assert.deepEqual(
      validateObject({ apiVersion: "kubelvs.io/v1alpha1", kind: "NodeState", metadata: { name }, spec }),
      [],
    );
});

test("IPv6: addresses compare canonically and the VIP is written in RFC 5952 form", () => {
  const out = render({
    nodes,
    groups: [directors("v6", ["2001:db8::200"])],
    services: [
      service("dr6", {
        virtualIP: "2001:DB8:0::200",
        forwarding: { method: "DR" },
        realServers: [realServer("2001:db8:0:0:0:0:0:5"), realServer("2001:DB8::3")],
      }),
    ],
  });
  assert.deepEqual(realServerVips(out), {
    n3: [{ address: "2001:db8::200", forwarding: "DR", virtualServices: ["shop/dr6"] }],
    n5: [{ address: "2001:db8::200", forwarding: "DR", virtualServices: ["shop/dr6"] }],
  });
});

test("per-server forwarding overrides the service's; the sorry server counts; TUN wins on a shared VIP", () => {
  const out = render({
    nodes,
    groups: [directors("web", ["198.51.100.200"])],
    services: [
      service("mixed", {
        // the service is NAT; one server is tunnelled to, one direct-routed, one NAT
        realServers: [
          realServer("198.51.100.3", "TUN"),
          realServer("198.51.100.4", "DR"),
          realServer("2001:db8::5", "NAT"),
        ],
        sorryServer: { address: "198.51.100.4", forwarding: { method: "TUN" } },
      }),
      service("dr-udp", {
        protocol: "UDP",
        forwarding: { method: "DR" },
        realServers: [realServer("198.51.100.3"), realServer("198.51.100.4", "NAT")],
      }),
    ],
  });
  assert.deepEqual(realServerVips(out), {
    n3: [{ address: "198.51.100.200", forwarding: "TUN", virtualServices: ["shop/dr-udp", "shop/mixed"] }],
    n4: [{ address: "198.51.100.200", forwarding: "TUN", virtualServices: ["shop/mixed"] }],
  });
  assert.deepEqual(
    out.realServerNodes.get("shop/mixed")?.map((r) => `${r.node} ${r.forwarding}`),
    ["n3 TUN", "n4 TUN"],
  );
  assert.deepEqual(
    out.realServerNodes.get("shop/dr-udp")?.map((r) => `${r.node} ${r.forwarding}`),
    ["n3 DR"],
  );
});

test("a director of the VIP is never prepared: it is named with the reason", () => {
  const out = render({
    nodes,
    groups: [directors("web", ["198.51.100.200"])],
    services: [
      service("dr", {
        forwarding: { method: "DR" },
        realServers: [realServer("198.51.100.1"), realServer("198.51.100.3")],
      }),
    ],
  });
  assert.deepEqual(realServerVips(out), {
    n3: [{ address: "198.51.100.200", forwarding: "DR", virtualServices: ["shop/dr"] }],
  });
  const [director, worker] = out.realServerNodes.get("shop/dr")!;
  assert.equal(worker?.excluded, undefined);
  assert.equal(director?.node, "n1");
  assert.match(
    director?.excluded ?? "",
    /^node n1 \(198\.51\.100\.1\) is a director of VIP 198\.51\.100\.200 \(VrrpGroup web\) and is not prepared as a DR real server: .*Backup director would take the packets the Master forwards to it.*forward them again/,
  );
  // a director of another group's VIP is an ordinary real server for this one
  const other = render({
    nodes,
    groups: [
      directors("web", ["198.51.100.200"]),
      // db's directors are other machines (no node carries its label)
      {
        name: "db",
        spec: {
          ...directors("db", ["203.0.113.200"], 52).spec,
          nodeSelector: { matchLabels: { db: "true" } },
        },
      },
    ],
    services: [
      service("db", {
        virtualIP: "203.0.113.200",
        forwarding: { method: "DR" },
        realServers: [realServer("198.51.100.1")],
      }),
    ],
  });
  assert.deepEqual(realServerVips(other), {
    n1: [{ address: "203.0.113.200", forwarding: "DR", virtualServices: ["shop/db"] }],
  });
});

test("firewall-mark services and unrendered services prepare nothing; removal empties the section", () => {
  const groups = [directors("web", ["198.51.100.200"])];
  const dr = service("dr", { forwarding: { method: "DR" }, realServers: [realServer("198.51.100.3")] });
  const out = render({
    nodes,
    groups,
    services: [
      service("fwm", {
        virtualIP: undefined,
        port: undefined,
        firewallMark: 7,
        vrrpGroup: "web",
        forwarding: { method: "DR" },
        realServers: [realServer("198.51.100.4")],
      }),
      service("lost", {
        virtualIP: "198.51.100.99",
        forwarding: { method: "DR" },
        realServers: [realServer("198.51.100.4")],
      }),
      dr,
    ],
  });
  assert.deepEqual(Object.keys(realServerVips(out)), ["n3"]);
  const before = contentHash(out.nodeStates.get("n3"));
  // unchanged input: the same spec (the operator writes nothing)
  assert.equal(contentHash(render({ nodes, groups, services: [dr] }).nodeStates.get("n3")), before);
  // the service gone: the section goes with it
  const after = render({ nodes, groups, services: [] });
  assert.deepEqual(after.nodeStates.get("n3"), { nodeName: "n3", vrrpGroups: [], virtualServices: [] });
  assert.equal(after.realServerNodes.size, 0);
});

test("output is sorted and stable whatever the input order", () => {
  const groups = [directors("a", ["198.51.100.200"]), directors("b", ["2001:db8::200"], 52)];
  const services = [
    service("z", { forwarding: { method: "DR" }, realServers: [realServer("198.51.100.3")] }),
    service("y", {
      virtualIP: "2001:db8::200",
      forwarding: { method: "TUN" },
      realServers: [realServer("2001:db8::3")],
    }),
    service("x", {
      protocol: "UDP",
      forwarding: { method: "DR" },
      realServers: [realServer("198.51.100.3")],
    }),
  ];
  const one = render({ nodes, groups, services });
  const two = render({
    nodes: [...nodes].reverse(),
    groups: [...groups].reverse(),
    services: [...services].reverse(),
  });
  assert.deepEqual(one.nodeStates.get("n3")?.realServer, {
    vips: [
      { address: "198.51.100.200", forwarding: "DR", virtualServices: ["shop/x", "shop/z"] },
      { address: "2001:db8::200", forwarding: "TUN", virtualServices: ["shop/y"] },
    ],
  });
  assert.equal(contentHash(one.nodeStates.get("n3")), contentHash(two.nodeStates.get("n3")));
});
