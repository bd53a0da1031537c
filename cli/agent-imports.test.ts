// What each process of a standalone agent loads. The guard must stay close to a bare Node process: it
// learns of its agent's death only once the kernel has freed the agent's memory, and it runs on every
// node next to the agent. The agent proper must not carry what it does not run: the Kubernetes client
// (~50 MB) outside --kubernetes, nor the YAML parser, the CRD validators and the CEL interpreter,
// which a short-lived loader process runs for it (agent/config/loader-process.ts).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));
const AGENT_PROCESS = new URL("./agent-process.js", import.meta.url).href;
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

const dir = mkdtempSync(join(tmpdir(), "kubelvs-imports-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function runWithHook(args: string[]): { code: number | null; loaded: string[]; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", REGISTER, ...args], { encoding: "utf8" });
  const lines = r.stderr.split("\n");
  return {
    code: r.status,
    loaded: lines.filter((l) => l.startsWith("LOADED ")).map((l) => l.slice("LOADED ".length)),
    stderr: lines.filter((l) => !l.startsWith("LOADED ")).join("\n"),
  };
}

/** Modules only the loader process, the operator or --kubernetes may load. */
const HEAVY = [
  "/node_modules/yaml/",
  "/node_modules/@sinclair/typebox/",
  "/node_modules/ajv",
  "/node_modules/@bufbuild/",
  "/node_modules/@kubernetes/client-node/",
  "/crds/",
  "/importer/",
  "/agent/config/load.js",
  "/agent/config/keepalived.js",
  "/agent/kubernetes/",
  "/operator/",
];
const heavy = (loaded: string[]): string[] => loaded.filter((url) => HEAVY.some((h) => url.includes(h)));

test("the guard loads its own modules only, and an unusable configuration stops it with EX_CONFIG", () => {
  const config = join(dir, "bad.yaml");
  writeFileSync(
    config,
    "vrrpGroups: [{ name: web, vrid: 0, interface: { name: eth0 }, virtualIPs: [{ address: 198.51.100.1 }] }]\n",
  );
  const r = runWithHook([
    MAIN,
    "agent",
    "--config",
    config,
    "--run-dir",
    join(dir, "run"),
    "--log-file",
    join(dir, "agent.log"),
  ]);
  // The agent child (without the hook) found the problem; the guard stopped with its exit code.
  assert.equal(r.code, 78, r.stderr);
  assert.match(r.stderr, /bad\.yaml:1:spec\.vrrpGroups\[0\]\.vrid: must be >= 1/);
  assert.ok(
    r.loaded.some((url) => url.endsWith("/agent/guard/guard.js")),
    `the hook saw the guard's modules: ${r.loaded.length} loaded`,
  );
  const agentSide = r.loaded.filter(
    (url) =>
      url.includes("/agent/runtime/") ||
      url.includes("/agent/vrrp/") ||
      url.endsWith("/cli/agent-process.js") ||
      url.endsWith("/agent/metrics.js") ||
      url.includes("/node_modules/prom-client/"),
  );
  assert.deepEqual([...heavy(r.loaded), ...agentSide], []);
});

test("the agent process loads neither the configuration loader's modules nor the Kubernetes client", () => {
  const r = runWithHook(["--input-type=module", "-e", `await import(${JSON.stringify(AGENT_PROCESS)});`]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(
    r.loaded.some((url) => url.endsWith("/agent/runtime/agent.js")),
    `the hook saw the agent's modules: ${r.loaded.length} loaded`,
  );
  assert.deepEqual(heavy(r.loaded), []);
});

test("kubelvs agent --help loads neither role", () => {
  const r = runWithHook([MAIN, "agent", "--help"]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.loaded.some((url) => url === pathToFileURL(MAIN).href));
  assert.deepEqual(
    r.loaded.filter((url) => url.endsWith("/agent/guard/guard.js") || url.endsWith("/cli/agent-process.js")),
    [],
  );
});
