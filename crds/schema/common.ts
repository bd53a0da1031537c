// Building blocks shared by the kubelvs API kinds. Everything here is TypeBox: one definition gives
// both the OpenAPI v3 schema that goes into the CRD and the static TypeScript type, so the two
// cannot drift. Conventions follow the Kubernetes API conventions: durations are integers with the
// unit in the field name, enums are UpperCamelCase strings, lists of named things are map-lists.
import { Type, type TSchema, type Static, type TUnsafe, type SchemaOptions } from "@sinclair/typebox";

/** A CEL rule in `x-kubernetes-validations`, checked by the API server and by `kubelvs validate`. */
export interface CelRule {
  rule: string;
  message: string;
  /** JSONPath-like field the error points at, relative to the object carrying the rule. */
  fieldPath?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
}

export function rules(...list: CelRule[]): { "x-kubernetes-validations": CelRule[] } {
  return { "x-kubernetes-validations": list };
}

/** A plain copy of a schema with every `x-kubernetes-validations` removed (see NodeState). */
export function withoutCelRules(schema: TSchema): Record<string, unknown> {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip);
    if (node === null || typeof node !== "object") return node;
    return Object.fromEntries(
      Object.entries(node as Record<string, unknown>)
        .filter(([k]) => k !== "x-kubernetes-validations")
        .map(([k, v]) => [k, k === "default" || k === "enum" ? v : strip(v)]),
    );
  };
  return strip(JSON.parse(JSON.stringify(schema))) as Record<string, unknown>;
}

/** A string enum as Kubernetes wants it (`enum:`), typed as the union of its values. */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: SchemaOptions = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, type: "string", enum: [...values] });
}

/** An integer enum (e.g. the VRRP version), typed as the union of its values. */
export function IntegerEnum<const T extends readonly number[]>(
  values: T,
  options: SchemaOptions = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, type: "integer", enum: [...values] });
}

export const IPAddress = (description: string) =>
  Type.String({ description, maxLength: 45, anyOf: [{ format: "ipv4" }, { format: "ipv6" }] });

export const IPv4Address = (description: string) => Type.String({ description, format: "ipv4" });

export const CIDR = (description: string) => Type.String({ description, format: "cidr", maxLength: 49 });

export const Port = (description: string) =>
  Type.Integer({ description, minimum: 1, maximum: 65535, format: "int32" });

export const InterfaceName = (description: string) =>
  // IFNAMSIZ is 16 including the terminating NUL; "/" and whitespace are never valid in a name.
  Type.String({ description, minLength: 1, maxLength: 15, pattern: "^[^/\\s:]+$" });

export const Millis = (description: string, minimum: number, maximum: number, defaultValue?: number) =>
  Type.Integer({
    description,
    minimum,
    maximum,
    format: "int32",
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  });

export const UInt32 = (description: string) =>
  Type.Integer({ description, minimum: 0, maximum: 4294967295, format: "int64" });

/** A DNS-1123 label, as Kubernetes object names in most places. */
export const DNSLabel = (description: string) =>
  Type.String({ description, minLength: 1, maxLength: 63, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" });

/** A DNS-1123 subdomain, the usual Kubernetes object name. */
export const ObjectName = (description: string) =>
  Type.String({
    description,
    minLength: 1,
    maxLength: 253,
    pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
  });

/** argv of a command run by the agent on its node (no shell unless the argv asks for one). */
export const Command = (description: string) =>
  Type.Array(Type.String({ maxLength: 4096 }), { description, minItems: 1, maxItems: 64 });

/** map[string]string the way Kubernetes schemas spell it (additionalProperties, not patternProperties). */
export const StringMap = (description: string) =>
  Type.Unsafe<Record<string, string>>({
    description,
    type: "object",
    additionalProperties: { type: "string" },
  });

export const LabelSelector = (description: string) =>
  Type.Object(
    {
      matchLabels: Type.Optional(StringMap("Labels that must all match exactly.")),
      matchExpressions: Type.Optional(
        Type.Array(
          Type.Object({
            key: Type.String({ minLength: 1, maxLength: 317 }),
            operator: StringEnum(["In", "NotIn", "Exists", "DoesNotExist"] as const),
            values: Type.Optional(Type.Array(Type.String({ maxLength: 63 }), { maxItems: 64 })),
          }),
          { maxItems: 32, description: "Set-based requirements, all of which must match." },
        ),
      ),
    },
    { description, "x-kubernetes-map-type": "atomic" },
  );
export type LabelSelector = Static<ReturnType<typeof LabelSelector>>;

/** metav1.Condition, the standard status condition. */
export const Condition = Type.Object({
  type: Type.String({
    maxLength: 316,
    pattern:
      "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
  }),
  status: StringEnum(["True", "False", "Unknown"] as const),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0, format: "int64" })),
  lastTransitionTime: Type.String({ format: "date-time" }),
  reason: Type.String({ minLength: 1, maxLength: 1024, pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$" }),
  message: Type.String({ maxLength: 32768 }),
});
export type Condition = Static<typeof Condition>;

export const Conditions = Type.Array(Condition, {
  description: "Standard conditions (Ready, Conflict, SplitBrain, ...).",
  maxItems: 16,
  "x-kubernetes-list-type": "map",
  "x-kubernetes-list-map-keys": ["type"],
});

/** A list whose items are identified by the given required keys (server-side apply merges by them). */
export function MapList<T extends TSchema>(item: T, keys: string[], options: SchemaOptions = {}) {
  return Type.Array(item, {
    ...options,
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": keys,
  });
}

export const VRRPState = StringEnum(
  ["Initialize", "Backup", "Master", "Fault", "Stopped", "Unknown"] as const,
  {
    description: "VRRP state of one node in one group, as its agent last reported it.",
  },
);
export type VRRPState = Static<typeof VRRPState>;
