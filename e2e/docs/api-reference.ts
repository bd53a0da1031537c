// docs/api.md, generated from the CRD definitions (crds/definitions.ts KINDS) so the reference can
// never disagree with what the API server enforces: every field with its type, limits, default and
// description, and every CEL rule with its message. Run after a schema change:
//   npm run build:ts && node dist/e2e/docs/api-reference.js
// e2e/docs/api-reference.test.ts fails while docs/api.md is stale.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { API_VERSION, KINDS, plainSchema, type KindDefinition } from "../../crds/definitions.js";
import { repositoryRoot } from "../control-plane/binaries.js";

export const API_REFERENCE_PATH = join(repositoryRoot, "docs", "api.md");

/** The subset of OpenAPI v3 (with Kubernetes extensions) the kubelvs schemas use. */
interface Schema {
  type?: string;
  description?: string;
  format?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  anyOf?: Schema[];
  "x-kubernetes-validations"?: { rule: string; message?: string; fieldPath?: string }[];
  "x-kubernetes-list-type"?: string;
  "x-kubernetes-list-map-keys"?: string[];
}

interface FieldRow {
  path: string;
  type: string;
  required: boolean;
  description: string;
}

interface RuleRow {
  path: string;
  message: string;
  rule: string;
}

/** Text safe inside a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");
}

function code(text: string): string {
  return text.includes("`") ? `\`\` ${text} \`\`` : `\`${text}\``;
}

function range(min: number | undefined, max: number | undefined, unit: string): string | undefined {
  if (min === undefined && max === undefined) return undefined;
  if (min !== undefined && max !== undefined) return min === max ? `${min} ${unit}` : `${min}–${max} ${unit}`;
  return min !== undefined ? `≥ ${min} ${unit}` : `≤ ${max} ${unit}`;
}

/** A one-line type with its limits, e.g. "integer, 1–255" or "array of object, ≤ 16 items". */
function describeType(schema: Schema): string {
  const parts: string[] = [];
  if (schema.anyOf) {
    parts.push(`one of: ${schema.anyOf.map(describeType).join(" | ")}`);
  } else if (schema.type === "array" && schema.items) {
    parts.push(`array of ${describeType(schema.items)}`);
    const items = range(schema.minItems, schema.maxItems, "items");
    if (items) parts.push(items);
    const listType = schema["x-kubernetes-list-type"];
    if (listType === "map") parts.push(`keyed by ${(schema["x-kubernetes-list-map-keys"] ?? []).join(", ")}`);
    else if (listType === "set") parts.push("unique items");
  } else if (
    schema.type === "object" &&
    typeof schema.additionalProperties === "object" &&
    !schema.properties
  ) {
    parts.push(`map of ${describeType(schema.additionalProperties)}`);
  } else {
    // An alternative of an anyOf may carry only a format: "format ipv4" says it all.
    if (schema.type !== undefined || schema.format === undefined) parts.push(schema.type ?? "any");
    if (schema.format) parts.push(`format ${schema.format}`);
    const numeric = schema.minimum !== undefined || schema.maximum !== undefined;
    if (numeric) parts.push(range(schema.minimum, schema.maximum, "")!.trim());
    const length = range(schema.minLength, schema.maxLength, "chars");
    if (length) parts.push(length);
    if (schema.pattern) parts.push(`pattern ${code(schema.pattern)}`);
    if (schema.enum) parts.push(`one of ${schema.enum.map((v) => code(String(v))).join(", ")}`);
  }
  return parts.join(", ");
}

function collect(
  schema: Schema,
  path: string,
  required: boolean,
  fields: FieldRow[],
  rules: RuleRow[],
): void {
  for (const rule of schema["x-kubernetes-validations"] ?? []) {
    rules.push({
      path: rule.fieldPath ? `${path}${rule.fieldPath}` : path,
      message: rule.message ?? "(no message)",
      rule: rule.rule,
    });
  }
  const details = [schema.description ?? ""];
  if (schema.default !== undefined) details.push(`Default: ${code(JSON.stringify(schema.default))}.`);
  fields.push({ path, type: describeType(schema), required, description: details.join(" ").trim() });

  const requiredNames = new Set(schema.required ?? []);
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    collect(child, `${path}.${name}`, requiredNames.has(name), fields, rules);
  }
  if (schema.type === "array" && schema.items?.properties) {
    const itemRequired = new Set(schema.items.required ?? []);
    for (const rule of schema.items["x-kubernetes-validations"] ?? []) {
      rules.push({
        path: `${path}[]${rule.fieldPath ?? ""}`,
        message: rule.message ?? "(no message)",
        rule: rule.rule,
      });
    }
    for (const [name, child] of Object.entries(schema.items.properties)) {
      collect(child, `${path}[].${name}`, itemRequired.has(name), fields, rules);
    }
  }
  for (const [i, option] of (schema.anyOf ?? []).entries()) {
    if (!option.properties) continue;
    const optionRequired = new Set(option.required ?? []);
    for (const [name, child] of Object.entries(option.properties)) {
      collect(child, `${path}{${i + 1}}.${name}`, optionRequired.has(name), fields, rules);
    }
  }
}

function section(def: KindDefinition, part: "spec" | "status"): string[] {
  const fields: FieldRow[] = [];
  const rules: RuleRow[] = [];
  collect(plainSchema(def[part]), part, part === "spec", fields, rules);
  const lines = [
    `### ${def.kind} ${part}`,
    "",
    "| field | type | required | description |",
    "| --- | --- | --- | --- |",
    ...fields.map(
      (f) => `| ${code(f.path)} | ${cell(f.type)} | ${f.required ? "yes" : ""} | ${cell(f.description)} |`,
    ),
    "",
  ];
  if (rules.length > 0) {
    lines.push(
      `Rules the API server checks (CEL) on ${def.kind} ${part}:`,
      "",
      "| field | message | rule |",
      "| --- | --- | --- |",
      ...rules.map((r) => `| ${code(r.path)} | ${cell(r.message)} | ${cell(code(r.rule))} |`),
      "",
    );
  }
  return lines;
}

function kindSection(def: KindDefinition): string[] {
  return [
    `## ${def.kind}`,
    "",
    def.description,
    "",
    `- API version: ${code(API_VERSION)}, kind ${code(def.kind)}, ${def.scope === "Cluster" ? "cluster-scoped" : "namespaced"}`,
    `- Resource: ${code(def.plural)}; short names: ${def.shortNames.map(code).join(", ")}; category ${code("kubelvs")}`,
    "",
    `\`kubectl get ${def.plural}\` columns:`,
    "",
    "| column | from | description |",
    "| --- | --- | --- |",
    ...def.printerColumns.map(
      (c) => `| ${c.name}${c.priority ? " (-o wide)" : ""} | ${code(c.jsonPath)} | ${cell(c.description)} |`,
    ),
    "",
    ...section(def, "spec"),
    ...section(def, "status"),
  ];
}

/** The whole of docs/api.md. */
export function renderApiReference(kinds: readonly KindDefinition[] = KINDS): string {
  const lines = [
    "# kubelvs API reference",
    "",
    "<!-- Generated from crds/schema/*.ts by e2e/docs/api-reference.ts",
    "     (npm run build:ts && node dist/e2e/docs/api-reference.js). Do not edit by hand. -->",
    "",
    `Group ${code(API_VERSION.split("/")[0]!)}, version ${code(API_VERSION.split("/")[1]!)}. ` +
      "Field paths use `[]` for the items of a list and `{n}` for the n-th alternative of a field that takes one of several forms. " +
      "`kubectl explain <kind>.<field>` shows the same descriptions from a cluster.",
    "",
    "| kind | scope | short names | description |",
    "| --- | --- | --- | --- |",
    ...kinds.map(
      (k) =>
        `| [${k.kind}](#${k.kind.toLowerCase()}) | ${k.scope} | ${k.shortNames.map(code).join(", ")} | ${cell(k.description)} |`,
    ),
    "",
    ...kinds.flatMap(kindSection),
  ];
  return lines.join("\n").replace(/\n+$/, "\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(API_REFERENCE_PATH, renderApiReference());
  process.stdout.write(`wrote ${API_REFERENCE_PATH}\n`);
}
