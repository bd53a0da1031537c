import assert from "node:assert/strict";
import { test } from "node:test";
import type { VirtualServiceSpec } from "../crds/schema/virtual-service.js";
import type { VirtualServiceObject, VrrpGroupObject } from "./cluster-objects.js";
import { ServiceAttachment, instanceMembers } from "./instance-membership.js";

function group(
  name: string,
  instance: string | undefined,
  vips: string[],
  created = "2025-01-01T00:00:00Z",
): VrrpGroupObject {
  return {
    metadata: {
      name,
      creationTimestamp: created,
      ...(instance === undefined ? {} : { labels: { "kubelvs.io/instance": instance } }),
    },
    spec: {
      vrid: 1,
      interface: { name: "eth0" },
      virtualIPs: vips.map((address) => ({ address })),
    },
  };
}

function service(name: string, spec: Partial<VirtualServiceSpec>): VirtualServiceObject {
  return {
    metadata: { name, namespace: "shop" },
    spec: { port: 80, realServers: [], ...spec },
  };
}

const names = (objects: { metadata: { name: string } }[]) => objects.map((o) => o.metadata.name);

const groups = [
  group("plain", undefined, ["198.51.100.10"]),
  group("web", "web", ["198.51.100.20", "2001:db8::20"]),
  group("db", "db", ["198.51.100.30"]),
];
const services = [
  service("by-plain-vip", { virtualIP: "198.51.100.10" }),
  service("by-web-vip", { virtualIP: "198.51.100.20" }),
  // The same address written another way still finds the web group.
  service("by-web-v6", { virtualIP: "2001:DB8:0::20" }),
  service("by-db-name", { firewallMark: 7, vrrpGroup: "db" }),
  service("unknown-vip", { virtualIP: "198.51.100.99" }),
  service("unknown-group", { firewallMark: 8, vrrpGroup: "missing" }),
];

test("each instance gets its labelled groups and the services attached to them", () => {
  assert.deepEqual(names(instanceMembers("web", groups, services).groups), ["web"]);
  assert.deepEqual(names(instanceMembers("web", groups, services).services), ["by-web-vip", "by-web-v6"]);
  assert.deepEqual(names(instanceMembers("db", groups, services).groups), ["db"]);
  assert.deepEqual(names(instanceMembers("db", groups, services).services), ["by-db-name"]);
});

test("the unnamed instance gets the unlabelled groups and the services attached to no group at all", () => {
  const members = instanceMembers("", groups, services);
  assert.deepEqual(names(members.groups), ["plain"]);
  assert.deepEqual(names(members.services), ["by-plain-vip", "unknown-vip", "unknown-group"]);
});

test("every service is served by exactly one instance", () => {
  const served = ["", "web", "db", "other"].flatMap((i) =>
    names(instanceMembers(i, groups, services).services),
  );
  assert.deepEqual(served.sort(), names(services).sort());
});

test("a group labelled with an empty instance belongs to the unnamed instance", () => {
  const emptyLabel = group("empty-label", "", ["198.51.100.40"]);
  assert.deepEqual(names(instanceMembers("", [emptyLabel], []).groups), ["empty-label"]);
});

test("a VIP listed by groups of two instances attaches its services to the oldest group's instance", () => {
  const older = group("older", "db", ["198.51.100.50"], "2025-01-01T00:00:00Z");
  const newer = group("newer", "web", ["198.51.100.50"], "2025-02-01T00:00:00Z");
  const byVip = service("shared", { virtualIP: "198.51.100.50" });
  for (const order of [
    [older, newer],
    [newer, older],
  ])
    assert.equal(new ServiceAttachment(order).instanceOf(byVip), "db");
  // Same age: the name decides.
  const a = group("a", "web", ["198.51.100.60"], "2025-01-01T00:00:00Z");
  const b = group("b", "db", ["198.51.100.60"], "2025-01-01T00:00:00Z");
  assert.equal(new ServiceAttachment([b, a]).instanceOf(service("s", { virtualIP: "198.51.100.60" })), "web");
});

test("an excluded VIP attaches like a VIP; a named group wins over the VIP", () => {
  const g = group("web", "web", ["198.51.100.20"]);
  g.spec.excludedVirtualIPs = [{ address: "198.51.100.21" }];
  const attachment = new ServiceAttachment([g, group("plain", undefined, ["198.51.100.10"])]);
  assert.equal(attachment.instanceOf(service("excluded", { virtualIP: "198.51.100.21" })), "web");
  // Named group and VIP disagree: the group decides (its instance reports the VIP mismatch).
  assert.equal(
    attachment.instanceOf(service("mixed", { virtualIP: "198.51.100.10", vrrpGroup: "web" })),
    "web",
  );
});
