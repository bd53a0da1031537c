// A process the lab started inside a namespace: its stdout as lines (JSON-line protocols are
// the norm for probe scripts), its exit, and a kill that waits for it to be gone.
import type { ChildProcess } from "node:child_process";

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class LabProcess {
  readonly lines: string[] = [];
  private stderrText = "";
  private partial = "";
  private readonly waiters = new Set<() => void>();
  private exitInfo: ProcessExit | undefined;
  readonly exited: Promise<ProcessExit>;

  constructor(
    /** "n1 node probe.js vrrp-listen" — for error messages. */
    readonly label: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.setEncoding("utf8");
    child.stderr?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      const parts = (this.partial + chunk).split("\n");
      this.partial = parts.pop() ?? "";
      this.lines.push(...parts);
      this.wake();
    });
    child.stderr?.on("data", (chunk: string) => {
      this.stderrText += chunk;
    });
    this.exited = new Promise((resolve) => {
      child.once("close", (code, signal) => {
        if (this.partial) this.lines.push(this.partial);
        this.partial = "";
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
        this.wake();
      });
      child.once("error", (error) => {
        this.stderrText += `spawn failed: ${error.message}\n`;
        this.exitInfo = { code: null, signal: null };
        resolve(this.exitInfo);
        this.wake();
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get stderr(): string {
    return this.stderrText;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Resolves with the first stdout line (from the start) matching `predicate`. */
  waitForLine(predicate: (line: string) => boolean, timeoutMs = 10_000, from = 0): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const line = this.lines.slice(from).find(predicate);
        if (line !== undefined) {
          finish();
          resolve(line);
          return true;
        }
        if (this.exitInfo) {
          finish();
          reject(
            new Error(
              `${this.label} exited (${JSON.stringify(this.exitInfo)}) without the expected line; stdout: ${this.lines.join("\\n")}; stderr: ${this.stderrText}`,
            ),
          );
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(
            `${this.label}: no expected line within ${timeoutMs} ms; stdout: ${this.lines.join("\\n")}; stderr: ${this.stderrText}`,
          ),
        );
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter = (): void => void check();
      if (!check()) this.waiters.add(waiter);
    });
  }

  /** Resolves with the first stdout line that parses as JSON and satisfies `predicate`. */
  async waitForJson<T = Record<string, unknown>>(
    predicate: (value: T) => boolean,
    timeoutMs = 10_000,
    from = 0,
  ): Promise<T> {
    const line = await this.waitForLine(
      (candidate) => {
        const value = parseJson<T>(candidate);
        return value !== undefined && predicate(value);
      },
      timeoutMs,
      from,
    );
    return JSON.parse(line) as T;
  }

  /** All stdout lines that parse as JSON. */
  jsonLines<T = Record<string, unknown>>(): T[] {
    return this.lines.map((l) => parseJson<T>(l)).filter((v): v is T => v !== undefined);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  async kill(graceMs = 2000): Promise<ProcessExit> {
    if (this.exitInfo) return this.exitInfo;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** Synchronous SIGKILL for exit handlers. */
  killNow(): void {
    if (this.exitInfo === undefined && this.child.pid !== undefined) {
      try {
        process.kill(this.child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

function parseJson<T>(line: string): T | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    return JSON.parse(line) as T;
  } catch {
    return undefined;
  }
}
