// helm (the binary e2e/control-plane/build.sh builds) against the kubelvs chart: lint, template into
// parsed objects, and install into a test control plane — what a cluster admin runs.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { controlPlaneBinaries, repositoryRoot } from "../control-plane/binaries.js";

export const CHART_DIR = join(repositoryRoot, "charts", "kubelvs");

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A rendered Kubernetes object, typed as far as the tests look into it. */
export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

let helmPath: string | undefined;

/** Runs helm and resolves with its exit code and output, whatever the code. */
export function helm(args: readonly string[], options: { kubeconfig?: string } = {}): Promise<HelmResult> {
  helmPath ??= controlPlaneBinaries().helm;
  // Helm keeps caches and repository lists under $HOME; a test run must not touch the user's.
  const env = {
    ...process.env,
    HELM_CACHE_HOME: "/tmp/kubelvs-helm/cache",
    HELM_CONFIG_HOME: "/tmp/kubelvs-helm/config",
    HELM_DATA_HOME: "/tmp/kubelvs-helm/data",
    ...(options.kubeconfig ? { KUBECONFIG: options.kubeconfig } : {}),
  };
  return new Promise((resolve, reject) => {
    execFile(
      helmPath!,
      args,
      { encoding: "utf8", env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          reject(new Error(`helm ${args.join(" ")}: ${error.message}`));
          return;
        }
        resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/** Runs helm and returns its standard output; throws with helm's stderr when it fails. */
export async function helmOk(
  args: readonly string[],
  options: { kubeconfig?: string } = {},
): Promise<string> {
  const result = await helm(args, options);
  if (result.code !== 0) {
    throw new Error(`helm ${args.join(" ")} exited ${result.code}: ${result.stderr.trim() || result.stdout}`);
  }
  return result.stdout;
}

/** `--set-json key=value` arguments for a flat map of dotted keys. */
export function setJsonArgs(values: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(values).flatMap(([key, value]) => ["--set-json", `${key}=${JSON.stringify(value)}`]);
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  values?: Readonly<Record<string, unknown>>;
  /** Extra API versions the "cluster" serves (helm template --api-versions). */
  apiVersions?: readonly string[];
}

/** The `helm template` arguments for a release of the chart. */
export function templateArgs(options: RenderOptions = {}): string[] {
  return [
    "template",
    options.release ?? "kubelvs",
    CHART_DIR,
    `--namespace=${options.namespace ?? "kubelvs-system"}`,
    ...(options.apiVersions ?? []).flatMap((v) => ["--api-versions", v]),
    ...setJsonArgs(options.values ?? {}),
  ];
}

/** Parses a multi-document YAML stream into objects, skipping empty documents. */
export function parseObjects(yamlText: string): RenderedObject[] {
  return parseAllDocuments(yamlText)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]!.message}`);
      return doc.toJS() as RenderedObject | null;
    })
    .filter((o): o is RenderedObject => o !== null);
}

/** `helm template` of the chart, parsed. */
export async function renderChart(options: RenderOptions = {}): Promise<RenderedObject[]> {
  return parseObjects(await helmOk(templateArgs(options)));
}

/** The one object of a kind (and name, when given); throws listing what there is otherwise. */
export function findObject(objects: readonly RenderedObject[], kind: string, name?: string): RenderedObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) {
    const have = objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ");
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ""}, found ${found.length} among: ${have}`);
  }
  return found[0]!;
}
