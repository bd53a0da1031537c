// Drives probes/addon-probe.js inside lab namespaces: one-shot commands and long-running listeners.
import { ADDON_PROBE, type Lab, type LabHost } from "./lab.js";
import type { LabProcess } from "./process.js";

export interface ProbeFailure {
  readonly name: string;
  readonly code?: string;
  readonly message: string;
}

export class ProbeError extends Error {
  constructor(
    readonly command: string,
    readonly failure: ProbeFailure | undefined,
    detail: string,
  ) {
    super(
      `addon probe '${command}' failed: ${failure ? `${failure.name} ${failure.code ?? ""} ${failure.message}` : detail}`,
    );
    this.name = "ProbeError";
  }
}

/** Runs one probe command to completion in `host`'s namespace; resolves with its JSON result line. */
export async function runProbe<T = Record<string, unknown>>(
  lab: Lab,
  host: LabHost | string,
  command: string,
  args: object = {},
): Promise<T> {
  const { code, lines, stderr } = await lab.runNode(host, ADDON_PROBE, [command, JSON.stringify(args)]);
  const results = lines
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { ok?: boolean; error?: ProbeFailure });
  const last = results.at(-1);
  if (code !== 0 || last === undefined || last.ok === false)
    throw new ProbeError(command, last?.error, `exit ${code}, stderr: ${stderr}`);
  return last as T;
}

/** Starts a long-running probe command (vrrp-listen, watch) and resolves once it reports ready. */
export async function startProbe(
  lab: Lab,
  host: LabHost | string,
  command: string,
  args: object = {},
): Promise<LabProcess> {
  const probe = lab.spawnNode(host, ADDON_PROBE, [command, JSON.stringify(args)]);
  await probe.waitForJson<{ ready?: boolean }>((v) => v.ready === true);
  return probe;
}
