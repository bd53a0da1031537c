// The agent's Kubernetes mode against a real kube-apiserver, driving a real Agent over the fake
// kernel edge: the NodeState's spec is applied, the agent's state is reported into its status, a
// status-only change applies nothing, and when the API server is unreachable (connections refused,
// or the server frozen) VRRP runs on with the last spec and the agent resyncs when it returns.
// The agent authenticates as a service account allowed to read NodeStates and write their status
// only, through the in-cluster configuration a Pod would have.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { NodeStateSpec, NodeStateStatus } from "../../crds/schema/node-state.js";
import { createLogger, memorySink } from "../../core/log.js";
import { requireControlPlaneBinaries } from "../../e2e/control-plane/binaries.js";
import { startControlPlane, type ControlPlane } from "../../e2e/control-plane/control-plane.js";
import { applyCrds, createServiceAccountToken, kubectlOk } from "../../e2e/control-plane/kubectl.js";
import { missingCommand, tierOptions } from "../../e2e/requirements.js";
import { FakeKernelEdge } from "../../native/testing/fake-kernel.js";
import { CONTENT_HASH_ANNOTATION } from "../../operator/cluster-objects.js";
import { KubeClient, inClusterKubeConfig } from "../../operator/kube/client.js";
import { applyObjects, eventually, getJson } from "../../operator/testing/k8s-helpers.js";
import { Relay } from "../../operator/testing/relay.js";
import { AgentMetrics } from "../metrics.js";
import { Agent } from "../runtime/agent.js";
import { runKubernetesMode, type KubernetesModeHandle } from "./kubernetes-mode.js";

const requirements = [requireControlPlaneBinaries(), missingCommand("openssl", "apt-get install openssl")];
const NODE = "node-a";

function webGroup(priority: number) {
  return {
    name: "web",
    vrid: 51,
    advertIntervalMillis: 100,
    interface: { name: "eth0" },
    virtualIPs: [{ address: "198.51.100.254", prefixLength: 24 }],
    priority,
  };
}

function nodeState(spec: NodeStateSpec, hash: string) {
  return {
    apiVersion: "kubelvs.io/v1alpha1",
    kind: "NodeState",
    metadata: { name: NODE, annotations: { [CONTENT_HASH_ANNOTATION]: hash } },
    spec,
  };
}

/** The kube-apiserver process of a test control plane (found by its certificate directory). */
function apiServerPid(plane: ControlPlane): number {
  const marker = `--cert-dir=${join(plane.dir, "apiserver-certs")}`;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (argv.includes(marker) && argv[0]?.endsWith("kube-apiserver")) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no kube-apiserver process with ${marker}`);
}

describe("the agent's Kubernetes mode on a real kube-apiserver", tierOptions(...requirements), () => {
  let plane: ControlPlane;
  let relay: Relay;
  let handle: KubernetesModeHandle;
  let agent: Agent;
  let serviceAccountDir: string;
  const kernel = new FakeKernelEdge();
  const logs = memorySink();
  const applied: NodeStateSpec[] = [];
  const savedEnv = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };

  async function status(): Promise<NodeStateStatus | undefined> {
    return (await getJson<{ status?: NodeStateStatus }>(plane, "nodestate", NODE)).status;
  }

  async function setSpec(priority: number, hash: string): Promise<void> {
    await kubectlOk(plane, [
      "patch",
      "nodestate",
      NODE,
      "--type=merge",
      "-p",
      JSON.stringify({
        metadata: { annotations: { [CONTENT_HASH_ANNOTATION]: hash } },
        spec: { vrrpGroups: [webGroup(priority)] },
      }),
    ]);
  }

  const runningPriority = () => agent.status().groups.find((g) => g.name === "web")?.basePriority;

  before(async () => {
    plane = await startControlPlane();
    await applyCrds(plane);
    await applyObjects(plane, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "kubelvs-system" },
    });
    // What the chart grants the agent: its own NodeState, read, and its status, written.
    await kubectlOk(plane, ["create", "serviceaccount", "kubelvs-agent", "--namespace=kubelvs-system"]);
    await kubectlOk(plane, [
      "create",
      "clusterrole",
      "kubelvs-agent",
      "--verb=get,list,watch",
      "--resource=nodestates.kubelvs.io",
    ]);
    await applyObjects(plane, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "kubelvs-agent-status" },
      rules: [{ apiGroups: ["kubelvs.io"], resources: ["nodestates/status"], verbs: ["patch"] }],
    });
    for (const role of ["kubelvs-agent", "kubelvs-agent-status"])
      await kubectlOk(plane, [
        "create",
        "clusterrolebinding",
        role,
        `--clusterrole=${role}`,
        "--serviceaccount=kubelvs-system:kubelvs-agent",
      ]);
    await applyObjects(plane, nodeState({ nodeName: NODE, vrrpGroups: [webGroup(150)] }, "hash-150"));

    // The Pod's view: the service account's files, and the API server behind a relay it can lose.
    const server = new URL(plane.server);
    relay = new Relay({ host: server.hostname, port: Number(server.port) });
    await relay.up();
    serviceAccountDir = mkdtempSync(join(tmpdir(), "kubelvs-agent-sa-"));
    const files = join(serviceAccountDir, "var/run/secrets/kubernetes.io/serviceaccount");
    mkdirSync(files, { recursive: true });
    writeFileSync(
      join(files, "token"),
      await createServiceAccountToken(plane, "kubelvs-system", "kubelvs-agent"),
    );
    writeFileSync(join(files, "ca.crt"), readFileSync(plane.caCertFile));
    writeFileSync(join(files, "namespace"), "kubelvs-system");
    process.env.KUBERNETES_SERVICE_HOST = "127.0.0.1";
    process.env.KUBERNETES_SERVICE_PORT = String(relay.port);

    const eth0 = kernel.links.addLink({ index: 2, name: "eth0" });
    await kernel.addresses.add({ ifindex: eth0.index, address: "198.51.100.11", prefixLength: 24 });
    const log = createLogger({ sink: logs, level: "debug" });
    let reportTransition = () => {};
    agent = new Agent({
      instance: "k8s-test",
      kernel,
      log,
      metrics: new AgentMetrics("k8s-test"),
      onTransition: () => reportTransition(),
    });
    const engine = {
      apply: (spec: NodeStateSpec) => {
        applied.push(spec);
        return agent.apply(spec);
      },
      status: () => agent.status(),
    };
    handle = await runKubernetesMode({
      agent: engine,
      nodeName: NODE,
      log,
      client: new KubeClient(inClusterKubeConfig(serviceAccountDir), "kubelvs-agent"),
      agentVersion: "test",
      heartbeatMs: 1000,
      watchIdleTimeoutMs: 3000,
    });
    reportTransition = () => handle.notifyTransition();
  });

  after(async () => {
    await handle?.stop();
    await agent?.stop();
    await relay?.down();
    await plane?.stop();
    if (serviceAccountDir) rmSync(serviceAccountDir, { recursive: true, force: true });
    for (const [key, value] of [
      ["KUBERNETES_SERVICE_HOST", savedEnv.host],
      ["KUBERNETES_SERVICE_PORT", savedEnv.port],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  test("applies its NodeState's spec once listed", async () => {
    await handle.synced;
    assert.equal(applied.length, 1);
    assert.equal(runningPriority(), 150);
  });

  test("reports the agent's state into the NodeState status: Master, masterOf, the applied hash", async () => {
    const reported = await eventually(
      "a Master report",
      async () => {
        const s = await status();
        return s?.vrrpGroups?.[0]?.state === "Master" ? s : undefined;
      },
      { describe: async () => JSON.stringify(await status()) },
    );
    assert.equal(reported.masterOf, "web");
    assert.equal(reported.observedContentHash, "hash-150");
    assert.equal(reported.agentVersion, "test");
    assert.deepEqual(
      reported.vrrpGroups?.map((g) => [g.name, g.priority, g.address]),
      [["web", 150, "198.51.100.11"]],
    );
    assert.ok(
      kernel.addresses.addresses.some((a) => a.address === "198.51.100.254"),
      "the VIP is up",
    );
    const table = await kubectlOk(plane, ["get", "nodestates"]);
    assert.match(table, /^node-a\s+web\s+/m, table);
  });

  test("a spec change is applied; a status-only change is not", async () => {
    await setSpec(140, "hash-140");
    await eventually("priority 140 running", () => (runningPriority() === 140 ? true : undefined));
    await eventually("the new hash reported", async () =>
      (await status())?.observedContentHash === "hash-140" ? true : undefined,
    );
    const applies = applied.length;
    await kubectlOk(plane, [
      "patch",
      "nodestate",
      NODE,
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({ status: { conditions: [] } }),
    ]);
    await sleep(1500);
    assert.equal(applied.length, applies, "the agent's own reports and other status writes apply nothing");
  });

  test("reports are rate limited: heartbeats about once a second here, not one per watch event", async () => {
    const times = new Set<string>();
    const start = Date.now();
    while (Date.now() - start < 3500) {
      const t = (await status())?.lastReportTime;
      if (t) times.add(t);
      await sleep(200);
    }
    assert.ok(times.size >= 2 && times.size <= 5, `report times seen in 3.5 s: ${[...times].join(" ")}`);
  });

  test("with the API server unreachable VRRP runs on; when it returns the agent resyncs", async () => {
    await relay.down();
    await sleep(1500);
    // The operator (here: the admin) changes the spec while this node cannot hear about it.
    await setSpec(120, "hash-120");
    await sleep(2000);
    assert.equal(runningPriority(), 140, "the last spec keeps running");
    assert.equal(agent.status().groups[0]?.state, "Master");
    assert.ok(
      kernel.addresses.addresses.some((a) => a.address === "198.51.100.254"),
      "the VIP stays up",
    );
    assert.ok(
      logs
        .records()
        .some((r) => r.msg === "watch failed; retrying" || r.msg === "status report failed; retrying"),
      "the failures are logged",
    );

    await relay.up();
    await eventually(
      "the changed spec applied after reconnecting",
      () => (runningPriority() === 120 ? true : undefined),
      {
        timeoutMs: 40_000,
      },
    );
    await eventually(
      "the resynced state reported",
      async () => ((await status())?.observedContentHash === "hash-120" ? true : undefined),
      { timeoutMs: 40_000 },
    );
  });

  test("with the API server frozen (no answers at all) VRRP runs on; after it thaws the agent resyncs", async () => {
    const pid = apiServerPid(plane);
    const before = (await status())?.lastReportTime;
    process.kill(pid, "SIGSTOP");
    try {
      await sleep(4000);
      assert.equal(agent.status().groups[0]?.state, "Master");
      assert.ok(kernel.addresses.addresses.some((a) => a.address === "198.51.100.254"));
    } finally {
      process.kill(pid, "SIGCONT");
    }
    await eventually(
      "reports flowing again",
      async () => {
        const t = (await status())?.lastReportTime;
        return t !== undefined && t !== before && Date.parse(t) > Date.now() - 5000 ? true : undefined;
      },
      { timeoutMs: 40_000 },
    );
    await setSpec(110, "hash-110");
    await eventually(
      "a spec change after the thaw applied",
      () => (runningPriority() === 110 ? true : undefined),
      {
        timeoutMs: 40_000,
      },
    );
  });

  test("the service account may not write the spec: the agent only reads it", async () => {
    const client = new KubeClient(inClusterKubeConfig(serviceAccountDir));
    await assert.rejects(
      client.mergePatch("/apis/kubelvs.io/v1alpha1/nodestates/node-a", { spec: { vrrpGroups: [] } }),
      /HTTP 403 Forbidden/,
    );
  });

  test("a deleted NodeState stops every group; stop() writes nothing more and the agent keeps its state", async () => {
    await kubectlOk(plane, ["delete", "nodestate", NODE]);
    await eventually("no groups running", () => (agent.status().groups.length === 0 ? true : undefined));
    assert.ok(!kernel.addresses.addresses.some((a) => a.address === "198.51.100.254"), "the VIP is released");
    await handle.stop();
  });
});
