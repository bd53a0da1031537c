// The standalone agent for real: three `kubelvs agent` processes in lab namespaces on one LAN.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { NodeStateSpec } from "../../crds/schema/node-state.js";
import { Lab } from "../../e2e/lab/lab.js";
import { missingNetns, tierOptions } from "../../e2e/requirements.js";
import { AgentFleet, waitFor, type RunningAgent } from "./agent-harness.js";

const VIP = "198.51.100.254";

function spec(priority: number, extra: Partial<NodeStateSpec["vrrpGroups"][number]> = {}): NodeStateSpec {
  return {
    vrrpGroups: [
      {
        name: "web",
        vrid: 51,
        version: 3,
        advertIntervalMillis: 100,
        interface: { name: "eth0" },
        priority,
        virtualIPs: [{ address: VIP, prefixLength: 24 }],
        ...extra,
      },
    ],
  };
}

async function stateOf(agent: RunningAgent): Promise<string> {
  return (await agent.status()).groups[0]?.state ?? "none";
}

async function hasVip(lab: Lab, agent: RunningAgent): Promise<boolean> {
  return (await lab.ip(agent.host, "-4", "addr", "show", "dev", "eth0")).includes(`${VIP}/24`);
}

describe("standalone agents on a LAN", tierOptions(missingNetns()), () => {
  let lab: Lab;
  let fleet: AgentFleet;
  let n1: RunningAgent, n2: RunningAgent, n3: RunningAgent;

  before(async () => {
    lab = await Lab.create({ nodes: 3, client: true });
    fleet = new AgentFleet(lab);
    n1 = fleet.start(lab.nodes[0]!, spec(150));
    n2 = fleet.start(lab.nodes[1]!, spec(100));
    n3 = fleet.start(lab.nodes[2]!, spec(50));
  });
  after(async () => {
    await lab?.teardown();
    fleet?.cleanup();
  });

  test("the highest priority becomes Master and alone holds the VIP", async () => {
    await waitFor("n1 Master", async () => ((await stateOf(n1)) === "Master" ? true : undefined));
    await waitFor("n2, n3 Backup", async () =>
      (await stateOf(n2)) === "Backup" && (await stateOf(n3)) === "Backup" ? true : undefined,
    );
    assert.equal(await hasVip(lab, n1), true);
    assert.equal(await hasVip(lab, n2), false);
    assert.equal(await hasVip(lab, n3), false);
    const status = (await n2.status()).groups[0]!;
    assert.equal(status.masterAddress, lab.nodes[0]!.interfaces[0]!.ipv4);
    assert.ok(status.advertsReceived > 0);
  });

  test("the client reaches the VIP at n1's MAC", async () => {
    await lab.exec(lab.client, "ping", ["-c", "1", "-W", "1", VIP]);
    const entry = (await lab.neighbors(lab.client, 4)).find((n) => n.dst === VIP);
    assert.equal(entry?.lladdr, lab.nodes[0]!.interfaces[0]!.mac);
  });

  test("a VIP removed by someone else while Master is put back", async () => {
    await lab.ip(n1.host, "addr", "del", `${VIP}/24`, "dev", "eth0");
    await waitFor("VIP back on n1", async () => ((await hasVip(lab, n1)) ? true : undefined), 3000);
    assert.match(n1.log(), /removed by someone else/);
  });

  test("SIGHUP with an unchanged configuration flips nothing", async () => {
    const before = (await n1.status()).groups[0]!.transitions;
    process.kill(n1.agentPid(), "SIGHUP");
    await waitFor(
      "reload logged",
      () => (n1.log().includes("configuration reloaded") ? true : undefined),
      3000,
    );
    await new Promise((r) => setTimeout(r, 500));
    const after = (await n1.status()).groups[0]!;
    assert.equal(after.state, "Master");
    assert.equal(after.transitions, before);
  });

  test("SIGHUP with a new priority applies it in place, still without a flip", async () => {
    n1.writeConfig(spec(140));
    process.kill(n1.agentPid(), "SIGHUP");
    await waitFor(
      "priority 140",
      async () => ((await n1.status()).groups[0]!.priority === 140 ? true : undefined),
      3000,
    );
    assert.equal(await stateOf(n1), "Master");
  });

  test("SIGTERM resigns: n2 takes over within Skew_Time-ish, n1 removes the VIP and exits 0", async () => {
    const t0 = Date.now();
    n1.process.child.kill("SIGTERM");
    await waitFor("n2 Master", async () => ((await stateOf(n2)) === "Master" ? true : undefined), 3000, 5);
    const took = Date.now() - t0;
    // priority-0 advert → Skew_Time = (256-100)/256 × 100 ms ≈ 61 ms, far below 3 × 100 ms + skew
    assert.ok(took < 300, `took ${took} ms`);
    const exit = await n1.process.exited;
    assert.equal(exit.code, 0);
    // n2's gratuitous ARP moved the client's existing entry over to n2's MAC
    await waitFor(
      "client ARP entry at n2",
      async () =>
        (await lab.neighbors(lab.client, 4)).find((n) => n.dst === VIP)?.lladdr ===
        lab.nodes[1]!.interfaces[0]!.mac
          ? true
          : undefined,
      2000,
    );
    assert.equal(await hasVip(lab, n1), false);
    assert.equal(await hasVip(lab, n2), true);
  });

  test("SIGKILL of the agent: the guard resigns for it, the VIP leaves n2 and n3 takes over", async () => {
    const victim = n2.agentPid();
    const t0 = Date.now();
    process.kill(victim, "SIGKILL");
    await waitFor("n3 Master", async () => ((await stateOf(n3)) === "Master" ? true : undefined), 3000, 5);
    const took = Date.now() - t0;
    assert.ok(took < 300, `took ${took} ms`);
    await waitFor("VIP gone from n2", async () => ((await hasVip(lab, n2)) ? undefined : true), 2000);
    // the guard restarts the agent, which comes back and (preempt, higher priority) takes over again
    await waitFor(
      "n2 back as Master",
      async () => ((await stateOf(n2)) === "Master" ? true : undefined),
      10_000,
    );
    assert.notEqual(n2.agentPid(), victim);
    await waitFor("n3 Backup", async () => ((await stateOf(n3)) === "Backup" ? true : undefined));
  });
});
