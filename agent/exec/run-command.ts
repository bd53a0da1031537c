// Runs the commands the agent is configured with (tracked scripts, notify hooks, Exec health checks,
// quorum hooks): argv without a shell, a timeout that kills the whole process group (a script's
// children must not outlive it), and bounded captured output so a chatty script cannot grow the
// agent's memory.
import { spawn } from "node:child_process";

export interface CommandResult {
  /** Exit code, or undefined when killed by a signal or the timeout. */
  code: number | undefined;
  signal: NodeJS.Signals | undefined;
  timedOut: boolean;
  /** First bytes of stdout+stderr, for logs and status messages. */
  output: string;
  durationMs: number;
  /** Set when the command could not be started at all (ENOENT, EACCES...). */
  spawnError?: string;
}

const MAX_OUTPUT = 4096;

export async function runCommand(
  argv: readonly string[],
  options: { timeoutMs: number; env?: NodeJS.ProcessEnv; extraArgs?: readonly string[] },
): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error("runCommand: empty argv");
  const started = performance.now();
  return new Promise((resolve) => {
    let output = "";
    let timedOut = false;
    let settled = false;
    const child = spawn(file, [...args, ...(options.extraArgs ?? [])], {
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // own process group, so the timeout can kill its children too
    });
    const collect = (chunk: Buffer) => {
      if (output.length < MAX_OUTPUT) output += chunk.toString("utf8").slice(0, MAX_OUTPUT - output.length);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    const finish = (result: Omit<CommandResult, "output" | "durationMs" | "timedOut">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, timedOut, output, durationMs: performance.now() - started });
    };
    child.on("error", (e: NodeJS.ErrnoException) =>
      finish({ code: undefined, signal: undefined, spawnError: `${file}: ${e.code ?? e.message}` }),
    );
    child.on("close", (code, signal) => {
      // A script that exited but left children holding no pipes is fine; ones still in the group are not.
      killGroup();
      finish({ code: code ?? undefined, signal: signal ?? undefined });
    });
  });
}

/** One line describing a result, for logs and status. */
export function describeResult(argv: readonly string[], r: CommandResult): string {
  const what = argv.join(" ");
  if (r.spawnError) return `${what}: cannot start: ${r.spawnError}`;
  if (r.timedOut) return `${what}: timed out after ${Math.round(r.durationMs)} ms`;
  if (r.signal) return `${what}: killed by ${r.signal}`;
  const tail = r.output.trim().split("\n").pop() ?? "";
  return `${what}: exit ${r.code}${tail ? `: ${tail.slice(0, 200)}` : ""}`;
}
