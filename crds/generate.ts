// Writes crds/*.yaml from the TypeBox schemas (npm run crds). The generated files are committed:
// they are what `kubectl apply -f crds/` and the Helm chart install.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { GROUP, KINDS, customResourceDefinition } from "./definitions.js";

/** Directory of the committed CRD files, from both the source tree and dist/. */
export const CRD_DIR = fileURLToPath(new URL("../../crds/", import.meta.url));
/** The Helm chart's copies (its templates include them); a chart test fails when they drift. */
export const CHART_CRD_DIR = fileURLToPath(new URL("../../charts/kubelvs/files/crds/", import.meta.url));

const HEADER = "# Generated from crds/schema/*.ts by `npm run crds`. Do not edit by hand.\n";

/** File name → file content, for every kind. */
export function renderCrdFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const def of KINDS) {
    const yaml = stringify(customResourceDefinition(def), { lineWidth: 0, aliasDuplicateObjects: false });
    files.set(`${GROUP}_${def.plural}.yaml`, HEADER + yaml);
  }
  return files;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, content] of renderCrdFiles()) {
    writeFileSync(CRD_DIR + name, content);
    writeFileSync(CHART_CRD_DIR + name, content);
    process.stdout.write(`wrote crds/${name} and charts/kubelvs/files/crds/${name}\n`);
  }
}
