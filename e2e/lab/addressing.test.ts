import assert from "node:assert/strict";
import { test } from "node:test";
import { planLab } from "./addressing.js";

test("the default lab: three nodes and a client on 198.51.100.0/24 and 2001:db8::/64", () => {
  const hosts = planLab();
  assert.deepEqual(
    hosts.map((h) => [h.name, h.interfaces[0]!.ipv4, h.interfaces[0]!.ipv6, h.interfaces[0]!.mac]),
    [
      ["n1", "198.51.100.1", "2001:db8::1", "02:00:00:00:01:01"],
      ["n2", "198.51.100.2", "2001:db8::2", "02:00:00:00:01:02"],
      ["n3", "198.51.100.3", "2001:db8::3", "02:00:00:00:01:03"],
      ["client", "198.51.100.100", "2001:db8::64", "02:00:00:00:01:64"],
    ],
  );
});

test("a backend LAN gives every node an eth1 on 203.0.113.0/24 and puts backends there", () => {
  const hosts = planLab({ nodes: 2, client: false, backends: 2, backendLan: true });
  assert.deepEqual(
    hosts.map((h) => [h.name, h.interfaces.map((i) => `${i.name}=${i.ipv4}/${i.ipv6}@${i.bridgePort}`)]),
    [
      ["n1", ["eth0=198.51.100.1/2001:db8::1@p-n1", "eth1=203.0.113.1/2001:db8:0:2::1@p-n1"]],
      ["n2", ["eth0=198.51.100.2/2001:db8::2@p-n2", "eth1=203.0.113.2/2001:db8:0:2::2@p-n2"]],
      ["b1", ["eth0=203.0.113.101/2001:db8:0:2::65@p-b1"]],
      ["b2", ["eth0=203.0.113.102/2001:db8:0:2::66@p-b2"]],
    ],
  );
  // without a backend LAN, backends share the LAN
  assert.equal(planLab({ backends: 1 }).at(-1)!.interfaces[0]!.ipv4, "198.51.100.201");
});

test("every address is a documentation address and every interface name fits in 15 bytes", () => {
  for (const host of planLab({ nodes: 50, backends: 50, backendLan: true })) {
    for (const i of host.interfaces) {
      assert.match(i.ipv4, /^(198\.51\.100|203\.0\.113)\.\d+$/);
      assert.match(i.ipv6, /^2001:db8:/);
      assert.ok(i.name.length <= 15 && i.bridgePort.length <= 15, i.bridgePort);
    }
  }
  assert.throws(() => planLab({ nodes: 0 }), /1..50/);
});
