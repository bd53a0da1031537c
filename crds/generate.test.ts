import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { CRD_DIR, renderCrdFiles } from "./generate.js";

test("committed crds/*.yaml equal what the TypeBox schemas generate (run `npm run crds` after a schema change)", () => {
  const generated = renderCrdFiles();
  const committed = readdirSync(CRD_DIR).filter((f) => f.endsWith(".yaml"));
  assert.deepEqual(committed.sort(), [...generated.keys()].sort());
  for (const [name, content] of generated) {
    assert.equal(readFileSync(CRD_DIR + name, "utf8"), content, `crds/${name} is stale`);
  }
});

test("every CRD has a status subresource, printer columns, the kubelvs category and short names", () => {
  for (const content of renderCrdFiles().values()) {
    assert.match(content, /subresources:\n\s+status: \{\}/);
    assert.match(content, /additionalPrinterColumns:/);
    assert.match(content, /categories:\n\s+- kubelvs/);
    assert.match(content, /shortNames:\n\s+- \w+/);
  }
});

test("no short name collides with Istio's VirtualService short name", () => {
  const vs = renderCrdFiles().get("kubelvs.io_virtualservices.yaml")!;
  assert.doesNotMatch(vs, /shortNames:\n(\s+- \w+\n)*\s+- vs\n/);
});
