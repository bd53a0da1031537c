// Writes each node's NodeState from the latest render: created when missing, its spec replaced when
// the content hash differs from the one in its annotation, deleted when its node is gone. Nothing
// is written when the hash matches, so a resync or a new leader rewrites nothing.
//
// Updates are JSON patches that replace /spec and the hash annotation, guarded by a `test` of the
// hash the cache had: the agent writes the status of the same object every few seconds, and a
// resourceVersion precondition would make those unrelated writes conflict with ours; the `test`
// keeps the optimistic check on what the operator owns (a deposed leader with a stale cache fails
// instead of overwriting a newer spec).
//
// Work is keyed by node; the NodeState of a node is named and labelled per instance (instance.ts).
// The cache holds this instance's NodeStates only (a label-selected watch), so another instance's
// are never updated or deleted here.
import type { Logger } from "../core/log.js";
import {
  CONTENT_HASH_ANNOTATION,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  contentHashOf,
  type CachedNodeState,
} from "./cluster-objects.js";
import {
  describeInstance,
  INSTANCE_LABEL,
  instanceOf,
  nodeOfNodeState,
  nodeStateLabels,
  nodeStateName,
} from "./instance.js";
import {
  isAlreadyExists,
  isNotFound,
  jsonPointerKey,
  type JsonPatchOperation,
  type KubeClient,
} from "./kube/client.js";
import type { Informer } from "./kube/informer.js";
import { apiVersionOf, collectionPath, NODE_STATES, objectPath, type KubeObject } from "./kube/resources.js";
import type { OperatorMetrics } from "./metrics.js";
import type { RenderController } from "./render-controller.js";

export function nodeStateKey(node: string): string {
  return `NodeState/${node}`;
}

export class NodeStateController {
  /**
   * Hashes this controller wrote that the cache has not shown yet: without them, a render right
   * after a write would see the old hash in the cache and write again.
   */
  private readonly written = new Map<string, string>();
  /**
   * UIDs of NodeStates this controller deleted that the cache still shows (node → uid): a render or
   * a resync before the watch delivers the deletion must not delete them again. A UID never returns,
   * so these survive resyncs; they go once the cache has dropped the object.
   */
  private readonly deleted = new Map<string, string>();

  constructor(
    private readonly instance: string,
    private readonly client: KubeClient,
    private readonly nodeStates: Informer<CachedNodeState>,
    private readonly renderer: RenderController,
    private readonly metrics: OperatorMetrics,
    private readonly log: Logger,
  ) {}

  /** The node's NodeState in the cache. */
  private stored(node: string): CachedNodeState | undefined {
    return this.nodeStates.get(nodeStateName(this.instance, node));
  }

  /** The hash the node's NodeState has, as far as this controller knows. */
  private currentHash(node: string): string | undefined {
    return this.written.get(node) ?? contentHashOf(this.stored(node));
  }

  /** True when the NodeState needs a write: another hash, or labels it lacks (one written since has them). */
  private needsWrite(node: string, hash: string): boolean {
    if (this.currentHash(node) !== hash) return true;
    const stored = this.stored(node);
    return (
      !this.written.has(node) && stored !== undefined && missingLabels(stored, this.labels(node)).length > 0
    );
  }

  private labels(node: string): Record<string, string> {
    return nodeStateLabels(this.instance, node);
  }

  /** The node a cached NodeState of this instance describes (undefined: not named like one). */
  nodeOf(stored: KubeObject): string | undefined {
    return nodeOfNodeState(this.instance, stored.metadata.name);
  }

  /** Nodes whose NodeState differs from the latest render: to create, update or delete. */
  outOfDate(): string[] {
    const snapshot = this.renderer.snapshot;
    if (snapshot === undefined) return [];
    const nodes: string[] = [];
    for (const [node, desired] of snapshot.desired) if (this.needsWrite(node, desired.hash)) nodes.push(node);
    for (const stored of this.nodeStates.list()) {
      const node = this.nodeOf(stored);
      if (node !== undefined && !snapshot.desired.has(node) && this.mayDelete(node, stored)) nodes.push(node);
    }
    return nodes;
  }

  /** The informer saw this node's NodeState change: forget a write or deletion once the cache shows it. */
  observed(node: string): void {
    const stored = this.stored(node);
    if (stored === undefined || contentHashOf(stored) === this.written.get(node)) this.written.delete(node);
    if (stored?.metadata.uid !== this.deleted.get(node)) this.deleted.delete(node);
  }

  /** A NodeState of a node that is gone: deleted if the operator made it and has not deleted it already. */
  private mayDelete(node: string, stored: CachedNodeState): boolean {
    return isManaged(stored) && this.deleted.get(node) !== stored.metadata.uid;
  }

  /** A resync trusts the cache alone again. */
  forgetWrites(): void {
    this.written.clear();
  }

  async reconcile(node: string): Promise<void> {
    const snapshot = this.renderer.snapshot;
    if (snapshot === undefined) return;
    const desired = snapshot.desired.get(node);
    const stored = this.stored(node);
    if (desired === undefined) {
      if (stored !== undefined && this.mayDelete(node, stored)) await this.remove(stored, node);
      return;
    }
    if (!this.needsWrite(node, desired.hash)) return;
    const name = nodeStateName(this.instance, node);
    const labels = this.labels(node);
    if (stored === undefined) {
      try {
        await this.client.create(collectionPath(NODE_STATES), {
          apiVersion: apiVersionOf(NODE_STATES),
          kind: NODE_STATES.kind,
          metadata: { name, labels, annotations: { [CONTENT_HASH_ANNOTATION]: desired.hash } },
          spec: desired.spec,
        });
      } catch (e) {
        if (isAlreadyExists(e)) await this.explainNameTaken(name, node, e);
        throw e;
      }
      this.metrics.nodeStateWritten("create");
      this.log.debug("NodeState created", { node, nodeState: name, hash: desired.hash });
    } else {
      await this.client.jsonPatch(
        objectPath(NODE_STATES, name),
        updateOperations(stored, desired.spec, desired.hash, labels),
      );
      this.metrics.nodeStateWritten("update");
      this.log.debug("NodeState updated", {
        node,
        nodeState: name,
        hash: desired.hash,
        previous: contentHashOf(stored),
      });
    }
    this.written.set(node, desired.hash);
  }

  /**
   * A create found the name taken by a NodeState this instance's cache does not show: another
   * instance's (whose names can collide with node names that contain a dot). Throws what it is.
   */
  private async explainNameTaken(name: string, node: string, cause: unknown): Promise<void> {
    let existing: KubeObject;
    try {
      existing = await this.client.get<KubeObject>(objectPath(NODE_STATES, name));
    } catch {
      // Raced with its deletion, or not readable: the create's own error says enough.
      return;
    }
    // This instance's own, not in the cache yet: the retry finds it there.
    if (instanceOf(existing.metadata) === this.instance) return;
    const label = existing.metadata.labels?.[INSTANCE_LABEL];
    const owner =
      label === undefined
        ? "it has no kubelvs.io/instance label"
        : `it is labelled kubelvs.io/instance=${label}`;
    throw new Error(
      `NodeState ${name} (node ${node}, ${describeInstance(this.instance)}) already exists and is not this instance's: ${owner}`,
      { cause },
    );
  }

  private async remove(stored: CachedNodeState, node: string): Promise<void> {
    try {
      await this.client.delete(objectPath(NODE_STATES, stored.metadata.name), {
        apiVersion: "v1",
        kind: "DeleteOptions",
        preconditions: { uid: stored.metadata.uid },
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      // Deleted meanwhile by someone else: nothing was written.
      this.log.debug("NodeState already gone", { node, nodeState: stored.metadata.name });
      this.written.delete(node);
      if (stored.metadata.uid !== undefined) this.deleted.set(node, stored.metadata.uid);
      return;
    }
    this.written.delete(node);
    if (stored.metadata.uid !== undefined) this.deleted.set(node, stored.metadata.uid);
    this.metrics.nodeStateWritten("delete");
    this.log.info("NodeState deleted: its node is gone", { node, nodeState: stored.metadata.name });
  }
}

function isManaged(stored: KubeObject): boolean {
  return stored.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY;
}

/** The labels (of `wanted`) the stored NodeState lacks or has with another value. */
function missingLabels(stored: KubeObject, wanted: Record<string, string>): [string, string][] {
  return Object.entries(wanted).filter(([key, value]) => stored.metadata.labels?.[key] !== value);
}

/** The JSON patch that replaces the spec, guarded by the hash the cache shows, and sets the labels. */
export function updateOperations(
  stored: CachedNodeState,
  spec: unknown,
  hash: string,
  labels: Record<string, string>,
): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  const annotations = stored.metadata.annotations;
  const hashPath = `/metadata/annotations/${jsonPointerKey(CONTENT_HASH_ANNOTATION)}`;
  const previous = annotations?.[CONTENT_HASH_ANNOTATION];
  if (annotations === undefined) {
    ops.push({ op: "add", path: "/metadata/annotations", value: { [CONTENT_HASH_ANNOTATION]: hash } });
  } else {
    if (previous !== undefined) ops.push({ op: "test", path: hashPath, value: previous });
    ops.push({ op: "add", path: hashPath, value: hash });
  }
  if (stored.metadata.labels === undefined) {
    ops.push({ op: "add", path: "/metadata/labels", value: labels });
  } else {
    for (const [key, value] of missingLabels(stored, labels))
      ops.push({ op: "add", path: `/metadata/labels/${jsonPointerKey(key)}`, value });
  }
  ops.push({ op: "add", path: "/spec", value: spec });
  return ops;
}
