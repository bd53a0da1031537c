import assert from "node:assert/strict";
import { test } from "node:test";
import { MANAGED_BY, MANAGED_BY_LABEL } from "./cluster-objects.js";
import {
  checkInstanceName,
  defaultLeaseName,
  instanceOf,
  nodeOfNodeState,
  nodeStateLabels,
  nodeStateName,
  nodeStateSelector,
} from "./instance.js";

test("the unnamed instance keeps a single installation's names: NodeState <node>, Lease kubelvs-operator", () => {
  assert.equal(nodeStateName("", "node-a"), "node-a");
  assert.equal(nodeOfNodeState("", "node-a"), "node-a");
  assert.equal(nodeOfNodeState("", "web.node-a"), "web.node-a");
  assert.equal(defaultLeaseName(""), "kubelvs-operator");
  assert.equal(nodeStateSelector(""), "!kubelvs.io/instance");
  assert.deepEqual(nodeStateLabels("", "node-a"), {
    [MANAGED_BY_LABEL]: MANAGED_BY,
    "kubelvs.io/node": "node-a",
  });
});

test("a named instance: NodeState <instance>.<node>, its own Lease, selected by its label", () => {
  assert.equal(nodeStateName("web", "node-a"), "web.node-a");
  assert.equal(nodeStateName("web", "node-a.example.com"), "web.node-a.example.com");
  assert.equal(nodeOfNodeState("web", "web.node-a.example.com"), "node-a.example.com");
  assert.equal(defaultLeaseName("web"), "kubelvs-operator-web");
  assert.equal(nodeStateSelector("web"), "kubelvs.io/instance=web");
  assert.deepEqual(nodeStateLabels("web", "node-a"), {
    [MANAGED_BY_LABEL]: MANAGED_BY,
    "kubelvs.io/instance": "web",
    "kubelvs.io/node": "node-a",
  });
});

test("names that are not an instance's own NodeState names map to no node", () => {
  assert.equal(nodeOfNodeState("web", "node-a"), undefined);
  assert.equal(nodeOfNodeState("web", "web."), undefined);
  assert.equal(nodeOfNodeState("web", "webx.node-a"), undefined);
  // An instance name is a DNS label: "web" never claims "web-2"'s NodeStates.
  assert.equal(nodeOfNodeState("web", "web-2.node-a"), undefined);
});

test("a node name too long for a label value leaves out the node label, not the NodeState", () => {
  const node = `${"n".repeat(60)}.example.com`;
  assert.deepEqual(nodeStateLabels("web", node), {
    [MANAGED_BY_LABEL]: MANAGED_BY,
    "kubelvs.io/instance": "web",
  });
  assert.equal(nodeStateName("web", node), `web.${node}`);
});

test("a NodeState name longer than an object name may be is refused, naming the node", () => {
  const node = "n".repeat(250);
  assert.equal(nodeStateName("", node), node);
  assert.throws(
    () => nodeStateName("web", node),
    /node n+: its NodeState name for instance web would be 254 characters, more than the 253/,
  );
});

test("instance names are DNS labels of up to 63 characters; empty is the unnamed instance", () => {
  for (const good of ["", "web", "team-1", "a", "x".repeat(63)]) assert.equal(checkInstanceName(good), good);
  for (const bad of ["Web", "web.db", "-web", "web-", "web_1", "x".repeat(64)])
    assert.throws(() => checkInstanceName(bad), new RegExp(`instance "${bad}": use at most 63 lowercase`));
});

test("an object's instance is its kubelvs.io/instance label; none or an empty one is the unnamed instance", () => {
  assert.equal(instanceOf({ labels: { "kubelvs.io/instance": "web" } }), "web");
  assert.equal(instanceOf({ labels: { "kubelvs.io/instance": "" } }), "");
  assert.equal(instanceOf({ labels: { other: "x" } }), "");
  assert.equal(instanceOf({}), "");
});
