// Runs a RealServerPreparer inside a lab namespace (one process = one agent instance) for
// preparer.lab.test.ts:
//   node preparer-probe.js INSTANCE STATE_DIR SPEC_JSON once|serve
// applies the spec's realServer section (JSON, or "null" for none), prints {"status": …} as one
// JSON line, then exits (once) or keeps reconciling until killed (serve: watch and 500 ms resync).
import { createLogger } from "../../../core/log.js";
import type { NodeRealServer } from "../../../crds/schema/node-state.js";
import { createKernelEdge } from "../../../native/kernel.js";
import { ProcSysctls, rtnetlinkLinkWriter } from "../host.js";
import { OwnedAddressRecord, realServerRecordPath } from "../ownership.js";
import { RealServerPreparer } from "../preparer.js";

const [instance = "", stateDir = "", specJson = "null", mode = "once"] = process.argv.slice(2);
const kernel = createKernelEdge();
const preparer = new RealServerPreparer({
  instance,
  addresses: kernel.addresses,
  links: kernel.links,
  linkWriter: rtnetlinkLinkWriter(),
  sysctls: new ProcSysctls(),
  record: new OwnedAddressRecord(realServerRecordPath(stateDir, instance)),
  log: createLogger({ level: "debug", sink: process.stderr }),
  resyncIntervalMs: 500,
});
await preparer.apply((JSON.parse(specJson) as NodeRealServer | null) ?? undefined);
process.stdout.write(JSON.stringify({ status: preparer.status() ?? null }) + "\n");
if (mode === "once") {
  await preparer.stop();
  kernel.close();
} else {
  setInterval(() => undefined, 60_000);
}
