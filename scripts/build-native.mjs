#!/usr/bin/env node
// Builds native/build/Release/kubelvs_native.node with the node-gyp that ships inside npm, against
// the headers installed with Node (/usr/include/node). Nothing is downloaded: if the headers are
// missing the build fails with instructions instead of letting node-gyp fetch a tarball.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const nativeDir = join(root, "native");
const nodeDir = process.env.KUBELVS_NODEDIR ?? "/usr";

if (!existsSync(join(nativeDir, "binding.gyp"))) process.exit(0);

function fail(message) {
  console.error(`build-native: ${message}`);
  process.exit(1);
}

/** npm's bundled node-gyp: next to the npm running this script, else next to the npm on PATH. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_execpath) {
    candidates.push(
      join(dirname(process.env.npm_execpath), "..", "node_modules", "node-gyp", "bin", "node-gyp.js"),
    );
  }
  try {
    const prefix = execFileSync("npm", ["prefix", "-g"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    for (const lib of ["lib/node_modules", "node_modules"]) {
      candidates.push(join(prefix, lib, "npm", "node_modules", "node-gyp", "bin", "node-gyp.js"));
    }
  } catch {
    // npm not on PATH: only npm_execpath can help
  }
  return candidates.find((c) => existsSync(c));
}

const headers = join(nodeDir, "include", "node", "node_api.h");
if (!existsSync(headers)) {
  fail(
    `Node-API headers not found at ${headers}; install the distribution's Node headers ` +
      `or set KUBELVS_NODEDIR to a directory holding include/node (no headers are downloaded)`,
  );
}
const nodeGyp = findNodeGyp();
if (!nodeGyp) fail("cannot find npm's bundled node-gyp (run through `npm run build:native`)");

const result = spawnSync(process.execPath, [nodeGyp, "rebuild", `--nodedir=${nodeDir}`, "--jobs=2"], {
  cwd: nativeDir,
  stdio: ["ignore", "inherit", "inherit"],
});
if (result.status !== 0) fail(`node-gyp rebuild failed (exit ${result.status ?? result.signal})`);
const output = join(nativeDir, "build", "Release", "kubelvs_native.node");
if (!existsSync(output)) fail(`node-gyp succeeded but ${output} is missing`);
