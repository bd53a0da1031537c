// kubectl against a test control plane, the way a user drives kubelvs: the tests and the demo check
// what `kubectl apply` and `kubectl get` say, not what a client library would.
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { controlPlaneBinaries, repositoryRoot } from "./binaries.js";

export interface KubectlTarget {
  kubeconfigPath: string;
  /** Run kubectl inside this network namespace (a control plane started in a lab namespace). */
  netns?: string;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  /** Written to kubectl's standard input (for `-f -`). */
  input?: string;
  timeoutMs?: number;
}

let kubectlPath: string | undefined;

/** Runs kubectl and resolves with its exit code and output, whatever the code. */
export function kubectl(
  target: KubectlTarget,
  args: readonly string[],
  options: KubectlOptions = {},
): Promise<KubectlResult> {
  kubectlPath ??= controlPlaneBinaries().kubectl;
  const command = [kubectlPath, `--kubeconfig=${target.kubeconfigPath}`, ...args];
  const [file, argv] = target.netns
    ? ["ip", ["netns", "exec", target.netns, ...command]]
    : [command[0]!, command.slice(1)];
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      argv,
      { encoding: "utf8", timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          reject(new Error(`kubectl ${args.join(" ")}: ${error.message}`));
          return;
        }
        resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
    // kubectl may exit before reading its input (most commands never read it); EPIPE is then harmless.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(options.input ?? "");
  });
}

/** Runs kubectl and returns its standard output; throws with kubectl's stderr when it fails. */
export async function kubectlOk(
  target: KubectlTarget,
  args: readonly string[],
  options: KubectlOptions = {},
): Promise<string> {
  const result = await kubectl(target, args, options);
  if (result.code !== 0) {
    throw new Error(
      `kubectl ${args.join(" ")} exited ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`,
    );
  }
  return result.stdout;
}

/** The repository's generated CRDs (crds/*.yaml), in name order. */
export function crdFiles(dir = join(repositoryRoot, "crds")): string[] {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith(".yaml"))
    .sort()
    .map((name) => join(dir, name));
  if (files.length === 0) throw new Error(`no CRD files (*.yaml) in ${dir}`);
  return files;
}

/**
 * Applies every CRD file and waits until the API server reports each one Established (its names
 * accepted and served). Server-side apply: the CRDs are too large for the last-applied annotation.
 * Returns the CRD resource names, e.g. "customresourcedefinition.apiextensions.k8s.io/vrrpgroups.kubelvs.io".
 */
export async function applyCrds(
  target: KubectlTarget,
  files: readonly string[] = crdFiles(),
): Promise<string[]> {
  const fileArgs = files.flatMap((file) => ["-f", file]);
  const applied = await kubectlOk(target, [
    "apply",
    "--server-side",
    "--field-manager=kubelvs-test",
    "-o",
    "name",
    ...fileArgs,
  ]);
  const names = applied.split("\n").filter((line) => line !== "");
  await kubectlOk(target, ["wait", "--for=condition=Established", "--timeout=60s", ...names], {
    timeoutMs: 70_000,
  });
  return names;
}

/** Mints a token for a ServiceAccount through the TokenRequest API (`kubectl create token`). */
export async function createServiceAccountToken(
  target: KubectlTarget,
  namespace: string,
  serviceAccount: string,
  durationSeconds = 3600,
): Promise<string> {
  const token = await kubectlOk(target, [
    "create",
    "token",
    serviceAccount,
    `--namespace=${namespace}`,
    `--duration=${durationSeconds}s`,
  ]);
  return token.trim();
}
