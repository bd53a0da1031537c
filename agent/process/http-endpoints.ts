// The agent's HTTP endpoints on --metrics-address: /metrics (Prometheus) and /healthz.
import { createServer, type Server } from "node:http";

export interface HttpEndpoints {
  address: string;
  port: number;
  close(): Promise<void>;
}

/** Parses "host:port", "[v6]:port" or ":port" (all addresses). */
export function parseListenAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port > 65535)
    throw new Error(`listen address ${JSON.stringify(text)}: expected HOST:PORT, [IPv6]:PORT or :PORT`);
  return { host: m[1] ?? (m[2] || "::"), port };
}

export async function serveHttpEndpoints(
  listen: string,
  handlers: { metrics: () => Promise<string>; healthy: () => boolean },
): Promise<HttpEndpoints> {
  const { host, port } = parseListenAddress(listen);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET") {
      res.writeHead(405).end();
    } else if (path === "/metrics") {
      handlers.metrics().then(
        (body) =>
          res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(body),
        (e: Error) => res.writeHead(500).end(e.message),
      );
    } else if (path === "/healthz") {
      const ok = handlers.healthy();
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(ok ? "ok\n" : "unhealthy\n");
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) => reject(new Error(`metrics listener ${listen}: ${e.message}`)));
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  return {
    address: host,
    port: typeof bound === "object" && bound ? bound.port : port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
