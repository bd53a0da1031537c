// Where a standalone agent's desired state comes from, and the two encodings the agent and its
// configuration loader process (loader-process.ts) share: the loader's arguments and its one line of
// output. Pure, so both sides and the tests agree on them.
import type { NodeStateSpec } from "../../crds/schema/node-state.js";

export type SpecSource =
  { kind: "config"; file: string } | { kind: "keepalived"; file: string; nodeName: string };

export interface LoadedSpec {
  spec: NodeStateSpec;
  /** keepalived.conf import warnings (file:line: warning: ...), for the agent to log. */
  warnings: string[];
}

/** What the loader prints: the validated desired state, or every problem of an unusable configuration. */
export type LoaderResult = ({ ok: true } & LoadedSpec) | { ok: false; file: string; problems: string[] };

export function sourceArgs(source: SpecSource): string[] {
  return source.kind === "config"
    ? ["--config", source.file]
    : ["--keepalived-conf", source.file, "--node-name", source.nodeName];
}

export function parseSourceArgs(args: readonly string[]): SpecSource {
  const [flag, file, nodeFlag, nodeName, ...rest] = args;
  if (flag === "--config" && file !== undefined && nodeFlag === undefined) return { kind: "config", file };
  if (
    flag === "--keepalived-conf" &&
    file !== undefined &&
    nodeFlag === "--node-name" &&
    nodeName !== undefined &&
    rest.length === 0
  ) {
    return { kind: "keepalived", file, nodeName };
  }
  throw new Error(
    `configuration loader arguments ${JSON.stringify(args)}: expected --config FILE or --keepalived-conf FILE --node-name NAME`,
  );
}

export function encodeLoaderResult(result: LoaderResult): string {
  return JSON.stringify(result);
}

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === "string");

/** Decodes the loader's output line; throws when it is not one (a loader that broke down). */
export function decodeLoaderResult(line: string): LoaderResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new Error(`configuration loader output is not JSON: ${(e as Error).message}`);
  }
  const r = value as Record<string, unknown> | null;
  if (r !== null && typeof r === "object") {
    const spec = r.spec as Record<string, unknown> | null | undefined;
    if (r.ok === true && spec != null && typeof spec === "object" && Array.isArray(spec.vrrpGroups)) {
      if (isStringArray(r.warnings)) return { ok: true, spec: r.spec as NodeStateSpec, warnings: r.warnings };
    }
    if (r.ok === false && typeof r.file === "string" && isStringArray(r.problems)) {
      return { ok: false, file: r.file, problems: r.problems };
    }
  }
  throw new Error(`configuration loader output has neither a spec nor problems: ${line.slice(0, 200)}`);
}
