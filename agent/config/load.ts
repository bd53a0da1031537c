// The agent's configuration file: the NodeState spec (the same desired state the operator renders),
// either as a whole NodeState object or as a bare spec. Validated and defaulted by the CRD schema, so
// a standalone file and a cluster object mean exactly the same thing.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import type { NodeStateSpec } from "../../crds/schema/node-state.js";
import { API_VERSION } from "../../crds/definitions.js";
import { formatIssue, validateObject } from "../../crds/validate.js";
import { ConfigError } from "./config-error.js";

export { ConfigError };

export function parseAgentConfig(text: string, file: string): NodeStateSpec {
  const docs = parseAllDocuments(text).filter((d) => d.contents !== null);
  if (docs.length !== 1) throw new ConfigError(file, [`expected one YAML document, found ${docs.length}`]);
  const doc = docs[0]!;
  if (doc.errors.length > 0)
    throw new ConfigError(
      file,
      doc.errors.map((e) => `YAML: ${e.message.split("\n")[0]}`),
    );
  const value: unknown = doc.toJS();
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError(file, ["expected a NodeState object or a mapping with vrrpGroups"]);
  }
  const record = value as Record<string, unknown>;
  const object =
    record.kind === undefined && record.apiVersion === undefined
      ? { apiVersion: API_VERSION, kind: "NodeState", metadata: { name: "standalone" }, spec: record }
      : record;
  const issues = validateObject(object);
  if (issues.length > 0)
    throw new ConfigError(
      file,
      issues.map((i) => formatIssue(file, i)),
    );
  if (object.kind === "NodeState") {
    // NodeState's CRD carries the embedded VirtualService specs without their CEL rules (cost budget);
    // a hand-written file gets the full VirtualService validation here.
    const spec = object.spec as NodeStateSpec;
    const serviceIssues = (spec.virtualServices ?? []).flatMap((vs, i) =>
      validateObject({
        apiVersion: API_VERSION,
        kind: "VirtualService",
        metadata: { name: vs.name, namespace: vs.namespace },
        spec: vs.spec,
      }).map((issue) =>
        formatIssue(file, { ...issue, path: issue.path.replace(/^spec/, `spec.virtualServices[${i}].spec`) }),
      ),
    );
    if (serviceIssues.length > 0) throw new ConfigError(file, serviceIssues);
  }
  if (object.kind !== "NodeState")
    throw new ConfigError(file, [`kind ${String(object.kind)}: the agent reads a NodeState (or its spec)`]);
  return object.spec as NodeStateSpec;
}

export function loadAgentConfig(file: string): NodeStateSpec {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(file, [`cannot read: ${(e as Error).message}`]);
  }
  return parseAgentConfig(text, file);
}
