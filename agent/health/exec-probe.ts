// Exec check (keepalived MISC_CHECK): a command decides; exit 0 is healthy. With dynamicWeight
// (misc_dynamic), exit 0 keeps the configured weight, 1 is unhealthy, and 2-255 is healthy with
// weight code - 2. The command runs without a shell, is killed with its process group at the
// timeout, and learns the real server from its environment.
import { describeResult, runCommand } from "../exec/run-command.js";
import type { Probe } from "./probe.js";

export function execProbe(command: readonly string[], dynamicWeight: boolean): Probe {
  return async (target) => {
    const result = await runCommand(command, {
      timeoutMs: target.timeoutMs,
      env: {
        ...process.env,
        KUBELVS_REAL_SERVER_ADDRESS: target.address,
        KUBELVS_REAL_SERVER_PORT: String(target.port),
      },
    });
    const message = describeResult(command, result);
    if (result.code === 0) return { healthy: true, message };
    if (dynamicWeight && result.code !== undefined && result.code >= 2 && result.code <= 255)
      return { healthy: true, message, weight: result.code - 2 };
    return { healthy: false, message };
  };
}
