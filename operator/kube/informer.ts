// An informer: a local cache of one resource kept current by list + watch, with handlers told about
// every change. Lists page through large collections; watches resume from the last resourceVersion
// seen (events and bookmarks), re-list when the server answers 410 Gone, and back off on errors, so
// an unreachable API server costs retries, never the cache: readers keep the last known objects.
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../../core/log.js";
import { Backoff, type BackoffOptions } from "./backoff.js";
import { isGone, type KubeClient, type WatchEvent } from "./client.js";
import { collectionPath, objectKey, type KubeObject, type ResourceType } from "./resources.js";
import { streamWatch } from "./watch-stream.js";

export interface InformerHandlers<T> {
  onAdd?(object: T): void;
  onUpdate?(previous: T, object: T): void;
  onDelete?(object: T): void;
}

export interface InformerOptions<T extends KubeObject> {
  client: KubeClient;
  resource: ResourceType;
  log: Logger;
  /** Watch one namespace only (namespaced resources). */
  namespace?: string;
  fieldSelector?: string;
  labelSelector?: string;
  /** Trims what the cache keeps; it must keep metadata.name, namespace and resourceVersion. */
  transform?: (object: KubeObject) => T;
  pageSize?: number;
  backoff?: BackoffOptions;
  /** A watch that receives nothing (not even a bookmark) for this long is presumed dead. */
  idleTimeoutMs?: number;
}

interface ListAnswer {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: KubeObject[];
}

/** Drops managedFields: often the largest part of an object and never read by kubelvs. */
export function withoutManagedFields<T extends KubeObject>(object: KubeObject): T {
  const meta = object.metadata as KubeObject["metadata"] & { managedFields?: unknown };
  if (meta.managedFields === undefined) return object as T;
  const { managedFields: _dropped, ...rest } = meta;
  return { ...object, metadata: rest } as T;
}

// The API server sends a bookmark about once a minute to watchers that allow them.
const DEFAULT_IDLE_TIMEOUT_MS = 150_000;
const MIN_HEALTHY_WATCH_MS = 1000;
const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000 };

export class Informer<T extends KubeObject> {
  private cache = new Map<string, T>();
  private resourceVersion = "";
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly stopController = new AbortController();
  private running: Promise<void> | undefined;
  private syncedFlag = false;
  private syncWaiters: (() => void)[] = [];
  private readonly backoff: Backoff;
  private readonly transform: (object: KubeObject) => T;
  private readonly describe: string;

  constructor(private readonly options: InformerOptions<T>) {
    this.backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF);
    this.transform = options.transform ?? withoutManagedFields;
    const filters = [
      options.namespace && `namespace ${options.namespace}`,
      options.fieldSelector,
      options.labelSelector,
    ];
    const filter = filters.filter(Boolean).join(", ");
    this.describe = `${options.resource.plural}${filter ? ` (${filter})` : ""}`;
  }

  /** Handlers registered before start() also see the initial list, as adds. */
  addHandlers(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    await this.running;
  }

  /** True once the first list has been cached. */
  get synced(): boolean {
    return this.syncedFlag;
  }

  /** Resolves after the first successful list (or right away on stop, with synced still false). */
  waitForSync(): Promise<void> {
    if (this.syncedFlag || this.stopController.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(name: string, namespace?: string): T | undefined {
    return this.cache.get(objectKey({ name, ...(namespace === undefined ? {} : { namespace }) }));
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get size(): number {
    return this.cache.size;
  }

  /** The last resourceVersion seen for the collection. */
  get lastResourceVersion(): string {
    return this.resourceVersion;
  }

  private async run(): Promise<void> {
    const { log } = this.options;
    const signal = this.stopController.signal;
    let needList = true;
    while (!signal.aborted) {
      if (needList) {
        try {
          await this.relist();
          needList = false;
          this.backoff.reset();
          this.markSynced();
        } catch (e) {
          if (signal.aborted) break;
          const delay = this.backoff.next();
          log.warn("list failed; retrying", { resource: this.describe, err: e, retryInMs: delay });
          await this.pause(delay);
          continue;
        }
      }
      const watchStarted = Date.now();
      const end = await streamWatch(this.options.client, {
        path: collectionPath(this.options.resource, this.options.namespace),
        query: {
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          // Spread reconnections like client-go does (5-10 minutes).
          timeoutSeconds: 300 + Math.floor(Math.random() * 300),
          fieldSelector: this.options.fieldSelector,
          labelSelector: this.options.labelSelector,
        },
        idleTimeoutMs: this.options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
        signal,
        onEvent: (event) => this.onWatchEvent(event),
      });
      switch (end.kind) {
        case "closed":
          // A server that closes watches at once must not be hammered in a tight loop.
          if (Date.now() - watchStarted < MIN_HEALTHY_WATCH_MS) await this.pause(this.backoff.next());
          else this.backoff.reset();
          break;
        case "expired":
          log.info("watch resource version expired; re-listing", { resource: this.describe });
          needList = true;
          break;
        case "idle":
          log.warn("watch received nothing, not even a bookmark; reconnecting", { resource: this.describe });
          break;
        case "aborted":
          break;
        case "error": {
          const delay = this.backoff.next();
          log.warn("watch failed; retrying", { resource: this.describe, err: end.error, retryInMs: delay });
          await this.pause(delay);
          break;
        }
      }
    }
    this.releaseWaiters();
  }

  private async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.stopController.signal });
    } catch {
      // stopped
    }
  }

  /** Lists the whole collection page by page and replaces the cache, telling handlers what changed. */
  private async relist(): Promise<void> {
    const { client, resource, namespace, fieldSelector, labelSelector, pageSize = 500 } = this.options;
    const path = collectionPath(resource, namespace);
    const items: KubeObject[] = [];
    let resourceVersion = "";
    let continueToken: string | undefined;
    do {
      let page: ListAnswer;
      try {
        page = await client.get<ListAnswer>(path, {
          limit: pageSize,
          continue: continueToken,
          fieldSelector,
          labelSelector,
        });
      } catch (e) {
        // The continue token expired between pages: start over with a fresh list.
        if (isGone(e) && continueToken !== undefined) {
          items.length = 0;
          continueToken = undefined;
          continue;
        }
        throw e;
      }
      items.push(...(page.items ?? []));
      resourceVersion = page.metadata?.resourceVersion ?? "";
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken !== undefined);

    const previous = this.cache;
    const next = new Map<string, T>();
    for (const raw of items) {
      const object = this.transform(raw);
      next.set(objectKey(object.metadata), object);
    }
    this.cache = next;
    this.resourceVersion = resourceVersion;
    for (const [key, object] of next) {
      const old = previous.get(key);
      if (old === undefined) this.emit((h) => h.onAdd?.(object));
      else if (old.metadata.resourceVersion !== object.metadata.resourceVersion)
        this.emit((h) => h.onUpdate?.(old, object));
    }
    for (const [key, old] of previous) if (!next.has(key)) this.emit((h) => h.onDelete?.(old));
  }

  private onWatchEvent(event: WatchEvent): void {
    const raw = event.object as unknown as KubeObject;
    const version = raw.metadata?.resourceVersion;
    if (event.type === "BOOKMARK") {
      if (version) this.resourceVersion = version;
      return;
    }
    const object = this.transform(raw);
    const key = objectKey(object.metadata);
    const old = this.cache.get(key);
    if (event.type === "DELETED") {
      this.cache.delete(key);
      if (old !== undefined) this.emit((h) => h.onDelete?.(old));
    } else if (old === undefined) {
      this.cache.set(key, object);
      this.emit((h) => h.onAdd?.(object));
    } else if (old.metadata.resourceVersion !== version) {
      this.cache.set(key, object);
      this.emit((h) => h.onUpdate?.(old, object));
    }
    if (version) this.resourceVersion = version;
  }

  private emit(call: (handlers: InformerHandlers<T>) => void): void {
    for (const handlers of this.handlers) {
      try {
        call(handlers);
      } catch (e) {
        this.options.log.error("informer handler failed", { resource: this.describe, err: e });
      }
    }
  }

  private markSynced(): void {
    if (this.syncedFlag) return;
    this.syncedFlag = true;
    this.releaseWaiters();
  }

  private releaseWaiters(): void {
    for (const resolve of this.syncWaiters.splice(0)) resolve();
  }
}
