// `kubelvs realserver` in a lab namespace: the VIP becomes local without the host answering ARP for
// it (the client's ARP for the VIP goes unanswered after setup, and is answered before, which shows
// the test can fail), runs are idempotent, and --remove undoes the addresses. TUN needs the ipip
// module, which this host's kernel may lack: the IPVS machine's test prepares its TUN real server
// with this command and carries real traffic through it (agent/loadbalancer/loadbalancer.guest.ts).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Lab } from "../../e2e/lab/lab.js";
import { missingNetns, tierOptions } from "../../e2e/requirements.js";

const COMMAND = new URL("./realserver-command.js", import.meta.url).href;

describe("kubelvs realserver", tierOptions(missingNetns()), () => {
  let lab: Lab;
  before(async () => {
    lab = await Lab.create({ nodes: 1, client: true });
  });
  after(() => lab.teardown());

  const realserver = async (...args: string[]) => {
    const script = `const m = await import(${JSON.stringify(COMMAND)}); process.exitCode = await m.run(${JSON.stringify(args)});`;
    return lab.exec("n1", process.execPath, ["--input-type=module", "-e", script]);
  };
  const addresses = async (device: string) =>
    (
      await lab.ipJson<{ addr_info: { local: string; prefixlen: number }[] }[]>(
        "n1",
        "addr",
        "show",
        "dev",
        device,
      )
    )
      .flatMap((l) => l.addr_info)
      .map((a) => `${a.local}/${a.prefixlen}`);
  /** Whether the client's ARP request for the address gets an answer (one ping, 1 s). */
  const arpAnswered = async (address: string) => {
    await lab.exec("client", "ip", ["neigh", "flush", "dev", "eth0"]);
    const ping = await lab.exec("client", "ping", ["-c", "1", "-W", "1", address]).then(
      () => true,
      () => false,
    );
    return ping;
  };

  test("DR: the VIP on lo, ARP for it unanswered, idempotent, removable", async () => {
    const vip = "198.51.100.250";
    // Without the ARP settings Linux answers for any local address, lo's included.
    await lab.ip("n1", "addr", "add", `${vip}/32`, "dev", "lo");
    assert.equal(await arpAnswered(vip), true, "control: a VIP on lo is answered with default ARP settings");

    const result = await realserver("--vip", vip, "--vip", "2001:db8::250", "--mode", "dr");
    assert.match(result.stdout, /prepared: 198\.51\.100\.250, 2001:db8::250 \(dr\)/);
    assert.deepEqual(
      (await addresses("lo")).filter((a) => a.startsWith("198.51.100") || a.startsWith("2001:db8")),
      [`${vip}/32`, "2001:db8::250/128"],
    );
    assert.equal(await lab.sysctl("n1", "net.ipv4.conf.all.arp_ignore"), "1");
    assert.equal(await lab.sysctl("n1", "net.ipv4.conf.all.arp_announce"), "2");
    assert.equal(await arpAnswered(vip), false, "the real server must not answer ARP for the VIP");
    assert.equal(await arpAnswered("198.51.100.1"), true, "its own address is still answered");

    await realserver("--vip", vip, "--vip", "2001:db8::250"); // again: no error, nothing doubled
    assert.equal((await addresses("lo")).filter((a) => a === `${vip}/32`).length, 1);

    await realserver("--vip", vip, "--vip", "2001:db8::250", "--remove");
    await realserver("--vip", vip, "--remove"); // absent already: fine
    assert.deepEqual(
      (await addresses("lo")).filter((a) => a.startsWith("198.51.100") || a.startsWith("2001:db8")),
      [],
    );
  });

  test("bad arguments exit 2 with the reason", async () => {
    await assert.rejects(realserver("--vip", "nonsense"), /--vip nonsense: not an IP address/);
    await assert.rejects(realserver("--vip", "198.51.100.250", "--mode", "nat"), /--mode nat: use dr or tun/);
  });
});
