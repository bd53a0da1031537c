// Gratuitous ARP and unsolicited neighbour advertisements from the addon update a client's
// neighbour table, the way a VRRP failover must.
//
// Setup and why: Linux only *creates* a neighbour entry from an unsolicited announcement when told
// to (IPv4 net.ipv4.conf.*.arp_accept=1; IPv6 accept_untracked_na), but it always *updates* an
// existing entry. The failover case is the latter — the client has been talking to the VIP on the
// old master — so the tests give the client a STALE entry pointing at n2's MAC (as a previous
// exchange with n2 would have left it), move the VIP to n1 and announce it from there. One more
// test shows entry creation with arp_accept=1.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { runProbe } from "../e2e/lab/addon-probe-client.js";
import { Lab, type NeighborEntry } from "../e2e/lab/lab.js";
import { missingNetns, tierOptions } from "../e2e/requirements.js";

async function waitForEntry(
  read: () => Promise<NeighborEntry[]>,
  dst: string,
  lladdr: string,
): Promise<NeighborEntry> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const entry = (await read()).find((n) => n.dst === dst);
    if (entry?.lladdr === lladdr) return entry;
    if (Date.now() > deadline)
      throw new Error(`neighbour ${dst} is ${JSON.stringify(entry)}, expected lladdr ${lladdr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("neighbour announcements through the addon", tierOptions(missingNetns()), () => {
  let lab: Lab;
  before(async () => {
    lab = await Lab.create({ nodes: 2 });
  });
  after(() => lab.teardown());

  test("a gratuitous ARP from n1 moves the client's entry for the VIP to n1's MAC", async () => {
    const vip = "198.51.100.254";
    const n1 = lab.host("n1").eth0;
    const n2 = lab.host("n2").eth0;
    await lab.ip("client", "neigh", "replace", vip, "lladdr", n2.mac, "dev", "eth0", "nud", "stale");
    await runProbe(lab, "n1", "add-address", { ifname: "eth0", address: vip, prefixLength: 24 });
    const { mac } = await runProbe<{ mac: string }>(lab, "n1", "announce", { ifname: "eth0", address: vip });
    assert.equal(mac, n1.mac);
    const entry = await waitForEntry(() => lab.neighbors("client", 4), vip, n1.mac);
    assert.equal(entry.dev, "eth0");
    // n2 heard the same broadcast but had no entry and arp_accept is 0, so none was created there:
    // the reason the client needs an existing entry (or arp_accept) to learn the VIP's new home.
    assert.equal(
      (await lab.neighbors("n2", 4)).find((n) => n.dst === vip),
      undefined,
    );
  });

  test("with arp_accept=1 a gratuitous ARP creates the client's entry", async () => {
    const vip = "198.51.100.253";
    await lab.sysctl("client", "net.ipv4.conf.eth0.arp_accept", 1);
    await runProbe(lab, "n2", "add-address", { ifname: "eth0", address: vip, prefixLength: 24 });
    await runProbe(lab, "n2", "announce", { ifname: "eth0", address: vip });
    await waitForEntry(() => lab.neighbors("client", 4), vip, lab.host("n2").eth0.mac);
  });

  test("an unsolicited NA from n1 moves the client's IPv6 entry for the VIP to n1's MAC", async () => {
    const vip = "2001:db8::fe";
    const n1 = lab.host("n1").eth0;
    await lab.ip(
      "client",
      "-6",
      "neigh",
      "replace",
      vip,
      "lladdr",
      lab.host("n2").eth0.mac,
      "dev",
      "eth0",
      "nud",
      "stale",
    );
    await runProbe(lab, "n1", "add-address", {
      ifname: "eth0",
      address: vip,
      prefixLength: 64,
      flags: ["nodad"],
    });
    await runProbe(lab, "n1", "announce", { ifname: "eth0", address: vip });
    const entry = await waitForEntry(() => lab.neighbors("client", 6), vip, n1.mac);
    assert.ok(!entry.state.includes("FAILED"), JSON.stringify(entry));
  });
});
