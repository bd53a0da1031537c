// kubelvs import: keepalived.conf → VrrpGroup and VirtualService manifests on standard output,
// warnings and errors (file:line[:col]) on standard error.
import { formatDiagnostic } from "../importer/diagnostics.js";
import { nodeFileSystem } from "../importer/filesystem.js";
import { type ConfigSource, importKeepalived } from "../importer/import.js";
import { type OutputFormat, formatObjects } from "../importer/output.js";

const HELP = `usage: kubelvs import [options] FILE
       kubelvs import [options] --node NAME=FILE --node NAME=FILE...

Reads a keepalived configuration (with its includes) and prints the equivalent kubelvs objects as
multi-document YAML: VrrpGroups first, then VirtualServices. With one --node per node (each node's
own keepalived.conf, e.g. MASTER and BACKUP), instances of the same name merge into one VrrpGroup
with a priority per node, and contradictions between the files are reported.

options:
  --node NAME=FILE          a node's configuration; NAME is the Kubernetes node name (and the
                            config id for "@NAME" lines)
  -n, --namespace NS        namespace of the VirtualServices (default "default")
  --secret-namespace NS     namespace of the Secrets referenced for VRRP passwords (default: --namespace)
  --config-id ID            config id for "@ID" lines of a single FILE (keepalived -i)
  -o, --output yaml|json    output format (default yaml; json is a v1 List)

Warnings (keywords kubelvs has no equivalent for, lost semantics) go to standard error as
file:line: warning: ...; errors as file:line:col: ... and exit status 1. Usage errors exit 2.
`;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

interface ParsedArgs {
  sources: ConfigSource[];
  namespace: string;
  secretNamespace?: string;
  configId?: string;
  format: OutputFormat;
}

function parseArgs(args: string[]): ParsedArgs | string {
  const nodes: ConfigSource[] = [];
  const files: string[] = [];
  let namespace = "default";
  let secretNamespace: string | undefined;
  let configId: string | undefined;
  let format: OutputFormat = "yaml";
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] =
      arg.startsWith("--") && arg.includes("=")
        ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
        : [arg, undefined];
    const value = (): string | undefined => inline ?? args[++i];
    switch (flag) {
      case "--node": {
        const v = value();
        const eq = v?.indexOf("=") ?? -1;
        if (v === undefined || eq <= 0 || eq === v.length - 1)
          return `--node needs NAME=FILE, got ${JSON.stringify(v ?? "")}`;
        const node = v.slice(0, eq);
        if (!DNS_SUBDOMAIN.test(node) || node.length > 253)
          return `--node: "${node}" is not a Kubernetes node name (lower-case DNS name)`;
        if (nodes.some((n) => n.node === node)) return `--node: node "${node}" is given twice`;
        nodes.push({ node, file: v.slice(eq + 1) });
        break;
      }
      case "-n":
      case "--namespace": {
        const v = value();
        if (v === undefined || !DNS_LABEL.test(v))
          return `${flag} needs a namespace name (lower-case DNS label)`;
        namespace = v;
        break;
      }
      case "--secret-namespace": {
        const v = value();
        if (v === undefined || !DNS_LABEL.test(v))
          return `${flag} needs a namespace name (lower-case DNS label)`;
        secretNamespace = v;
        break;
      }
      case "--config-id": {
        const v = value();
        if (v === undefined || v === "") return "--config-id needs a value";
        configId = v;
        break;
      }
      case "-o":
      case "--output": {
        const v = value();
        if (v !== "yaml" && v !== "json") return `${flag} must be yaml or json`;
        format = v;
        break;
      }
      default:
        if (arg.startsWith("-") && arg !== "-") return `unknown option ${arg}`;
        files.push(arg);
    }
  }
  if (files.length > 1) return `one FILE at a time (for several nodes use --node NAME=FILE for each)`;
  if (files.length === 1 && nodes.length > 0) return `give either FILE or --node NAME=FILE options, not both`;
  if (files.length === 0 && nodes.length === 0) return "no configuration given";
  if (configId !== undefined && nodes.length > 0)
    return "--config-id applies to a single FILE; with --node the node name is the config id";
  const parsed: ParsedArgs = { sources: nodes.length > 0 ? nodes : [{ file: files[0]! }], namespace, format };
  if (secretNamespace !== undefined) parsed.secretNamespace = secretNamespace;
  if (configId !== undefined) parsed.configId = configId;
  return parsed;
}

export async function run(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(HELP);
    return 0;
  }
  const parsed = parseArgs(args);
  if (typeof parsed === "string") {
    process.stderr.write(`kubelvs import: ${parsed}\n\n${HELP}`);
    return 2;
  }
  const result = importKeepalived(parsed.sources, {
    fs: nodeFileSystem(),
    namespace: parsed.namespace,
    secretNamespace: parsed.secretNamespace,
    configId: parsed.configId,
    env: process.env,
  });
  for (const d of result.diagnostics) process.stderr.write(formatDiagnostic(d) + "\n");
  if (!result.ok) return 1;
  process.stdout.write(formatObjects(result.objects, parsed.format));
  return 0;
}
