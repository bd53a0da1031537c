// The IPVS test machine from TypeScript: runs a command inside a User-Mode Linux kernel that has
// IPVS (e2e/vm/run-in-uml.sh does the work) and returns its exit code and output. Tests that need
// real IPVS call this from the host; the command runs as root inside the guest, which sees the
// host's files (read-only, plus the rwDirs given) and so runs the compiled repository directly.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { arch, platform, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { missingCommand } from "../requirements.js";

/** The repository root, found from this module (dist/e2e/vm/ or e2e/vm/). */
export function repositoryRoot(): string {
  for (const relative of ["../../..", "../.."]) {
    const candidate = fileURLToPath(new URL(`${relative}/`, import.meta.url));
    if (existsSync(`${candidate}e2e/vm/run-in-uml.sh`)) return candidate.replace(/\/$/, "");
  }
  throw new Error(`cannot find e2e/vm/run-in-uml.sh above ${fileURLToPath(import.meta.url)}`);
}

export const runInUmlScript = (): string => `${repositoryRoot()}/e2e/vm/run-in-uml.sh`;
export const installScript = (): string => `${repositoryRoot()}/e2e/vm/install.sh`;

/** Exit codes run-in-uml.sh uses for its own failures (as timeout(1) and env(1) do). */
export const TIMED_OUT_EXIT_CODE = 124;
export const MACHINE_FAILED_EXIT_CODE = 125;

export interface IpvsMachineOptions {
  /** Kill the guest after this long; the result then has code 124. Default 10 minutes. */
  timeoutMs?: number;
  /** Variables exported into the command's environment (PATH is always passed). */
  env?: Record<string, string>;
  /** Host directories the guest may write to (mounted read-write at the same path). */
  rwDirs?: readonly string[];
  /** Working directory of the command inside the guest. Default: this process's. */
  cwd?: string;
  /** Guest memory in MiB. Default 1024. */
  memoryMiB?: number;
  /** Called with output as it arrives (e.g. to show a long guest test's progress). */
  onOutput?: (stream: "stdout" | "stderr", text: string) => void;
}

export interface IpvsMachineResult {
  /** The command's exit code; 124 when the timeout hit, 125 when the machine itself failed. */
  code: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/**
 * Boots the IPVS machine, runs `command` (an argv array, or a string run by `bash -c`) as root
 * inside it and resolves once the guest is gone. Never rejects for a failing command: the caller
 * asserts on `code`. Rejects only when run-in-uml.sh cannot be started at all.
 */
export function runInIpvsMachine(
  command: string | readonly string[],
  options: IpvsMachineOptions = {},
): Promise<IpvsMachineResult> {
  const argv = typeof command === "string" ? ["bash", "-c", command] : [...command];
  if (argv.length === 0) throw new Error("runInIpvsMachine: empty command");
  const timeoutMs = options.timeoutMs ?? 600_000;
  const args: string[] = ["--timeout", String(Math.max(1, Math.ceil(timeoutMs / 1000)))];
  for (const dir of options.rwDirs ?? []) args.push("--rw", dir);
  for (const [name, value] of Object.entries(options.env ?? {})) args.push("--env", `${name}=${value}`);
  if (options.cwd !== undefined) args.push("--cwd", options.cwd);
  if (options.memoryMiB !== undefined) args.push("--mem", String(options.memoryMiB));
  args.push("--", ...argv);

  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(runInUmlScript(), args, { stdio: ["ignore", "pipe", "pipe"] });
    const stdout: string[] = [];
    const stderr: string[] = [];
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      stdout.push(text);
      options.onOutput?.("stdout", text);
    });
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr.push(text);
      options.onOutput?.("stderr", text);
    });
    // The script enforces the timeout inside; this is the backstop should the script itself hang.
    const backstop = setTimeout(() => child.kill("SIGTERM"), timeoutMs + 30_000);
    child.on("error", (error) => {
      clearTimeout(backstop);
      reject(new Error(`cannot start ${runInUmlScript()}: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(backstop);
      resolve({
        code: code ?? (signal === "SIGTERM" ? TIMED_OUT_EXIT_CODE : MACHINE_FAILED_EXIT_CODE),
        stdout: stdout.join(""),
        stderr: stderr.join(""),
        durationMs: performance.now() - started,
      });
    });
  });
}

const INSTALL_HINT =
  "run `bash e2e/vm/install.sh` as root (busybox-static, ipvsadm, Debian's user-mode-linux kernel)";

function cacheDirectory(): string {
  if (process.env.KUBELVS_VM_CACHE) return process.env.KUBELVS_VM_CACHE;
  if (process.getuid?.() === 0) return "/var/cache/kubelvs/vm";
  return `${process.env.XDG_CACHE_HOME ?? `${process.env.HOME ?? ""}/.cache`}/kubelvs/vm`;
}

/**
 * Reason the IPVS machine cannot run here, or undefined. For tierOptions(): a root process with
 * apt-get counts as ready, because run-in-uml.sh installs what is missing on first use.
 */
export function missingIpvsMachine(): string | undefined {
  if (platform() !== "linux" || arch() !== "x64") {
    return `the IPVS machine needs Linux on x86-64 (Debian's amd64 user-mode-linux), not ${platform()}/${arch()}`;
  }
  try {
    accessSync("/dev/shm", constants.W_OK);
  } catch {
    return "the IPVS machine needs a writable /dev/shm (User-Mode Linux maps its memory there)";
  }
  const installed =
    existsSync(`${cacheDirectory()}/uml/.complete`) &&
    missingCommand("busybox") === undefined &&
    missingCommand("ipvsadm") === undefined;
  if (installed) return undefined;
  if (process.getuid?.() !== 0) return `the IPVS machine is not installed; ${INSTALL_HINT}`;
  return missingCommand("apt-get", `the IPVS machine is not installed and cannot be: ${INSTALL_HINT}`);
}

/**
 * Runs one guest test file (`node --test` inside the machine) with a results directory it writes
 * its figures to (KUBELVS_RESULTS_DIR): reports the figures of `figuresFile` as diagnostics, then
 * asserts that the guest run passed exactly `passes` tests.
 */
export async function runGuestTestFile(
  t: { diagnostic(message: string): void },
  options: { file: string; figuresFile: string; passes: number; timeoutMs: number; skipFigures?: string[] },
): Promise<void> {
  const results = mkdtempSync(join(tmpdir(), "kubelvs-guest-"));
  try {
    const run = await runInIpvsMachine(["node", "--test", "--test-reporter=spec", options.file], {
      cwd: repositoryRoot(),
      rwDirs: [results],
      env: { KUBELVS_RESULTS_DIR: results },
      timeoutMs: options.timeoutMs,
    });
    t.diagnostic(`guest run took ${Math.round(run.durationMs)} ms`);
    let figures: Record<string, unknown> = {};
    try {
      figures = JSON.parse(readFileSync(join(results, options.figuresFile), "utf8")) as Record<
        string,
        unknown
      >;
    } catch {
      // the guest did not get far enough to write them; its output below says why
    }
    for (const [name, value] of Object.entries(figures))
      if (!(options.skipFigures ?? []).includes(name)) t.diagnostic(`${name}: ${JSON.stringify(value)}`);
    assert.equal(run.code, 0, `guest tests failed (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /ℹ fail 0/);
    assert.match(run.stdout, new RegExp(`ℹ pass ${options.passes}\\n`));
  } finally {
    rmSync(results, { recursive: true, force: true });
  }
}
