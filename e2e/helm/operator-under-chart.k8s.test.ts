// The real operator, started with exactly the arguments of the chart's Deployment and the token of the
// chart's ServiceAccount, against a real kube-apiserver where the chart is installed: the RBAC the
// chart grants is enough for everything the operator does (Lease, caches, NodeStates, status, Events,
// a v2 password Secret), and the arguments are ones it accepts.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { OperatorProcess, freePort } from "../../operator/testing/operator-process.js";
import { requireControlPlaneBinaries } from "../control-plane/binaries.js";
import { startControlPlane, type ControlPlane } from "../control-plane/control-plane.js";
import { kubectlOk } from "../control-plane/kubectl.js";
import { missingCommand, tierOptions } from "../requirements.js";
import { CHART_DIR, findObject, helmOk, renderChart } from "./helm.js";

const requirements = [
  requireControlPlaneBinaries(["kube-apiserver", "etcd", "kubectl", "helm"]),
  missingCommand("openssl", "apt-get install openssl"),
];

const NAMESPACE = "kubelvs-system";
const json = (object: unknown) => JSON.stringify(object);

/** Polls until `check` returns a value, or throws naming what never happened. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

/**
 * The operator container's arguments from the rendered Deployment, as the kubelet would pass them:
 * $(POD_NAMESPACE) expanded, and without the identity and metrics address, which the test sets.
 */
async function chartOperatorArgs(): Promise<string[]> {
  const deployment = findObject(
    await renderChart({ namespace: NAMESPACE }),
    "Deployment",
    "kubelvs-operator",
  ) as unknown as { spec: { template: { spec: { containers: { args: string[] }[] } } } };
  const [command, ...args] = deployment.spec.template.spec.containers[0]!.args;
  assert.equal(command, "operator");
  return args
    .filter((a) => !a.startsWith("--identity=") && !a.startsWith("--metrics-address="))
    .map((a) => a.replace("$(POD_NAMESPACE)", NAMESPACE));
}

describe("the operator with the chart's arguments and RBAC", tierOptions(...requirements), () => {
  let plane: ControlPlane;
  let operator: OperatorProcess | undefined;

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
      "crd/vrrpgroups.kubelvs.io",
    ]);
    for (const node of ["node-a", "node-b"]) {
      await kubectlOk(plane, ["create", "-f", "-"], {
        input: json({
          apiVersion: "v1",
          kind: "Node",
          metadata: { name: node, labels: { "kubelvs.io/lb": "true" } },
        }),
      });
    }
    await kubectlOk(plane, ["create", "namespace", "web"]);
    await kubectlOk(plane, ["label", "namespace", "web", "kubelvs.io/web=true"]);
    // A v2 password in the release namespace, which the chart lets the operator read.
    await kubectlOk(plane, [
      "create",
      "secret",
      "generic",
      "lvs-vip-password",
      `--namespace=${NAMESPACE}`,
      "--from-literal=password=s3cret",
    ]);
    const group = (name: string, vrid: number, address: string) => ({
      apiVersion: "kubelvs.io/v1alpha1",
      kind: "VrrpGroup",
      metadata: { name },
      spec: {
        vrid,
        version: 2,
        interface: { cidr: "198.51.100.0/24" },
        virtualIPs: [{ address, prefixLength: 24 }],
        nodeSelector: { matchLabels: { "kubelvs.io/lb": "true" } },
        priority: { default: 100, nodes: [{ nodeName: "node-a", priority: 150 }] },
        authentication: {
          type: "Password",
          passwordSecretRef: { name: "lvs-vip-password", namespace: NAMESPACE, key: "password" },
        },
      },
    });
    await kubectlOk(plane, ["create", "-f", "-"], { input: json(group("lvs-vip", 60, "198.51.100.254")) });
    // Same VRID on the same LAN, younger (or, created in the same second, later by name): the operator
    // reports it as VRIDConflict, condition and Event.
    await kubectlOk(plane, ["create", "-f", "-"], { input: json(group("vrid-clash", 60, "198.51.100.253")) });
    await kubectlOk(plane, ["create", "-f", "-"], {
      input: json({
        apiVersion: "kubelvs.io/v1alpha1",
        kind: "VirtualService",
        metadata: { name: "web", namespace: "web" },
        spec: {
          virtualIP: "198.51.100.254",
          port: 80,
          scheduler: "wlc",
          forwarding: { method: "DR" },
          realServers: [{ address: "198.51.100.101", port: 80 }],
        },
      }),
    });

    const token = (
      await kubectlOk(plane, ["create", "token", "kubelvs-operator", `--namespace=${NAMESPACE}`])
    ).trim();
    operator = new OperatorProcess("kubelvs-operator-0", await freePort(), [
      `--kubeconfig=${plane.kubeconfigForToken("kubelvs-operator", token)}`,
      ...(await chartOperatorArgs()),
    ]);
  });
  after(async () => {
    try {
      await operator?.ensureStopped();
    } finally {
      await plane?.stop();
    }
  });

  test("takes this release's Lease and becomes ready", async () => {
    const holder = await eventually("the operator holds the Lease", async () => {
      const identity = await kubectlOk(plane, [
        "get",
        "lease/kubelvs-operator",
        `--namespace=${NAMESPACE}`,
        "-o",
        "jsonpath={.spec.holderIdentity}",
      ]);
      return identity === "" ? undefined : identity;
    });
    assert.equal(holder, "kubelvs-operator-0");
    await eventually("/readyz answers 200", async () =>
      (await operator!.get("/readyz")).status === 200 ? true : undefined,
    );
    assert.equal(await operator!.metric("kubelvs_operator_leader"), 1);
  });

  test("writes each selected node's NodeState with the password from the Secret", async () => {
    const password = await eventually("NodeState node-a carries lvs-vip", async () => {
      const value = await kubectlOk(plane, [
        "get",
        "nodestate/node-a",
        "-o",
        'jsonpath={.spec.vrrpGroups[?(@.name=="lvs-vip")].authPassword}',
      ]);
      return value === "" ? undefined : value;
    });
    assert.equal(password, "s3cret");
    await kubectlOk(plane, ["get", "nodestate/node-b"]);
  });

  test("writes VrrpGroup and VirtualService status, and records the conflict as an Event", async () => {
    const accepted = await eventually("lvs-vip Accepted=True", async () => {
      const status = await kubectlOk(plane, [
        "get",
        "vrrpgroup/lvs-vip",
        "-o",
        'jsonpath={.status.conditions[?(@.type=="Accepted")].status}',
      ]);
      return status === "" ? undefined : status;
    });
    assert.equal(accepted, "True");
    const clash = await eventually("vrid-clash Accepted=False", async () => {
      const reason = await kubectlOk(plane, [
        "get",
        "vrrpgroup/vrid-clash",
        "-o",
        'jsonpath={.status.conditions[?(@.type=="Accepted")].reason}',
      ]);
      return reason === "" ? undefined : reason;
    });
    assert.equal(clash, "VRIDConflict");
    await eventually("a VRIDConflict Event in namespace default", async () => {
      const events = await kubectlOk(plane, [
        "get",
        "events.events.k8s.io",
        "--namespace=default",
        "-o",
        "jsonpath={.items[*].reason}",
      ]);
      return events.includes("VRIDConflict") ? true : undefined;
    });
    await eventually("the VirtualService's status", async () => {
      const conditions = await kubectlOk(plane, [
        "get",
        "virtualservice/web",
        "--namespace=web",
        "-o",
        "jsonpath={.status.conditions}",
      ]);
      return conditions === "" ? undefined : conditions;
    });
  });

  test("no request of the operator was forbidden", () => {
    const forbidden = operator!.output.filter((line) => /forbidden|HTTP 403/i.test(line));
    assert.deepEqual(forbidden, []);
  });

  test("SIGTERM releases the Lease and exits 0", async () => {
    operator!.kill("SIGTERM");
    assert.equal(await operator!.wait(), 0);
    const holder = await kubectlOk(plane, [
      "get",
      "lease/kubelvs-operator",
      `--namespace=${NAMESPACE}`,
      "-o",
      "jsonpath={.spec.holderIdentity}",
    ]);
    assert.equal(holder, "");
  });
});
