// The guard: its priority-0 adverts for a crashed Master (heard by keepalived, every transport), and
// the time between a crash of its agent and the restart: it resigned for the agent and waits out
// its restart back-off. A stop request (SIGTERM, e.g. `systemctl stop`) must end it now, not when
// the back-off is over (up to 30 s later).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Lab } from "../../e2e/lab/lab.js";
import { missingNetns, tierOptions } from "../../e2e/requirements.js";
import { join } from "node:path";
import { missingKeepalived } from "../../e2e/keepalived/daemon.js";
import { packetErrors } from "../../e2e/keepalived/log.js";
import { AgentFleet, waitFor, type RunningAgent } from "./agent-harness.js";
import { KeepalivedRouter, KubelvsRouter, keepalivedConfig, kubelvsSpec, type GroupPlan } from "./routers.js";

const V4_VIP = { address: "198.51.100.241", prefixLength: 24 };

describe("the guard during its restart back-off", tierOptions(missingNetns()), () => {
  let lab: Lab;
  let fleet: AgentFleet;
  let agent: RunningAgent;

  before(async () => {
    lab = await Lab.create({ nodes: 1, client: false });
    fleet = new AgentFleet(lab);
    agent = fleet.start(lab.nodes[0]!, {
      vrrpGroups: [
        {
          name: "g",
          vrid: 40,
          version: 3,
          advertIntervalMillis: 100,
          interface: { name: "eth0" },
          priority: 100,
          virtualIPs: [{ address: "198.51.100.240", prefixLength: 24 }],
        },
      ],
    });
  });
  after(async () => {
    await lab?.teardown();
    fleet?.cleanup();
  });

  test("SIGTERM while the guard waits to restart a crashed agent ends the guard at once", async () => {
    await waitFor("agent running", async () => ((await agent.status()).groups.length > 0 ? true : undefined));
    process.kill(agent.agentPid(), "SIGKILL");
    const restarting = await waitFor("guard restart back-off", () =>
      agent
        .log()
        .split("\n")
        .find((l) => l.includes("restarting the agent")),
    );
    const backoffMs = (JSON.parse(restarting) as { inMs: number }).inMs;
    assert.ok(backoffMs >= 1000, `back-off ${backoffMs} ms`);
    const t0 = Date.now();
    agent.process.child.kill("SIGTERM");
    await agent.process.exited;
    const took = Date.now() - t0;
    assert.ok(took < 500, `the guard took ${took} ms to stop (its back-off was ${backoffMs} ms)`);
    // and it did not start the agent again on its way out
    assert.equal(
      agent
        .log()
        .split("\n")
        .filter((l) => l.includes('"agent running"')).length,
      1,
    );
  });
});

// The guard's own adverts (IPPROTO_RAW sockets, IP header written by the guard) must be adverts any
// VRRP router accepts: a keepalived Backup takes over on Skew_Time, not Master_Down_Interval.
const RESIGN_VARIANTS: { title: string; plan: GroupPlan }[] = [
  {
    title: "v3 multicast IPv4",
    plan: { name: "gmc", vrid: 41, version: 3, advertIntervalMs: 1000, virtualIPs: [V4_VIP] },
  },
  {
    title: "v3 unicast IPv4",
    plan: { name: "guc", vrid: 42, version: 3, advertIntervalMs: 1000, virtualIPs: [V4_VIP], unicast: true },
  },
  {
    title: "v3 multicast IPv6",
    plan: {
      name: "gmc6",
      vrid: 43,
      version: 3,
      advertIntervalMs: 1000,
      virtualIPs: [{ address: "2001:db8::241", prefixLength: 64 }],
    },
  },
  {
    title: "v2 multicast with simple password",
    plan: {
      name: "gv2",
      vrid: 44,
      version: 2,
      advertIntervalMs: 1000,
      virtualIPs: [V4_VIP],
      authPassword: "kubelvs",
    },
  },
];

describe(
  "the guard resigns for a crashed Master: keepalived hears it",
  tierOptions(missingNetns(), missingKeepalived()),
  () => {
    let lab: Lab;
    let fleet: AgentFleet;

    before(async () => {
      lab = await Lab.create({ nodes: 2, client: false });
      fleet = new AgentFleet(lab);
    });
    after(async () => {
      await lab?.teardown();
      fleet?.cleanup();
    });

    for (const { title, plan } of RESIGN_VARIANTS) {
      test(title, async () => {
        const hosts = [lab.nodes[0]!, lab.nodes[1]!];
        const ours = new KubelvsRouter(
          fleet,
          hosts[0]!,
          kubelvsSpec(plan, hosts[0]!, 150, hosts),
          150,
          plan.name,
        );
        const theirs = new KeepalivedRouter(
          lab,
          hosts[1]!,
          keepalivedConfig(plan, hosts[1]!, 100, hosts),
          100,
          join(fleet.dir, `keepalived-${plan.name}`),
        );
        try {
          await ours.start();
          await theirs.start();
          const settleMs = 6000;
          await waitFor(
            "kubelvs Master",
            async () => ((await ours.state()) === "Master" ? true : undefined),
            settleMs,
          );
          await waitFor(
            "keepalived Backup",
            async () => ((await theirs.state()) === "Backup" ? true : undefined),
            settleMs,
          );
          // One more advert interval, so the agent has told its guard what resigning takes.
          await new Promise((r) => setTimeout(r, plan.advertIntervalMs));

          const t0 = Date.now();
          await ours.crash();
          await waitFor(
            "keepalived Master",
            async () => ((await theirs.state()) === "Master" ? true : undefined),
            6000,
            5,
          );
          const took = Date.now() - t0;
          // Skew_Time at priority 100 is 609 ms; without the guard's priority-0 advert keepalived would
          // wait for Master_Down_Interval, 3,609 ms.
          assert.ok(took < 1800, `keepalived took over ${took} ms after the crash`);
          assert.match(theirs.log(), /received priority 0 advertisement|priority 0 advert/i);
          assert.deepEqual(packetErrors(theirs.log()), []);
        } finally {
          await ours.shutdown();
          await theirs.shutdown();
        }
      });
    }
  },
);
