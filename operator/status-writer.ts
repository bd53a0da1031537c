// Writes the status subresource of VrrpGroups and VirtualServices, only when it differs from what
// the object has, and remembers what it wrote until the cache shows it (a second reconcile right
// after a write must compare against the new status, not the cache's older one).
//
// The write is a JSON patch that sets /status without a resourceVersion precondition: the status
// is derived data owned by the operator alone, so the latest computation may simply win, and an
// unrelated spec edit by a user does not make it conflict.
import { canonicalJSON } from "../core/render/content-hash.js";
import type { KubeClient } from "./kube/client.js";
import { objectKey, statusPath, type ObjectMeta, type ResourceType } from "./kube/resources.js";

export class StatusWriter<S> {
  private readonly written = new Map<string, S>();

  constructor(
    private readonly client: KubeClient,
    private readonly resource: ResourceType,
  ) {}

  /** The status the object has as far as this writer knows: its last write, or the cached one. */
  current(meta: ObjectMeta, cached: S | undefined): S | undefined {
    const key = objectKey(meta);
    const written = this.written.get(key);
    if (written === undefined) return cached;
    if (canonicalJSON(written) === canonicalJSON(cached)) {
      this.written.delete(key);
      return cached;
    }
    return written;
  }

  /** Writes the status when it differs from the current one; true when it wrote. */
  async update(meta: ObjectMeta, cached: S | undefined, status: S): Promise<boolean> {
    if (canonicalJSON(this.current(meta, cached)) === canonicalJSON(status)) return false;
    await this.client.jsonPatch(statusPath(this.resource, meta.name, meta.namespace), [
      { op: "add", path: "/status", value: status },
    ]);
    this.written.set(objectKey(meta), status);
    return true;
  }

  /** The cache shows this status: true (and the write forgotten) when it is the one this writer wrote. */
  acknowledge(meta: ObjectMeta, cached: S | undefined): boolean {
    const key = objectKey(meta);
    const written = this.written.get(key);
    if (written === undefined || canonicalJSON(written) !== canonicalJSON(cached)) return false;
    this.written.delete(key);
    return true;
  }

  forget(meta: ObjectMeta): void {
    this.written.delete(objectKey(meta));
  }

  forgetAll(): void {
    this.written.clear();
  }
}
