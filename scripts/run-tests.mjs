#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) under node's built-in test runner.
// Tiers are named by the file suffix so one can run a subset while developing:
//   *.test.js       unit: pure logic, no root, no network
//   *.lab.test.js   network namespaces on this host (root)
//   *.vm.test.js    a Linux kernel with IPVS (User-Mode Linux, see e2e/vm)
//   *.k8s.test.js   a real etcd + kube-apiserver (see e2e/control-plane)
// Each tier's tests check their own needs: outside CI they skip with a reason, under CI=true they fail.
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { spawnSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const dist = join(root, "dist");
const tiers = ["unit", "lab", "vm", "k8s"];

const args = process.argv.slice(2);
const wanted = new Set();
const filters = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--tier") wanted.add(args[++i]);
  else filters.push(args[i]);
}
for (const t of wanted)
  if (!tiers.includes(t)) throw new Error(`unknown tier ${t}; one of ${tiers.join(", ")}`);

function tierOf(file) {
  const m = /\.(lab|vm|k8s)\.test\.js$/.exec(file);
  return m ? m[1] : "unit";
}

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules") continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith(".test.js")) out.push(p);
  }
  return out;
}

const files = walk(dist, [])
  .filter((f) => wanted.size === 0 || wanted.has(tierOf(f)))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  // unit tests first: they are fast and tell the most when something basic broke
  .sort((a, b) => tiers.indexOf(tierOf(a)) - tiers.indexOf(tierOf(b)) || a.localeCompare(b));

if (files.length === 0) {
  console.error("run-tests: no test files matched");
  process.exit(1);
}
console.log(`run-tests: ${files.length} files: ${files.map((f) => relative(dist, f)).join(" ")}`);
const r = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...files], {
  stdio: "inherit",
  cwd: root,
});
process.exit(r.status ?? 1);
