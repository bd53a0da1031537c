// The agent runtime against the in-memory kernel edge: interface resolution, VIP handling, the
// adverts it sends, reload and isolation between groups — no root, real timers kept short.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { NodeStateSpec, NodeVrrpGroup } from "../../crds/schema/node-state.js";
import { createLogger, memorySink } from "../../core/log.js";
import { FakeKernelEdge } from "../../native/testing/fake-kernel.js";
import { AgentMetrics } from "../metrics.js";
import { decodeAdvert } from "../vrrp/packet.js";
import { Agent } from "./agent.js";
import { InterfaceResolutionError, resolveInterface, toInstanceConfig } from "./instance-config.js";

function group(extra: Partial<NodeVrrpGroup> = {}): NodeVrrpGroup {
  return {
    name: "web",
    vrid: 51,
    version: 3,
    advertIntervalMillis: 20,
    interface: { name: "eth0" },
    priority: 255,
    virtualIPs: [{ address: "198.51.100.254", prefixLength: 24, label: "eth0:vip" }],
    ...extra,
  };
}

async function kernelWithEth0(): Promise<FakeKernelEdge> {
  const k = new FakeKernelEdge();
  k.links.addLink({ index: 1, name: "lo", linkType: 772 });
  k.links.addLink({ index: 2, name: "eth0" });
  k.links.addLink({ index: 3, name: "eth1" });
  await k.addresses.add({ ifindex: 2, address: "198.51.100.1", prefixLength: 24 });
  await k.addresses.add({ ifindex: 2, address: "fe80::1", prefixLength: 64, scope: 253 });
  await k.addresses.add({ ifindex: 3, address: "203.0.113.1", prefixLength: 24 });
  return k;
}

function newAgent(kernel: FakeKernelEdge) {
  const sink = memorySink();
  const agent = new Agent({
    instance: "t",
    kernel,
    log: createLogger({ sink, level: "debug" }),
    metrics: new AgentMetrics("t"),
  });
  return { agent, sink };
}

const vips = async (k: FakeKernelEdge) =>
  (await k.addresses.list({ ifindex: 2 })).map((a) => a.address).sort();
const until = async (what: string, check: () => boolean | Promise<boolean>, ms = 2000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

test("interface by name or by CIDR, primary address never a VIP, IPv6 from link-local", async () => {
  const k = await kernelWithEth0();
  await k.addresses.add({ ifindex: 2, address: "198.51.100.254", prefixLength: 24 }); // left by a previous run
  const links = await k.links.list();
  const addresses = await k.addresses.list();
  assert.deepEqual(resolveInterface(group(), links, addresses), {
    name: "eth0",
    ifindex: 2,
    mac: "02:00:00:00:00:02",
    primaryAddress: "198.51.100.1",
  });
  assert.equal(
    resolveInterface(group({ interface: { cidr: "203.0.113.0/24" } }), links, addresses).name,
    "eth1",
  );
  const v6 = group({
    interface: { name: "eth0" },
    virtualIPs: [{ address: "2001:db8::10", prefixLength: 64 }],
  });
  assert.equal(resolveInterface(v6, links, addresses).primaryAddress, "fe80::1");
  assert.throws(
    () => resolveInterface(group({ interface: { name: "eth9" } }), links, addresses),
    InterfaceResolutionError,
  );
  assert.throws(
    () => resolveInterface(group({ interface: { cidr: "192.0.2.0/24" } }), links, addresses),
    /no interface on this node has an address in 192\.0\.2\.0\/24/,
  );
});

test("NodeState group maps onto the core's config with the API's defaults", () => {
  const c = toInstanceConfig(
    group({
      version: undefined,
      advertIntervalMillis: undefined,
      priority: 100,
      checksum: "WithoutPseudoHeader",
      track: { scripts: [{ name: "s", command: ["/bin/true"] }] },
    }),
    { name: "eth0", ifindex: 2, mac: "02:00:00:00:00:02", primaryAddress: "198.51.100.1" },
  );
  assert.equal(c.version, 3);
  assert.equal(c.advertIntervalMs, 1000);
  assert.equal(c.checksumVariant, "vrrp-only");
  assert.equal(c.trackScripts[0]!.intervalMs, 1000);
  assert.deepEqual(c.virtualAddresses, [{ address: "198.51.100.254", prefixLength: 24 }]);
});

test("an address owner becomes Master at once: advert, VIP with label, gratuitous ARPs; stop resigns", async () => {
  const k = await kernelWithEth0();
  const { agent } = newAgent(k);
  await agent.apply({ vrrpGroups: [group()] });
  await until("VIP added", async () => (await vips(k)).includes("198.51.100.254"));
  const [transport] = k.transports;
  const first = transport!.sent[0]!;
  assert.equal(first.options.source, "198.51.100.1");
  assert.equal(first.options.destination, "224.0.0.18");
  const advert = decodeAdvert(first.payload, { src: "198.51.100.1", dst: "224.0.0.18" });
  assert.equal(advert.priority, 255);
  assert.equal(
    (await k.addresses.list({ ifindex: 2 })).find((a) => a.address === "198.51.100.254")?.label,
    "eth0:vip",
  );
  assert.equal(k.neighbors.announced.filter((a) => a.address === "198.51.100.254").length, 5);
  assert.equal(agent.status().groups[0]!.state, "Master");
  assert.equal(agent.resignPlans().length, 1);

  await agent.stop();
  const last = transport!.sent.at(-1)!;
  assert.equal(decodeAdvert(last.payload, { src: "198.51.100.1", dst: "224.0.0.18" }).priority, 0);
  assert.deepEqual(await vips(k), ["198.51.100.1", "fe80::1"]);
});

test("a VIP left by a previous run is removed at start by a Backup", async () => {
  const k = await kernelWithEth0();
  await k.addresses.add({ ifindex: 2, address: "198.51.100.254", prefixLength: 24 });
  const { agent, sink } = newAgent(k);
  await agent.apply({ vrrpGroups: [group({ priority: 100, advertIntervalMillis: 1000 })] });
  assert.deepEqual(await vips(k), ["198.51.100.1", "fe80::1"]);
  assert.ok(sink.lines.some((l) => l.includes("removing virtual IPs left by a previous run")));
  assert.equal(agent.status().groups[0]!.state, "Backup");
  await agent.stop();
});

test("a VIP removed by someone else while Master is put back and counted", async () => {
  const k = await kernelWithEth0();
  const { agent } = newAgent(k);
  await agent.apply({ vrrpGroups: [group()] });
  await until("VIP added", async () => (await vips(k)).includes("198.51.100.254"));
  k.addresses.removeExternally(2, "198.51.100.254", 24);
  await until("VIP back", async () => (await vips(k)).includes("198.51.100.254"));
  await agent.stop();
});

test("a reload that changes nothing but the priority keeps Master; a new VRID restarts only that group", async () => {
  const k = await kernelWithEth0();
  const { agent } = newAgent(k);
  const other = group({
    name: "db",
    vrid: 52,
    virtualIPs: [{ address: "198.51.100.253", prefixLength: 24 }],
  });
  await agent.apply({ vrrpGroups: [group(), other] });
  await until("both Master", () => agent.status().groups.every((g) => g.state === "Master"));
  const before = Object.fromEntries(agent.status().groups.map((g) => [g.name, g.transitions]));
  await agent.apply({ vrrpGroups: [group({ priority: 254 }), { ...other, vrid: 53 }] });
  const after = Object.fromEntries(agent.status().groups.map((g) => [g.name, g]));
  assert.equal(after.web!.transitions, before.web);
  assert.equal(after.web!.state, "Master");
  assert.equal(after.web!.basePriority, 254);
  assert.equal(after.db!.vrid, 53);
  await agent.stop();
});

test("a group whose interface is missing fails alone, is reported, and the others run", async () => {
  const k = await kernelWithEth0();
  const { agent } = newAgent(k);
  const spec: NodeStateSpec = {
    vrrpGroups: [
      group(),
      group({
        name: "lost",
        vrid: 60,
        interface: { name: "eth7" },
        virtualIPs: [{ address: "198.51.100.200" }],
      }),
    ],
  };
  await agent.apply(spec);
  const status = agent.status();
  assert.deepEqual(
    status.failedGroups.map((f) => f.name),
    ["lost"],
  );
  assert.match(status.failedGroups[0]!.error, /interface eth7 does not exist/);
  await until("web Master", () => agent.status().groups[0]?.state === "Master");
  await agent.stop();
});

test("a packet that throws inside one group's handling does not reach other groups", async () => {
  const k = await kernelWithEth0();
  const { agent } = newAgent(k);
  await agent.apply({ vrrpGroups: [group({ priority: 100, advertIntervalMillis: 1000 })] });
  const transport = k.transports[0]!;
  // garbage for VRID 51 and a packet for a VRID nobody runs: counted, nothing breaks
  transport.receive(Buffer.from([0x31, 51, 1, 2, 3]), {
    source: "198.51.100.2",
    destination: "224.0.0.18",
    ifindex: 2,
    ttl: 255,
  });
  transport.receive(Buffer.from([0x31, 99, 1, 2, 3]), {
    source: "198.51.100.2",
    destination: "224.0.0.18",
    ifindex: 2,
    ttl: 255,
  });
  const g = agent.status().groups[0]!;
  assert.equal(g.state, "Backup");
  assert.equal(g.drops.truncated, 1);
  await agent.stop();
});
