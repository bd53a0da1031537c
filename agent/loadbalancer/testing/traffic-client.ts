// Test traffic from a client namespace to a virtual service (run with `ip netns exec`):
//   node traffic-client.js sequential HOST PORT COUNT
//       COUNT HTTP GETs one after another, each on its own connection; prints each body (or
//       "ERROR <code>") on its own line, so a test counts which real server answered.
//   node traffic-client.js continuous HOST PORT DURATION_MS INTERVAL_MS
//       a new connection every INTERVAL_MS for DURATION_MS (each with a 1 s limit), one JSON line
//       per attempt: {"start": epoch ms, "ok": bool, "body" | "error"}; for failover tests.
//   node traffic-client.js hold HOST PORT INTERVAL_MS
//       one long-lived TCP connection to an echo server, a numbered line every INTERVAL_MS; prints
//       {"sent": n, "echo": n, "at": epoch ms} per echo and {"closed": reason} when it ends.
import { request } from "node:http";
import { connect } from "node:net";

function get(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: "/", agent: false, timeout: timeoutMs }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve(body.trim()));
      response.on("error", reject);
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    req.on("error", reject);
    req.end();
  });
}

const code = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

async function sequential(host: string, port: number, count: number): Promise<void> {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    try {
      lines.push(await get(host, port, 3000));
    } catch (error) {
      lines.push(`ERROR ${code(error)}`);
    }
  }
  process.stdout.write(lines.join("\n") + "\n");
}

async function continuous(host: string, port: number, durationMs: number, intervalMs: number): Promise<void> {
  const end = Date.now() + durationMs;
  const pending: Promise<void>[] = [];
  while (Date.now() < end) {
    const start = Date.now();
    pending.push(
      get(host, port, 1000).then(
        (body) => void process.stdout.write(JSON.stringify({ start, ok: true, body }) + "\n"),
        (error: unknown) =>
          void process.stdout.write(JSON.stringify({ start, ok: false, error: code(error) }) + "\n"),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  await Promise.all(pending);
}

function hold(host: string, port: number, intervalMs: number): void {
  const socket = connect({ host, port });
  let sent = 0;
  let buffered = "";
  let timer: NodeJS.Timeout | undefined;
  const report = (value: object) => process.stdout.write(JSON.stringify(value) + "\n");
  socket.setEncoding("utf8");
  socket.on("connect", () => {
    report({ connected: Date.now(), local: socket.localPort });
    timer = setInterval(() => socket.write(`${++sent}\n`), intervalMs);
  });
  socket.on("data", (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      report({ sent, echo: Number(buffered.slice(0, newline)), at: Date.now() });
      buffered = buffered.slice(newline + 1);
    }
  });
  const closed = (reason: string) => {
    clearInterval(timer);
    report({ closed: reason, at: Date.now() });
    process.exit(0);
  };
  socket.on("error", (error) => closed(code(error)));
  socket.on("close", () => closed("close"));
  process.on("SIGTERM", () => closed("SIGTERM"));
}

const [mode, host, port, a, b] = process.argv.slice(2);
if (host === undefined || port === undefined) throw new Error("usage: traffic-client.js MODE HOST PORT ...");
if (mode === "sequential") await sequential(host, Number(port), Number(a));
else if (mode === "continuous") await continuous(host, Number(port), Number(a), Number(b));
else if (mode === "hold") hold(host, Number(port), Number(a));
else throw new Error(`unknown mode ${mode}`);
