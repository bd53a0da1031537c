// The addon's rtnetlink operations against a real kernel, inside lab namespaces, cross-checked
// with iproute2.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { runProbe, startProbe, ProbeError } from "../../e2e/lab/addon-probe-client.js";
import { Lab } from "../../e2e/lab/lab.js";
import { missingNetns, tierOptions } from "../../e2e/requirements.js";
import type { InterfaceAddress } from "./address.js";
import type { Link } from "./link.js";

interface IpAddr {
  local: string;
  prefixlen: number;
  label?: string;
  nodad?: boolean;
  noprefixroute?: boolean;
}

describe("rtnetlink through the addon", tierOptions(missingNetns()), () => {
  let lab: Lab;
  before(async () => {
    lab = await Lab.create({ nodes: 1 });
  });
  after(() => lab.teardown());

  const ipAddresses = async (): Promise<IpAddr[]> =>
    (await lab.ipJson<{ addr_info: IpAddr[] }[]>("n1", "addr", "show", "dev", "eth0"))[0]!.addr_info;

  test("look up eth0: index, MAC, MTU, state", async () => {
    const { link } = await runProbe<{ link: Link }>(lab, "n1", "lookup", { ifname: "eth0" });
    const n1 = lab.host("n1").eth0;
    assert.equal(link.index, n1.ifindex);
    assert.equal(link.mac, n1.mac);
    assert.equal(link.mtu, 1500);
    assert.equal(link.up, true);
    assert.equal(link.operstate, "up");
    assert.equal(link.kind, "veth");
    await assert.rejects(runProbe(lab, "n1", "lookup", { ifname: "nope0" }), /no interface 'nope0'/);
  });

  test("an IPv4 address with a label added through the addon is visible to ip, and removed likewise", async () => {
    await runProbe(lab, "n1", "add-address", {
      ifname: "eth0",
      address: "198.51.100.254",
      prefixLength: 24,
      label: "eth0:vip",
    });
    const added = (await ipAddresses()).find((a) => a.local === "198.51.100.254");
    assert.deepEqual({ prefix: added?.prefixlen, label: added?.label }, { prefix: 24, label: "eth0:vip" });
    const { addresses } = await runProbe<{ addresses: InterfaceAddress[] }>(lab, "n1", "list-addresses", {
      ifname: "eth0",
    });
    assert.ok(
      addresses.some(
        (a) => a.address === "198.51.100.254" && a.label === "eth0:vip" && a.flagNames.includes("secondary"),
      ),
      JSON.stringify(addresses),
    );

    await runProbe(lab, "n1", "remove-address", {
      ifname: "eth0",
      address: "198.51.100.254",
      prefixLength: 24,
    });
    assert.equal(
      (await ipAddresses()).find((a) => a.local === "198.51.100.254"),
      undefined,
    );
  });

  test("an IPv6 address with nodad and noprefixroute: flags as ip reports them, no prefix route", async () => {
    await runProbe(lab, "n1", "add-address", {
      ifname: "eth0",
      address: "2001:db8:0:5::10",
      prefixLength: 64,
      flags: ["nodad", "noprefixroute"],
    });
    const added = (await ipAddresses()).find((a) => a.local === "2001:db8:0:5::10");
    assert.equal(added?.nodad, true);
    assert.equal(added?.noprefixroute, true);
    const routes = await lab.ip("n1", "-6", "route", "show");
    assert.doesNotMatch(routes, /2001:db8:0:5::\/64/);
    await runProbe(lab, "n1", "remove-address", {
      ifname: "eth0",
      address: "2001:db8:0:5::10",
      prefixLength: 64,
    });
    assert.equal(
      (await ipAddresses()).find((a) => a.local === "2001:db8:0:5::10"),
      undefined,
    );
  });

  test("kernel refusals arrive as NetlinkError with errno code and the address in the message", async () => {
    await assert.rejects(
      runProbe(lab, "n1", "add-address", { ifname: "eth0", address: "198.51.100.1", prefixLength: 24 }),
      (e: unknown) =>
        e instanceof ProbeError &&
        e.failure?.name === "NetlinkError" &&
        e.failure.code === "EEXIST" &&
        /198\.51\.100\.1\/24 on ifindex/.test(e.message),
    );
    await assert.rejects(
      runProbe(lab, "n1", "remove-address", { ifname: "eth0", address: "198.51.100.77", prefixLength: 24 }),
      (e: unknown) => e instanceof ProbeError && e.failure?.code === "EADDRNOTAVAIL",
    );
  });

  test("a watcher sees someone else add and remove an address, and the link go down and up", async () => {
    const watcher = await startProbe(lab, "n1", "watch");
    type Event = { event?: { kind: string; action: string; address?: InterfaceAddress; link?: Link } };
    await lab.ip("n1", "addr", "add", "198.51.100.250/24", "dev", "eth0");
    await watcher.waitForJson<Event>(
      (v) =>
        v.event?.kind === "address" &&
        v.event.action === "new" &&
        v.event.address?.address === "198.51.100.250",
    );
    await lab.ip("n1", "addr", "del", "198.51.100.250/24", "dev", "eth0");
    const removed = await watcher.waitForJson<Event>(
      (v) => v.event?.action === "delete" && v.event.address?.address === "198.51.100.250",
    );
    assert.equal(removed.event?.address?.ifindex, lab.host("n1").eth0.ifindex);
    assert.equal(removed.event?.address?.prefixLength, 24);

    await lab.ip("n1", "link", "set", "eth0", "down");
    const down = await watcher.waitForJson<Event>(
      (v) => v.event?.kind === "link" && v.event.link?.name === "eth0" && v.event.link.up === false,
    );
    assert.equal(down.event?.link?.operstate, "down");
    await lab.ip("n1", "link", "set", "eth0", "up");
    await watcher.waitForJson<Event>(
      (v) => v.event?.kind === "link" && v.event.link?.up === true && v.event.link.running === true,
    );
    // Taking a link down removes its IPv6 addresses: those deletions are notified too.
    assert.ok(
      watcher
        .jsonLines<Event>()
        .some((v) => v.event?.action === "delete" && v.event.address?.address === "2001:db8::1"),
    );
    await watcher.kill();
  });
});
