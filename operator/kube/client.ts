// A small JSON client for the Kubernetes API on top of @kubernetes/client-node's KubeConfig: the
// library does authentication (tokens, client certificates, exec plugins, the in-cluster service
// account with token refresh) and TLS; this module does the requests, so the operator and the agent
// see exact HTTP status codes (404, 409, 410) and choose their own patch content types.
import {
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  RequestContext,
  type HttpMethod,
  type ResponseContext,
} from "@kubernetes/client-node";

/** A Kubernetes API call that did not succeed: which request, which HTTP status, the server's reason. */
export class KubeApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    /** HTTP status; 0 when no answer came back (connection refused, timeout). */
    readonly status: number,
    /** metav1.Status reason, e.g. "NotFound", "Conflict", "Expired"; or the network error's code. */
    readonly reason: string,
    detail: string,
  ) {
    super(`${method} ${path}: ${status === 0 ? "no answer" : `HTTP ${status}`} ${reason}: ${detail}`);
    this.name = "KubeApiError";
  }
}

export function isNotFound(e: unknown): boolean {
  return e instanceof KubeApiError && e.status === 404;
}

export function isConflict(e: unknown): boolean {
  return e instanceof KubeApiError && e.status === 409;
}

export function isAlreadyExists(e: unknown): boolean {
  return e instanceof KubeApiError && e.status === 409 && e.reason === "AlreadyExists";
}

export function isGone(e: unknown): boolean {
  return e instanceof KubeApiError && e.status === 410;
}

export const MERGE_PATCH = "application/merge-patch+json";
export const JSON_PATCH = "application/json-patch+json";

/** One RFC 6902 operation. */
export type JsonPatchOperation =
  { op: "add" | "replace" | "test"; path: string; value: unknown } | { op: "remove"; path: string };

/** Escapes a map key for a JSON Pointer (RFC 6901): "kubelvs.io/x" becomes "kubelvs.io~1x". */
export function jsonPointerKey(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Content type of the body; application/json unless a patch type is given. */
  contentType?: string;
  timeoutMs?: number;
}

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: Record<string, unknown>;
}

/**
 * Loads a kubeconfig: the given file; otherwise the usual search ($KUBECONFIG, ~/.kube/config, and
 * the in-cluster service account when KUBERNETES_SERVICE_HOST is set).
 */
export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const config = new KubeConfig();
  if (kubeconfigPath !== undefined) {
    try {
      config.loadFromFile(kubeconfigPath);
    } catch (e) {
      throw new Error(`kubeconfig ${kubeconfigPath}: ${(e as Error).message}`);
    }
  } else {
    config.loadFromDefault();
  }
  if (config.getCurrentCluster() === null)
    throw new Error(`kubeconfig ${kubeconfigPath ?? "(default)"}: no current cluster`);
  return config;
}

/** The in-cluster configuration (service account token, CA and namespace under pathPrefix). */
export function inClusterKubeConfig(pathPrefix = ""): KubeConfig {
  if (!process.env.KUBERNETES_SERVICE_HOST || !process.env.KUBERNETES_SERVICE_PORT)
    throw new Error("in-cluster configuration needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT");
  const config = new KubeConfig();
  config.loadFromCluster(pathPrefix);
  return config;
}

const DEFAULT_TIMEOUT_MS = 30_000;

type Query = Record<string, string | number | boolean | undefined>;

/** The error of an answer that is not 2xx, with the metav1.Status reason and message when there is one. */
function errorFromAnswer(method: string, path: string, status: number, text: string): KubeApiError {
  let reason = `HTTP${status}`;
  let message = text.trim().slice(0, 500);
  try {
    const parsed = JSON.parse(text) as { reason?: string; message?: string };
    reason = parsed.reason || reason;
    message = parsed.message ?? message;
  } catch {
    // not a metav1.Status: keep the raw text
  }
  return new KubeApiError(method, path, status, reason, message);
}

export class KubeClient {
  private readonly http = new IsomorphicFetchHttpLibrary();
  private readonly server: string;

  constructor(
    readonly config: KubeConfig,
    private readonly userAgent = "kubelvs",
  ) {
    const cluster = config.getCurrentCluster();
    if (cluster === null) throw new Error("kubeconfig has no current cluster");
    this.server = cluster.server.replace(/\/+$/, "");
  }

  /** Sends a request with the kubeconfig's credentials; a request that gets no answer throws KubeApiError status 0. */
  private async send(
    method: HttpMethod,
    path: string,
    query: Query,
    signal: AbortSignal,
    body?: { text: string; contentType: string },
  ): Promise<ResponseContext> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    const context = new RequestContext(url.toString(), method);
    context.setHeaderParam("Accept", "application/json");
    context.setHeaderParam("User-Agent", this.userAgent);
    if (body !== undefined) {
      context.setHeaderParam("Content-Type", body.contentType);
      context.setBody(body.text);
    }
    context.setSignal(signal);
    try {
      await this.config.applySecurityAuthentication(context);
      return await this.http.send(context).toPromise();
    } catch (e) {
      const error = e as Error & { code?: string; cause?: { code?: string; message?: string } };
      const code = error.cause?.code ?? error.code ?? error.name;
      throw new KubeApiError(method, path, 0, code, error.cause?.message ?? error.message);
    }
  }

  /** Performs one request and returns the decoded JSON answer; throws KubeApiError otherwise. */
  async request<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    const signal = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const body =
      options.body === undefined
        ? undefined
        : { text: JSON.stringify(options.body), contentType: options.contentType ?? "application/json" };
    const response = await this.send(method, path, options.query ?? {}, signal, body);
    let text: string;
    try {
      text = await response.body.text();
    } catch (e) {
      throw new KubeApiError(
        method,
        path,
        0,
        (e as Error).name,
        `reading the answer: ${(e as Error).message}`,
      );
    }
    const status = response.httpStatusCode;
    if (status < 200 || status >= 300) throw errorFromAnswer(method, path, status, text);
    return (text === "" ? {} : JSON.parse(text)) as T;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>("GET", path, query ? { query } : {});
  }

  create<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("POST", path, { body });
  }

  replace<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PUT", path, { body });
  }

  mergePatch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("PATCH", path, { body, contentType: MERGE_PATCH });
  }

  jsonPatch<T>(path: string, operations: readonly JsonPatchOperation[]): Promise<T> {
    return this.request<T>("PATCH", path, { body: operations, contentType: JSON_PATCH });
  }

  delete<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("DELETE", path, body === undefined ? {} : { body });
  }

  /**
   * Opens a streaming GET (a watch) and returns its body. Non-2xx answers throw KubeApiError; the
   * stream ends when the server closes it or `signal` aborts. No timeout of its own: the caller
   * decides how long a quiet stream may live.
   */
  async openStream(path: string, query: Query, signal: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
    const response = await this.send("GET", path, query, signal);
    if (response.httpStatusCode !== 200)
      throw errorFromAnswer("GET", path, response.httpStatusCode, await response.body.text());
    const body = response.body.stream();
    if (body === null) throw new KubeApiError("GET", path, 200, "NoBody", "the watch answer has no body");
    return body;
  }
}
