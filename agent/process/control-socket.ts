// The agent's control socket: a Unix stream socket speaking one JSON request per line and one JSON
// reply per line. `kubelvs status` and the tests use it; nothing on it changes the data plane
// except `reload`, which does what SIGHUP does.
import { createConnection, createServer, type Server } from "node:net";
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { DEFAULT_LOAD_TIMEOUT_MS } from "../config/isolated-loader.js";

/** Most requests are answered from memory at once. */
const REPLY_TIMEOUT_MS = 5000;
/**
 * A reload answers once the new configuration is applied, and it is read and validated by a loader
 * process first (agent/config/isolated-loader.ts: ~0.4 s here, seconds on a slow or busy machine):
 * the client waits as long as the agent may.
 */
const RELOAD_REPLY_TIMEOUT_MS = DEFAULT_LOAD_TIMEOUT_MS + REPLY_TIMEOUT_MS;

export interface ControlRequest {
  command: string;
  [key: string]: unknown;
}

export type ControlHandler = (request: ControlRequest) => Promise<unknown>;

export class ControlServer {
  private constructor(
    private readonly server: Server,
    readonly path: string,
  ) {}

  static async listen(path: string, handler: ControlHandler): Promise<ControlServer> {
    mkdirSync(dirname(path), { recursive: true });
    // A socket file left by a crashed agent of this instance would make listen() fail with EADDRINUSE;
    // the pid file has already established that no live agent owns it.
    rmSync(path, { force: true });
    const server = createServer((conn) => {
      let buffer = "";
      conn.setEncoding("utf8");
      conn.on("data", (chunk: string) => {
        buffer += chunk;
        if (buffer.length > 1 << 20) conn.destroy(new Error("control request too large"));
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          void answer(line).then((reply) => conn.write(JSON.stringify(reply) + "\n"));
        }
      });
      conn.on("error", () => conn.destroy());
    });
    const answer = async (line: string): Promise<unknown> => {
      let request: ControlRequest;
      try {
        request = JSON.parse(line) as ControlRequest;
        if (typeof request.command !== "string") throw new Error("missing command");
      } catch (e) {
        return { ok: false, error: `bad request: ${(e as Error).message}` };
      }
      try {
        return { ok: true, result: await handler(request) };
      } catch (e) {
        return { ok: false, error: (e as Error).message };
      }
    };
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    });
    chmodSync(path, 0o600);
    return new ControlServer(server, path);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }
}

/** Sends one request to an agent's control socket and returns its result. */
export async function controlRequest(
  path: string,
  request: ControlRequest,
  timeoutMs = request.command === "reload" ? RELOAD_REPLY_TIMEOUT_MS : REPLY_TIMEOUT_MS,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const conn = createConnection(path);
    let buffer = "";
    const timer = setTimeout(
      () => conn.destroy(new Error(`${path}: no reply within ${timeoutMs} ms`)),
      timeoutMs,
    );
    conn.setEncoding("utf8");
    conn.on("connect", () => conn.write(JSON.stringify(request) + "\n"));
    conn.on("data", (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      conn.end();
      const reply = JSON.parse(buffer.slice(0, nl)) as { ok: boolean; result?: unknown; error?: string };
      if (reply.ok) resolve(reply.result);
      else reject(new Error(`${path}: ${request.command}: ${reply.error ?? "failed"}`));
    });
    conn.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const hint =
        e.code === "ENOENT" || e.code === "ECONNREFUSED" ? " (is the agent instance running?)" : "";
      reject(new Error(`${path}: ${e.message}${hint}`));
    });
  });
}
