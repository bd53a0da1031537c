// The agent's Kubernetes mode with a kubelvs instance, on a real kube-apiserver: the agent of
// instance "web" on node-a follows NodeState web.node-a and reports into it, never into node-a (the
// unnamed instance's NodeState of the same node); an agent of the unnamed instance on a node named
// "web.node-b" — the name of web's NodeState for node-b — neither runs nor reports into that one.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { NodeStateSpec, NodeStateStatus } from "../../crds/schema/node-state.js";
import { createLogger, memorySink } from "../../core/log.js";
import { requireControlPlaneBinaries } from "../../e2e/control-plane/binaries.js";
import { startControlPlane, type ControlPlane } from "../../e2e/control-plane/control-plane.js";
import { applyCrds } from "../../e2e/control-plane/kubectl.js";
import { missingCommand, tierOptions } from "../../e2e/requirements.js";
import { FakeKernelEdge } from "../../native/testing/fake-kernel.js";
import { CONTENT_HASH_ANNOTATION } from "../../operator/cluster-objects.js";
import { KubeClient, loadKubeConfig } from "../../operator/kube/client.js";
import { applyObjects, eventually, getJson } from "../../operator/testing/k8s-helpers.js";
import { AgentMetrics } from "../metrics.js";
import { Agent } from "../runtime/agent.js";
import { runKubernetesMode, type KubernetesModeHandle } from "./kubernetes-mode.js";

const requirements = [requireControlPlaneBinaries(), missingCommand("openssl", "apt-get install openssl")];

function group(name: string, vip: string) {
  return {
    name,
    vrid: 51,
    advertIntervalMillis: 100,
    interface: { name: "eth0" },
    virtualIPs: [{ address: vip, prefixLength: 24 }],
    priority: 150,
  };
}

function nodeState(name: string, node: string, instance: string | undefined, groups: object[]) {
  return {
    apiVersion: "kubelvs.io/v1alpha1",
    kind: "NodeState",
    metadata: {
      name,
      labels: {
        "app.kubernetes.io/managed-by": "kubelvs-operator",
        ...(instance === undefined ? {} : { "kubelvs.io/instance": instance }),
      },
      annotations: { [CONTENT_HASH_ANNOTATION]: `hash-${name}` },
    },
    spec: { nodeName: node, vrrpGroups: groups },
  };
}

/** A real Agent over the fake kernel edge in Kubernetes mode, recording every spec it applies. */
class AgentUnderTest {
  readonly logs = memorySink();
  readonly applied: NodeStateSpec[] = [];
  readonly kernel = new FakeKernelEdge();
  readonly agent: Agent;
  handle: KubernetesModeHandle | undefined;

  constructor(readonly nodeName: string) {
    this.agent = new Agent({
      instance: `test-${nodeName}`,
      kernel: this.kernel,
      log: createLogger({ sink: this.logs, level: "debug" }),
      metrics: new AgentMetrics(`test-${nodeName}`),
      onTransition: () => this.handle?.notifyTransition(),
    });
  }

  async start(plane: ControlPlane, instance: string | undefined): Promise<void> {
    const eth0 = this.kernel.links.addLink({ index: 2, name: "eth0" });
    await this.kernel.addresses.add({ ifindex: eth0.index, address: "198.51.100.11", prefixLength: 24 });
    this.handle = await runKubernetesMode({
      agent: {
        apply: (spec) => {
          this.applied.push(spec);
          return this.agent.apply(spec);
        },
        status: () => this.agent.status(),
      },
      nodeName: this.nodeName,
      ...(instance === undefined ? {} : { instance }),
      log: createLogger({ sink: this.logs, level: "debug" }),
      client: new KubeClient(loadKubeConfig(plane.kubeconfigPath), "kubelvs-agent"),
      agentVersion: "test",
      heartbeatMs: 500,
      minReportIntervalMs: 100,
    });
  }

  async stop(): Promise<void> {
    await this.handle?.stop();
    await this.agent.stop();
  }
}

describe("the agent's Kubernetes mode with a kubelvs instance", tierOptions(...requirements), () => {
  let plane: ControlPlane;
  const webOnNodeA = new AgentUnderTest("node-a");
  const unnamedOnOddNode = new AgentUnderTest("web.node-b");

  const status = async (name: string) =>
    (await getJson<{ status?: NodeStateStatus }>(plane, "nodestate", name)).status;

  before(async () => {
    plane = await startControlPlane();
    await applyCrds(plane);
    await applyObjects(
      plane,
      nodeState("node-a", "node-a", undefined, [group("plain", "198.51.100.250")]),
      nodeState("web.node-a", "node-a", "web", [group("web", "198.51.100.254")]),
      nodeState("web.node-b", "node-b", "web", [group("web", "198.51.100.254")]),
    );
    await webOnNodeA.start(plane, "web");
    await unnamedOnOddNode.start(plane, undefined);
  });
  after(async () => {
    try {
      await webOnNodeA.stop();
      await unnamedOnOddNode.stop();
    } finally {
      await plane?.stop();
    }
  });

  test("the web agent runs web.node-a's spec and reports into web.node-a only", async () => {
    await webOnNodeA.handle!.synced;
    assert.deepEqual(
      webOnNodeA.applied.map((s) => s.vrrpGroups.map((g) => g.name)),
      [["web"]],
    );
    const reported = await eventually("a Master report in web.node-a", async () => {
      const s = await status("web.node-a");
      return s?.masterOf === "web" ? s : undefined;
    });
    assert.equal(reported.observedContentHash, "hash-web.node-a");
    assert.equal(await status("node-a"), undefined, "the unnamed instance's NodeState of node-a is not its");
    assert.ok(webOnNodeA.kernel.addresses.addresses.some((a) => a.address === "198.51.100.254"));
    assert.ok(!webOnNodeA.kernel.addresses.addresses.some((a) => a.address === "198.51.100.250"));
  });

  test("an agent of the unnamed instance on node web.node-b does not take web's NodeState web.node-b", async () => {
    await unnamedOnOddNode.handle!.synced;
    await sleep(1500);
    assert.deepEqual(
      unnamedOnOddNode.applied.map((s) => s.vrrpGroups.length),
      [],
      "no spec applied: its own NodeState does not exist",
    );
    assert.equal(unnamedOnOddNode.agent.status().groups.length, 0);
    assert.equal(await status("web.node-b"), undefined, "nothing reported into web's NodeState");
  });

  test("once its own NodeState exists, that agent follows it", async () => {
    // Its own would be named web.node-b too: the name is taken, so here it only appears after
    // web's is gone (the operator reports the clash meanwhile).
    await new KubeClient(loadKubeConfig(plane.kubeconfigPath)).delete(
      "/apis/kubelvs.io/v1alpha1/nodestates/web.node-b",
    );
    await applyObjects(
      plane,
      nodeState("web.node-b", "web.node-b", undefined, [group("plain", "198.51.100.250")]),
    );
    await eventually("plain running on web.node-b", () =>
      unnamedOnOddNode.agent.status().groups.some((g) => g.name === "plain") ? true : undefined,
    );
    await eventually("its report in its NodeState", async () =>
      (await status("web.node-b"))?.masterOf === "plain" ? true : undefined,
    );
  });

  test("the instance name is checked before anything is watched", async () => {
    await assert.rejects(
      runKubernetesMode({
        agent: webOnNodeA.agent,
        nodeName: "node-a",
        instance: "Web_1",
        log: createLogger({ sink: memorySink() }),
        client: new KubeClient(loadKubeConfig(plane.kubeconfigPath)),
      }),
      /instance "Web_1": use at most 63 lowercase letters, digits and dashes/,
    );
  });
});
