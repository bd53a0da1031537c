// Running the lab's system commands (ip, sysctl) with errors that show the command line and its
// stderr, asynchronously for normal use and synchronously for exit/signal handlers.
import { execFile, execFileSync } from "node:child_process";

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly exitCode: number | string | null,
    readonly stderr: string,
  ) {
    super(`\`${[command, ...args].join(" ")}\` failed (${exitCode}): ${stderr.trim() || "no output"}`);
    this.name = "CommandError";
  }
}

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

export function run(
  command: string,
  args: readonly string[],
  options: { timeoutMs?: number; input?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException & { code?: number | string }).code ?? null;
          reject(new CommandError(command, args, error.killed ? "timeout" : code, stderr || error.message));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Synchronous variant for exit handlers; failures are returned, not thrown. */
export function runSync(command: string, args: readonly string[]): { ok: boolean; stdout: string } {
  try {
    return {
      ok: true,
      stdout: execFileSync(command, args, {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
        timeout: 10_000,
      }),
    };
  } catch {
    return { ok: false, stdout: "" };
  }
}
