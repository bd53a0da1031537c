import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, parseAgentConfig } from "./load.js";

const bare = `
vrrpGroups:
  - name: web
    vrid: 51
    interface: { name: eth0 }
    priority: 150
    virtualIPs: [{ address: 198.51.100.254, prefixLength: 24 }]
`;

test("a bare spec is read and defaulted", () => {
  const spec = parseAgentConfig(bare, "agent.yaml");
  const g = spec.vrrpGroups[0]!;
  assert.equal(g.version, 3);
  assert.equal(g.advertIntervalMillis, 1000);
  assert.equal(g.preempt, true);
});

test("a whole NodeState object is read too", () => {
  const text = `apiVersion: kubelvs.io/v1alpha1\nkind: NodeState\nmetadata: {name: n1}\nspec:${bare.replace(/\n/g, "\n  ")}`;
  assert.equal(parseAgentConfig(text, "n1.yaml").vrrpGroups[0]!.name, "web");
});

test("problems are reported with file, document and path", () => {
  assert.throws(
    () => parseAgentConfig(bare.replace("vrid: 51", "vrid: 0"), "agent.yaml"),
    (e: unknown) =>
      e instanceof ConfigError && e.problems.includes("agent.yaml:1:spec.vrrpGroups[0].vrid: must be >= 1"),
  );
  assert.throws(
    () => parseAgentConfig("a: [", "x.yaml"),
    /x\.yaml: invalid agent configuration:\n {2}YAML: /,
  );
  assert.throws(() => parseAgentConfig("- 1\n", "x.yaml"), /expected a NodeState object/);
  assert.throws(
    () =>
      parseAgentConfig(
        "apiVersion: kubelvs.io/v1alpha1\nkind: VrrpGroup\nmetadata: {name: a}\nspec: {vrid: 1, interface: {name: eth0}, virtualIPs: [{address: 198.51.100.1}]}\n",
        "g.yaml",
      ),
    /the agent reads a NodeState/,
  );
});

test("embedded virtual services get the VirtualService rules the NodeState CRD cannot afford", () => {
  const withService = `${bare}virtualServices:
  - namespace: standalone
    name: web
    vrrpGroup: web
    spec:
      virtualIP: 198.51.100.254
      port: 80
      forwarding: { method: DR }
      realServers: [{ address: 198.51.100.101, port: 8080 }]
`;
  assert.throws(
    () => parseAgentConfig(withService, "agent.yaml"),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.problems[0] ===
        "agent.yaml:1:spec.virtualServices[0].spec.realServers: DR and TUN cannot map ports: each real server's port must equal the virtual port",
  );
});
