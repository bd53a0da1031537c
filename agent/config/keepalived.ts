// Standalone agent straight from a keepalived.conf: the importer turns it into VrrpGroups and
// VirtualServices, and the same renderer the operator uses turns those into this node's desired
// state. One path, so a keepalived.conf means the same thing here and in a cluster.
import { hostname } from "node:os";
import type { NodeStateSpec } from "../../crds/schema/node-state.js";
import type { VirtualServiceSpec } from "../../crds/schema/virtual-service.js";
import type { VrrpGroupSpec } from "../../crds/schema/vrrp-group.js";
import { render } from "../../core/render/render.js";
import { formatDiagnostic } from "../../importer/diagnostics.js";
import { nodeFileSystem } from "../../importer/filesystem.js";
import { importKeepalived } from "../../importer/import.js";
import { ConfigError } from "./config-error.js";

export interface KeepalivedConfig {
  spec: NodeStateSpec;
  /** Import warnings (file:line: warning: ...), to be logged. */
  warnings: string[];
}

/** Namespace given to VirtualServices of a standalone configuration. */
export const STANDALONE_NAMESPACE = "standalone";

export function loadKeepalivedConfig(
  file: string,
  nodeName = hostname(),
  env = process.env,
): KeepalivedConfig {
  const result = importKeepalived([{ file }], {
    fs: nodeFileSystem(),
    namespace: STANDALONE_NAMESPACE,
    configId: nodeName,
    env,
  });
  const messages = result.diagnostics.map(formatDiagnostic);
  if (!result.ok)
    throw new ConfigError(
      file,
      messages.filter((m) => !m.includes(": warning: ")),
    );
  const groups = result.objects
    .filter((o) => o.kind === "VrrpGroup")
    .map((o) => ({ name: o.metadata.name, spec: o.spec as VrrpGroupSpec }));
  const services = result.objects
    .filter((o) => o.kind === "VirtualService")
    .map((o) => ({
      namespace: STANDALONE_NAMESPACE,
      name: o.metadata.name,
      spec: o.spec as VirtualServiceSpec,
    }));
  const out = render({
    nodes: [{ name: nodeName, labels: { "kubernetes.io/hostname": nodeName }, internalIPs: [] }],
    groups,
    services,
    // The importer refers to v2 passwords as Secrets (for clusters) and hands their values to us.
    secretValue: (ref) => result.secrets.get(`${ref.namespace}/${ref.name}`),
  });
  if (out.problems.length > 0) {
    throw new ConfigError(
      file,
      out.problems.map((p) => `${p.kind} ${p.name}: ${p.message}`),
    );
  }
  return { spec: out.nodeStates.get(nodeName)!, warnings: messages };
}
