// The local sandbox cluster demo (`npm run demo`): a real etcd + kube-apiserver, the operator, and
// three "nodes" — network namespaces on a lab LAN — each running the agent in Kubernetes mode. The
// seed document's web and database keepalived configurations are imported and applied, a client
// sends traffic to the VIP, the Master's agent is killed, and kubectl shows the new Master while the
// traffic carries on. Everything is torn down at the end, also on failure or Ctrl-C.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { formatDiagnostic } from "../../importer/diagnostics.js";
import { nodeFileSystem } from "../../importer/filesystem.js";
import { importKeepalived } from "../../importer/import.js";
import { IpvsClient } from "../../native/ipvs/client.js";
import { startControlPlane, type ControlPlane } from "../control-plane/control-plane.js";
import { buildControlPlaneBinaries, missingControlPlaneBinaries } from "../control-plane/binaries.js";
import { applyCrds, kubectlOk } from "../control-plane/kubectl.js";
import { Lab, type LabHost } from "../lab/lab.js";
import type { LabProcess } from "../lab/process.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const KUBELVS = join(ROOT, "dist/cli/main.js");
const SEEDS = join(ROOT, "importer/testdata");
const WEB_VIP = "198.51.100.254";
/** The seed's database VIP is the broadcast address of its /24 (.255), unreachable for clients. */
const DB_VIP_SEED = "198.51.100.255";
const DB_VIP = "198.51.100.253";
const PRIORITIES: Record<string, number> = { n1: 150, n2: 100, n3: 50 };

export interface DemoOptions {
  /** Print more (every kubectl command). */
  verbose?: boolean;
  out?: (line: string) => void;
}

interface Step {
  (title: string): void;
}

/** A tiny HTTP server that says which node answered: whoever holds the VIP answers it. */
const WHOAMI_SERVER = `
const http = require("node:http");
const name = process.argv[1];
http.createServer((req, res) => res.end(name + "\\n")).listen(8080, "0.0.0.0");
`;

/**
 * Asks the VIP every 100 ms from the client and prints one line per request, stamped with the time it
 * was SENT: a request sent while the VIP moves times out a second later, after later requests have
 * been answered, so only the send time puts the answers in the order the client saw the VIP move.
 */
const PROBE_CLIENT = `
const http = require("node:http");
const url = process.argv[1];
let ok = 0, failed = 0;
setInterval(() => {
  const t = Date.now();
  // A new connection each time (no keep-alive): every request is routed afresh to whoever holds the VIP.
  const req = http.get(url, { timeout: 1000, agent: false }, (res) => {
    let body = "";
    res.on("data", (c) => (body += c));
    res.on("end", () => {
      ok++;
      console.log(JSON.stringify({ t, answeredBy: body.trim(), ok, failed }));
    });
  });
  req.on("timeout", () => req.destroy(new Error("timeout")));
  req.on("error", (e) => {
    failed++;
    console.log(JSON.stringify({ t, answeredBy: "-", error: e.code ?? e.message, ok, failed }));
  });
}, 100);
setInterval(() => console.log(JSON.stringify({ t: Date.now(), tally: true, ok, failed })), 1000);
`;

async function ipvsAvailable(): Promise<string | undefined> {
  try {
    const c = await IpvsClient.open();
    c.close();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`demo: timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(100);
  }
}

/** Imports one seed configuration, printing the importer's warnings as a user would see them. */
function importSeed(file: string, out: (l: string) => void): Record<string, unknown>[] {
  const result = importKeepalived([{ file }], { fs: nodeFileSystem(), namespace: "default" });
  for (const d of result.diagnostics) out(`    ${formatDiagnostic(d).replace(ROOT, "")}`);
  if (!result.ok) throw new Error(`demo: importing ${file} failed`);
  return result.objects as unknown as Record<string, unknown>[];
}

export async function runDemo(options: DemoOptions = {}): Promise<void> {
  const out = options.out ?? ((l: string) => process.stdout.write(l + "\n"));
  let n = 0;
  const step: Step = (title) => out(`\n== ${++n}. ${title}`);
  if (process.getuid?.() !== 0)
    throw new Error("demo: run as root (it creates network namespaces and raw sockets)");
  if (!existsSync(KUBELVS)) throw new Error(`demo: ${KUBELVS} is missing; run npm run build`);

  const missing = missingControlPlaneBinaries();
  if (missing !== undefined) {
    step(`${missing} — building from the Go module proxy now`);
    buildControlPlaneBinaries();
  }

  const ipvsProblem = await ipvsAvailable();
  const work = mkdtempSync(join(tmpdir(), "kubelvs-demo-"));
  let lab: Lab | undefined;
  let plane: ControlPlane | undefined;
  const agents = new Map<string, LabProcess>();
  try {
    step("A lab LAN (198.51.100.0/24) with three nodes n1-n3, a client, and a backend LAN (203.0.113.0/24)");
    lab = await Lab.create({ nodes: 3, client: true, backends: 3, backendLan: true });
    const labRef = lab;
    out(`    namespaces ${lab.prefix}*; the client host (198.51.100.100) also runs the control plane`);
    if (ipvsProblem) {
      out(`    NOTE: this kernel has no IPVS (${ipvsProblem}).`);
      out("    The demo runs the VRRP half: VIPs, election, failover. The IPVS half is shown by");
      out(
        "    the IPVS test machine tests (npm test, tier vm); VirtualServices are accepted and rendered here.",
      );
    }

    step("etcd + kube-apiserver (built from the Go module proxy), then the kubelvs CRDs");
    plane = await startControlPlane({
      netns: lab.namespaceOf(lab.client),
      address: lab.client.interfaces[0]!.ipv4,
    });
    const kube = plane;
    await applyCrds(kube);
    const kctl = (args: string[], input?: string) =>
      kubectlOk(kube, args, input === undefined ? {} : { input });
    out(`    API server ${kube.server}`);

    step("Node objects for n1-n3 (InternalIPs on the LAN; there is no kubelet in a sandbox)");
    for (const node of lab.nodes) {
      await kctl(
        ["apply", "-f", "-"],
        stringify({
          apiVersion: "v1",
          kind: "Node",
          metadata: {
            name: node.name,
            labels: { "kubernetes.io/hostname": node.name, "kubelvs.io/lb": "true" },
          },
        }),
      );
      await kctl([
        "patch",
        "node",
        node.name,
        "--subresource=status",
        "--type=merge",
        "-p",
        JSON.stringify({
          status: {
            addresses: [
              { type: "InternalIP", address: node.interfaces[0]!.ipv4 },
              { type: "Hostname", address: node.name },
            ],
          },
        }),
      ]);
    }

    step("The operator (leader-elected), and an agent in Kubernetes mode on every node");
    await kctl(["create", "namespace", "kubelvs-system"]);
    const operatorProc = lab.spawn(lab.client, process.execPath, [
      KUBELVS,
      "operator",
      "--kubeconfig",
      kube.kubeconfigPath,
      "--leader-election-namespace",
      "kubelvs-system",
      "--metrics-address",
      "127.0.0.1:0",
      "--identity",
      "demo-operator",
    ]);
    void operatorProc;
    for (const node of lab.nodes) {
      // whoever holds a VIP answers on it: the traffic shows which node is Master
      lab.spawn(node, process.execPath, ["-e", WHOAMI_SERVER, node.name]);
      agents.set(node.name, startAgent(labRef, node, kube.kubeconfigPath, work));
    }

    step("The seed document's two keepalived configurations, imported (kubelvs import)");
    out("    importer/testdata/seed-web.conf (instance WEB, VRID 70) and seed-db.conf (LVS_DB, VRID 71):");
    const objects = [
      ...importSeed(join(SEEDS, "seed-web.conf"), out),
      ...importSeed(join(SEEDS, "seed-db.conf"), out),
    ];
    out(
      `    As the importer warns, ${DB_VIP_SEED} is its subnet's broadcast address: the demo uses ${DB_VIP}.`,
    );
    out("    Per-node priorities as a cluster admin would set them: n1 150, n2 100, n3 50.");
    const manifest = objects
      .map((o) => {
        const text = JSON.stringify(o)
          .replaceAll(DB_VIP_SEED, DB_VIP)
          .replaceAll("198.51.100.103", "203.0.113.103");
        const obj = JSON.parse(text) as { kind: string; spec: Record<string, unknown> };
        if (obj.kind === "VrrpGroup") {
          obj.spec.priority = {
            default: 100,
            nodes: Object.entries(PRIORITIES).map(([nodeName, priority]) => ({ nodeName, priority })),
          };
        }
        return stringify(obj);
      })
      .join("---\n");
    out(await kctl(["apply", "-f", "-"], manifest).then((s) => s.replace(/^/gm, "    ").trimEnd()));

    step("kubectl get vrrpgroups,virtualservices -A   (waiting for the election)");
    await waitFor(
      "a MASTER in both groups",
      async () => {
        const masters = await kctl(["get", "vrrpgroups", "-o", "jsonpath={.items[*].status.master}"]);
        return masters.split(" ").filter((m) => m === "n1").length === 2 ? true : undefined;
      },
      30_000,
    );
    const electionShownAt = Date.now();
    // n1's agent stamps the moment it became Master (status.nodes[].since, from its NodeState report)
    const masterSince = await kctl([
      "get",
      "vrrpgroup",
      "web",
      "-o",
      'jsonpath={.status.nodes[?(@.name=="n1")].since}',
    ]);
    out(
      `    kubectl showed MASTER n1 ${electionShownAt - Date.parse(masterSince)} ms after the election (n1 Master since ${masterSince}; kubectl polling included)`,
    );
    out(
      (await kctl(["get", "vrrpgroups,virtualservices", "-A", "-o", "wide"]))
        .replace(/^/gm, "    ")
        .trimEnd(),
    );
    out((await kctl(["get", "nodestates"])).replace(/^/gm, "    ").trimEnd());

    step(`Traffic: the client asks http://${WEB_VIP}:8080/ every 100 ms`);
    const probe = lab.spawn(lab.client, process.execPath, ["-e", PROBE_CLIENT, `http://${WEB_VIP}:8080/`]);
    await waitFor(
      "the first answer",
      async () => (probe.lines.some((l) => l.includes("answeredBy")) ? true : undefined),
      10_000,
    );
    const answers = () =>
      probe.lines
        .map(
          (l) =>
            JSON.parse(l) as {
              t: number;
              answeredBy?: string;
              error?: string;
              tally?: boolean;
              ok: number;
              failed: number;
            },
        )
        .filter((r) => r.answeredBy !== undefined)
        .sort((a, b) => a.t - b.t);
    out(`    answered by ${answers().at(-1)?.answeredBy}`);
    await sleep(1500);

    step("Kill the Master's agent (kill -9 of n1's agent process)");
    const victim = Number.parseInt(readFileSync(join(work, "n1", "run", "kubernetes.pid"), "utf8"), 10);
    const killedAt = Date.now();
    process.kill(victim, "SIGKILL");
    out(`    killed pid ${victim}; its guard resigns for it at once (priority-0 advert, VIPs removed)`);
    await waitFor(
      "n2 as MASTER in kubectl",
      async () =>
        (await kctl(["get", "vrrpgroup", "web", "-o", "jsonpath={.status.master}"])) === "n2"
          ? true
          : undefined,
      15_000,
    );
    const shownAt = Date.now();
    out(`    kubectl shows MASTER n2 ${shownAt - killedAt} ms after the kill:`);
    out((await kctl(["get", "vrrpgroups"])).replace(/^/gm, "    ").trimEnd());
    /** Who answered, in the order the requests were sent, runs counted: "40× n1 → 6× -(timeout) → …". */
    const answerTrail = (): string => {
      const runs: { who: string; count: number }[] = [];
      for (const a of answers()) {
        const who = a.error === undefined ? a.answeredBy! : `${a.answeredBy}(${a.error})`;
        if (runs.at(-1)?.who === who) runs.at(-1)!.count++;
        else runs.push({ who, count: 1 });
      }
      return runs.map((r) => `${r.count}× ${r.who}`).join(" → ");
    };
    await waitFor(
      "traffic from n2",
      async () => (answers().some((a) => a.t >= killedAt && a.answeredBy === "n2") ? true : undefined),
      10_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; the client saw ${answerTrail()}`);
    });
    const moved = answers().find((a) => a.t >= killedAt && a.answeredBy === "n2");
    out(`    the client's traffic is answered by n2 ${moved ? moved.t - killedAt : "?"} ms after the kill`);
    if (moved)
      out(
        `    kubectl showed the new MASTER ${shownAt - moved.t} ms after the failover (kubectl polling included)`,
      );

    step("The guard restarts n1's agent; with preempt, n1 (priority 150) takes the VIP back");
    await waitFor(
      "n1 MASTER again",
      async () =>
        (await kctl(["get", "vrrpgroup", "web", "-o", "jsonpath={.status.master}"])) === "n1"
          ? true
          : undefined,
      30_000,
    );
    await waitFor(
      "traffic from n1",
      async () => (answers().at(-1)?.answeredBy === "n1" ? true : undefined),
      10_000,
    );
    out((await kctl(["get", "vrrpgroups"])).replace(/^/gm, "    ").trimEnd());
    const tally = probe.lines.map((l) => JSON.parse(l) as { ok: number; failed: number }).at(-1)!;
    out(`    client requests: ${tally.ok} answered, ${tally.failed} failed (those sent while the VIP moved)`);
    out("    who answered, in order: " + answerTrail());

    step("Clean up: agents resign (SIGTERM), operator and control plane stop, namespaces are deleted");
  } finally {
    for (const p of agents.values()) p.child.kill("SIGTERM");
    await Promise.all([...agents.values()].map((p) => Promise.race([p.exited, sleep(5000)])));
    await plane?.stop();
    await lab?.teardown();
    rmSync(work, { recursive: true, force: true });
  }
  out("    done");
}

function startAgent(lab: Lab, node: LabHost, kubeconfig: string, work: string): LabProcess {
  const dir = join(work, node.name);
  return lab.spawn(node, process.execPath, [
    KUBELVS,
    "agent",
    "--kubernetes",
    "--node-name",
    node.name,
    "--kubeconfig",
    kubeconfig,
    "--run-dir",
    join(dir, "run"),
    "--log-file",
    join(work, `${node.name}.log`),
  ]);
}
