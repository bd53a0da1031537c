// Golden tests: keepalived configurations in testdata/ → the exact YAML and warnings the importer
// prints, and every golden output must pass the CRD validator. UPDATE_GOLDEN=1 rewrites the
// expected files (review the diff before committing).
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { validateYaml } from "../crds/validate.js";
import { tierOptions } from "../e2e/requirements.js";
import { formatDiagnostic } from "./diagnostics.js";
import { memoryFileSystem, nodeFileSystem } from "./filesystem.js";
import { type ConfigSource, importKeepalived } from "./import.js";
import { formatObjects } from "./output.js";

const testdata = fileURLToPath(new URL("../../importer/testdata/", import.meta.url));
const seedDocument = fileURLToPath(
  new URL("../../../shared/seeds/keepalived-lvs-multi-instance.zh.txt", import.meta.url),
);
const update = process.env.UPDATE_GOLDEN === "1";

interface GoldenCase {
  name: string;
  sources: ConfigSource[];
  namespace?: string;
}

const cases: GoldenCase[] = [
  { name: "seed-dr", sources: [{ file: "seed-dr.conf" }] },
  { name: "seed-web", sources: [{ file: "seed-web.conf" }] },
  { name: "seed-db", sources: [{ file: "seed-db.conf" }], namespace: "databases" },
  {
    name: "pair",
    sources: [
      { node: "lb1", file: "pair/master.conf" },
      { node: "lb2", file: "pair/backup.conf" },
    ],
    namespace: "web",
  },
  {
    name: "includes",
    sources: [
      { node: "lb1", file: "includes/keepalived.conf" },
      { node: "lb2", file: "includes/keepalived.conf" },
    ],
  },
  { name: "every-keyword", sources: [{ file: "every-keyword.conf" }] },
  { name: "unsupported", sources: [{ file: "unsupported.conf" }] },
];

function runImport(c: GoldenCase) {
  return importKeepalived(c.sources, { fs: nodeFileSystem(testdata), namespace: c.namespace ?? "default" });
}

function golden(file: string, actual: string): void {
  const path = join(testdata, file);
  if (update) writeFileSync(path, actual);
  assert.equal(actual, readFileSync(path, "utf8"), `${file} differs (UPDATE_GOLDEN=1 rewrites it)`);
}

describe("golden imports", () => {
  for (const c of cases) {
    test(c.name, () => {
      const result = runImport(c);
      const messages = result.diagnostics.map(formatDiagnostic);
      assert.ok(result.ok, `import failed:\n${messages.join("\n")}`);
      golden(`${c.name}.yaml`, formatObjects(result.objects, "yaml"));
      golden(`${c.name}.warnings`, messages.map((m) => m + "\n").join(""));
    });

    test(`${c.name}: the golden output passes the CRD validator`, () => {
      const { issues, objects } = validateYaml(readFileSync(join(testdata, `${c.name}.yaml`), "utf8"));
      assert.deepEqual(issues, []);
      assert.ok(objects.length > 0);
    });
  }

  test("-o json is the same objects as a v1 List", () => {
    const result = runImport(cases[0]!);
    const list = JSON.parse(formatObjects(result.objects, "json")) as { kind: string; items: unknown[] };
    assert.equal(list.kind, "List");
    assert.deepEqual(list.items, JSON.parse(JSON.stringify(result.objects)));
  });
});

// The seed document's configurations, taken out of the document itself: the testdata copies must be
// those texts with only the addresses moved to documentation space, and the original texts must
// import to the same objects (modulo those addresses).
const SEED_CONFIGS = [
  { file: "seed-dr.conf", start: "# Keepalived 配置文件", end: "关键配置说明" },
  { file: "seed-web.conf", start: "# /etc/keepalived/web.conf", end: "实例 2" },
  { file: "seed-db.conf", start: "# /etc/keepalived/db.conf", end: "启动命令" },
];

function extract(document: string, start: string, end: string): string {
  const lines = document.split("\n");
  const first = lines.findIndex((l) => l.startsWith(start));
  assert.ok(first >= 0, `seed document has no line starting with ${start}`);
  const last = lines.findIndex((l, i) => i > first && l.startsWith(end));
  const block = lines.slice(first, last);
  while (block.length > 0 && block[block.length - 1]!.trim() === "") block.pop();
  return block.join("\n") + "\n";
}

/** Every IPv4 address a.b.c.d becomes 198.51.100.d (also in names, where it is written a-b-c-d-). */
function toDocumentationAddresses(text: string): string {
  return text
    .replace(
      /\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b/g,
      (_, _a, _b, _c, d: string) => `198.51.100.${d}`,
    )
    .replace(/\b(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})-/g, (_, _a, _b, _c, d: string) => `198-51-100-${d}-`);
}

function readSeedDocument(): string | undefined {
  try {
    return readFileSync(seedDocument, "utf8");
  } catch {
    return undefined;
  }
}

const seed = readSeedDocument();
describe(
  "the seed document's configurations",
  tierOptions(seed === undefined ? `needs the seed document at ${seedDocument}` : undefined),
  () => {
    for (const { file, start, end } of SEED_CONFIGS) {
      test(`${file} is the document's configuration on documentation addresses`, () => {
        const original = extract(seed!, start, end);
        assert.equal(readFileSync(join(testdata, file), "utf8"), toDocumentationAddresses(original));
      });

      test(`${file}: the original text imports to the golden objects`, () => {
        const original = extract(seed!, start, end);
        const result = importKeepalived([{ file }], {
          fs: memoryFileSystem({ [file]: original }),
          namespace: "default",
        });
        assert.ok(result.ok, result.diagnostics.map(formatDiagnostic).join("\n"));
        const golden = cases.find((c) => c.sources[0]!.file === file)!;
        const expected = runImport(golden);
        // Namespaces differ only where a case sets one.
        const yaml = formatObjects(result.objects, "yaml").replace(
          /namespace: default/g,
          `namespace: ${golden.namespace ?? "default"}`,
        );
        assert.equal(toDocumentationAddresses(yaml), formatObjects(expected.objects, "yaml"));
      });
    }
  },
);
