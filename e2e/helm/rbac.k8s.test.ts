// What the chart's service accounts may do, asked of a real kube-apiserver with real tokens. The
// agent's token is bound to a Pod on node-a, as the kubelet mounts it, so it carries the node name;
// RBAC keeps the agent off every spec, and the chart's ValidatingAdmissionPolicy keeps it off every
// NodeState but node-a's. The operator's RBAC is checked verb by verb with `kubectl auth can-i`.
// A second release serving instance "web" binds its agent to NodeState web.<node> the same way, and
// neither release's agent gets at the other's NodeStates — not even an unnamed-instance agent on a
// node whose name is web's NodeState name.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { requireControlPlaneBinaries } from "../control-plane/binaries.js";
import { startControlPlane, type ControlPlane } from "../control-plane/control-plane.js";
import { kubectl, kubectlOk, type KubectlTarget } from "../control-plane/kubectl.js";
import { missingCommand, tierOptions } from "../requirements.js";
import { CHART_DIR, helmOk } from "./helm.js";

const requirements = [
  requireControlPlaneBinaries(["kube-apiserver", "etcd", "kubectl", "helm"]),
  missingCommand("openssl", "apt-get install openssl"),
];

const NAMESPACE = "kubelvs-system";
const AGENT = "kubelvs-agent";
const OPERATOR = "kubelvs-operator";
const WEB_NAMESPACE = "kubelvs-web";
const WEB_AGENT = "kubelvs-web-agent";

const json = (object: unknown) => JSON.stringify(object);

function pod(name: string, nodeName?: string, namespace = NAMESPACE, serviceAccount = AGENT): string {
  return json({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace },
    spec: {
      serviceAccountName: serviceAccount,
      ...(nodeName ? { nodeName } : {}),
      containers: [{ name: "agent", image: "kubelvs:0.1.0" }],
    },
  });
}

/** The claims of a JWT, without checking its signature (the API server does that). */
function claims(token: string): { "kubernetes.io": { node?: { name: string }; pod?: { name: string } } } {
  const payload = token.split(".")[1];
  assert.ok(payload, "a JWT has three parts");
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as ReturnType<typeof claims>;
}

const statusPatch = (masterOf: string) => json({ status: { masterOf } });

describe(
  "the chart's RBAC and admission policy on a real kube-apiserver",
  tierOptions(...requirements),
  () => {
    let plane: ControlPlane;
    let agentOnNodeA: KubectlTarget;
    let agentToken: string;

    async function tokenFor(
      serviceAccount: string,
      boundPod?: string,
      namespace = NAMESPACE,
    ): Promise<string> {
      const bound = boundPod ? ["--bound-object-kind=Pod", `--bound-object-name=${boundPod}`] : [];
      return (
        await kubectlOk(plane, ["create", "token", serviceAccount, `--namespace=${namespace}`, ...bound])
      ).trim();
    }

    /** Writes NodeState `node`'s status as `who`; the admission policy may need a moment to load. */
    async function writeStatus(who: KubectlTarget, node: string, masterOf: string) {
      return kubectl(who, [
        "patch",
        "nodestate",
        node,
        "--subresource=status",
        "--type=merge",
        "-p",
        statusPatch(masterOf),
      ]);
    }

    /** Waits until the API server's policy cache has the chart's policy, shown by a denial. */
    /** One write that must be denied (the policies in force are known to be loaded). */
    async function deniedNow(who: KubectlTarget, node: string): Promise<string> {
      const result = await writeStatus(who, node, "should-not-stick");
      assert.notEqual(result.code, 0, `the write of NodeState ${node} was allowed`);
      return result.stderr;
    }

    async function deniedOnceLoaded(who: KubectlTarget, node: string): Promise<string> {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const result = await writeStatus(who, node, "should-not-stick");
        if (result.code !== 0) return result.stderr;
        if (Date.now() > deadline) throw new Error(`the write of NodeState ${node} was never denied`);
        await sleep(250);
      }
    }

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
      for (const node of ["node-a", "node-b"]) {
        await kubectlOk(plane, ["create", "-f", "-"], {
          input: json({ apiVersion: "v1", kind: "Node", metadata: { name: node } }),
        });
        await kubectlOk(plane, ["create", "-f", "-"], {
          input: json({
            apiVersion: "kubelvs.io/v1alpha1",
            kind: "NodeState",
            metadata: { name: node },
            spec: { vrrpGroups: [] },
          }),
        });
      }
      await kubectlOk(plane, ["create", "-f", "-"], { input: pod("agent-node-a", "node-a") });
      await kubectlOk(plane, ["create", "-f", "-"], { input: pod("agent-unscheduled") });
      await kubectlOk(plane, ["create", "namespace", "web"]);
      await kubectlOk(plane, ["create", "-f", "-"], {
        input: json({
          apiVersion: "kubelvs.io/v1alpha1",
          kind: "VrrpGroup",
          metadata: { name: "lvs-vip" },
          spec: {
            vrid: 60,
            interface: { cidr: "198.51.100.0/24" },
            virtualIPs: [{ address: "198.51.100.254", prefixLength: 24 }],
          },
        }),
      });
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
      agentToken = await tokenFor(AGENT, "agent-node-a");
      agentOnNodeA = { kubeconfigPath: plane.kubeconfigForToken("agent-node-a", agentToken) };
    });
    after(async () => {
      await plane?.stop();
    });

    describe("the agent's service account, token bound to a Pod on node-a", () => {
      test("the token carries node-a, and the API server puts it into the user's extra", async () => {
        const claim = claims(agentToken)["kubernetes.io"];
        assert.equal(claim.node?.name, "node-a");
        assert.equal(claim.pod?.name, "agent-node-a");
        const review = JSON.parse(await kubectlOk(agentOnNodeA, ["auth", "whoami", "-o", "json"])) as {
          status: { userInfo: { username: string; extra: Record<string, string[]> } };
        };
        assert.equal(review.status.userInfo.username, `system:serviceaccount:${NAMESPACE}:${AGENT}`);
        assert.deepEqual(review.status.userInfo.extra["authentication.kubernetes.io/node-name"], ["node-a"]);
      });

      test("reads its own NodeState, also as the field-selected watch the agent runs", async () => {
        assert.equal(
          await kubectlOk(agentOnNodeA, ["get", "nodestate", "node-a", "-o", "name"]),
          "nodestate.kubelvs.io/node-a\n",
        );
        const listed = await kubectlOk(agentOnNodeA, [
          "get",
          "nodestates",
          "--field-selector=metadata.name=node-a",
          "-o",
          "name",
        ]);
        assert.equal(listed, "nodestate.kubelvs.io/node-a\n");
      });

      test("writes its own NodeState's status", async () => {
        const result = await writeStatus(agentOnNodeA, "node-a", "lvs-vip");
        assert.equal(result.code, 0, result.stderr);
        const stored = await kubectlOk(plane, [
          "get",
          "nodestate",
          "node-a",
          "-o",
          "jsonpath={.status.masterOf}",
        ]);
        assert.equal(stored, "lvs-vip");
      });

      test("cannot write another node's NodeState status: the admission policy names both nodes", async () => {
        const denial = await deniedOnceLoaded(agentOnNodeA, "node-b");
        assert.match(
          denial,
          /nodestates\.kubelvs\.io "node-b" is forbidden: ValidatingAdmissionPolicy 'kubelvs-agent-own-nodestate' with binding 'kubelvs-agent-own-nodestate' denied request: kubelvs agent on node node-a may write only NodeState node-a, not node-b/,
        );
        const stored = await kubectlOk(plane, ["get", "nodestate", "node-b", "-o", "jsonpath={.status}"]);
        assert.equal(stored, "");
      });

      test("cannot update any spec: NodeStates (even its own), VrrpGroups, VirtualServices", async () => {
        /** The stored object, changed: what a PUT as the agent would write. */
        const changed = async (
          resource: string[],
          change: (o: { spec: Record<string, unknown> }) => void,
        ) => {
          const object = JSON.parse(await kubectlOk(plane, ["get", ...resource, "-o", "json"])) as {
            spec: Record<string, unknown>;
          };
          change(object);
          return json(object);
        };
        const newNodeState = json({
          apiVersion: "kubelvs.io/v1alpha1",
          kind: "NodeState",
          metadata: { name: "node-c" },
          spec: { vrrpGroups: [] },
        });
        const attempts: { args: string[]; input?: string; forbidden: RegExp }[] = [
          {
            args: ["patch", "nodestate", "node-a", "--type=merge", "-p", json({ spec: { vrrpGroups: [] } })],
            forbidden: /cannot patch resource "nodestates" in API group "kubelvs\.io" at the cluster scope/,
          },
          {
            args: ["replace", "-f", "-"],
            input: await changed(["vrrpgroup", "lvs-vip"], (o) => (o.spec.vrid = 61)),
            forbidden: /cannot update resource "vrrpgroups" in API group "kubelvs\.io" at the cluster scope/,
          },
          {
            args: ["replace", "-f", "-"],
            input: await changed(["virtualservice", "web", "--namespace=web"], (o) => (o.spec.port = 81)),
            forbidden:
              /cannot update resource "virtualservices" in API group "kubelvs\.io" in the namespace "web"/,
          },
          {
            args: ["replace", "--subresource=status", "-f", "-"],
            input: await changed(["vrrpgroup", "lvs-vip"], () => undefined),
            forbidden: /cannot update resource "vrrpgroups\/status" in API group "kubelvs\.io"/,
          },
          { args: ["delete", "nodestate", "node-b"], forbidden: /cannot delete resource "nodestates"/ },
          {
            args: ["create", "-f", "-"],
            input: newNodeState,
            forbidden: /cannot create resource "nodestates"/,
          },
        ];
        for (const { args, input, forbidden } of attempts) {
          const result = await kubectl(agentOnNodeA, args, input === undefined ? {} : { input });
          assert.notEqual(result.code, 0, `kubectl ${args.join(" ")} was allowed`);
          assert.match(result.stderr, forbidden, `kubectl ${args.join(" ")}`);
        }
        assert.equal(
          await kubectlOk(plane, ["get", "vrrpgroup", "lvs-vip", "-o", "jsonpath={.spec.vrid}"]),
          "60",
        );
        assert.equal(
          await kubectlOk(plane, [
            "get",
            "virtualservice",
            "web",
            "-n",
            "web",
            "-o",
            "jsonpath={.spec.port}",
          ]),
          "80",
        );
      });

      test("a token bound to no node (an unscheduled Pod, or no Pod at all) may write no NodeState", async () => {
        for (const [name, token] of [
          ["agent-unscheduled", await tokenFor(AGENT, "agent-unscheduled")],
          ["agent-unbound", await tokenFor(AGENT)],
        ] as const) {
          assert.equal(claims(token)["kubernetes.io"].node, undefined, `${name}'s token names no node`);
          const who = { kubeconfigPath: plane.kubeconfigForToken(name, token) };
          const denial = await deniedOnceLoaded(who, "node-a");
          assert.match(denial, /the service-account token names no node .* so it may write no NodeState/);
        }
      });
    });

    describe("a second release serving instance web", () => {
      let webAgentOnNodeA: KubectlTarget;

      /** A NodeState of instance web, as its operator creates it. */
      const webNodeState = (node: string) =>
        json({
          apiVersion: "kubelvs.io/v1alpha1",
          kind: "NodeState",
          metadata: {
            name: `web.${node}`,
            labels: {
              "app.kubernetes.io/managed-by": "kubelvs-operator",
              "kubelvs.io/instance": "web",
              "kubelvs.io/node": node,
            },
          },
          spec: { vrrpGroups: [] },
        });

      before(async () => {
        await kubectlOk(plane, ["create", "namespace", WEB_NAMESPACE]);
        await helmOk(
          [
            "install",
            "web",
            CHART_DIR,
            `--namespace=${WEB_NAMESPACE}`,
            "--set=instance=web",
            "--set=crds.install=false",
            "--set=agent.metrics.port=9651",
          ],
          { kubeconfig: plane.kubeconfigPath },
        );
        // node-z's NodeState only serves to wait for the web release's policy to be in force: a write
        // before that would succeed, and the tests below must see every write of theirs refused
        for (const node of ["node-a", "node-b", "node-z"])
          await kubectlOk(plane, ["create", "-f", "-"], { input: webNodeState(node) });
        await kubectlOk(plane, ["create", "-f", "-"], {
          input: pod("web-agent-node-a", "node-a", WEB_NAMESPACE, WEB_AGENT),
        });
        const token = await tokenFor(WEB_AGENT, "web-agent-node-a", WEB_NAMESPACE);
        webAgentOnNodeA = { kubeconfigPath: plane.kubeconfigForToken("web-agent-node-a", token) };
        await deniedOnceLoaded(webAgentOnNodeA, "web.node-z");
      });

      test("web's agent on node-a writes the status of web.node-a", async () => {
        const result = await writeStatus(webAgentOnNodeA, "web.node-a", "web-vip");
        assert.equal(result.code, 0, result.stderr);
        assert.equal(
          await kubectlOk(plane, ["get", "nodestate", "web.node-a", "-o", "jsonpath={.status.masterOf}"]),
          "web-vip",
        );
      });

      test("web's agent may write neither another node's web NodeState nor its node's unnamed one", async () => {
        for (const other of ["web.node-b", "node-a"]) {
          const denial = await deniedNow(webAgentOnNodeA, other);
          assert.match(
            denial,
            new RegExp(
              `ValidatingAdmissionPolicy 'kubelvs-web-agent-own-nodestate' with binding 'kubelvs-web-agent-own-nodestate' denied request: kubelvs agent of instance web on node node-a may write only NodeState web\\.node-a, not ${other.replace(".", "\\.")}`,
            ),
          );
        }
        assert.equal(
          await kubectlOk(plane, ["get", "nodestate", "web.node-b", "-o", "jsonpath={.status}"]),
          "",
        );
        assert.equal(
          await kubectlOk(plane, ["get", "nodestate", "node-a", "-o", "jsonpath={.status.masterOf}"]),
          "lvs-vip",
          "node-a's status is still what its own agent wrote",
        );
      });

      test("the unnamed instance's agent on node-a may not write web.node-a", async () => {
        const denial = await deniedNow(agentOnNodeA, "web.node-a");
        assert.match(
          denial,
          /denied request: kubelvs agent on node node-a may write only NodeState node-a, not web\.node-a/,
        );
      });

      test("an unnamed-instance agent on a node named web.node-b may not write web's NodeState web.node-b", async () => {
        await kubectlOk(plane, ["create", "-f", "-"], {
          input: json({ apiVersion: "v1", kind: "Node", metadata: { name: "web.node-b" } }),
        });
        await kubectlOk(plane, ["create", "-f", "-"], { input: pod("agent-odd-node", "web.node-b") });
        const token = await tokenFor(AGENT, "agent-odd-node");
        assert.equal(claims(token)["kubernetes.io"].node?.name, "web.node-b");
        const oddAgent = { kubeconfigPath: plane.kubeconfigForToken("agent-odd-node", token) };
        // The name is its own node's; the label says the NodeState is web's.
        const denial = await deniedNow(oddAgent, "web.node-b");
        assert.match(
          denial,
          /ValidatingAdmissionPolicy 'kubelvs-agent-own-nodestate' .* denied request: NodeState web\.node-b belongs to kubelvs instance web, not to the unnamed kubelvs instance \(release kubelvs\) whose agent this is/,
        );
        assert.equal(
          await kubectlOk(plane, ["get", "nodestate", "web.node-b", "-o", "jsonpath={.status}"]),
          "",
        );
      });
    });

    describe("the operator's service account", () => {
      let operator: KubectlTarget;
      before(async () => {
        operator = { kubeconfigPath: plane.kubeconfigForToken("operator", await tokenFor(OPERATOR)) };
      });

      /** `kubectl auth can-i` as the operator itself (a SelfSubjectAccessReview through the authorizer). */
      async function canI(...args: string[]): Promise<boolean> {
        const result = await kubectl(operator, ["auth", "can-i", ...args]);
        if (result.code !== 0 && result.stdout.trim() !== "no")
          throw new Error(`can-i ${args.join(" ")}: ${result.stderr}`);
        return result.stdout.trim() === "yes";
      }

      test("may do what the operator does", async () => {
        const allowed = [
          ["watch", "vrrpgroups.kubelvs.io"],
          ["list", "virtualservices.kubelvs.io", "--all-namespaces"],
          ["patch", "vrrpgroups.kubelvs.io", "--subresource=status"],
          ["patch", "virtualservices.kubelvs.io", "--subresource=status", "--namespace=web"],
          ["create", "nodestates.kubelvs.io"],
          ["patch", "nodestates.kubelvs.io"],
          ["delete", "nodestates.kubelvs.io"],
          ["watch", "nodes"],
          ["watch", "namespaces"],
          ["create", "events.events.k8s.io", "--namespace=web"],
          ["create", "events.events.k8s.io", "--namespace=default"],
          ["create", "leases.coordination.k8s.io", `--namespace=${NAMESPACE}`],
          ["update", "leases.coordination.k8s.io/kubelvs-operator", `--namespace=${NAMESPACE}`],
          ["watch", "secrets", `--namespace=${NAMESPACE}`],
        ];
        for (const args of allowed) assert.equal(await canI(...args), true, `can-i ${args.join(" ")}`);
      });

      test("may not change a spec it does not own, other Leases, or Secrets outside its namespaces", async () => {
        const denied = [
          ["patch", "vrrpgroups.kubelvs.io"],
          ["update", "virtualservices.kubelvs.io", "--namespace=web"],
          ["delete", "vrrpgroups.kubelvs.io"],
          ["update", "leases.coordination.k8s.io/kube-scheduler", `--namespace=${NAMESPACE}`],
          ["get", "secrets", "--namespace=web"],
          ["list", "secrets", "--all-namespaces"],
          ["update", "nodes"],
          ["create", "pods", `--namespace=${NAMESPACE}`],
        ];
        for (const args of denied) assert.equal(await canI(...args), false, `can-i ${args.join(" ")}`);
      });
    });
  },
);
