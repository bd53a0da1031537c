// kubelvs validate FILE...: offline check of manifests against the CRD schemas and CEL rules.
import { readFileSync } from "node:fs";
import { formatIssue, validateYaml } from "../crds/validate.js";

const HELP = `usage: kubelvs validate FILE... (- for standard input)

Checks kubelvs manifests (VrrpGroup, VirtualService, NodeState) offline against the same schemas
the CRDs install, including defaults, unknown fields and the CEL cross-field rules.
Prints file:document:path: message for each problem; exits 1 if there is any.
`;

// readFileSync(0) fails with EAGAIN when stdin is a pipe whose writer has not written yet.
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function run(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(HELP);
    return 0;
  }
  if (args.length === 0) {
    process.stderr.write(HELP);
    return 2;
  }
  let problems = 0;
  let objects = 0;
  for (const file of args) {
    let text: string;
    try {
      text = file === "-" ? await readStdin() : readFileSync(file, "utf8");
    } catch (e) {
      process.stderr.write(`${file}: cannot read: ${(e as Error).message}\n`);
      problems++;
      continue;
    }
    const result = validateYaml(text);
    objects += result.objects.length;
    for (const issue of result.issues) {
      process.stderr.write(formatIssue(file === "-" ? "<stdin>" : file, issue) + "\n");
      problems++;
    }
  }
  if (problems === 0) process.stdout.write(`${objects} object(s) valid\n`);
  return problems === 0 ? 0 : 1;
}
