// Scale benchmark of the operator against a real kube-apiserver: 1,000 Nodes, 200 VrrpGroups (each
// selecting 5 nodes) and 5,000 VirtualServices (25 per group). It measures
//   - the time from the operator's start to every NodeState written with its final content,
//   - p50/p99 from changing one VirtualService to all NodeStates that carry it being updated,
//   - how many NodeStates each such change wrote (goal: only the 5 nodes of its group),
//   - the operator process's RSS.
// Goals: p99 < 1 s, writes = affected nodes only, RSS < 300 MB.
//
//   npx tsc -p tsconfig.json && node dist/operator/bench/scale.js [--changes N] [--json FILE]
import { writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { contentHash } from "../../core/render/content-hash.js";
import { createLogger } from "../../core/log.js";
import { render } from "../../core/render/render.js";
import { requireControlPlaneBinaries } from "../../e2e/control-plane/binaries.js";
import { startControlPlane } from "../../e2e/control-plane/control-plane.js";
import { applyCrds } from "../../e2e/control-plane/kubectl.js";
import {
  contentHashOf,
  groupInput,
  namespaceInfo,
  nodeInfo,
  serviceInput,
  trimNamespace,
  trimNode,
  trimNodeState,
  trimVirtualService,
  trimVrrpGroup,
  type CachedNodeState,
} from "../cluster-objects.js";
import { KubeClient, loadKubeConfig } from "../kube/client.js";
import { Informer } from "../kube/informer.js";
import {
  NAMESPACES,
  NODES,
  NODE_STATES,
  VIRTUAL_SERVICES,
  VRRP_GROUPS,
  apiVersionOf,
  collectionPath,
  objectPath,
  type KubeObject,
  type ResourceType,
} from "../kube/resources.js";
import { OperatorProcess, freePort } from "../testing/operator-process.js";

const NODE_COUNT = 1000;
const GROUP_COUNT = 200;
const SERVICE_COUNT = 5000;
const NAMESPACE_COUNT = 50;
const CREATE_CONCURRENCY = 24;

const hex = (n: number) => n.toString(16);
const nodeName = (i: number) => `node-${String(i).padStart(4, "0")}`;
const groupOf = (service: number) => service % GROUP_COUNT;

function nodeObject(i: number) {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: nodeName(i), labels: { "bench.kubelvs.io/pool": `p${i % GROUP_COUNT}` } },
    status: { addresses: [{ type: "InternalIP", address: `2001:db8:1::${hex(i + 1)}` }] },
  };
}

function groupObject(g: number) {
  return {
    apiVersion: apiVersionOf(VRRP_GROUPS),
    kind: "VrrpGroup",
    metadata: { name: `group-${g}` },
    spec: {
      vrid: (g % 255) + 1,
      interface: { name: "eth0" },
      nodeSelector: { matchLabels: { "bench.kubelvs.io/pool": `p${g}` } },
      virtualIPs: [{ address: `2001:db8:ff::${hex(g + 1)}` }],
      unicast: {},
    },
  };
}

function realServers(s: number, weight: number) {
  return [1, 2, 3].map((r) => ({ address: `2001:db8:2::${hex(s * 3 + r)}`, port: 8080, weight }));
}

function serviceObject(s: number) {
  return {
    apiVersion: apiVersionOf(VIRTUAL_SERVICES),
    kind: "VirtualService",
    metadata: { name: `svc-${s}`, namespace: `app-${s % NAMESPACE_COUNT}` },
    spec: {
      virtualIP: `2001:db8:ff::${hex(groupOf(s) + 1)}`,
      port: 1000 + Math.floor(s / GROUP_COUNT),
      protocol: "TCP",
      realServers: realServers(s, 1),
      healthCheck: { type: "TCP", intervalMillis: 5000 },
    },
  };
}

/** Runs `task` over `items` with at most `limit` in flight. */
async function inParallel<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

async function listAll<T>(
  client: KubeClient,
  resource: ResourceType,
  trim: (o: KubeObject) => T,
): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const page = await client.get<{ items: KubeObject[]; metadata: { continue?: string } }>(
      collectionPath(resource),
      { limit: 500, continue: token },
    );
    out.push(...page.items.map(trim));
    token = page.metadata.continue || undefined;
  } while (token !== undefined);
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The operator's memory as its /metrics reports it, in MB. */
async function memory(operator: OperatorProcess): Promise<Record<string, number>> {
  const mb = async (sample: string) => Math.round(((await operator.metric(sample)) ?? 0) / 1e6);
  return {
    rss: await mb("kubelvs_operator_process_resident_memory_bytes"),
    heapTotal: await mb("kubelvs_operator_nodejs_heap_size_total_bytes"),
    heapUsed: await mb("kubelvs_operator_nodejs_heap_size_used_bytes"),
    external: await mb("kubelvs_operator_nodejs_external_memory_bytes"),
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const log = (text: string) => process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${text}\n`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      changes: { type: "string", default: "100" },
      json: { type: "string" },
      // Node.js options for the operator process, e.g. --node-option=--max-old-space-size=160
      "node-option": { type: "string", multiple: true },
    },
  });
  const changes = Number(values.changes);
  const missing = requireControlPlaneBinaries();
  if (missing) throw new Error(missing);

  const plane = await startControlPlane({ readyTimeoutMs: 120_000 });
  let operator: OperatorProcess | undefined;
  const stopLogger = createLogger({ level: "error" });
  try {
    await applyCrds(plane);
    const client = new KubeClient(loadKubeConfig(plane.kubeconfigPath), "kubelvs-bench");
    const namespaces = ["kubelvs-system", ...Array.from({ length: NAMESPACE_COUNT }, (_, i) => `app-${i}`)];
    await inParallel(namespaces, CREATE_CONCURRENCY, (name) =>
      client.create(collectionPath(NAMESPACES), { apiVersion: "v1", kind: "Namespace", metadata: { name } }),
    );

    let started = Date.now();
    await inParallel(
      Array.from({ length: NODE_COUNT }, (_, i) => i),
      CREATE_CONCURRENCY,
      (i) => client.create(collectionPath(NODES), nodeObject(i)),
    );
    await inParallel(
      Array.from({ length: GROUP_COUNT }, (_, g) => g),
      CREATE_CONCURRENCY,
      (g) => client.create(collectionPath(VRRP_GROUPS), groupObject(g)),
    );
    await inParallel(
      Array.from({ length: SERVICE_COUNT }, (_, s) => s),
      CREATE_CONCURRENCY,
      async (s) => {
        const o = serviceObject(s);
        await client.create(collectionPath(VIRTUAL_SERVICES, o.metadata.namespace), o);
      },
    );
    log(
      `created ${NODE_COUNT} Nodes, ${GROUP_COUNT} VrrpGroups, ${SERVICE_COUNT} VirtualServices in ${seconds(Date.now() - started)}`,
    );

    // What the NodeStates must end up as: the renderer over the objects as the API server stored them.
    const expected = render({
      nodes: (await listAll(client, NODES, trimNode)).map(nodeInfo),
      namespaces: (await listAll(client, NAMESPACES, trimNamespace)).map(namespaceInfo),
      groups: (await listAll(client, VRRP_GROUPS, trimVrrpGroup)).map(groupInput),
      services: (await listAll(client, VIRTUAL_SERVICES, trimVirtualService)).map(serviceInput),
    });
    if (expected.problems.length > 0)
      throw new Error(`bench objects have problems: ${expected.problems[0]!.message}`);
    const expectedHash = new Map([...expected.nodeStates].map(([node, spec]) => [node, contentHash(spec)]));

    // The benchmark's own view of the NodeStates: every content-hash change, with its arrival time.
    const hashChanges: { node: string; at: number }[] = [];
    const watcher = new Informer<CachedNodeState>({
      client,
      resource: NODE_STATES,
      transform: trimNodeState,
      log: stopLogger,
    });
    watcher.addHandlers({
      onAdd: (o) => hashChanges.push({ node: o.metadata.name, at: Date.now() }),
      onUpdate: (old, o) => {
        if (contentHashOf(old) !== contentHashOf(o))
          hashChanges.push({ node: o.metadata.name, at: Date.now() });
      },
    });
    watcher.start();
    await watcher.waitForSync();

    const converged = () =>
      watcher.size === NODE_COUNT &&
      [...expectedHash].every(([node, hash]) => contentHashOf(watcher.get(node)) === hash);

    started = Date.now();
    operator = new OperatorProcess(
      "bench-operator",
      await freePort(),
      [
        `--kubeconfig=${plane.kubeconfigPath}`,
        "--leader-election-namespace=kubelvs-system",
        "--log-level=info",
      ],
      { nodeOptions: values["node-option"] ?? [] },
    );
    while (!converged()) {
      if (Date.now() - started > 600_000) throw new Error("NodeStates did not converge within 10 minutes");
      await sleep(50);
    }
    const firstRenderMs = Date.now() - started;
    const firstRenderWrites = hashChanges.length;
    const synced = operator.logged("caches synced; reconciling")[0]?.time;
    const syncedAfterMs = typeof synced === "string" ? Date.parse(synced) - started : Number.NaN;
    log(
      `first full render: ${NODE_COUNT} NodeStates in ${seconds(firstRenderMs)} (${firstRenderWrites} writes; ` +
        `caches synced after ${seconds(syncedAfterMs)})`,
    );
    const rssAfterFirstRender = operator.rssBytes();
    const memoryAfterFirstRender = await memory(operator);

    // The initial status writes (200 groups, 5,000 services) settle before the latency runs.
    let lastStatusWrites = -1;
    for (;;) {
      await sleep(2000);
      const writes =
        ((await operator.metric('kubelvs_operator_status_writes_total{kind="VirtualService"}')) ?? 0) +
        ((await operator.metric('kubelvs_operator_status_writes_total{kind="VrrpGroup"}')) ?? 0);
      if (writes === lastStatusWrites && (await operator.metric("kubelvs_operator_queue_depth")) === 0) break;
      lastStatusWrites = writes;
    }
    log(`initial status writes settled: ${lastStatusWrites} (${seconds(Date.now() - started)} after start)`);
    const memoryAfterStatus = await memory(operator);

    const rendersBefore =
      (await operator.metric('kubelvs_operator_reconciles_total{controller="render"}')) ?? 0;
    const latencies: number[] = [];
    const writesPerChange: number[] = [];
    const strayWrites: string[] = [];
    for (let i = 0; i < changes; i++) {
      const s = (i * 397 + 11) % SERVICE_COUNT;
      const o = serviceObject(s);
      const affected = new Set(
        Array.from({ length: NODE_COUNT }, (_, n) => n)
          .filter((n) => n % GROUP_COUNT === groupOf(s))
          .map(nodeName),
      );
      const from = hashChanges.length;
      const sent = Date.now();
      await client.mergePatch(objectPath(VIRTUAL_SERVICES, o.metadata.name, o.metadata.namespace), {
        spec: { realServers: realServers(s, i + 2) },
      });
      const deadline = sent + 30_000;
      const updated = () => new Set(hashChanges.slice(from).map((c) => c.node));
      while ([...affected].some((n) => !updated().has(n))) {
        if (Date.now() > deadline) throw new Error(`change ${i} (svc-${s}) not rendered within 30 s`);
        await sleep(5);
      }
      const done = Math.max(
        ...hashChanges
          .slice(from)
          .filter((c) => affected.has(c.node))
          .map((c) => c.at),
      );
      latencies.push(done - sent);
      // Anything else written for this change would show up shortly after.
      await sleep(300);
      const written = hashChanges.slice(from);
      writesPerChange.push(written.length);
      for (const c of written) if (!affected.has(c.node)) strayWrites.push(`change ${i}: ${c.node}`);
    }
    const renders =
      ((await operator.metric('kubelvs_operator_reconciles_total{controller="render"}')) ?? 0) -
      rendersBefore;
    const sorted = [...latencies].sort((a, b) => a - b);
    const rss = operator.rssBytes();
    const metrics = (await operator.get("/metrics")).body;
    const renderSeconds = /kubelvs_operator_reconcile_duration_seconds_sum\{controller="render"\} (\S+)/.exec(
      metrics,
    );
    const renderCount = /kubelvs_operator_reconcile_duration_seconds_count\{controller="render"\} (\S+)/.exec(
      metrics,
    );

    const result = {
      objects: { nodes: NODE_COUNT, vrrpGroups: GROUP_COUNT, virtualServices: SERVICE_COUNT },
      firstFullRenderMs: firstRenderMs,
      firstFullRenderNodeStateWrites: firstRenderWrites,
      cachesSyncedAfterMs: syncedAfterMs,
      changes,
      changeToNodeStatesMs: {
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted[sorted.length - 1],
        min: sorted[0],
      },
      nodeStateWritesPerChange: {
        expected: NODE_COUNT / GROUP_COUNT,
        min: Math.min(...writesPerChange),
        max: Math.max(...writesPerChange),
      },
      strayWrites: strayWrites.length,
      rendersDuringChanges: renders,
      latenciesMs: latencies,
      meanRenderMs:
        renderSeconds && renderCount ? (1000 * Number(renderSeconds[1])) / Number(renderCount[1]) : undefined,
      operatorRssMB: {
        afterFirstRender: Math.round(rssAfterFirstRender.current / 1e6),
        atEnd: Math.round(rss.current / 1e6),
        peak: Math.round(rss.peak / 1e6),
      },
      operatorMemoryMB: {
        afterFirstRender: memoryAfterFirstRender,
        afterInitialStatus: memoryAfterStatus,
        atEnd: await memory(operator),
      },
    };
    const goals = {
      "p99 < 1 s": result.changeToNodeStatesMs.p99 < 1000,
      "writes = affected nodes only":
        result.strayWrites === 0 &&
        result.nodeStateWritesPerChange.max === result.nodeStateWritesPerChange.expected,
      "RSS < 300 MB": result.operatorRssMB.peak < 300,
    };
    process.stdout.write(`\n${JSON.stringify({ ...result, goals }, null, 2)}\n`);
    if (values.json) writeFileSync(values.json, JSON.stringify({ ...result, goals }, null, 2));
    await watcher.stop();
    operator.kill("SIGTERM");
    await operator.wait();
    if (!Object.values(goals).every(Boolean)) process.exitCode = 1;
  } finally {
    await operator?.ensureStopped();
    await plane.stop();
  }
}

await main();
