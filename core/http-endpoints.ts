// A small HTTP server for a process's operational endpoints (/metrics, /healthz, /readyz): the agent
// and the operator each declare their routes; listening, routing and shutdown are here once.
import { createServer, type Server } from "node:http";

export interface EndpointResponse {
  status: number;
  body: string;
  contentType?: string;
}

/** One GET route. */
export type Endpoint = () => EndpointResponse | Promise<EndpointResponse>;

export interface HttpEndpoints {
  address: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Parses "host:port", "[v6]:port" or ":port". For ":port" the host is left out, so Node listens on
 * every address — IPv6 and IPv4 where there is IPv6, IPv4 alone on a host booted without IPv6.
 */
export function parseListenAddress(text: string): { host?: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port > 65535) {
    throw new Error(`listen address ${JSON.stringify(text)}: expected HOST:PORT, [IPv6]:PORT or :PORT`);
  }
  const host = m[1] ?? m[2];
  return host ? { host, port } : { port };
}

/** Prometheus text exposition of a registry's metrics. */
export function metricsEndpoint(metrics: () => Promise<string>): Endpoint {
  return async () => ({
    status: 200,
    body: await metrics(),
    contentType: "text/plain; version=0.0.4; charset=utf-8",
  });
}

/** 200 "ok" or 503 with the reason. */
export function checkEndpoint(check: () => { ok: boolean; detail?: string }): Endpoint {
  return () => {
    const { ok, detail } = check();
    return {
      status: ok ? 200 : 503,
      body: `${detail ?? (ok ? "ok" : "unhealthy")}\n`,
      contentType: "text/plain",
    };
  };
}

export async function serveHttpEndpoints(
  listen: string,
  routes: Record<string, Endpoint>,
): Promise<HttpEndpoints> {
  const { host, port } = parseListenAddress(listen);
  const server: Server = createServer((req, res) => {
    const route = routes[(req.url ?? "/").split("?")[0]!];
    if (req.method !== "GET") {
      res.writeHead(405).end();
    } else if (!route) {
      res.writeHead(404).end();
    } else {
      Promise.resolve()
        .then(route)
        .then(
          (r) => res.writeHead(r.status, r.contentType ? { "content-type": r.contentType } : {}).end(r.body),
          (e: Error) => res.writeHead(500).end(e.message),
        );
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) => reject(new Error(`HTTP endpoints on ${listen}: ${e.message}`)));
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  return {
    address: typeof bound === "object" && bound ? bound.address : (host ?? ""),
    port: typeof bound === "object" && bound ? bound.port : port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
