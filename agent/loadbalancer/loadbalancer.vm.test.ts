// Boots the IPVS machine once and runs the load balancer's real-traffic tests inside it
// (loadbalancer.guest.ts): NAT, DR and TUN services from VirtualService specs, scheduler and weight
// distribution, a killed backend's detection and recovery, an agent restart under a long-lived
// connection, and a removed real server's drain (drainTimeoutSeconds) under one. The guest's figures
// are printed as diagnostics.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { missingIpvsMachine, repositoryRoot, runInIpvsMachine } from "../../e2e/vm/ipvs-machine.js";
import { tierOptions } from "../../e2e/requirements.js";

describe("load balancer with real traffic in a kernel with IPVS", tierOptions(missingIpvsMachine()), () => {
  test("the guest-side traffic tests pass", async (t) => {
    const results = mkdtempSync(join(tmpdir(), "kubelvs-lb-vm-"));
    try {
      const run = await runInIpvsMachine(
        ["node", "--test", "--test-reporter=spec", "dist/agent/loadbalancer/loadbalancer.guest.js"],
        {
          cwd: repositoryRoot(),
          rwDirs: [results],
          env: { KUBELVS_RESULTS_DIR: results },
          timeoutMs: 900_000,
        },
      );
      t.diagnostic(`guest run took ${Math.round(run.durationMs)} ms`);
      let figures: Record<string, unknown> = {};
      try {
        figures = JSON.parse(readFileSync(join(results, "loadbalancer.json"), "utf8")) as Record<
          string,
          unknown
        >;
      } catch {
        // the guest did not get far enough to write them; its output below says why
      }
      for (const [name, value] of Object.entries(figures))
        if (name !== "tableAfterStart") t.diagnostic(`${name}: ${JSON.stringify(value)}`);
      assert.equal(run.code, 0, `guest tests failed (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /ℹ fail 0/);
      assert.match(run.stdout, /ℹ pass 7/);
    } finally {
      rmSync(results, { recursive: true, force: true });
    }
  });
});
