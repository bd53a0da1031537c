// The CLI as a user runs it: ./bin/kubelvs in a subprocess, import piped into validate.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = `${ROOT}bin/kubelvs`;
const DATA = `${ROOT}importer/testdata/`;

function kubelvs(args: string[], input?: string) {
  const r = spawnSync(BIN, args, { cwd: ROOT, input, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const imports: [string, string[]][] = [
  ["seed DR example", [`${DATA}seed-dr.conf`]],
  ["seed web instance", [`${DATA}seed-web.conf`]],
  ["seed db instance", [`${DATA}seed-db.conf`]],
  ["MASTER/BACKUP pair", ["--node", `lb1=${DATA}pair/master.conf`, "--node", `lb2=${DATA}pair/backup.conf`]],
];

for (const [name, args] of imports) {
  test(`kubelvs import (${name}) | kubelvs validate -`, () => {
    const imported = kubelvs(["import", ...args]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /kind: VrrpGroup/);
    const validated = kubelvs(["validate", "-"], imported.stdout);
    assert.equal(validated.stderr, "");
    assert.equal(validated.code, 0);
    assert.match(validated.stdout, /^\d+ object\(s\) valid\n$/);
  });
}

test("kubelvs validate prints located problems and exits 1", () => {
  const r = kubelvs(
    ["validate", "-"],
    "apiVersion: kubelvs.io/v1alpha1\nkind: VrrpGroup\nmetadata: {name: a}\nspec: {vrid: 0, interface: {name: eth0}, virtualIPs: [{address: 198.51.100.1}]}\n",
  );
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "<stdin>:1:spec.vrid: must be >= 1\n");
});

test("kubelvs import of a broken file exits 1 with file:line:col", () => {
  const r = kubelvs(["import", "-"], "vrrp_instance X {\n  state MASTER\n");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /:1:\d+: /);
});

test("unknown commands and --help", () => {
  const unknown = kubelvs(["frobnicate"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
  const help = kubelvs(["--help"]);
  assert.equal(help.code, 0);
  for (const command of ["agent", "operator", "status", "demo", "import", "realserver", "validate"]) {
    assert.match(help.stderr, new RegExp(`^  ${command} `, "m"));
  }
});
