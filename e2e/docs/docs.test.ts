// The generated parts of the docs are current, and every relative link in the README and docs/ points
// at a file that exists.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, test } from "node:test";
import { repositoryRoot } from "../control-plane/binaries.js";
import { API_REFERENCE_PATH, renderApiReference } from "./api-reference.js";
import { METRICS_DOC_PATH, definedMetrics, withMetricTables } from "./metrics-reference.js";

const docsDir = join(repositoryRoot, "docs");
const markdownFiles = [
  join(repositoryRoot, "README.md"),
  ...readdirSync(docsDir)
    .filter((name) => name.endsWith(".md"))
    .map((name) => join(docsDir, name)),
];

describe("docs", () => {
  test("docs/api.md is what e2e/docs/api-reference.ts generates from the CRD schemas", () => {
    assert.equal(
      readFileSync(API_REFERENCE_PATH, "utf8"),
      renderApiReference(),
      "docs/api.md is stale: npm run build:ts && node dist/e2e/docs/api-reference.js",
    );
  });

  test("docs/api.md documents every field with a description", () => {
    const reference = renderApiReference();
    for (const field of ["spec.vrid", "spec.realServers[].address", "status.masterOf", "spec.vrrpGroups"]) {
      assert.ok(reference.includes(`| \`${field}\` |`), `${field} missing`);
    }
    assert.match(reference, /\| `spec\.interface` \| set exactly one of name or cidr \|/);
  });

  test("docs/metrics.md lists exactly the metrics the agent and operator define", () => {
    const metrics = definedMetrics();
    assert.ok(metrics.some((m) => m.name === "kubelvs_vrrp_state" && m.component === "agent"));
    assert.ok(metrics.some((m) => m.name === "kubelvs_operator_leader" && m.component === "operator"));
    const document = readFileSync(METRICS_DOC_PATH, "utf8");
    assert.equal(
      document,
      withMetricTables(document, metrics),
      "docs/metrics.md is stale: npm run build:ts && node dist/e2e/docs/metrics-reference.js",
    );
  });

  test("every relative link in README.md and docs/*.md resolves to a file", () => {
    const broken: string[] = [];
    for (const file of markdownFiles) {
      // Code blocks and code spans (regex patterns, shell) hold no links.
      const text = readFileSync(file, "utf8")
        .replace(/^```[^]*?^```/gm, "")
        .replace(/(`+)[^]*?\1/g, "");
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!.split("#")[0]!;
        if (target === "" || /^[a-z]+:/.test(target)) continue; // same-page anchor or URL
        if (!existsSync(join(dirname(file), target)))
          broken.push(`${relative(repositoryRoot, file)}: ${m[1]}`);
      }
    }
    assert.deepEqual(broken, []);
  });
});
