// The shell scripts of the packaging: the kind end-to-end run (not run here: it needs Docker) and the
// chart's CRD sync. shellcheck, at its strictest severity, keeps them correct without running them.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, test } from "node:test";
import { repositoryRoot } from "../control-plane/binaries.js";
import { missingCommand, tierOptions } from "../requirements.js";

const scripts = [join("e2e", "kind", "run.sh"), join("charts", "kubelvs", "sync-crds.sh")];

describe(
  "packaging shell scripts",
  tierOptions(missingCommand("shellcheck", "apt-get install shellcheck")),
  () => {
    for (const script of scripts) {
      test(`shellcheck finds nothing in ${script}`, () => {
        const result = spawnSync("shellcheck", ["--severity=style", "--external-sources", script], {
          cwd: repositoryRoot,
          encoding: "utf8",
        });
        assert.equal(result.status, 0, result.stdout + result.stderr);
      });

      test(`${script} parses under bash -n`, () => {
        const result = spawnSync("bash", ["-n", script], { cwd: repositoryRoot, encoding: "utf8" });
        assert.equal(result.status, 0, result.stderr);
      });
    }
  },
);
