// Boots the IPVS machine once and runs the guest-side IPVS tests (ipvs.guest.ts) inside it: every
// operation of IpvsClient against the real kernel, compared with ipvsadm's read-back.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { repositoryRoot, missingIpvsMachine, runInIpvsMachine } from "../../e2e/vm/ipvs-machine.js";
import { tierOptions } from "../../e2e/requirements.js";

/** Every IPVS operation the guest tests must have checked against ipvsadm. */
const OPERATIONS = [
  "resolve family",
  "get info",
  "list services",
  "get service",
  "add service",
  "edit service",
  "delete service",
  "list destinations",
  "add destination",
  "edit destination",
  "delete destination",
  "apply (batch, per-operation result)",
  "read statistics (64-bit)",
  "read connection counts",
  "zero counters (one service, all)",
  "set timeouts",
  "get timeouts",
  "start sync daemon",
  "list sync daemons",
  "stop sync daemon",
  "flush",
];

describe("IpvsClient in a kernel with IPVS", tierOptions(missingIpvsMachine()), () => {
  test("the guest-side tests pass and cover every operation against ipvsadm read-back", async (t) => {
    const results = mkdtempSync(join(tmpdir(), "kubelvs-ipvs-vm-"));
    try {
      const root = repositoryRoot();
      const run = await runInIpvsMachine(
        ["node", "--test", "--test-reporter=spec", "dist/native/ipvs/ipvs.guest.js"],
        {
          cwd: root,
          rwDirs: [results],
          env: { KUBELVS_RESULTS_DIR: results },
          timeoutMs: 300_000,
        },
      );
      t.diagnostic(`guest run took ${Math.round(run.durationMs)} ms`);
      assert.equal(run.code, 0, `guest tests failed (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /ℹ fail 0/);
      const verified = JSON.parse(readFileSync(join(results, "ipvs-operations.json"), "utf8")) as Record<
        string,
        boolean
      >;
      for (const operation of OPERATIONS)
        t.diagnostic(
          `${operation} | tested against ipvsadm read-back: ${verified[operation] ? "yes" : "no"}`,
        );
      assert.deepEqual(
        OPERATIONS.filter((operation) => verified[operation] !== true),
        [],
        "operations not verified against ipvsadm",
      );
    } finally {
      rmSync(results, { recursive: true, force: true });
    }
  });
});
