// The real-server preparation lab tests again, inside the IPVS machine (User-Mode Linux, e2e/vm),
// whose kernel has the ipip and ip6_tunnel modules this host's lacks: there the TUN test checks
// the VIPs on tunl0/ip6tnl0, the devices up and reverse-path filtering off, and a move back to DR.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { missingIpvsMachine, repositoryRoot, runInIpvsMachine } from "../../e2e/vm/ipvs-machine.js";
import { tierOptions } from "../../e2e/requirements.js";

describe(
  "real-server preparation in a kernel with IP-in-IP tunnels",
  tierOptions(missingIpvsMachine()),
  () => {
    test("the lab tests pass, TUN with real tunnel devices", async (t) => {
      const run = await runInIpvsMachine(
        ["node", "--test", "--test-reporter=spec", "dist/agent/realserver/preparer.lab.test.js"],
        { cwd: repositoryRoot(), env: { CI: "true" }, timeoutMs: 300_000 },
      );
      t.diagnostic(`guest run took ${Math.round(run.durationMs)} ms`);
      assert.equal(run.code, 0, `guest tests failed (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /this kernel has ipip and ip6_tunnel: checked the tunnels/);
      assert.match(run.stdout, /ℹ pass 4/);
      assert.match(run.stdout, /ℹ fail 0/);
    });
  },
);
