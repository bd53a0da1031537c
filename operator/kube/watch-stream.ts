// One watch request: a streamed list of JSON lines, each an event. The stream ends when the server
// closes it (timeoutSeconds), when nothing — not even a bookmark — arrives for `idleTimeoutMs` (a
// dead connection or a stopped API server), or when it is aborted.
import type { KubeClient, WatchEvent } from "./client.js";

export type WatchEnd =
  | { kind: "closed" }
  | { kind: "expired"; message: string }
  | { kind: "idle" }
  | { kind: "aborted" }
  | { kind: "error"; error: Error };

export interface WatchRequest {
  path: string;
  query: Record<string, string | number | boolean | undefined>;
  idleTimeoutMs: number;
  signal: AbortSignal;
  onEvent: (event: WatchEvent) => void;
}

export async function streamWatch(client: KubeClient, request: WatchRequest): Promise<WatchEnd> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  request.signal.addEventListener("abort", abort, { once: true });
  let idle = false;
  let timer: NodeJS.Timeout | undefined;
  const armIdleTimer = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      idle = true;
      controller.abort();
    }, request.idleTimeoutMs);
    timer.unref();
  };
  let expired: string | undefined;
  try {
    armIdleTimer();
    const stream = await client.openStream(
      request.path,
      { ...request.query, watch: true },
      controller.signal,
    );
    const decoder = new TextDecoder();
    let pending = "";
    for await (const chunk of stream) {
      armIdleTimer();
      pending += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line === "") continue;
        const event = JSON.parse(line) as WatchEvent;
        if (event.type === "ERROR") {
          const status = event.object as { code?: number; message?: string };
          if (status.code === 410) expired = status.message ?? "resource version expired";
          else throw new Error(`watch ${request.path}: error event ${JSON.stringify(event.object)}`);
          continue;
        }
        request.onEvent(event);
      }
    }
    return expired !== undefined ? { kind: "expired", message: expired } : { kind: "closed" };
  } catch (e) {
    if (expired !== undefined) return { kind: "expired", message: expired };
    if (request.signal.aborted) return { kind: "aborted" };
    if (idle) return { kind: "idle" };
    const error = e as Error & { status?: number };
    if (error.status === 410) return { kind: "expired", message: error.message };
    return { kind: "error", error };
  } finally {
    clearTimeout(timer);
    request.signal.removeEventListener("abort", abort);
    controller.abort();
  }
}
