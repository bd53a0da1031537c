// Compile-time check that the static types follow the schemas: these objects must type-check.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { VrrpGroupSpec } from "./schema/vrrp-group.js";
import type { VirtualServiceSpec } from "./schema/virtual-service.js";
import type { NodeStateSpec } from "./schema/node-state.js";
import { validateObject } from "./validate.js";
import { API_VERSION } from "./definitions.js";

const group: VrrpGroupSpec = {
  vrid: 51,
  version: 3,
  interface: { name: "eth0" },
  virtualIPs: [{ address: "198.51.100.254", prefixLength: 24 }],
};
const service: VirtualServiceSpec = {
  virtualIP: "198.51.100.254",
  port: 80,
  scheduler: "rr",
  realServers: [{ address: "203.0.113.10", port: 8080 }],
};
const node: NodeStateSpec = {
  nodeName: "n1",
  vrrpGroups: [
    { name: "web", vrid: 51, interface: { name: "eth0" }, priority: 150, virtualIPs: group.virtualIPs },
  ],
  virtualServices: [{ namespace: "default", name: "web", vrrpGroup: "web", spec: service }],
};

test("typed objects validate against the schemas they were typed by", () => {
  for (const [kind, spec] of [
    ["VrrpGroup", group],
    ["VirtualService", service],
    ["NodeState", node],
  ] as const) {
    const metadata = kind === "VirtualService" ? { name: "x", namespace: "default" } : { name: "x" };
    assert.deepEqual(validateObject({ apiVersion: API_VERSION, kind, metadata, spec }), []);
  }
});
