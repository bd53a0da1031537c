// Offline validation of kubelvs manifests against the very schemas the CRDs carry: OpenAPI structure,
// formats, defaults, unknown fields (as `kubectl apply` reports them), and the CEL
// `x-kubernetes-validations` rules, evaluated with a CEL interpreter. The API server remains the
// authority; this catches the same mistakes before anything reaches a cluster.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { isCelError, parse as parseCel, plan, celEnv } from "@bufbuild/cel";
import { isIP } from "node:net";
import { parseAllDocuments } from "yaml";
import { KINDS, API_VERSION, kindDefinition, objectSchema, type KindDefinition } from "./definitions.js";
import type { CelRule } from "./schema/common.js";

export interface ValidationIssue {
  /** 1-based index of the YAML document in its file. */
  doc: number;
  /** Field path, e.g. spec.realServers[0].port ("" for the whole object). */
  path: string;
  message: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type SchemaNode = Record<string, unknown>;

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function isCidr(value: string): boolean {
  const slash = value.indexOf("/");
  if (slash < 0) return false;
  const family = isIP(value.slice(0, slash));
  const prefix = value.slice(slash + 1);
  if (family === 0 || !/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

function makeAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, verbose: true });
  addFormats(ajv, ["ipv4", "ipv6", "date-time"]);
  ajv.addFormat("cidr", { type: "string", validate: isCidr });
  ajv.addFormat("int32", {
    type: "number",
    validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31,
  });
  ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isSafeInteger(n) });
  return ajv;
}

/**
 * The API server prunes unknown fields and `kubectl apply` reports them as errors (strict field
 * validation); forbid them here the same way, except where the schema preserves unknown fields.
 */
function forbidUnknownFields(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(forbidUnknownFields);
  if (node === null || typeof node !== "object") return node;
  const out: SchemaNode = {};
  for (const [k, v] of Object.entries(node as SchemaNode)) {
    out[k] = k === "x-kubernetes-validations" || k === "default" || k === "enum" ? v : forbidUnknownFields(v);
  }
  if (
    out.properties &&
    out.additionalProperties === undefined &&
    !out["x-kubernetes-preserve-unknown-fields"]
  ) {
    out.additionalProperties = false;
  }
  return out;
}

const ajv = makeAjv();
const validators = new Map<string, ValidateFunction>();
function validatorFor(def: KindDefinition): ValidateFunction {
  let v = validators.get(def.kind);
  if (!v) {
    v = ajv.compile(forbidUnknownFields(objectSchema(def)) as SchemaNode);
    validators.set(def.kind, v);
  }
  return v;
}

function pathFromPointer(pointer: string): string {
  let out = "";
  for (const raw of pointer.split("/").slice(1)) {
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    out += /^\d+$/.test(part) ? `[${part}]` : out === "" ? part : `.${part}`;
  }
  return out;
}

function joinPath(base: string, field: string): string {
  if (field === "") return base;
  if (field.startsWith("[")) return base + field;
  return base === "" ? field : `${base}.${field}`;
}

/** Turns ajv's errors into one readable message per problem. */
function schemaIssues(doc: number, errors: ErrorObject[]): ValidationIssue[] {
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === "anyOf").map((e) => e.instancePath));
  const issues: ValidationIssue[] = [];
  for (const e of errors) {
    const path = pathFromPointer(e.instancePath);
    if (e.keyword === "anyOf") {
      const formats = (e.schema as SchemaNode[]).map((s) => s.format).filter(Boolean);
      const wantsIp = formats.includes("ipv4") && formats.includes("ipv6");
      issues.push({
        doc,
        path,
        message: wantsIp ? "must be an IPv4 or IPv6 address" : "matches none of the allowed forms",
      });
      continue;
    }
    // The branch failures of an anyOf are summarised by the anyOf error itself.
    if (anyOfPaths.has(e.instancePath) && e.keyword === "format") continue;
    if (e.keyword === "additionalProperties") {
      const field = (e.params as { additionalProperty: string }).additionalProperty;
      issues.push({ doc, path: joinPath(path, field), message: `unknown field "${field}"` });
    } else if (e.keyword === "required") {
      const field = (e.params as { missingProperty: string }).missingProperty;
      issues.push({ doc, path: joinPath(path, field), message: "required field is missing" });
    } else if (e.keyword === "enum") {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
      issues.push({
        doc,
        path,
        message: `must be one of: ${allowed.map((a) => JSON.stringify(a)).join(", ")}`,
      });
    } else {
      issues.push({ doc, path, message: e.message ?? e.keyword });
    }
  }
  return issues;
}

// CEL integers are int64: JSON numbers under `type: integer` become bigint so `%` and `==` work
// exactly as in the API server.
function toCel(value: Json, schema: SchemaNode | undefined): unknown {
  if (value === null || schema === undefined) return value;
  // A non-integer under `type: integer` is reported by the schema check; it stays a double here.
  if (typeof value === "number")
    return schema.type === "integer" && Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map((v) => toCel(v, schema.items as SchemaNode | undefined));
  if (typeof value === "object") {
    const props = (schema.properties ?? {}) as Record<string, SchemaNode>;
    const extra =
      typeof schema.additionalProperties === "object"
        ? (schema.additionalProperties as SchemaNode)
        : undefined;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toCel(v, props[k] ?? extra);
    return out;
  }
  return value;
}

/** x-kubernetes-list-type map/set: the API server rejects duplicate keys (set: duplicate values). */
function listUniquenessIssues(
  doc: number,
  list: Json[],
  schema: SchemaNode,
  path: string,
): ValidationIssue[] {
  const type = schema["x-kubernetes-list-type"];
  if (type !== "map" && type !== "set") return [];
  const keys = (schema["x-kubernetes-list-map-keys"] ?? []) as string[];
  const seen = new Set<string>();
  const issues: ValidationIssue[] = [];
  list.forEach((item, i) => {
    const identity =
      type === "set" || item === null || typeof item !== "object" || Array.isArray(item)
        ? JSON.stringify(item)
        : keys.map((k) => `${k}=${JSON.stringify(item[k])}`).join(", ");
    if (seen.has(identity))
      issues.push({ doc, path: `${path}[${i}]`, message: `duplicate entry (${identity})` });
    seen.add(identity);
  });
  return issues;
}

type CelProgram = (ctx: { self: unknown }) => unknown;
const celPrograms = new Map<string, CelProgram>();
function celProgram(rule: string): CelProgram {
  let p = celPrograms.get(rule);
  if (!p) {
    p = plan(celEnv(), parseCel(rule)) as unknown as CelProgram;
    celPrograms.set(rule, p);
  }
  return p;
}

function celIssues(
  doc: number,
  value: Json | undefined,
  schema: SchemaNode | undefined,
  path: string,
  out: ValidationIssue[],
): void {
  if (value === undefined || value === null || schema === undefined) return;
  const celRules = schema["x-kubernetes-validations"] as CelRule[] | undefined;
  for (const r of celRules ?? []) {
    const result = celProgram(r.rule)({ self: toCel(value, schema) });
    if (isCelError(result)) {
      out.push({ doc, path, message: `cannot evaluate rule ${JSON.stringify(r.rule)}: ${result.message}` });
    } else if (result !== true) {
      out.push({ doc, path: joinPath(path, (r.fieldPath ?? "").replace(/^\./, "")), message: r.message });
    }
  }
  if (Array.isArray(value)) {
    out.push(...listUniquenessIssues(doc, value, schema, path));
    value.forEach((item, i) =>
      celIssues(doc, item, schema.items as SchemaNode | undefined, `${path}[${i}]`, out),
    );
  } else if (typeof value === "object") {
    const props = (schema.properties ?? {}) as Record<string, SchemaNode>;
    for (const [k, v] of Object.entries(value)) celIssues(doc, v, props[k], joinPath(path, k), out);
  }
}

function metadataIssues(doc: number, obj: Record<string, Json>, def: KindDefinition): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const meta = obj.metadata;
  if (meta === undefined || meta === null || typeof meta !== "object" || Array.isArray(meta)) {
    return [{ doc, path: "metadata", message: "required field is missing" }];
  }
  const name = meta.name;
  if (typeof name !== "string" || name === "") {
    issues.push({ doc, path: "metadata.name", message: "required field is missing" });
  } else if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    issues.push({
      doc,
      path: "metadata.name",
      message: "must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-', '.')",
    });
  }
  if (meta.namespace !== undefined) {
    if (def.scope === "Cluster") {
      issues.push({
        doc,
        path: "metadata.namespace",
        message: `${def.kind} is cluster-scoped and has no namespace`,
      });
    } else if (typeof meta.namespace !== "string" || !DNS_LABEL.test(meta.namespace)) {
      issues.push({ doc, path: "metadata.namespace", message: "must be a lowercase RFC 1123 label" });
    }
  }
  return issues;
}

/**
 * Validates one object. Defaults are applied to `obj` in place (as the API server would), so a
 * caller that keeps the object gets the defaulted form.
 */
export function validateObject(obj: unknown, doc = 1): ValidationIssue[] {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) {
    return [{ doc, path: "", message: "a manifest must be a YAML mapping" }];
  }
  const o = obj as Record<string, Json>;
  const def = kindDefinition(o.apiVersion, o.kind);
  if (!def) {
    const known = KINDS.map((k) => k.kind).join(", ");
    if (o.apiVersion !== API_VERSION) {
      return [
        {
          doc,
          path: "apiVersion",
          message: `must be ${API_VERSION} (kinds: ${known}), got ${JSON.stringify(o.apiVersion)}`,
        },
      ];
    }
    return [{ doc, path: "kind", message: `must be one of ${known}, got ${JSON.stringify(o.kind)}` }];
  }
  const issues = metadataIssues(doc, o, def);
  const validate = validatorFor(def);
  if (!validate(o)) issues.push(...schemaIssues(doc, validate.errors ?? []));
  const rules: ValidationIssue[] = [];
  celIssues(doc, o, objectSchema(def), "", rules);
  // On a structurally broken object, a rule that cannot evaluate, or that fails on a field already
  // reported, says nothing new.
  const reported = new Set(issues.map((i) => i.path));
  return issues.concat(
    issues.length === 0
      ? rules
      : rules.filter((r) => !r.message.startsWith("cannot evaluate") && !reported.has(r.path)),
  );
}

export interface FileValidation {
  issues: ValidationIssue[];
  /** The parsed (and defaulted) documents, in order; empty documents are skipped. */
  objects: unknown[];
}

/** Validates a multi-document YAML text. */
export function validateYaml(text: string): FileValidation {
  const issues: ValidationIssue[] = [];
  const objects: unknown[] = [];
  parseAllDocuments(text).forEach((d, i) => {
    const doc = i + 1;
    if (d.errors.length > 0) {
      for (const e of d.errors) issues.push({ doc, path: "", message: `YAML: ${e.message.split("\n")[0]}` });
      return;
    }
    const value: unknown = d.toJS();
    if (value === null || value === undefined) return;
    objects.push(value);
    issues.push(...validateObject(value, doc));
  });
  return { issues, objects };
}

export function formatIssue(file: string, issue: ValidationIssue): string {
  return `${file}:${issue.doc}:${issue.path === "" ? "(object)" : issue.path}: ${issue.message}`;
}
