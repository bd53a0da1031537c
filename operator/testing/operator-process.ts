// Runs `kubelvs operator` as a separate process, the way a Deployment replica runs: for the leader
// failover test and the scale benchmark. Output (JSON log lines) is kept for assertions and
// failure messages.
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

/** The kubelvs command (cli/main.js); `kubelvs operator …` is what the chart's Deployment runs. */
const KUBELVS_MAIN = fileURLToPath(new URL("../../cli/main.js", import.meta.url));

export class OperatorProcess {
  readonly output: string[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;

  constructor(
    readonly identity: string,
    readonly metricsPort: number,
    args: readonly string[],
    options: { nodeOptions?: readonly string[]; env?: Record<string, string> } = {},
  ) {
    this.child = spawn(
      process.execPath,
      [
        ...(options.nodeOptions ?? []),
        KUBELVS_MAIN,
        "operator",
        `--identity=${identity}`,
        `--metrics-address=127.0.0.1:${metricsPort}`,
        ...args,
      ],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...options.env } },
    );
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      stream.setEncoding("utf8");
      let partial = "";
      stream.on("data", (chunk: string) => {
        const lines = (partial + chunk).split("\n");
        partial = lines.pop() ?? "";
        this.output.push(...lines);
      });
    }
    this.exited = once(this.child, "exit").then(([code]) => code as number | null);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Log records (JSON lines) with this message. */
  logged(msg: string): Record<string, unknown>[] {
    return this.output.flatMap((line) => {
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        return record.msg === msg ? [record] : [];
      } catch {
        return [];
      }
    });
  }

  async get(path: string): Promise<{ status: number; body: string }> {
    const response = await fetch(`http://127.0.0.1:${this.metricsPort}${path}`);
    return { status: response.status, body: await response.text() };
  }

  /** The value of one sample in /metrics, e.g. `kubelvs_operator_leader`. */
  async metric(sample: string): Promise<number | undefined> {
    const { body } = await this.get("/metrics");
    const line = body.split("\n").find((l) => l.startsWith(`${sample} `));
    return line === undefined ? undefined : Number(line.slice(sample.length + 1));
  }

  /** Resident set size in bytes, from /proc. */
  rssBytes(): { current: number; peak: number } {
    const text = readFileSync(`/proc/${this.pid}/status`, "utf8");
    const bytes = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0) * 1024;
    return { current: bytes("VmRSS"), peak: bytes("VmHWM") };
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  wait(): Promise<number | null> {
    return this.exited;
  }

  /** SIGKILL if still running (cleanup after a failed test). */
  async ensureStopped(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGKILL");
      await this.exited;
    }
  }
}

/** A TCP port free on loopback right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (address === null || typeof address === "string") throw new Error("cannot find a free port");
  return address.port;
}
