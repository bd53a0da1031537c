// The kubelvs chart against a real kube-apiserver: every rendered object of three releases passes a
// server-side dry run, then `helm install` / `upgrade` / `uninstall` run for real — CRDs, RBAC,
// admission policies, the operator Deployment and the agent DaemonSet are created and accepted (no
// kubelet or controllers run here, so no pod starts), the VRID-range policy rejects a group, and a
// release that would serve an instance another release already serves is refused.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, test } from "node:test";
import { requireControlPlaneBinaries } from "../control-plane/binaries.js";
import { startControlPlane, type ControlPlane } from "../control-plane/control-plane.js";
import { kubectl, kubectlOk } from "../control-plane/kubectl.js";
import { missingCommand, tierOptions } from "../requirements.js";
import { CHART_DIR, helm, helmOk, renderChart, setJsonArgs, type RenderOptions } from "./helm.js";

const requirements = [
  requireControlPlaneBinaries(["kube-apiserver", "etcd", "kubectl", "helm"]),
  missingCommand("openssl", "apt-get install openssl"),
];

/** Three releases of one cluster, serving the unnamed instance, web and db; only the first installs the CRDs. */
const releases: (RenderOptions & { release: string; namespace: string })[] = [
  { release: "kubelvs", namespace: "kubelvs-system", values: {} },
  {
    release: "web",
    namespace: "kubelvs-web",
    values: {
      instance: "web",
      "crds.install": false,
      "vrrp.vridRange": { enabled: true, min: 10, max: 19 },
      "agent.metrics.port": 9651,
      "operator.secretNamespaces": ["web"],
    },
  },
  {
    release: "db",
    namespace: "kubelvs-db",
    values: {
      instance: "db",
      "crds.install": false,
      "vrrp.vridRange": { enabled: true, min: 20, max: 29 },
      "agent.metrics.port": 9652,
      // Scripts for track_script / notify, from a ConfigMap, and the node's processes for pgrep.
      "agent.hostPID": true,
      "agent.extraVolumes": [{ name: "scripts", configMap: { name: "lb-scripts", defaultMode: 0o555 } }],
      "agent.extraVolumeMounts": [{ name: "scripts", mountPath: "/etc/keepalived", readOnly: true }],
    },
  },
];

function vrrpGroup(name: string, vrid: number, instance?: string): string {
  return JSON.stringify({
    apiVersion: "kubelvs.io/v1alpha1",
    kind: "VrrpGroup",
    metadata: { name, ...(instance ? { labels: { "kubelvs.io/instance": instance } } : {}) },
    spec: {
      vrid,
      interface: { cidr: "198.51.100.0/24" },
      virtualIPs: [{ address: "198.51.100.250", prefixLength: 24 }],
    },
  });
}

/** Admission policies reach the API server's policy cache a moment after they are created. */
async function eventually<T>(
  what: string,
  attempt: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await attempt();
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

describe("the kubelvs chart installed into a real kube-apiserver", tierOptions(...requirements), () => {
  let plane: ControlPlane;
  const helmAs = () => ({ kubeconfig: plane.kubeconfigPath });

  before(async () => {
    plane = await startControlPlane();
    for (const { namespace } of releases) await kubectlOk(plane, ["create", "namespace", namespace]);
    await kubectlOk(plane, ["create", "namespace", "web"]);
  });
  after(async () => {
    await plane?.stop();
  });

  test("every object of three releases passes a server-side dry run", async () => {
    for (const options of releases) {
      const objects = await renderChart(options);
      assert.ok(
        !objects.some((o) => o.apiVersion.startsWith("monitoring.coreos.com/")),
        "no Prometheus Operator objects by default (their CRDs are not installed here)",
      );
      const result = await kubectl(
        plane,
        ["apply", "--server-side", "--dry-run=server", "-o", "name", "-f", "-"],
        {
          input: objects.map((o) => JSON.stringify(o)).join("\n"),
        },
      );
      assert.equal(result.code, 0, `release ${options.release}: ${result.stderr}`);
      assert.equal(result.stdout.trim().split("\n").length, objects.length, result.stdout);
    }
  });

  test("helm install: the CRDs become Established and every object is created", async () => {
    const [first] = releases;
    await helmOk(["install", first!.release, CHART_DIR, `--namespace=${first!.namespace}`], helmAs());
    await kubectlOk(plane, [
      "wait",
      "--for=condition=Established",
      "--timeout=60s",
      "crd/vrrpgroups.kubelvs.io",
      "crd/virtualservices.kubelvs.io",
      "crd/nodestates.kubelvs.io",
    ]);
    const listed = await kubectlOk(plane, [
      "get",
      "serviceaccounts,deployments,daemonsets,services,roles,rolebindings",
      `--namespace=${first!.namespace}`,
      "-o",
      "name",
    ]);
    assert.deepEqual(listed.trim().split("\n").sort(), [
      "daemonset.apps/kubelvs-agent",
      "deployment.apps/kubelvs-operator",
      "role.rbac.authorization.k8s.io/kubelvs-operator-leader-election",
      "role.rbac.authorization.k8s.io/kubelvs-operator-secrets",
      "rolebinding.rbac.authorization.k8s.io/kubelvs-operator-leader-election",
      "rolebinding.rbac.authorization.k8s.io/kubelvs-operator-secrets",
      "service/kubelvs-operator-metrics",
      "serviceaccount/kubelvs-agent",
      "serviceaccount/kubelvs-operator",
    ]);
    await kubectlOk(plane, [
      "get",
      "clusterrole/kubelvs-agent",
      "clusterrole/kubelvs-operator",
      "validatingadmissionpolicy/kubelvs-agent-own-nodestate",
      "validatingadmissionpolicybinding/kubelvs-agent-own-nodestate",
    ]);
    // The workloads as the API server stored them (defaults applied): what the kubelet would run.
    const daemonSet = JSON.parse(
      await kubectlOk(plane, [
        "get",
        "daemonset/kubelvs-agent",
        `--namespace=${first!.namespace}`,
        "-o",
        "json",
      ]),
    ) as {
      spec: {
        updateStrategy: { rollingUpdate: { maxUnavailable: number; maxSurge: number } };
        template: {
          spec: { hostNetwork: boolean; containers: { securityContext: { capabilities: unknown } }[] };
        };
      };
    };
    assert.deepEqual(daemonSet.spec.updateStrategy.rollingUpdate, { maxUnavailable: 1, maxSurge: 0 });
    assert.equal(daemonSet.spec.template.spec.hostNetwork, true);
    assert.deepEqual(daemonSet.spec.template.spec.containers[0]!.securityContext.capabilities, {
      drop: ["ALL"],
      add: ["NET_ADMIN", "NET_RAW", "SYS_NICE"],
    });
    const replicas = await kubectlOk(plane, [
      "get",
      "deployment/kubelvs-operator",
      `--namespace=${first!.namespace}`,
      "-o",
      "jsonpath={.spec.replicas}",
    ]);
    assert.equal(replicas, "2");
    const status = JSON.parse(
      await helmOk(["status", first!.release, `--namespace=${first!.namespace}`, "-o", "json"], helmAs()),
    ) as { info: { status: string } };
    assert.equal(status.info.status, "deployed");
  });

  test("two more releases install beside it without touching its objects", async () => {
    for (const { release, namespace, values } of releases.slice(1)) {
      const notes = await helmOk(
        ["install", release, CHART_DIR, `--namespace=${namespace}`, ...setJsonArgs(values ?? {})],
        helmAs(),
      );
      assert.match(
        notes,
        new RegExp(
          `serving kubelvs instance ${release}\\.\\nIt renders the VrrpGroups labelled kubelvs\\.io/instance=${release}`,
        ),
      );
    }
    const list = JSON.parse(await helmOk(["list", "--all-namespaces", "-o", "json"], helmAs())) as {
      name: string;
      namespace: string;
      status: string;
    }[];
    assert.deepEqual(list.map((r) => `${r.namespace}/${r.name}:${r.status}`).sort(), [
      "kubelvs-db/db:deployed",
      "kubelvs-system/kubelvs:deployed",
      "kubelvs-web/web:deployed",
    ]);
    const daemonSets = await kubectlOk(plane, ["get", "daemonsets", "--all-namespaces", "-o", "name"]);
    assert.deepEqual(daemonSets.trim().split("\n").sort(), [
      "daemonset.apps/kubelvs-agent",
      "daemonset.apps/kubelvs-db-agent",
      "daemonset.apps/kubelvs-web-agent",
    ]);
    // The web release's operator may read Secrets in "web" as well as in its own namespace.
    const secretRoles = await kubectlOk(plane, [
      "get",
      "roles",
      "--all-namespaces",
      "-l",
      "kubelvs.io/instance=web",
      "-o",
      'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}',
    ]);
    assert.deepEqual(secretRoles.trim().split("\n").sort(), [
      "kubelvs-web/kubelvs-web-operator-leader-election",
      "kubelvs-web/kubelvs-web-operator-secrets",
      "web/kubelvs-web-operator-secrets",
    ]);
  });

  test("a release that would serve an instance another release serves is refused, naming that release", async () => {
    await kubectlOk(plane, ["create", "namespace", "kubelvs-again"]);
    const attempts: { values: Record<string, unknown>; owner: string; served: string }[] = [
      {
        values: {},
        owner: "kubelvs in namespace kubelvs-system",
        served: "the unnamed kubelvs instance \\(VrrpGroups without a kubelvs\\.io/instance label\\)",
      },
      { values: { instance: "web" }, owner: "web in namespace kubelvs-web", served: "kubelvs instance web" },
    ];
    for (const { values, owner, served } of attempts) {
      const result = await helm(
        [
          "install",
          "again",
          CHART_DIR,
          "--namespace=kubelvs-again",
          ...setJsonArgs({ ...values, "crds.install": false, "agent.metrics.port": 9653 }),
        ],
        helmAs(),
      );
      assert.notEqual(result.code, 0, `a second release of ${JSON.stringify(values)} was installed`);
      assert.match(
        result.stderr,
        new RegExp(
          `instance: release ${owner} already serves ${served}; set another instance for this release`,
        ),
      );
    }
    // A release's own upgrade is no conflict: the next test upgrades the first release.
  });

  test("the VRID-range policy rejects a web group outside 10-19 and admits one inside", async () => {
    const rejection = await eventually("the VRID-range policy takes effect", async () => {
      const result = await kubectl(plane, ["create", "--dry-run=server", "-f", "-"], {
        input: vrrpGroup("web-out-of-range", 60, "web"),
      });
      return result.code !== 0 ? result.stderr : undefined;
    });
    assert.match(
      rejection,
      /ValidatingAdmissionPolicy 'kubelvs-web-vrid-range' .* denied request: spec\.vrid 60 is outside the VRID range 10-19 of kubelvs instance web/,
    );
    await kubectlOk(plane, ["create", "-f", "-"], { input: vrrpGroup("web-in-range", 15, "web") });
    // The db release's range is its own, and groups without an instance label are not checked.
    await kubectlOk(plane, ["create", "-f", "-"], { input: vrrpGroup("db-in-range", 25, "db") });
    await kubectlOk(plane, ["create", "-f", "-"], { input: vrrpGroup("unlabelled", 60) });
    // the db release's policy loads on its own schedule: a dry run first, so the real create below is
    // judged by a policy in force (a create that lands before it would stay)
    await eventually("the db VRID-range policy takes effect", async () => {
      const result = await kubectl(plane, ["create", "--dry-run=server", "-f", "-"], {
        input: vrrpGroup("db-low", 15, "db"),
      });
      return result.code !== 0 ? result.stderr : undefined;
    });
    const outOfDbRange = await kubectl(plane, ["create", "-f", "-"], {
      input: vrrpGroup("db-low", 15, "db"),
    });
    assert.notEqual(outOfDbRange.code, 0);
    assert.match(outOfDbRange.stderr, /outside the VRID range 20-29 of kubelvs instance db/);
  });

  test("helm upgrade applies changed values to the running release", async () => {
    const [first] = releases;
    await helmOk(
      [
        "upgrade",
        first!.release,
        CHART_DIR,
        `--namespace=${first!.namespace}`,
        ...setJsonArgs({ "operator.replicas": 3 }),
      ],
      helmAs(),
    );
    const replicas = await kubectlOk(plane, [
      "get",
      "deployment/kubelvs-operator",
      `--namespace=${first!.namespace}`,
      "-o",
      "jsonpath={.spec.replicas}",
    ]);
    assert.equal(replicas, "3");
    const revision = JSON.parse(
      await helmOk(["status", first!.release, `--namespace=${first!.namespace}`, "-o", "json"], helmAs()),
    ) as { version: number };
    assert.equal(revision.version, 2);
  });

  test("helm uninstall removes a release's objects but keeps the CRDs and the groups", async () => {
    await helmOk(["uninstall", "web", "--namespace=kubelvs-web", "--wait=false"], helmAs());
    const webLeft = await kubectlOk(plane, [
      "get",
      "daemonsets,deployments,clusterroles,validatingadmissionpolicies",
      "--all-namespaces",
      "-l",
      "kubelvs.io/instance=web",
      "-o",
      "name",
    ]);
    assert.equal(webLeft.trim(), "");

    const uninstall = await helm(["uninstall", "kubelvs", "--namespace=kubelvs-system"], helmAs());
    assert.equal(uninstall.code, 0, uninstall.stderr);
    assert.match(uninstall.stdout + uninstall.stderr, /kept due to the resource policy/);
    const crds = await kubectlOk(plane, ["get", "crds", "-o", "name"]);
    assert.deepEqual(crds.trim().split("\n").sort(), [
      "customresourcedefinition.apiextensions.k8s.io/nodestates.kubelvs.io",
      "customresourcedefinition.apiextensions.k8s.io/virtualservices.kubelvs.io",
      "customresourcedefinition.apiextensions.k8s.io/vrrpgroups.kubelvs.io",
    ]);
    const groups = await kubectlOk(plane, ["get", "vrrpgroups", "-o", "name"]);
    assert.match(groups, /vrrpgroup\.kubelvs\.io\/web-in-range/);
  });
});
