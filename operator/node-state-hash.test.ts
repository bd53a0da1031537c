import assert from "node:assert/strict";
import { test } from "node:test";
import type { NodeStateSpec } from "../crds/schema/node-state.js";
import type { VirtualServiceSpec } from "../crds/schema/virtual-service.js";
import { contentHash } from "../core/render/content-hash.js";
import { NodeStateHasher } from "./node-state-hash.js";

const http: VirtualServiceSpec = {
  virtualIP: "198.51.100.200",
  port: 80,
  protocol: "TCP",
  scheduler: "wlc",
  realServers: [
    { address: "203.0.113.1", port: 8080, weight: 3, healthCheck: { type: "TCP", port: 8080 } },
    { address: "203.0.113.2", port: 8080 },
  ],
  healthCheck: { type: "HTTP", http: { paths: [{ path: "/healthz", statusCodes: [200, 204] }] } },
  persistence: undefined,
};

function spec(services: VirtualServiceSpec[]): NodeStateSpec {
  return {
    nodeName: "node-a",
    vrrpGroups: [
      {
        name: "web",
        vrid: 51,
        interface: { cidr: "198.51.100.0/24" },
        virtualIPs: [{ address: "198.51.100.200", prefixLength: 24 }],
        priority: 150,
        unicastPeers: ["198.51.100.12", "198.51.100.13"],
        unicastSourceAddress: undefined,
      },
    ],
    virtualServices: services.map((s, i) => ({
      namespace: "shop",
      name: `svc-${i}`,
      vrrpGroup: "web",
      spec: s,
    })),
  };
}

test("the fast hash equals contentHash for the same spec, also when specs repeat and change", () => {
  const hasher = new NodeStateHasher();
  const first = spec([http, { ...http, port: 443 }]);
  assert.equal(hasher.hash(first), contentHash(first));
  assert.equal(hasher.hash(first), contentHash(first), "cached texts give the same answer");
  const changed = spec([http, { ...http, port: 8443 }]);
  assert.equal(hasher.hash(changed), contentHash(changed));
  assert.notEqual(hasher.hash(changed), hasher.hash(first));
  const sameSpecTwice = spec([http, http]);
  assert.equal(hasher.hash(sameSpecTwice), contentHash(sameSpecTwice), "entries differing by name only");
  const bare: NodeStateSpec = { vrrpGroups: [] };
  assert.equal(hasher.hash(bare), contentHash(bare));
  const noServices: NodeStateSpec = { nodeName: "x", vrrpGroups: [], virtualServices: undefined };
  assert.equal(hasher.hash(noServices), contentHash(noServices));
});
