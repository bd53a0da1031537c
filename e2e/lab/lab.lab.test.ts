import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { missingNetns, tierOptions } from "../requirements.js";
import { isProcessRunning, Lab, listLabNamespaces, removeLeftoverLabs } from "./lab.js";
import { LabProcess } from "./process.js";

const LIFECYCLE = fileURLToPath(new URL("./probes/lab-lifecycle.js", import.meta.url));

const processGone = (pid: number): boolean => !isProcessRunning(pid);

/** Runs the lifecycle probe in its own process and returns it once its lab exists. */
async function startLifecycle(
  mode: string,
): Promise<{ probe: LabProcess; prefix: string; sleeperPid: number }> {
  const probe = new LabProcess(
    `lab-lifecycle ${mode}`,
    spawn(process.execPath, [LIFECYCLE, mode], { stdio: ["ignore", "pipe", "pipe"] }),
  );
  const { prefix, sleeperPid } = await probe.waitForJson<{ prefix: string; sleeperPid: number }>(
    (v) => typeof v.prefix === "string",
  );
  assert.ok(
    (await listLabNamespaces()).some((n) => n.startsWith(prefix)),
    "the probe's lab exists while it runs",
  );
  return { probe, prefix, sleeperPid };
}

async function namespacesWith(prefix: string): Promise<string[]> {
  return (await listLabNamespaces()).filter((n) => n.startsWith(prefix));
}

describe("namespace lab", tierOptions(missingNetns()), () => {
  let lab: Lab;
  before(async () => {
    lab = await Lab.create({ nodes: 2, backends: 1, backendLan: true });
  });
  after(() => lab.teardown());

  test("hosts have their planned addresses, MACs and interfaces; IPv6 is usable at once", async () => {
    assert.deepEqual(
      lab.hosts.map((h) => h.name),
      ["n1", "n2", "client", "b1"],
    );
    for (const host of lab.hosts) {
      for (const planned of host.interfaces) {
        const [link] = await lab.ipJson<
          {
            ifindex: number;
            address: string;
            operstate: string;
            addr_info: { local: string; prefixlen: number; tentative?: boolean }[];
          }[]
        >(host, "addr", "show", "dev", planned.name);
        assert.equal(link!.ifindex, planned.ifindex);
        assert.equal(link!.address, planned.mac);
        assert.equal(link!.operstate, "UP");
        const locals = link!.addr_info.map((a) => `${a.local}/${a.prefixlen}`);
        assert.ok(
          locals.includes(`${planned.ipv4}/24`) && locals.includes(`${planned.ipv6}/64`),
          `${host.name} ${planned.name}: ${locals.join(" ")}`,
        );
        assert.ok(
          link!.addr_info.every((a) => !a.tentative),
          `${host.name}: no address waits for DAD`,
        );
      }
    }
    assert.equal(await lab.sysctl("n1", "net.ipv6.conf.eth0.accept_dad"), "0");
  });

  test("hosts reach each other over IPv4 and IPv6 on both LANs (TCP between spawned processes)", async () => {
    const server = lab.spawn("n1", process.execPath, [
      "-e",
      `const net = require("node:net");
       for (const host of ["198.51.100.1", "2001:db8::1", "203.0.113.1"])
         net.createServer((s) => s.end("hello from n1\\n")).listen(7000, host, () => console.log("listening " + host));`,
    ]);
    for (const address of ["198.51.100.1", "2001:db8::1", "203.0.113.1"])
      await server.waitForLine((l) => l === `listening ${address}`);
    const connect = (host: string, address: string): Promise<string> =>
      lab
        .exec(host, process.execPath, [
          "-e",
          `require("node:net").connect(7000, "${address}").on("data", (d) => process.stdout.write(d)).on("error", (e) => { console.error(e.message); process.exit(1); });`,
        ])
        .then((r) => r.stdout.trim());
    assert.equal(await connect("client", "198.51.100.1"), "hello from n1");
    assert.equal(await connect("n2", "2001:db8::1"), "hello from n1");
    assert.equal(await connect("b1", "203.0.113.1"), "hello from n1");
    await server.kill();
    assert.equal(server.running, false);
  });

  test("the neighbour table helper reads what traffic created", async () => {
    const neighbors = await lab.neighbors("client", 4);
    assert.ok(
      neighbors.some((n) => n.dst === "198.51.100.1" && n.lladdr === lab.host("n1").eth0.mac),
      JSON.stringify(neighbors),
    );
  });

  test("a second lab in the same process gets its own prefix and does not collide", async () => {
    const other = await Lab.create({ nodes: 1, client: false });
    try {
      assert.notEqual(other.prefix, lab.prefix);
      assert.equal(other.host("n1").eth0.ipv4, lab.host("n1").eth0.ipv4);
      assert.equal((await namespacesWith(other.prefix)).length, 2);
    } finally {
      await other.teardown();
    }
    assert.deepEqual(await namespacesWith(other.prefix), []);
  });
});

describe("lab teardown", tierOptions(missingNetns()), () => {
  test("teardown kills the lab's processes, deletes its namespaces and is idempotent", async () => {
    const lab = await Lab.create({ nodes: 1 });
    const sleeper = lab.spawn("n1", "sleep", ["1000"]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(sleeper.running, true);
    await lab.teardown();
    await lab.teardown();
    assert.equal(sleeper.running, false);
    assert.deepEqual(await namespacesWith(lab.prefix), []);
    assert.throws(() => lab.spawn("n1", "true"), /torn down/);
  });

  for (const mode of ["throw", "reject"]) {
    test(`a run that dies of an ${mode === "throw" ? "uncaught exception" : "unhandled rejection"} leaves nothing behind`, async () => {
      const { probe, prefix, sleeperPid } = await startLifecycle(mode);
      const exit = await probe.exited;
      assert.notEqual(exit.code, 0);
      assert.match(probe.stderr, /deliberate/);
      assert.deepEqual(await namespacesWith(prefix), []);
      assert.ok(processGone(sleeperPid), "the process started in the lab is gone");
    });
  }

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    test(`a run stopped with ${signal} tears its lab down`, async () => {
      const { probe, prefix, sleeperPid } = await startLifecycle("wait");
      probe.child.kill(signal);
      const exit = await probe.exited;
      assert.equal(exit.code, 128 + (signal === "SIGINT" ? 2 : 15));
      assert.deepEqual(await namespacesWith(prefix), []);
      assert.ok(processGone(sleeperPid));
    });
  }

  test("leftovers of a run killed with SIGKILL are removed by removeLeftoverLabs", async () => {
    const { probe, prefix, sleeperPid } = await startLifecycle("wait");
    probe.child.kill("SIGKILL");
    await probe.exited;
    assert.equal((await namespacesWith(prefix)).length, 2, "SIGKILL cannot be handled: the namespaces stay");
    const removed = await removeLeftoverLabs();
    assert.deepEqual(removed.filter((n) => n.startsWith(prefix)).sort(), [`${prefix}lan1`, `${prefix}n1`]);
    assert.deepEqual(await namespacesWith(prefix), []);
    assert.ok(processGone(sleeperPid), "processes left in those namespaces are killed too");
  });
});
