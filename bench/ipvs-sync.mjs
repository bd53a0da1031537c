#!/usr/bin/env node
// IPVS sync benchmark: the reconciler against ipvsadm-restore on the same table (N VirtualServices ×
// M real servers, from empty), each run in a fresh network namespace, then one weight change timed
// with its netlink messages counted. Needs a kernel with IPVS and root: run it inside the IPVS
// machine, after `npx tsc -p tsconfig.json`:
//   e2e/vm/run-in-uml.sh --timeout 3600 -- node bench/ipvs-sync.mjs [--services 10000] \
//     [--destinations 10] [--runs 3] [--changes 200] [--batch 64] [--json FILE]
// The logic is TypeScript (agent/ipvs/sync-benchmark.ts, compiled with the project); this file parses
// arguments and prints, as bench/failover.mjs does. --worker is the reconciler's side, which the
// benchmark starts inside each fresh namespace.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { runSyncBenchmark, runReconcilerWorker, median, percentile } = await import(
  new URL("../dist/agent/ipvs/sync-benchmark.js", import.meta.url).href
);

const { values } = parseArgs({
  options: {
    services: { type: "string", default: "10000" },
    destinations: { type: "string", default: "10" },
    runs: { type: "string", default: "3" },
    changes: { type: "string", default: "200" },
    batch: { type: "string", default: "64" },
    json: { type: "string" },
    worker: { type: "boolean" },
  },
});
const options = {
  services: Number(values.services),
  destinations: Number(values.destinations),
  runs: Number(values.runs),
  changes: Number(values.changes),
  batchMessages: Number(values.batch),
};

if (values.worker) {
  process.stdout.write(JSON.stringify(await runReconcilerWorker(options)) + "\n");
  process.exit(0);
}

const workerCommand = [
  process.execPath,
  fileURLToPath(import.meta.url),
  "--worker",
  ...["services", "destinations", "changes", "batch"].flatMap((name) => [`--${name}`, values[name]]),
];
const result = await runSyncBenchmark({ ...options, workerCommand }, (line) => console.error(line));

const ms = (list) => list.map((v) => v.toFixed(0)).join(", ");
const distinct = (list) => [...new Set(list)].join("/");
console.log(
  `IPVS sync benchmark: ${result.services} services × ${result.destinations} real servers = ${result.operations} operations; batches of ${values.batch} per sendmsg`,
);
console.log(`  full sync from empty (fresh namespace per run, ${result.ipvsadmRestoreMs.length} runs each)`);
console.log(
  `    ipvsadm-restore   median ${median(result.ipvsadmRestoreMs).toFixed(0)} ms  (${ms(result.ipvsadmRestoreMs)})`,
);
console.log(
  `    reconciler        median ${median(result.reconcilerMs).toFixed(0)} ms  (${ms(result.reconcilerMs)})`,
);
console.log(`    speed-up ${result.speedup.toFixed(2)}×`);
console.log(
  `    reconciler: ${result.reconcilerMessages} netlink messages in ${result.reconcilerSendmsgs} sendmsg calls (1 service dump + the operations)`,
);
console.log(
  `    desired table built from the specs in ${result.desiredBuildMs.toFixed(0)} ms (before the timed sync)`,
);
console.log(`    same rules as ipvsadm-restore (ipvsadm -Sn): ${result.identicalTables ? "yes" : "NO"}`);
const changes = result.oneChangeMs;
const slow = changes.map((ms, i) => ({ ms, gc: result.oneChangeGcMs[i] })).filter((c) => c.ms >= 10);
console.log(
  `  one weight change (${changes.length} changes, one every 20 ms): median ${median(changes).toFixed(2)} ms, p95 ${percentile(changes, 0.95).toFixed(2)} ms, p99 ${percentile(changes, 0.99).toFixed(2)} ms, max ${Math.max(...changes).toFixed(2)} ms; ${changes.filter((ms) => ms < 10).length}/${changes.length} under 10 ms`,
);
if (slow.length > 0)
  console.log(
    `    at or over 10 ms: ${slow.map((c) => `${c.ms.toFixed(1)} ms (GC ${c.gc.toFixed(1)} ms)`).join(", ")}`,
  );
console.log(
  `    per change: ${distinct(result.oneChangeOperations)} operation, ${distinct(result.oneChangeSendmsgs)} sendmsg, ${distinct(result.oneChangeMessages)} netlink message`,
);
if (values.json) writeFileSync(values.json, JSON.stringify(result, null, 2));
