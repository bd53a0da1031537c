// Watches exactly the Secrets that VrrpGroups reference (v2 passwords), one field-selected informer
// each, instead of every Secret in the cluster: less memory, and the operator's RBAC could be cut
// down to those names.
import type { Logger } from "../core/log.js";
import type { SecretKey } from "../core/render/render.js";
import { trimSecret, secretValue, type CachedSecret } from "./cluster-objects.js";
import type { KubeClient } from "./kube/client.js";
import { Informer } from "./kube/informer.js";
import { SECRETS } from "./kube/resources.js";

export class SecretWatcher {
  private readonly informers = new Map<string, Informer<CachedSecret>>();

  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
    /** Called when a watched Secret changes. */
    private readonly onChange: () => void,
  ) {}

  /** Watches these Secrets ("namespace/name") and stops watching any other. */
  want(refs: ReadonlySet<string>): void {
    for (const [ref, informer] of this.informers) {
      if (refs.has(ref)) continue;
      this.informers.delete(ref);
      void informer.stop();
    }
    for (const ref of refs) {
      if (this.informers.has(ref)) continue;
      const [namespace = "", name = ""] = ref.split("/");
      const informer = new Informer<CachedSecret>({
        client: this.client,
        resource: SECRETS,
        namespace,
        fieldSelector: `metadata.name=${name}`,
        transform: trimSecret,
        log: this.log,
      });
      informer.addHandlers({
        onAdd: () => this.onChange(),
        onUpdate: () => this.onChange(),
        onDelete: () => this.onChange(),
      });
      this.informers.set(ref, informer);
      informer.start();
    }
  }

  /** Waits until every wanted Secret has been listed once, at most `timeoutMs`. */
  async waitForSync(timeoutMs: number): Promise<boolean> {
    const pending = [...this.informers.values()].filter((i) => !i.synced);
    if (pending.length === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([Promise.all(pending.map((i) => i.waitForSync())).then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  value(ref: SecretKey): string | undefined {
    const informer = this.informers.get(`${ref.namespace}/${ref.name}`);
    return secretValue(informer?.get(ref.name, ref.namespace), ref);
  }

  get size(): number {
    return [...this.informers.values()].reduce((n, i) => n + i.size, 0);
  }

  async stop(): Promise<void> {
    const all = [...this.informers.values()];
    this.informers.clear();
    await Promise.all(all.map((i) => i.stop()));
  }
}
