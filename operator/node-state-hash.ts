// contentHash(spec) of every node's NodeState, fast enough to run on every render: the canonical
// JSON of each embedded VirtualService spec is computed once per spec object and cached (the
// informer replaces cached objects on change and never mutates them, so an object's text never goes
// stale), and the pieces are fed to the hash one by one instead of being joined into one string per
// node. The result is identical to contentHash(spec) — the unit test holds it to that.
import { createHash, type Hash } from "node:crypto";
import type { NodeStateSpec, NodeVirtualService } from "../crds/schema/node-state.js";
import { canonicalJSON } from "../core/render/content-hash.js";

function definedEntriesSorted(value: object): [string, unknown][] {
  return Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

interface CachedEntry {
  namespace: string;
  name: string;
  vrrpGroup: string;
  keys: string;
  text: string;
}

export class NodeStateHasher {
  /** Canonical text of whole service entries, by their spec object (one service owns one spec object). */
  private readonly entries = new WeakMap<object, CachedEntry>();

  hash(spec: NodeStateSpec): string {
    const hash = createHash("sha256");
    hash.update("{");
    definedEntriesSorted(spec).forEach(([key, value], i) => {
      hash.update(`${i > 0 ? "," : ""}${JSON.stringify(key)}:`);
      if (key === "virtualServices" && spec.virtualServices !== undefined)
        this.updateWithServices(hash, spec.virtualServices);
      else hash.update(canonicalJSON(value));
    });
    hash.update("}");
    return hash.digest("hex").slice(0, 32);
  }

  private updateWithServices(hash: Hash, services: NodeVirtualService[]): void {
    hash.update("[");
    services.forEach((entry, i) => {
      if (i > 0) hash.update(",");
      hash.update(this.entryText(entry));
    });
    hash.update("]");
  }

  /** canonicalJSON(entry), cached per spec object while the entry's other fields stay the same. */
  private entryText(entry: NodeVirtualService): string {
    const spec: unknown = entry.spec;
    if (typeof spec !== "object" || spec === null) return canonicalJSON(entry);
    const keys = Object.keys(entry).join(",");
    const cached = this.entries.get(spec);
    if (
      cached !== undefined &&
      cached.namespace === entry.namespace &&
      cached.name === entry.name &&
      cached.vrrpGroup === entry.vrrpGroup &&
      cached.keys === keys
    )
      return cached.text;
    const text = canonicalJSON(entry);
    this.entries.set(spec, {
      namespace: entry.namespace,
      name: entry.name,
      vrrpGroup: entry.vrrpGroup,
      keys,
      text,
    });
    return text;
  }
}
