import assert from "node:assert/strict";
import { test } from "node:test";
import { NetlinkError } from "../netlink/errors.js";
import { FakeKernelEdge } from "./fake-kernel.js";

test("the fake kernel edge behaves like the kernel for addresses and links", async () => {
  const kernel = new FakeKernelEdge();
  const eth0 = kernel.links.addLink({ index: 3, name: "eth0" });
  assert.equal((await kernel.links.lookup("eth0"))?.mac, "02:00:00:00:00:03");
  assert.equal(await kernel.links.lookup(9), undefined);

  const events: string[] = [];
  const watch = kernel.addresses.watch({
    onAddress: (action, a) => events.push(`${action} ${a.address}/${a.prefixLength}`),
    onResync: () => events.push("resync"),
    onError: () => events.push("error"),
  });
  const linkEvents: string[] = [];
  kernel.links.watch({
    onLink: (action, l) => linkEvents.push(`${action} ${l.name} ${l.up ? "up" : "down"}`),
    onResync: () => undefined,
    onError: () => undefined,
  });

  await kernel.addresses.add({
    ifindex: eth0.index,
    address: "2001:DB8::10",
    prefixLength: 64,
    flags: ["nodad"],
  });
  await assert.rejects(
    kernel.addresses.add({ ifindex: 3, address: "2001:db8::10", prefixLength: 64 }),
    (e: unknown) => e instanceof NetlinkError && e.code === "EEXIST",
  );
  assert.deepEqual((await kernel.addresses.list({ ifindex: 3 }))[0]?.flagNames, ["nodad", "permanent"]);
  kernel.addresses.removeExternally(3, "2001:db8::10", 64);
  await assert.rejects(
    kernel.addresses.remove({ ifindex: 3, address: "2001:db8::10", prefixLength: 64 }),
    /EADDRNOTAVAIL/,
  );
  kernel.addresses.overrun();
  kernel.links.setUp(3, false);
  watch.close();
  await kernel.addresses.add({ ifindex: 3, address: "198.51.100.10", prefixLength: 24 });
  assert.deepEqual(events, ["new 2001:db8::10/64", "delete 2001:db8::10/64", "resync"]);
  assert.deepEqual(linkEvents, ["new eth0 down"]);

  const received: number[] = [];
  const transport = kernel.openVrrpTransport(4, {
    onAdvert: (_p, meta) => received.push(meta.ttl),
    onError: () => undefined,
  });
  transport.join(3);
  transport.send(Buffer.from([0x31]), { ifindex: 3, source: "198.51.100.1" });
  transport.receive(Buffer.from([0x31]), {
    source: "198.51.100.2",
    destination: "224.0.0.18",
    ifindex: 3,
    ttl: 255,
  });
  assert.equal(kernel.transports[0]?.sent.length, 1);
  assert.deepEqual(received, [255]);
  kernel.neighbors.announce({ ifindex: 3, address: "198.51.100.10", mac: eth0.mac! });
  assert.equal(kernel.neighbors.announced.length, 1);
});
