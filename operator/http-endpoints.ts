// The operator's HTTP endpoints: /metrics (Prometheus), /healthz (the process serves), /readyz
// (every informer cache has synced, so a restarted operator is not "ready" on an empty cache).
import { createServer, type Server } from "node:http";
import { parseListenAddress } from "../agent/process/http-endpoints.js";

export interface OperatorEndpoints {
  address: string;
  port: number;
  close(): Promise<void>;
}

export async function serveOperatorEndpoints(
  listen: string,
  handlers: { metrics: () => Promise<string>; ready: () => { ok: boolean; detail: string } },
): Promise<OperatorEndpoints> {
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
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      const { ok, detail } = handlers.ready();
      res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" }).end(`${detail}\n`);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) => reject(new Error(`operator endpoints on ${listen}: ${e.message}`)));
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  return {
    address: host,
    port: typeof bound === "object" && bound ? bound.port : port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
