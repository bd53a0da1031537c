// The agent's side of the configuration loader process (loader-process.ts): runs it, waits for its
// answer and turns it back into the desired state or the ConfigError the loader found.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { GUARD_FD_ENV } from "../guard/guard-client.js";
import { ConfigError } from "./config-error.js";
import { decodeLoaderResult, sourceArgs, type LoadedSpec, type SpecSource } from "./spec-source.js";

const LOADER = fileURLToPath(new URL("./loader-process.js", import.meta.url));

/** Far above any real configuration (a large keepalived.conf with includes loads in about a second). */
export const DEFAULT_LOAD_TIMEOUT_MS = 60_000;
/** A desired state with thousands of virtual services is a few megabytes of JSON. */
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

export interface IsolatedLoadOptions {
  timeoutMs?: number;
  /** The loader script (tests substitute a broken one). */
  loader?: string;
}

/**
 * Loads and validates a configuration in a short-lived loader process. Resolves with the desired
 * state; rejects with a ConfigError for an unusable configuration, else with an Error saying how
 * the loader failed.
 */
export function loadSpecIsolated(source: SpecSource, options: IsolatedLoadOptions = {}): Promise<LoadedSpec> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
  // Not this process's V8 flags: the loader is a short burst of allocation, the default heap suits it.
  const env = { ...process.env };
  delete env[GUARD_FD_ENV];
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [options.loader ?? LOADER, ...sourceArgs(source)],
      { env, encoding: "utf8", maxBuffer: MAX_OUTPUT_BYTES, timeout: timeoutMs, killSignal: "SIGKILL" },
      (error, stdout, stderr) => {
        if (error) {
          const how =
            error.killed && error.signal === "SIGKILL"
              ? `did not answer within ${timeoutMs} ms`
              : error.signal
                ? `was killed by ${error.signal}`
                : `failed (${error.code === undefined ? error.message : `exit code ${String(error.code)}`})`;
          const detail = stderr.trim().split("\n").slice(-20).join("\n");
          reject(new Error(`configuration loader for ${source.file} ${how}${detail ? `:\n${detail}` : ""}`));
          return;
        }
        try {
          const result = decodeLoaderResult(stdout.trim().split("\n").pop() ?? "");
          if (result.ok) resolve({ spec: result.spec, warnings: result.warnings });
          else reject(new ConfigError(result.file, result.problems));
        } catch (e) {
          reject(new Error(`configuration loader for ${source.file}: ${(e as Error).message}`));
        }
      },
    );
  });
}
