import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { inCI } from "../requirements.js";
import { repoRoot, sharedTestdataDir, sharedTestdataOptions } from "./testdata.js";

test("the shared testdata directory is ../shared/testdata beside the repository root", () => {
  const root = repoRoot();
  assert.ok(existsSync(join(root, "package.json")));
  assert.ok(existsSync(join(root, "e2e", "requirements.ts")), "the root is the source tree, not dist/");
  assert.equal(sharedTestdataDir(), resolve(root, "..", "shared", "testdata"));
});

test("a missing capture skips with its path outside CI and fails under CI", () => {
  const missing = "no-such-capture.pcap";
  if (inCI) {
    assert.throws(() => sharedTestdataOptions(missing), /cannot run under CI=true: needs the shared capture/);
  } else {
    assert.deepEqual(sharedTestdataOptions(missing), {
      skip: `needs the shared capture ${join(sharedTestdataDir(), missing)}`,
    });
  }
});
