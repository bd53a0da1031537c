// The guard between a crash of its agent and the restart: it resigned for the agent and waits out
// its restart back-off. A stop request (SIGTERM, e.g. `systemctl stop`) must end it now, not when
// the back-off is over (up to 30 s later).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Lab } from "../../e2e/lab/lab.js";
import { missingNetns, tierOptions } from "../../e2e/requirements.js";
import { AgentFleet, waitFor, type RunningAgent } from "./agent-harness.js";

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
