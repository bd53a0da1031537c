import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "./kube/resources.js";
import {
  CONTENT_HASH_ANNOTATION,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  nodeInfo,
  referencedSecrets,
  secretValue,
  trimNode,
  trimNodeState,
  trimSecret,
  type VrrpGroupObject,
} from "./cluster-objects.js";
import { microTime } from "./leader-election.js";
import { updateOperations } from "./nodestate-controller.js";

test("a Node is cached as its name, labels, InternalIPs and ExternalIPs only", () => {
  const node = trimNode({
    metadata: {
      name: "node-a",
      labels: { role: "lb" },
      annotations: { big: "x".repeat(1000) },
      resourceVersion: "7",
      managedFields: [{}],
    },
    status: {
      addresses: [
        { type: "Hostname", address: "node-a" },
        { type: "InternalIP", address: "198.51.100.11" },
        { type: "InternalIP", address: "2001:db8::11" },
        { type: "ExternalIP", address: "203.0.113.11" },
      ],
      images: [{ names: ["big"] }],
    },
  } as unknown as KubeObject);
  assert.deepEqual(node, {
    metadata: { name: "node-a", labels: { role: "lb" }, resourceVersion: "7" },
    internalIPs: ["198.51.100.11", "2001:db8::11"],
    externalIPs: ["203.0.113.11"],
  });
  assert.deepEqual(nodeInfo(node), {
    name: "node-a",
    labels: { role: "lb" },
    internalIPs: ["198.51.100.11", "2001:db8::11"],
    externalIPs: ["203.0.113.11"],
  });
});

test("a NodeState is cached without its spec", () => {
  const cached = trimNodeState({
    metadata: { name: "node-a", annotations: { [CONTENT_HASH_ANNOTATION]: "h1" } },
    spec: { vrrpGroups: [] },
    status: { masterOf: "web" },
  } as unknown as KubeObject);
  assert.deepEqual(cached, {
    metadata: { name: "node-a", annotations: { [CONTENT_HASH_ANNOTATION]: "h1" } },
    status: { masterOf: "web" },
  });
});

test("Secrets referenced by groups, and their values decoded", () => {
  const group = (name: string, secret?: string) =>
    ({
      metadata: { name },
      spec: {
        vrid: 1,
        interface: { name: "eth0" },
        virtualIPs: [{ address: "198.51.100.1" }],
        ...(secret
          ? {
              version: 2,
              authentication: {
                type: "Password",
                passwordSecretRef: { namespace: "kubelvs-system", name: secret },
              },
            }
          : {}),
      },
    }) as VrrpGroupObject;
  assert.deepEqual(
    [...referencedSecrets([group("a", "vrrp"), group("b"), group("c", "vrrp")])],
    ["kubelvs-system/vrrp"],
  );
  const secret = trimSecret({
    metadata: { name: "vrrp", namespace: "kubelvs-system" },
    data: { password: Buffer.from("s3cret").toString("base64") },
  } as unknown as KubeObject);
  assert.equal(secretValue(secret, { namespace: "kubelvs-system", name: "vrrp", key: "password" }), "s3cret");
  assert.equal(secretValue(secret, { namespace: "kubelvs-system", name: "vrrp", key: "other" }), undefined);
  assert.equal(
    secretValue(undefined, { namespace: "kubelvs-system", name: "vrrp", key: "password" }),
    undefined,
  );
});

test("a NodeState update tests the cached hash, then sets hash, missing labels and spec", () => {
  const spec = { vrrpGroups: [] };
  const labels = {
    [MANAGED_BY_LABEL]: MANAGED_BY,
    "kubelvs.io/instance": "web",
    "kubelvs.io/node": "node-a",
  };
  assert.deepEqual(
    updateOperations(
      {
        metadata: {
          name: "web.node-a",
          annotations: { [CONTENT_HASH_ANNOTATION]: "old" },
          labels: { [MANAGED_BY_LABEL]: MANAGED_BY, "kubelvs.io/instance": "web" },
        },
      },
      spec,
      "new",
      labels,
    ),
    [
      { op: "test", path: "/metadata/annotations/kubelvs.io~1content-hash", value: "old" },
      { op: "add", path: "/metadata/annotations/kubelvs.io~1content-hash", value: "new" },
      { op: "add", path: "/metadata/labels/kubelvs.io~1node", value: "node-a" },
      { op: "add", path: "/spec", value: spec },
    ],
  );
  assert.deepEqual(updateOperations({ metadata: { name: "web.node-a" } }, spec, "new", labels), [
    { op: "add", path: "/metadata/annotations", value: { [CONTENT_HASH_ANNOTATION]: "new" } },
    { op: "add", path: "/metadata/labels", value: labels },
    { op: "add", path: "/spec", value: spec },
  ]);
});

test("MicroTime has six fractional digits", () => {
  assert.equal(microTime(new Date("2025-03-01T12:00:00.123Z")), "2025-03-01T12:00:00.123000Z");
});
