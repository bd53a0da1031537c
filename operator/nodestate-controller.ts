// Writes each node's NodeState from the latest render: created when missing, its spec replaced when
// the content hash differs from the one in its annotation, deleted when its node is gone. Nothing
// is written when the hash matches, so a resync or a new leader rewrites nothing.
//
// Updates are JSON patches that replace /spec and the hash annotation, guarded by a `test` of the
// hash the cache had: the agent writes the status of the same object every few seconds, and a
// resourceVersion precondition would make those unrelated writes conflict with ours; the `test`
// keeps the optimistic check on what the operator owns (a deposed leader with a stale cache fails
// instead of overwriting a newer spec).
import type { Logger } from "../core/log.js";
import {
  CONTENT_HASH_ANNOTATION,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  contentHashOf,
  type CachedNodeState,
} from "./cluster-objects.js";
import { isNotFound, jsonPointerKey, type JsonPatchOperation, type KubeClient } from "./kube/client.js";
import type { Informer } from "./kube/informer.js";
import { apiVersionOf, collectionPath, NODE_STATES, objectPath } from "./kube/resources.js";
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

  constructor(
    private readonly client: KubeClient,
    private readonly nodeStates: Informer<CachedNodeState>,
    private readonly renderer: RenderController,
    private readonly metrics: OperatorMetrics,
    private readonly log: Logger,
  ) {}

  /** The hash the node's NodeState has, as far as this controller knows. */
  private currentHash(node: string): string | undefined {
    return this.written.get(node) ?? contentHashOf(this.nodeStates.get(node));
  }

  /** Nodes whose NodeState differs from the latest render: to create, update or delete. */
  outOfDate(): string[] {
    const snapshot = this.renderer.snapshot;
    if (snapshot === undefined) return [];
    const nodes: string[] = [];
    for (const [node, desired] of snapshot.desired)
      if (this.currentHash(node) !== desired.hash) nodes.push(node);
    for (const stored of this.nodeStates.list()) {
      const node = stored.metadata.name;
      if (!snapshot.desired.has(node) && isManaged(stored)) nodes.push(node);
    }
    return nodes;
  }

  /** The informer saw this NodeState change: forget a written hash once the cache has caught up. */
  observed(node: string): void {
    const stored = this.nodeStates.get(node);
    if (stored === undefined || contentHashOf(stored) === this.written.get(node)) this.written.delete(node);
  }

  /** A resync trusts the cache alone again. */
  forgetWrites(): void {
    this.written.clear();
  }

  async reconcile(node: string): Promise<void> {
    const snapshot = this.renderer.snapshot;
    if (snapshot === undefined) return;
    const desired = snapshot.desired.get(node);
    const stored = this.nodeStates.get(node);
    if (desired === undefined) {
      if (stored !== undefined && isManaged(stored)) await this.remove(stored);
      return;
    }
    if (this.currentHash(node) === desired.hash) return;
    if (stored === undefined) {
      await this.client.create(collectionPath(NODE_STATES), {
        apiVersion: apiVersionOf(NODE_STATES),
        kind: NODE_STATES.kind,
        metadata: {
          name: node,
          labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
          annotations: { [CONTENT_HASH_ANNOTATION]: desired.hash },
        },
        spec: desired.spec,
      });
      this.metrics.nodeStateWritten("create");
      this.log.debug("NodeState created", { node, hash: desired.hash });
    } else {
      await this.client.jsonPatch(
        objectPath(NODE_STATES, node),
        updateOperations(stored, desired.spec, desired.hash),
      );
      this.metrics.nodeStateWritten("update");
      this.log.debug("NodeState updated", { node, hash: desired.hash, previous: contentHashOf(stored) });
    }
    this.written.set(node, desired.hash);
  }

  private async remove(stored: CachedNodeState): Promise<void> {
    const node = stored.metadata.name;
    try {
      await this.client.delete(objectPath(NODE_STATES, node), {
        apiVersion: "v1",
        kind: "DeleteOptions",
        preconditions: { uid: stored.metadata.uid },
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    this.written.delete(node);
    this.metrics.nodeStateWritten("delete");
    this.log.info("NodeState deleted: its node is gone", { node });
  }
}

function isManaged(stored: CachedNodeState): boolean {
  return stored.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY;
}

/** The JSON patch that replaces the spec, guarded by the hash the cache shows. */
export function updateOperations(stored: CachedNodeState, spec: unknown, hash: string): JsonPatchOperation[] {
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
    ops.push({ op: "add", path: "/metadata/labels", value: { [MANAGED_BY_LABEL]: MANAGED_BY } });
  } else if (stored.metadata.labels[MANAGED_BY_LABEL] !== MANAGED_BY) {
    ops.push({ op: "add", path: `/metadata/labels/${jsonPointerKey(MANAGED_BY_LABEL)}`, value: MANAGED_BY });
  }
  ops.push({ op: "add", path: "/spec", value: spec });
  return ops;
}
