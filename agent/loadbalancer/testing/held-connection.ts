// The host side of `traffic-client.js hold` for the guest tests: one long-lived TCP connection from a
// client namespace to an echo service, a numbered line every intervalMs, and what came back.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const TRAFFIC_CLIENT = fileURLToPath(new URL("./traffic-client.js", import.meta.url));

export interface HeldLine {
  /** Connected at (epoch ms), from the local port `local`. */
  connected?: number;
  local?: number;
  /** The line number echoed back, at `at`. */
  echo?: number;
  /** The connection ended: "SIGTERM" (the test stopped it), "close", or an errno code. */
  closed?: string;
  at?: number;
}

export class HeldConnection {
  private output = "";
  private readonly child: ChildProcess;
  private readonly done: Promise<void>;

  constructor(target: { namespace: string; host: string; port: number; intervalMs: number }) {
    this.child = spawn(
      "ip",
      [
        "netns",
        "exec",
        target.namespace,
        process.execPath,
        TRAFFIC_CLIENT,
        "hold",
        target.host,
        String(target.port),
        String(target.intervalMs),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    this.child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (this.output += chunk));
    this.done = new Promise((resolve) => this.child.on("close", () => resolve()));
  }

  /** The complete lines so far (a chunk may end mid-line). */
  lines(): HeldLine[] {
    return this.output
      .slice(0, this.output.lastIndexOf("\n") + 1)
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as HeldLine);
  }

  echoes(): (HeldLine & { echo: number; at: number })[] {
    return this.lines().filter((l): l is HeldLine & { echo: number; at: number } => l.echo !== undefined);
  }

  closed(): string | undefined {
    return this.lines().find((l) => l.closed !== undefined)?.closed;
  }

  localPort(): number | undefined {
    return this.lines().find((l) => l.local !== undefined)?.local;
  }

  async stop(): Promise<void> {
    this.child.kill("SIGTERM");
    await this.done;
  }
}
