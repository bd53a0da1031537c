// The configuration loader process gives the agent exactly what loading in-process gives: the same
// defaulted spec, the same problems, the same keepalived.conf import; and says how it failed when it
// breaks down instead of answering.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigError } from "./config-error.js";
import { loadSpecIsolated } from "./isolated-loader.js";
import { loadKeepalivedConfig } from "./keepalived.js";
import { loadAgentConfig } from "./load.js";
import {
  decodeLoaderResult,
  encodeLoaderResult,
  parseSourceArgs,
  sourceArgs,
  type SpecSource,
} from "./spec-source.js";

const dir = mkdtempSync(join(tmpdir(), "kubelvs-loader-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const KEEPALIVED_CONF = fileURLToPath(new URL("../../../importer/testdata/seed-web.conf", import.meta.url));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const GOOD = `vrrpGroups:
  - name: web
    vrid: 51
    interface: { name: eth0 }
    priority: 150
    virtualIPs: [{ address: 198.51.100.254, prefixLength: 24 }]
`;

test("a valid file: the same defaulted spec as loading it in-process", async () => {
  const path = file("good.yaml", GOOD);
  const loaded = await loadSpecIsolated({ kind: "config", file: path });
  assert.deepEqual(loaded, { spec: loadAgentConfig(path), warnings: [] });
  assert.equal(loaded.spec.vrrpGroups[0]!.advertIntervalMillis, 1000, "defaults applied");
});

test("an invalid file: a ConfigError with the same problems", async () => {
  const path = file(
    "bad.yaml",
    GOOD.replace("vrid: 51", "vrid: 0").replace("priority: 150", "priority: 300"),
  );
  let inProcess: unknown;
  try {
    loadAgentConfig(path);
  } catch (e) {
    inProcess = e;
  }
  assert.ok(inProcess instanceof ConfigError);
  await assert.rejects(
    loadSpecIsolated({ kind: "config", file: path }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.file === path &&
      e.message === inProcess.message &&
      e.problems.length === 2,
  );
});

test("a missing file is a ConfigError naming it", async () => {
  const path = join(dir, "missing.yaml");
  await assert.rejects(
    loadSpecIsolated({ kind: "config", file: path }),
    (e: unknown) => e instanceof ConfigError && e.file === path && /cannot read/.test(e.problems[0]!),
  );
});

test("a keepalived.conf: the same import and warnings as in-process", async () => {
  const loaded = await loadSpecIsolated({ kind: "keepalived", file: KEEPALIVED_CONF, nodeName: "lb1" });
  assert.deepEqual(loaded, loadKeepalivedConfig(KEEPALIVED_CONF, "lb1"));
  assert.ok(loaded.spec.vrrpGroups.length > 0);
});

test("a loader that crashes: an error with its exit code and standard error", async () => {
  const loader = file("crashing-loader.mjs", 'throw new Error("loader defect 42");\n');
  await assert.rejects(
    loadSpecIsolated({ kind: "config", file: "x.yaml" }, { loader }),
    (e: unknown) =>
      !(e instanceof ConfigError) &&
      /configuration loader for x\.yaml failed \(exit code 1\)/.test((e as Error).message) &&
      /loader defect 42/.test((e as Error).message),
  );
});

test("a loader that does not answer is killed at the timeout", async () => {
  const loader = file("hanging-loader.mjs", "setInterval(() => {}, 1000);\n");
  const t0 = Date.now();
  await assert.rejects(
    loadSpecIsolated({ kind: "config", file: "x.yaml" }, { loader, timeoutMs: 300 }),
    /configuration loader for x\.yaml did not answer within 300 ms/,
  );
  assert.ok(Date.now() - t0 < 5000);
});

test("a loader that prints something else: an error, not a spec", async () => {
  const loader = file("chatty-loader.mjs", 'console.log("{\\"ok\\": true}");\n');
  await assert.rejects(
    loadSpecIsolated({ kind: "config", file: "x.yaml" }, { loader }),
    /configuration loader for x\.yaml: configuration loader output has neither a spec nor problems/,
  );
});

test("loader arguments and output round-trip; anything else is refused", () => {
  const sources: SpecSource[] = [
    { kind: "config", file: "/etc/kubelvs/agent.yaml" },
    { kind: "keepalived", file: "keepalived.conf", nodeName: "lb1" },
  ];
  for (const s of sources) assert.deepEqual(parseSourceArgs(sourceArgs(s)), s);
  for (const bad of [[], ["--config"], ["--config", "a", "b"], ["--keepalived-conf", "k.conf"], ["--x", "y"]])
    assert.throws(() => parseSourceArgs(bad), /configuration loader arguments/);

  const ok = { ok: true as const, spec: { vrrpGroups: [] }, warnings: ["w"] };
  const problems = { ok: false as const, file: "a.yaml", problems: ["p"] };
  assert.deepEqual(decodeLoaderResult(encodeLoaderResult(ok)), ok);
  assert.deepEqual(decodeLoaderResult(encodeLoaderResult(problems)), problems);
  assert.throws(() => decodeLoaderResult("not json"), /not JSON/);
  for (const junk of ["null", "[]", '{"ok":true,"spec":{},"warnings":[]}', '{"ok":false,"file":"a"}'])
    assert.throws(() => decodeLoaderResult(junk), /neither a spec nor problems/);
});
