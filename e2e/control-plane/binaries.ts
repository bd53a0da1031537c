// Where the control-plane binaries are, and whether they still need building. build.sh is the one
// place that knows versions and cache paths; this module asks it (`--print-paths`, `--missing`,
// neither of which builds anything) so the two never disagree.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { inCI } from "../requirements.js";

export interface ControlPlaneBinaries {
  kubeApiserver: string;
  etcd: string;
  kubectl: string;
  helm: string;
}

/** Measured on the project's 2-core machine with empty Go caches (see build.sh's report in the issue). */
const COLD_BUILD_MINUTES = 7;

/** The repository's root (with a trailing slash), found whether this module runs from source or from dist/. */
function findRepositoryRoot(): string {
  for (const up of ["../../", "../../../"]) {
    const root = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(`${root}e2e/control-plane/build.sh`)) return root;
  }
  throw new Error(`cannot find e2e/control-plane/build.sh above ${fileURLToPath(import.meta.url)}`);
}

export const repositoryRoot = findRepositoryRoot();
export const buildScript = `${repositoryRoot}e2e/control-plane/build.sh`;

function askBuildScript(flag: "--print-paths" | "--missing"): string {
  try {
    return execFileSync("bash", [buildScript, flag], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    const stderr = (e as { stderr?: string }).stderr?.trim();
    throw new Error(`${buildScript} ${flag} failed: ${stderr || (e as Error).message}`);
  }
}

export function controlPlaneBinaries(): ControlPlaneBinaries {
  const paths = new Map<string, string>();
  for (const line of askBuildScript("--print-paths").split("\n")) {
    const equals = line.indexOf("=");
    if (equals > 0) paths.set(line.slice(0, equals), line.slice(equals + 1));
  }
  const path = (key: string): string => {
    const value = paths.get(key);
    if (!value) throw new Error(`${buildScript} --print-paths did not print ${key}=`);
    return value;
  };
  return {
    kubeApiserver: path("KUBE_APISERVER"),
    etcd: path("ETCD"),
    kubectl: path("KUBECTL"),
    helm: path("HELM"),
  };
}

/** Components build.sh would still have to build, e.g. ["kube-apiserver", "etcd"]. */
export function unbuiltComponents(): string[] {
  return askBuildScript("--missing")
    .split("\n")
    .filter((line) => line !== "");
}

export type Component = "kube-apiserver" | "etcd" | "kubectl" | "helm";

/** What a control plane needs; helm only matters to chart tests and the demo. */
export const CONTROL_PLANE_COMPONENTS: readonly Component[] = ["kube-apiserver", "etcd", "kubectl"];

/** A reason string for tierOptions when components are not built, naming the command that builds them. */
export function missingControlPlaneBinaries(
  needed: readonly Component[] = CONTROL_PLANE_COMPONENTS,
): string | undefined {
  const unbuilt = unbuiltComponents().filter((component) => needed.includes(component as Component));
  if (unbuilt.length === 0) return undefined;
  return (
    `${unbuilt.join(", ")} not built: run e2e/control-plane/build.sh ` +
    `(takes ~${COLD_BUILD_MINUTES} minutes the first time on 2 cores, then is cached)`
  );
}

/**
 * Builds whatever is missing, showing build.sh's progress on stderr (stdout belongs to the test
 * runner's protocol). Throws with the exit status when the build fails.
 */
export function buildControlPlaneBinaries(): void {
  const result = spawnSync("bash", [buildScript], { stdio: ["ignore", process.stderr, process.stderr] });
  if (result.status !== 0) {
    const how = result.error?.message ?? `exit status ${result.status ?? `signal ${result.signal}`}`;
    throw new Error(`${buildScript} failed (${how}); its output is above`);
  }
}

/**
 * The k8s tier's requirement: a reason string when the binaries are missing. Under CI=true it first
 * builds what is missing (CI has the time budget, and a missing binary must not silently skip), so
 * there only a failed build is reported — by throwing.
 */
export function requireControlPlaneBinaries(
  needed: readonly Component[] = CONTROL_PLANE_COMPONENTS,
): string | undefined {
  if (inCI && missingControlPlaneBinaries(needed)) buildControlPlaneBinaries();
  return missingControlPlaneBinaries(needed);
}
