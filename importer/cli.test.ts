// `kubelvs import` end to end through its run() entry: arguments, exit codes, what goes to
// standard output (manifests) and to standard error (located messages).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { run } from "../cli/import.js";

const testdata = fileURLToPath(new URL("../../importer/testdata/", import.meta.url));

async function kubelvsImport(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = process.stdout.write.bind(process.stdout);
  const stderr = process.stderr.write.bind(process.stderr);
  process.stdout.write = (chunk: string | Uint8Array) => out.push(String(chunk)) > 0;
  process.stderr.write = (chunk: string | Uint8Array) => err.push(String(chunk)) > 0;
  try {
    const code = await run(args);
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
}

describe("kubelvs import", () => {
  const cwd = process.cwd();
  // File names in messages and annotations are the ones given on the command line.
  before(() => process.chdir(testdata));
  after(() => process.chdir(cwd));

  test("a seed configuration: manifests on stdout, warnings on stderr, exit 0", async () => {
    const r = await kubelvsImport("seed-db.conf", "--namespace", "databases");
    assert.equal(r.code, 0);
    assert.equal(r.stdout, readFileSync(join(testdata, "seed-db.yaml"), "utf8"));
    assert.equal(r.stderr, readFileSync(join(testdata, "seed-db.warnings"), "utf8"));
  });

  test("two nodes merge into one group with per-node priorities", async () => {
    const r = await kubelvsImport(
      "--node",
      "lb1=pair/master.conf",
      "--node=lb2=pair/backup.conf",
      "-n",
      "web",
    );
    assert.equal(r.code, 0);
    assert.equal(r.stdout, readFileSync(join(testdata, "pair.yaml"), "utf8"));
  });

  test("-o json prints a v1 List", async () => {
    const r = await kubelvsImport("-o", "json", "seed-dr.conf");
    assert.equal(r.code, 0);
    const list = JSON.parse(r.stdout) as { apiVersion: string; kind: string; items: { kind: string }[] };
    assert.equal(list.kind, "List");
    assert.deepEqual(
      list.items.map((i) => i.kind),
      ["VrrpGroup", "VirtualService"],
    );
  });

  test("--config-id selects @ID lines of a single file", async () => {
    const r = await kubelvsImport("--config-id", "lb2", "includes/keepalived.conf");
    assert.equal(r.code, 0);
    assert.match(r.stdout, /default: 100\n/);
    assert.match(r.stdout, /preempt: false\n/);
  });

  test("a configuration error: located message, nothing on stdout, exit 1", async () => {
    const r = await kubelvsImport("pair/missing.conf");
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, 'pair/missing.conf:1:1: cannot read "pair/missing.conf": no such file\n');
  });

  test("usage errors exit 2 with the reason and the help", async () => {
    for (const [args, reason] of [
      [[], "no configuration given"],
      [["a.conf", "--node", "lb1=b.conf"], "give either FILE or --node NAME=FILE options, not both"],
      [["a.conf", "b.conf"], "one FILE at a time (for several nodes use --node NAME=FILE for each)"],
      [["--node", "LB1=a.conf"], '--node: "LB1" is not a Kubernetes node name (lower-case DNS name)'],
      [["--node", "lb1=a", "--node", "lb1=b"], '--node: node "lb1" is given twice'],
      [["--node", "lb1"], '--node needs NAME=FILE, got "lb1"'],
      [["-o", "xml", "a.conf"], "-o must be yaml or json"],
      [["--bogus", "a.conf"], "unknown option --bogus"],
    ] as const) {
      const r = await kubelvsImport(...args);
      assert.equal(r.code, 2, args.join(" "));
      assert.ok(r.stderr.startsWith(`kubelvs import: ${reason}\n`), r.stderr);
      assert.equal(r.stdout, "");
    }
  });

  test("--help", async () => {
    const r = await kubelvsImport("--help");
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^usage: kubelvs import/);
  });
});
