// Serialisation of imported objects: multi-document YAML (what kubectl apply -f takes), or JSON
// as a v1 List.
import { stringify } from "yaml";
import type { ImportResult } from "./import.js";

export type OutputFormat = "yaml" | "json";

export function formatObjects(objects: ImportResult["objects"], format: OutputFormat): string {
  if (format === "json") {
    return JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }, null, 2) + "\n";
  }
  return objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join("---\n");
}
