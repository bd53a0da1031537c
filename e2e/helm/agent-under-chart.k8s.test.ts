// The agent's real Kubernetes mode (watch of its own NodeState, merge-patched status reports) under
// the chart's RBAC and admission policy, with a token bound to a Pod on node-a as the kubelet mounts
// it: the agent on node-a applies and reports node-a's NodeState; an agent holding node-a's token
// but claiming to be node-b (a compromised or misconfigured node) is refused every report.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { runKubernetesMode, type KubernetesModeHandle } from "../../agent/kubernetes/kubernetes-mode.js";
import { AgentMetrics } from "../../agent/metrics.js";
import { Agent } from "../../agent/runtime/agent.js";
import type { NodeStateSpec } from "../../crds/schema/node-state.js";
import { createLogger, memorySink } from "../../core/log.js";
import { FakeKernelEdge } from "../../native/testing/fake-kernel.js";
import { requireControlPlaneBinaries } from "../control-plane/binaries.js";
import { startControlPlane, type ControlPlane } from "../control-plane/control-plane.js";
import { kubectlOk } from "../control-plane/kubectl.js";
import { missingCommand, tierOptions } from "../requirements.js";
import { CHART_DIR, helmOk } from "./helm.js";

const requirements = [
  requireControlPlaneBinaries(["kube-apiserver", "etcd", "kubectl", "helm"]),
  missingCommand("openssl", "apt-get install openssl"),
];

const NAMESPACE = "kubelvs-system";
const json = (object: unknown) => JSON.stringify(object);

function spec(priority: number): NodeStateSpec {
  return {
    vrrpGroups: [
      {
        name: "web",
        vrid: 51,
        advertIntervalMillis: 100,
        interface: { name: "eth0" },
        virtualIPs: [{ address: "198.51.100.254", prefixLength: 24 }],
        priority,
      },
    ],
  };
}

async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

/** A real Agent over the in-memory kernel edge, run in Kubernetes mode as `nodeName` with a kubeconfig. */
class AgentUnderTest {
  readonly logs = memorySink();
  private readonly agent: Agent;
  private handle: KubernetesModeHandle | undefined;

  constructor(readonly nodeName: string) {
    const kernel = new FakeKernelEdge();
    const eth0 = kernel.links.addLink({ index: 2, name: "eth0" });
    void kernel.addresses.add({ ifindex: eth0.index, address: "198.51.100.11", prefixLength: 24 });
    this.agent = new Agent({
      instance: `chart-${nodeName}`,
      kernel,
      log: createLogger({ sink: this.logs, level: "debug" }),
      metrics: new AgentMetrics(`chart-${nodeName}`),
      onTransition: () => this.handle?.notifyTransition(),
    });
  }

  async start(kubeconfig: string): Promise<void> {
    this.handle = await runKubernetesMode({
      agent: this.agent,
      nodeName: this.nodeName,
      log: createLogger({ sink: this.logs, level: "debug" }),
      kubeconfig,
      agentVersion: "chart-test",
      heartbeatMs: 1000,
      minReportIntervalMs: 200,
    });
  }

  /** Log lines mentioning a failed status report. */
  failedReports(): string[] {
    return this.logs.lines.filter((line) => line.includes("status report failed"));
  }

  async stop(): Promise<void> {
    await this.handle?.stop();
    await this.agent.stop();
  }
}

describe(
  "the agent's Kubernetes mode under the chart's RBAC and admission policy",
  tierOptions(...requirements),
  () => {
    let plane: ControlPlane;
    let kubeconfigNodeA: string;
    const onNodeA = new AgentUnderTest("node-a");
    const impostor = new AgentUnderTest("node-b");

    before(async () => {
      plane = await startControlPlane();
      await kubectlOk(plane, ["create", "namespace", NAMESPACE]);
      await helmOk(["install", "kubelvs", CHART_DIR, `--namespace=${NAMESPACE}`], {
        kubeconfig: plane.kubeconfigPath,
      });
      await kubectlOk(plane, [
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd/nodestates.kubelvs.io",
      ]);
      for (const [node, priority] of [
        ["node-a", 150],
        ["node-b", 100],
      ] as const) {
        await kubectlOk(plane, ["create", "-f", "-"], {
          input: json({ apiVersion: "v1", kind: "Node", metadata: { name: node } }),
        });
        await kubectlOk(plane, ["create", "-f", "-"], {
          input: json({
            apiVersion: "kubelvs.io/v1alpha1",
            kind: "NodeState",
            metadata: { name: node },
            spec: spec(priority),
          }),
        });
      }
      await kubectlOk(plane, ["create", "-f", "-"], {
        input: json({
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "kubelvs-agent-a", namespace: NAMESPACE },
          spec: {
            nodeName: "node-a",
            serviceAccountName: "kubelvs-agent",
            containers: [{ name: "agent", image: "kubelvs:0.1.0" }],
          },
        }),
      });
      const token = await kubectlOk(plane, [
        "create",
        "token",
        "kubelvs-agent",
        `--namespace=${NAMESPACE}`,
        "--bound-object-kind=Pod",
        "--bound-object-name=kubelvs-agent-a",
      ]);
      kubeconfigNodeA = plane.kubeconfigForToken("kubelvs-agent-a", token.trim());
      // The policy reaches the API server's cache a moment after it is created: wait until it denies.
      await eventually("the admission policy is in force", async () => {
        const result = await kubectlOk({ kubeconfigPath: kubeconfigNodeA }, [
          "patch",
          "nodestate",
          "node-b",
          "--subresource=status",
          "--type=merge",
          "-p",
          json({ status: { masterOf: "" } }),
        ]).then(
          () => undefined,
          (e: Error) => (/ValidatingAdmissionPolicy/.test(e.message) ? true : undefined),
        );
        return result;
      });
      await onNodeA.start(kubeconfigNodeA);
      await impostor.start(kubeconfigNodeA);
    });

    after(async () => {
      try {
        await onNodeA.stop();
        await impostor.stop();
      } finally {
        await plane?.stop();
      }
    });

    test("the agent on node-a watches its NodeState, runs its group and reports into node-a's status", async () => {
      const report = await eventually("node-a's status names group web", async () => {
        const status = JSON.parse(
          (await kubectlOk(plane, ["get", "nodestate", "node-a", "-o", "jsonpath={.status}"])) || "{}",
        ) as {
          vrrpGroups?: { name: string; priority: number }[];
        };
        return status.vrrpGroups?.find((g) => g.name === "web");
      });
      assert.equal(report.priority, 150);
      assert.deepEqual(onNodeA.failedReports(), []);
    });

    test("an agent with node-a's token cannot report for node-b: the admission policy refuses it", async () => {
      const failure = await eventually(
        "the impostor's report is refused",
        async () => impostor.failedReports()[0],
      );
      assert.match(failure, /kubelvs agent on node node-a may write only NodeState node-a, not node-b/);
      const status = await kubectlOk(plane, [
        "get",
        "nodestate",
        "node-b",
        "-o",
        "jsonpath={.status.vrrpGroups}",
      ]);
      assert.equal(status, "", "node-b's status stays unwritten");
    });
  },
);
