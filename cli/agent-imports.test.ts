// A standalone agent and its guard must not load the Kubernetes client: it is ~50 MB of memory in
// each of the two processes, and a guard learns of its agent's death only once the kernel has freed
// the agent's memory, so every megabyte delays the resignation after a crash.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));
// An ESM resolve hook that prints every module the process loads.
const HOOK = `import { writeSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  writeSync(2, "LOADED " + result.url + "\\n");
  return result;
}`;
const dataUrl = (source: string): string => `data:text/javascript,${encodeURIComponent(source)}`;
const REGISTER = dataUrl(
  `import { register } from "node:module"; register(${JSON.stringify(dataUrl(HOOK))});`,
);

function modulesLoadedBy(args: string[]): string[] {
  const r = spawnSync(process.execPath, ["--import", REGISTER, MAIN, ...args], { encoding: "utf8" });
  return r.stderr
    .split("\n")
    .filter((l) => l.startsWith("LOADED "))
    .map((l) => l.slice("LOADED ".length));
}

test("kubelvs agent loads the Kubernetes client only for --kubernetes", () => {
  const loaded = modulesLoadedBy(["agent", "--help"]);
  assert.ok(
    loaded.some((url) => url.endsWith("/agent/runtime/agent.js")),
    `the hook saw the agent's modules: ${loaded.length} loaded`,
  );
  assert.deepEqual(
    loaded.filter((url) => url.includes("/@kubernetes/client-node/") || url.includes("/agent/kubernetes/")),
    [],
  );
});
