// The agent's real-server preparation in a lab node namespace, through netlink and /proc/sys (the
// sysctls are per network namespace): DR VIPs (IPv4 and IPv6) become local on lo, marked as this
// instance's; the client's ARP for the VIP goes unanswered; a VIP dropped from the spec goes while
// an address someone else put on lo stays; a new process (an agent restart) removes a stale VIP of
// its own instance and leaves another instance's alone; a VIP deleted by hand comes back. TUN needs
// the ipip and ip6_tunnel modules: where the kernel lacks them (this development host's) the test
// checks the preparer says so and adds nothing; where it has them (the IPVS machine:
// e2e/vm/run-in-uml.sh -- node --test dist/agent/realserver/preparer.lab.test.js) it checks the
// tunnels, their settings and a move back to DR.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import type { NodeRealServer, NodeRealServerStatus } from "../../crds/schema/node-state.js";
import { Lab } from "../../e2e/lab/lab.js";
import { missingNetns, tierOptions } from "../../e2e/requirements.js";
import { ownershipLabel } from "./ownership.js";

const PROBE = fileURLToPath(new URL("./testing/preparer-probe.js", import.meta.url));
const VIP4 = "198.51.100.200";
const VIP6 = "2001:db8::200";

const dr = (...addresses: string[]): NodeRealServer => ({
  vips: addresses.map((address) => ({ address, forwarding: "DR", virtualServices: ["shop/web"] })),
});

describe("real-server preparation by the agent", tierOptions(missingNetns()), () => {
  let lab: Lab;
  let stateDir: string;
  before(async () => {
    lab = await Lab.create({ nodes: 1, client: true });
    stateDir = mkdtempSync(join(tmpdir(), "kubelvs-realserver-"));
  });
  after(async () => {
    await lab.teardown();
    rmSync(stateDir, { recursive: true, force: true });
  });

  /** One agent run (a fresh preparer, as after a restart): applies the section, returns its status. */
  const runOnce = async (section: NodeRealServer | null, instance = "web") => {
    const result = await lab.runNode("n1", PROBE, [instance, stateDir, JSON.stringify(section), "once"]);
    assert.equal(result.code, 0, `probe failed: ${result.stderr}`);
    const line = result.lines.find((l) => l.startsWith("{"));
    return (JSON.parse(line ?? "{}") as { status: NodeRealServerStatus | null }).status;
  };
  const loAddresses = async () =>
    (
      await lab.ipJson<{ addr_info: { local: string; prefixlen: number; label?: string }[] }[]>(
        "n1",
        "addr",
        "show",
        "dev",
        "lo",
      )
    )
      .flatMap((l) => l.addr_info)
      .filter((a) => a.local.startsWith("198.51.100.") || a.local.startsWith("2001:db8:"))
      .map(
        (a) => `${a.local}/${a.prefixlen}${a.label !== undefined && a.label !== "lo" ? ` ${a.label}` : ""}`,
      )
      .sort();
  /** Whether the client gets an answer from the address (ARP/NDP then echo; 1 s). */
  const answered = async (address: string) => {
    await lab.exec("client", "ip", ["neigh", "flush", "dev", "eth0"]);
    return lab.exec("client", "ping", ["-c", "1", "-W", "1", address]).then(
      () => true,
      () => false,
    );
  };

  test("DR: the VIPs on lo with this instance's mark, ARP settings set, ARP for the VIP unanswered", async () => {
    assert.equal(await lab.sysctl("n1", "net.ipv4.conf.all.arp_ignore"), "0", "a fresh namespace's default");
    // Control: with the default ARP settings an address on lo is answered (the check can fail).
    await lab.ip("n1", "addr", "add", "198.51.100.253/32", "dev", "lo");
    assert.equal(await answered("198.51.100.253"), true);
    const status = await runOnce(dr(VIP4, VIP6));
    assert.deepEqual(status, { prepared: [VIP4, VIP6] });
    assert.equal(await lab.sysctl("n1", "net.ipv4.conf.all.arp_ignore"), "1");
    assert.equal(await lab.sysctl("n1", "net.ipv4.conf.all.arp_announce"), "2");
    assert.equal(await answered(VIP4), false, "the real server must not answer ARP for the VIP");
    assert.equal(await answered("198.51.100.253"), false, "the ARP settings cover the control address now");
    await lab.ip("n1", "addr", "del", "198.51.100.253/32", "dev", "lo");
    assert.deepEqual(await loAddresses(), [`${VIP4}/32 ${ownershipLabel("lo", "web")}`, `${VIP6}/128`]);
    assert.equal(await answered(VIP6), false, "nor neighbour solicitations");
    assert.equal(await answered("198.51.100.1"), true, "its own address is still answered");
    assert.deepEqual(
      JSON.parse(readFileSync(join(stateDir, "web.realserver-owned.json"), "utf8")),
      { version: 1, addresses: [`${VIP6} lo`] },
      "the IPv6 VIP is recorded as this instance's",
    );
    // applying the same section again changes nothing
    assert.deepEqual(await runOnce(dr(VIP4, VIP6)), { prepared: [VIP4, VIP6] });
    assert.equal((await loAddresses()).length, 2);
  });

  test("a VIP dropped from the spec goes; addresses added by hand and another instance's stay", async () => {
    await lab.ip("n1", "addr", "add", "198.51.100.251/32", "dev", "lo");
    await lab.ip("n1", "-6", "addr", "add", "2001:db8::251/128", "dev", "lo", "nodad");
    assert.deepEqual(await runOnce(dr("198.51.100.252"), "db"), { prepared: ["198.51.100.252"] });
    // a restarted "web" agent whose spec lists only the IPv6 VIP: its stale IPv4 VIP goes
    assert.deepEqual(await runOnce(dr(VIP6)), { prepared: [VIP6] });
    assert.deepEqual(await loAddresses(), [
      "198.51.100.251/32",
      `198.51.100.252/32 ${ownershipLabel("lo", "db")}`,
      "2001:db8::200/128",
      "2001:db8::251/128",
    ]);
    // no section at all: the rest of web's goes, the others stay
    assert.equal(await runOnce(null), null);
    assert.deepEqual(await loAddresses(), [
      "198.51.100.251/32",
      `198.51.100.252/32 ${ownershipLabel("lo", "db")}`,
      "2001:db8::251/128",
    ]);
    // a wanted VIP someone else already holds on lo counts as prepared and is never taken away
    assert.deepEqual(await runOnce(dr("2001:db8::251")), { prepared: ["2001:db8::251"] });
    await runOnce(null);
    assert.ok((await loAddresses()).includes("2001:db8::251/128"));
    assert.equal(await runOnce(null, "db"), null);
    await lab.ip("n1", "addr", "del", "198.51.100.251/32", "dev", "lo");
    await lab.ip("n1", "-6", "addr", "del", "2001:db8::251/128", "dev", "lo");
    assert.deepEqual(await loAddresses(), []);
  });

  test("a VIP deleted by hand is put back", async () => {
    const agent = lab.spawnNode("n1", PROBE, ["web", stateDir, JSON.stringify(dr(VIP4, VIP6)), "serve"]);
    try {
      await agent.waitForLine((l) => l.startsWith('{"status"'));
      await lab.ip("n1", "addr", "del", `${VIP4}/32`, "dev", "lo");
      await lab.ip("n1", "-6", "addr", "del", `${VIP6}/128`, "dev", "lo");
      const deadline = Date.now() + 3000;
      while ((await loAddresses()).length < 2 && Date.now() < deadline) await sleep(50);
      assert.deepEqual(await loAddresses(), [`${VIP4}/32 ${ownershipLabel("lo", "web")}`, `${VIP6}/128`]);
    } finally {
      await agent.kill(1000);
    }
    assert.equal(await runOnce(null), null);
    assert.deepEqual(await loAddresses(), []);
  });

  test("TUN: the VIPs on tunl0/ip6tnl0, up, reverse-path filter off; without the module, why not", async (t) => {
    const status = await runOnce({
      vips: [VIP4, VIP6].map((address) => ({ address, forwarding: "TUN", virtualServices: ["shop/tun"] })),
    });
    if (status?.prepared.length === 2) {
      // a kernel with ipip and ip6_tunnel (the IPVS machine's): the tunnels carry the VIPs
      t.diagnostic("this kernel has ipip and ip6_tunnel: checked the tunnels");
      assert.deepEqual(status, { prepared: [VIP4, VIP6] });
      assert.equal(await lab.sysctl("n1", "net.ipv4.conf.all.rp_filter"), "0");
      assert.equal(await lab.sysctl("n1", "net.ipv4.conf.tunl0.rp_filter"), "0");
      const tunl0 = await lab.ip("n1", "addr", "show", "dev", "tunl0");
      assert.match(tunl0, /[<,]UP[,>]/);
      assert.match(
        tunl0,
        new RegExp(`inet ${VIP4.replace(/\./g, "\\.")}/32 .*${ownershipLabel("tunl0", "web")}`),
      );
      const ip6tnl0 = await lab.ip("n1", "addr", "show", "dev", "ip6tnl0");
      assert.match(ip6tnl0, /[<,]UP[,>]/);
      assert.match(ip6tnl0, /inet6 2001:db8::200\/128/);
      // back to DR: the VIPs move to lo
      assert.deepEqual(await runOnce(dr(VIP4, VIP6)), { prepared: [VIP4, VIP6] });
      assert.doesNotMatch(await lab.ip("n1", "addr", "show", "dev", "tunl0"), /198\.51\.100\.200/);
      assert.doesNotMatch(await lab.ip("n1", "addr", "show", "dev", "ip6tnl0"), /2001:db8::200/);
      assert.equal((await loAddresses()).length, 2);
    } else {
      assert.deepEqual(status?.prepared, []);
      assert.match(
        status?.message ?? "",
        /create tunl0 \(ipip\): .*create ip6tnl0 \(ip6tnl\): .*add 198\.51\.100\.200 on tunl0: not done, device tunl0 does not exist; add 2001:db8::200 on ip6tnl0: not done, device ip6tnl0 does not exist/,
      );
      assert.deepEqual(await loAddresses(), []);
    }
    assert.equal(await runOnce(null), null);
    assert.deepEqual(await loAddresses(), []);
  });
});
