import assert from "node:assert/strict";
import { test } from "node:test";
import { NativeSystemError } from "../addon.js";
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

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test("the fake kernel's precise timers run on the event loop, never early, once per arm", async () => {
  const kernel = new FakeKernelEdge();
  const fires: number[] = [];
  const timer = kernel.createTimer(() => fires.push(kernel.monotonicNowMs()));
  const deadline = kernel.monotonicNowMs() + 2.4;
  timer.arm(deadline);
  assert.equal(timer.armedAt, deadline);
  await sleep(30);
  assert.equal(fires.length, 1);
  assert.ok(fires[0]! >= deadline, "not before the fractional deadline");
  assert.equal(timer.armedAt, undefined);

  timer.arm(kernel.monotonicNowMs() + 5);
  timer.arm(kernel.monotonicNowMs() + 40); // re-arm replaces
  await sleep(20);
  assert.equal(fires.length, 1);
  await sleep(40);
  assert.equal(fires.length, 2);

  timer.arm(0); // in the past: fires at once
  timer.disarm();
  await sleep(20);
  assert.equal(fires.length, 2, "disarm cancels");
  assert.throws(() => timer.arm(Number.NaN), RangeError);
  timer.close();
  assert.throws(() => timer.arm(1), /closed/);
  assert.equal(kernel.timers.length, 1);
});

test("the fake transport records periodic adverts round by round; restart, update, stop and close", async () => {
  const kernel = new FakeKernelEdge();
  const transport = kernel.openVrrpTransport(6, { onAdvert: () => undefined, onError: () => undefined });
  const payload = Buffer.from([0x31, 1]);
  const errors: string[] = [];
  const transmission = transport.startPeriodic(
    [
      { payload, destination: "2001:DB8::2" },
      { payload, destination: "2001:db8::3" },
    ],
    { ifindex: 3, source: "fe80::1" },
    10,
    (error) => errors.push(error.code),
  );
  payload[1] = 99; // the adverts were copied
  assert.equal(transmission.rounds, 1, "the first round is sent at once");
  assert.deepEqual(
    transport.sent.map((s) => [s.payload.toString("hex"), s.options.destination, s.options.source]),
    [
      ["3101", "2001:db8::2", "fe80::1"],
      ["3101", "2001:db8::3", "fe80::1"],
    ],
  );
  await sleep(55);
  assert.ok(transmission.rounds >= 3, `rounds: ${transmission.rounds}`);
  assert.equal(transport.sent.length, transmission.rounds * 2);

  const beforeUpdate = transport.sent.length;
  transmission.update([{ payload: Buffer.from([0x31, 2]), destination: "ff02::12" }]);
  assert.equal(transport.sent.length, beforeUpdate, "update sends nothing now");
  const afterUpdate = transport.sent.length;
  await sleep(25);
  assert.ok(transport.sent.length > afterUpdate);
  assert.ok(transport.sent.slice(afterUpdate).every((s) => s.payload.toString("hex") === "3102"));

  transmission.restart([{ payload: Buffer.from([0x31, 3]), destination: "ff02::12" }], 1000);
  assert.equal(transport.sent.at(-1)!.payload.toString("hex"), "3103", "restart sends now");

  transmission.fail(
    new NativeSystemError("sendmsg: ENETUNREACH", {
      errno: 101,
      code: "ENETUNREACH",
      syscall: "sendmsg",
      object: "fake",
    }),
  );
  await sleep(0);
  assert.deepEqual(errors, ["ENETUNREACH"]);
  assert.equal(transmission.failures, 1);

  transmission.stop();
  transmission.stop();
  assert.throws(() => transmission.restart([{ payload, destination: "ff02::12" }], 10), /stopped/);
  assert.throws(() => transmission.update([{ payload, destination: "ff02::12" }]), /stopped/);
  assert.throws(
    () => transport.startPeriodic([], { ifindex: 3, source: "fe80::1" }, 10, () => {}),
    RangeError,
  );

  const second = transport.startPeriodic(
    [{ payload, destination: "ff02::12" }],
    { ifindex: 3, source: "fe80::1" },
    10,
    () => undefined,
  );
  assert.deepEqual(transport.activePeriodic, [second]);
  transport.close();
  assert.equal(second.stopped, true, "closing the transport stops its transmissions");
  const count = transport.sent.length;
  await sleep(30);
  assert.equal(transport.sent.length, count);
});
