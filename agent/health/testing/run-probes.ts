// Runs health-check probes from a lab namespace and prints their results (one JSON array):
//   node run-probes.js '[{"name": ..., "check": HealthCheck, "target": ProbeTarget}, ...]'
import type { HealthCheck } from "../../../crds/schema/virtual-service.js";
import type { ProbeResult, ProbeTarget } from "../probe.js";
import { probeFor } from "../probes.js";

interface ProbeCase {
  readonly name: string;
  readonly check: HealthCheck;
  readonly target: ProbeTarget;
}

const cases = JSON.parse(process.argv[2] ?? "[]") as ProbeCase[];
const results = await Promise.all(
  cases.map(async ({ name, check, target }) => {
    const probe = probeFor(check);
    const started = performance.now();
    const result: ProbeResult = probe
      ? await probe(target, AbortSignal.timeout(target.timeoutMs + 2000))
      : { healthy: true, message: "no probe" };
    return { name, ...result, ms: Math.round(performance.now() - started) };
  }),
);
process.stdout.write(JSON.stringify(results) + "\n");
