// Where the shared captures live (../shared/testdata beside the repository) and the skip-or-fail rule for them.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { tierOptions } from "../requirements.js";

/** The repository root: the nearest directory above this module holding the kubelvs package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown };
      if (parsed.name === "kubelvs") return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no kubelvs package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export function sharedTestdataDir(): string {
  return resolve(repoRoot(), "..", "shared", "testdata");
}

export function sharedTestdataPath(name: string): string {
  return join(sharedTestdataDir(), name);
}

/** node:test options for a test that reads shared capture files: skip with a reason outside CI, fail under CI. */
export function sharedTestdataOptions(...names: string[]): { skip?: string } {
  return tierOptions(
    ...names.map((name) => {
      const path = sharedTestdataPath(name);
      return existsSync(path) ? undefined : `needs the shared capture ${path}`;
    }),
  );
}
