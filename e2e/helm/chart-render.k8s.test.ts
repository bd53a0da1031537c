// The kubelvs chart as helm sees it, without a cluster: `helm lint --strict` with default and other
// values, and structural checks of `helm template` — security settings, least-privilege RBAC, the
// admission policies, the CRDs from crds/, and several releases side by side never sharing an object.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { requireControlPlaneBinaries } from "../control-plane/binaries.js";
import { crdFiles } from "../control-plane/kubectl.js";
import { tierOptions } from "../requirements.js";
import {
  CHART_DIR,
  findObject,
  helm,
  renderChart,
  setJsonArgs,
  templateArgs,
  type RenderedObject,
} from "./helm.js";

const requirements = [requireControlPlaneBinaries(["helm"])];

interface Container {
  name: string;
  args: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: Record<string, { path?: string; port?: string | number }>;
  readinessProbe?: Record<string, { path?: string; port?: string | number }>;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  securityContext: {
    runAsUser?: number;
    runAsNonRoot?: boolean;
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

interface PodSpec {
  serviceAccountName: string;
  hostNetwork?: boolean;
  hostPID?: boolean;
  dnsPolicy?: string;
  terminationGracePeriodSeconds?: number;
  securityContext: { runAsNonRoot?: boolean; seccompProfile?: { type: string } };
  containers: Container[];
  volumes?: { name: string; hostPath?: { path: string; type?: string } }[];
}

interface Workload {
  spec: {
    replicas?: number;
    minReadySeconds?: number;
    selector: { matchLabels: Record<string, string> };
    updateStrategy?: {
      type: string;
      rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string };
    };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

const WRITE_VERBS = ["create", "update", "patch", "delete", "deletecollection", "*"];

function workload(objects: readonly RenderedObject[], kind: string, name: string): Workload {
  return findObject(objects, kind, name) as unknown as Workload;
}

function rules(objects: readonly RenderedObject[], kind: "ClusterRole" | "Role", name: string): Rule[] {
  return (findObject(objects, kind, name) as unknown as { rules: Rule[] }).rules;
}

function onlyContainer(w: Workload): Container {
  assert.equal(w.spec.template.spec.containers.length, 1);
  return w.spec.template.spec.containers[0]!;
}

/** Every (group, resource, verb) a set of rules grants, as "group/resource:verb". */
function grants(ruleList: readonly Rule[]): string[] {
  return ruleList.flatMap((r) =>
    r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`))),
  );
}

/** `helm lint --strict`: exit 0 and nothing above INFO (the missing icon is the one INFO). */
async function assertLintClean(values: Record<string, unknown>): Promise<void> {
  const result = await helm(["lint", "--strict", CHART_DIR, ...setJsonArgs(values)]);
  const output = result.stdout + result.stderr;
  assert.equal(result.code, 0, output);
  assert.match(output, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  assert.doesNotMatch(output, /\[(WARNING|ERROR)\]/, output);
}

/** Values of a second and a third release sharing the cluster with a default one (the unnamed instance). */
const webRelease = {
  release: "web",
  namespace: "kubelvs-web",
  values: {
    instance: "web",
    "crds.install": false,
    "vrrp.vridRange": { enabled: true, min: 10, max: 19 },
    "agent.metrics.port": 9651,
    "agent.nodeSelector": { "kubelvs.io/lb": "web" },
    "operator.secretNamespaces": ["web"],
  },
};
const dbRelease = {
  release: "db",
  namespace: "kubelvs-db",
  values: {
    instance: "kubelvs-db",
    "crds.install": false,
    "vrrp.vridRange": { enabled: true, min: 20, max: 29 },
    "agent.metrics.port": 9652,
    "agent.metrics.bindAddress": "2001:db8::10",
    "monitoring.serviceMonitor.enabled": true,
    "monitoring.podMonitor.enabled": true,
    "image.digest": `sha256:${"ab".repeat(32)}`,
  },
};

describe("the kubelvs Helm chart: lint and template", tierOptions(...requirements), () => {
  test("helm lint --strict is clean with the default values", async () => {
    await assertLintClean({});
  });

  test("helm lint --strict is clean with every optional part switched on or off", async () => {
    await assertLintClean(webRelease.values);
    await assertLintClean(dbRelease.values);
    await assertLintClean({
      "crds.keep": false,
      "admissionPolicy.enabled": false,
      "dashboard.enabled": false,
      "operator.serviceAccount.create": false,
      "operator.serviceAccount.name": "existing-operator",
      "operator.secretNamespaces": ["*"],
      "agent.hostPID": true,
      "agent.extraVolumes": [{ name: "scripts", configMap: { name: "lb-scripts", defaultMode: 0o555 } }],
      "agent.extraVolumeMounts": [{ name: "scripts", mountPath: "/etc/keepalived", readOnly: true }],
    });
  });

  test("the default release: the objects it consists of, all named and labelled after the instance", async () => {
    const objects = await renderChart();
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    assert.deepEqual(names, [
      "ClusterRole/kubelvs-agent",
      "ClusterRole/kubelvs-operator",
      "ClusterRoleBinding/kubelvs-agent",
      "ClusterRoleBinding/kubelvs-operator",
      "ConfigMap/kubelvs-dashboard",
      "CustomResourceDefinition/nodestates.kubelvs.io",
      "CustomResourceDefinition/virtualservices.kubelvs.io",
      "CustomResourceDefinition/vrrpgroups.kubelvs.io",
      "DaemonSet/kubelvs-agent",
      "Deployment/kubelvs-operator",
      "Role/kubelvs-operator-leader-election",
      "Role/kubelvs-operator-secrets",
      "RoleBinding/kubelvs-operator-leader-election",
      "RoleBinding/kubelvs-operator-secrets",
      "Service/kubelvs-operator-metrics",
      "ServiceAccount/kubelvs-agent",
      "ServiceAccount/kubelvs-operator",
      "ValidatingAdmissionPolicy/kubelvs-agent-own-nodestate",
      "ValidatingAdmissionPolicyBinding/kubelvs-agent-own-nodestate",
    ]);
    for (const o of objects) {
      if (o.kind === "CustomResourceDefinition") continue; // cluster-wide API, shared by every release
      assert.equal(o.metadata.labels?.["kubelvs.io/instance"], "kubelvs", `${o.kind}/${o.metadata.name}`);
      assert.equal(
        o.metadata.labels?.["app.kubernetes.io/instance"],
        "kubelvs",
        `${o.kind}/${o.metadata.name}`,
      );
      if (o.metadata.namespace !== undefined) assert.equal(o.metadata.namespace, "kubelvs-system");
    }
  });

  test("the operator: two replicas with leader election, probes, resources, non-root, read-only root", async () => {
    const deployment = workload(await renderChart(), "Deployment", "kubelvs-operator");
    assert.equal(deployment.spec.replicas, 2);
    const pod = deployment.spec.template.spec;
    assert.equal(pod.serviceAccountName, "kubelvs-operator");
    assert.deepEqual(pod.securityContext.seccompProfile, { type: "RuntimeDefault" });
    assert.equal(pod.securityContext.runAsNonRoot, true);
    const container = onlyContainer(deployment);
    assert.equal(container.args[0], "operator");
    for (const arg of [
      "--metrics-address=:8080",
      "--leader-election-namespace=$(POD_NAMESPACE)",
      "--lease-name=kubelvs-operator",
      "--identity=$(POD_NAME)",
    ]) {
      assert.ok(container.args.includes(arg), `${arg} in ${container.args.join(" ")}`);
    }
    assert.ok(
      !container.args.some((a) => a.startsWith("--instance")),
      "the default release serves the unnamed instance",
    );
    const fieldRefs = Object.fromEntries(
      (container.env ?? []).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]),
    );
    assert.equal(fieldRefs.POD_NAME, "metadata.name");
    assert.equal(fieldRefs.POD_NAMESPACE, "metadata.namespace");
    assert.deepEqual(container.ports, [{ name: "metrics", containerPort: 8080, protocol: "TCP" }]);
    assert.deepEqual(container.livenessProbe?.httpGet, { path: "/healthz", port: "metrics" });
    assert.deepEqual(container.readinessProbe?.httpGet, { path: "/readyz", port: "metrics" });
    assert.deepEqual(container.securityContext, {
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    assert.ok(container.resources?.requests?.cpu && container.resources.requests.memory);
    assert.ok(container.resources?.limits?.memory);
  });

  test("the agent: host network, only NET_ADMIN, NET_RAW and SYS_NICE, one node at a time, resigns before it goes", async () => {
    const daemonSet = workload(await renderChart(), "DaemonSet", "kubelvs-agent");
    const pod = daemonSet.spec.template.spec;
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.dnsPolicy, "ClusterFirstWithHostNet");
    assert.equal(pod.hostPID, undefined, "the node's processes only with agent.hostPID");
    assert.equal(pod.serviceAccountName, "kubelvs-agent");
    assert.deepEqual(pod.securityContext.seccompProfile, { type: "RuntimeDefault" });
    assert.deepEqual(daemonSet.spec.updateStrategy, {
      type: "RollingUpdate",
      rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
    });
    assert.ok((daemonSet.spec.minReadySeconds ?? 0) >= 3, "minReadySeconds covers 3 advert intervals of 1 s");
    assert.ok((pod.terminationGracePeriodSeconds ?? 0) >= 10);

    const container = onlyContainer(daemonSet);
    // The default release serves the unnamed instance: no --instance, NodeState <node>.
    assert.deepEqual(container.args.slice(0, 4), [
      "agent",
      "--kubernetes",
      "--node-name=$(NODE_NAME)",
      "--metrics-address=:9650",
    ]);
    const nodeName = container.env?.find((e) => e.name === "NODE_NAME");
    assert.deepEqual(nodeName?.valueFrom, { fieldRef: { fieldPath: "spec.nodeName" } });
    assert.deepEqual(container.ports, [{ name: "metrics", containerPort: 9650, protocol: "TCP" }]);
    assert.deepEqual(container.readinessProbe?.httpGet, { path: "/healthz", port: "metrics" });
    assert.deepEqual(container.lifecycle?.preStop?.exec?.command, ["/bin/sh", "-c", "kill -TERM 1"]);

    const security = container.securityContext;
    // SYS_NICE for the default real-time scheduling of the event loop (agent.realtimePriority 10)
    assert.ok(container.args.includes("--realtime-priority=10"));
    assert.deepEqual(security.capabilities, { drop: ["ALL"], add: ["NET_ADMIN", "NET_RAW", "SYS_NICE"] });
    assert.equal(security.privileged, false);
    assert.equal(security.allowPrivilegeEscalation, false);
    assert.equal(security.readOnlyRootFilesystem, true);
    // A read-only root: the pid file and control socket need a writable /run/kubelvs.
    assert.ok(container.volumeMounts?.some((m) => m.mountPath === "/run/kubelvs"));

    // Real-server preparation (agent.realServerPreparation, on by default): the host's network
    // sysctls writable and the host's /run/kubelvs for the IPv6 ownership record, with the flags.
    assert.ok(container.args.includes("--proc-sys-root=/host/proc/sys"));
    assert.ok(container.args.includes("--real-server-state-dir=/host/run/kubelvs"));
    const mountOf = (path: string) => container.volumeMounts?.find((m) => m.mountPath === path);
    const volumeOf = (name: string | undefined) => pod.volumes?.find((v) => v.name === name);
    const sysctls = mountOf("/host/proc/sys/net");
    assert.ok(sysctls !== undefined && sysctls.readOnly !== true, "writable");
    assert.deepEqual(volumeOf(sysctls.name)?.hostPath, { path: "/proc/sys/net", type: "Directory" });
    assert.deepEqual(volumeOf(mountOf("/host/run/kubelvs")?.name)?.hostPath, {
      path: "/run/kubelvs",
      type: "DirectoryOrCreate",
    });
    const off = onlyContainer(
      workload(
        await renderChart({ values: { agent: { realServerPreparation: false } } }),
        "DaemonSet",
        "kubelvs-agent",
      ),
    );
    assert.ok(!off.args.some((a) => a.startsWith("--proc-sys-root")));
    assert.ok(!off.volumeMounts?.some((m) => m.mountPath.startsWith("/host/")));
  });

  test("RBAC: the agent reads NodeStates and writes only their status; the operator writes no spec it does not own", async () => {
    const objects = await renderChart();
    const agent = grants(rules(objects, "ClusterRole", "kubelvs-agent")).sort();
    assert.deepEqual(agent, [
      "kubelvs.io/nodestates/status:get",
      "kubelvs.io/nodestates/status:patch",
      "kubelvs.io/nodestates/status:update",
      "kubelvs.io/nodestates:get",
      "kubelvs.io/nodestates:list",
      "kubelvs.io/nodestates:watch",
    ]);

    const operator = grants(rules(objects, "ClusterRole", "kubelvs-operator"));
    assert.ok(!operator.some((g) => g.includes("*")), `no wildcards: ${operator.join(" ")}`);
    const operatorWrites = operator.filter((g) => WRITE_VERBS.includes(g.split(":")[1]!));
    assert.deepEqual(operatorWrites.map((g) => g.split(":")[0]).sort(), [
      "events.k8s.io/events",
      "kubelvs.io/nodestates",
      "kubelvs.io/nodestates",
      "kubelvs.io/nodestates",
      "kubelvs.io/nodestates",
      "kubelvs.io/virtualservices/status",
      "kubelvs.io/virtualservices/status",
      "kubelvs.io/vrrpgroups/status",
      "kubelvs.io/vrrpgroups/status",
    ]);
    assert.ok(!operator.some((g) => g.startsWith("/secrets")), "no cluster-wide Secrets by default");

    const election = rules(objects, "Role", "kubelvs-operator-leader-election");
    assert.deepEqual(election, [
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
      {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        resourceNames: ["kubelvs-operator"],
        verbs: ["get", "update"],
      },
    ]);
    const secrets = findObject(objects, "Role", "kubelvs-operator-secrets");
    assert.equal(secrets.metadata.namespace, "kubelvs-system");
  });

  test("the admission policy binds writes of this release's agent to the node in its token", async () => {
    const objects = await renderChart({ namespace: "lb" });
    const policy = findObject(
      objects,
      "ValidatingAdmissionPolicy",
      "kubelvs-agent-own-nodestate",
    ) as unknown as {
      spec: {
        failurePolicy: string;
        matchConstraints: { resourceRules: { resources: string[]; operations: string[] }[] };
        matchConditions: { expression: string }[];
        validations: { expression: string }[];
      };
    };
    assert.equal(policy.spec.failurePolicy, "Fail");
    assert.deepEqual(policy.spec.matchConstraints.resourceRules[0]!.resources, [
      "nodestates",
      "nodestates/status",
    ]);
    assert.equal(
      policy.spec.matchConditions[0]!.expression,
      'request.userInfo.username == "system:serviceaccount:lb:kubelvs-agent"',
    );
    assert.match(policy.spec.validations[0]!.expression, /request\.name == variables\.ownNodeState/);
    const variables = (policy.spec as unknown as { variables: { name: string; expression: string }[] })
      .variables;
    const ownNodeState = (o: typeof objects) =>
      (
        findObject(o, "ValidatingAdmissionPolicy") as unknown as {
          spec: { variables: { name: string; expression: string }[] };
        }
      ).spec.variables.find((v) => v.name === "ownNodeState")?.expression;
    // The unnamed instance's NodeState is the node's name; instance web's is web.<node>.
    assert.equal(variables.find((v) => v.name === "ownNodeState")?.expression, "variables.boundNode");
    assert.equal(
      ownNodeState(await renderChart({ namespace: "lb", values: { instance: "web" } })),
      "'web.' + variables.boundNode",
    );
    // And it must carry the instance's label (none for the unnamed instance).
    assert.equal(policy.spec.validations[1]!.expression, "variables.nodeStateInstance == ''");
    const binding = findObject(objects, "ValidatingAdmissionPolicyBinding") as unknown as {
      spec: { policyName: string; validationActions: string[] };
    };
    assert.deepEqual(binding.spec, {
      policyName: "kubelvs-agent-own-nodestate",
      validationActions: ["Deny"],
    });
  });

  test("the CRDs are crds/*.yaml unchanged but for the keep annotation, and only where asked for", async () => {
    const rendered = (await renderChart()).filter((o) => o.kind === "CustomResourceDefinition");
    const sources = crdFiles().map((file) => parse(readFileSync(file, "utf8")) as RenderedObject);
    assert.equal(rendered.length, sources.length);
    for (const source of sources) {
      const crd = findObject(rendered, "CustomResourceDefinition", source.metadata.name);
      assert.deepEqual(crd.metadata.annotations, { "helm.sh/resource-policy": "keep" });
      const { annotations: _annotations, ...metadata } = crd.metadata;
      assert.deepEqual({ ...crd, metadata }, source);
    }
    const unkept = (await renderChart({ values: { "crds.keep": false } })).filter(
      (o) => o.kind === "CustomResourceDefinition",
    );
    assert.deepEqual(unkept, sources);
    const without = await renderChart({ values: { "crds.install": false } });
    assert.equal(without.filter((o) => o.kind === "CustomResourceDefinition").length, 0);
  });

  test("ServiceMonitor and PodMonitor only when enabled, selecting this release's pods", async () => {
    const plain = await renderChart();
    assert.ok(!plain.some((o) => o.apiVersion.startsWith("monitoring.coreos.com/")));
    const objects = await renderChart({
      values: { "monitoring.serviceMonitor.enabled": true, "monitoring.podMonitor.enabled": true },
    });
    const serviceMonitor = findObject(objects, "ServiceMonitor", "kubelvs-operator") as unknown as {
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
    };
    const service = findObject(objects, "Service", "kubelvs-operator-metrics") as unknown as {
      metadata: { labels: Record<string, string> };
      spec: { selector: Record<string, string> };
    };
    for (const [key, value] of Object.entries(serviceMonitor.spec.selector.matchLabels)) {
      assert.equal(service.metadata.labels[key], value, `Service label ${key}`);
    }
    assert.equal(serviceMonitor.spec.endpoints[0]!.port, "metrics");
    const agentPods = workload(objects, "DaemonSet", "kubelvs-agent").spec.template.metadata.labels;
    const podMonitor = findObject(objects, "PodMonitor", "kubelvs-agent") as unknown as {
      spec: {
        selector: { matchLabels: Record<string, string> };
        podMetricsEndpoints: { port: string; relabelings: { targetLabel: string }[] }[];
      };
    };
    for (const [key, value] of Object.entries(podMonitor.spec.selector.matchLabels)) {
      assert.equal(agentPods[key], value, `agent pod label ${key}`);
    }
    assert.equal(podMonitor.spec.podMetricsEndpoints[0]!.port, "metrics");
    assert.equal(podMonitor.spec.podMetricsEndpoints[0]!.relabelings[0]!.targetLabel, "node");
  });

  test("the dashboard ConfigMap carries the dashboard JSON for Grafana's sidecar", async () => {
    const configMap = findObject(await renderChart(), "ConfigMap", "kubelvs-dashboard") as unknown as {
      metadata: { labels: Record<string, string> };
      data: Record<string, string>;
    };
    assert.equal(configMap.metadata.labels.grafana_dashboard, "1");
    const file = readFileSync(join(CHART_DIR, "files", "dashboards", "kubelvs.json"), "utf8");
    assert.deepEqual(JSON.parse(configMap.data["kubelvs.json"]!), JSON.parse(file));
    const none = await renderChart({ values: { "dashboard.enabled": false } });
    assert.ok(!none.some((o) => o.kind === "ConfigMap"));
  });

  test("three releases in one cluster share no object, Lease, selector or host port", async () => {
    const releases = [{ release: "kubelvs", namespace: "kubelvs-system" }, webRelease, dbRelease];
    const rendered = await Promise.all(releases.map((r) => renderChart(r)));
    const seen = new Map<string, string>();
    rendered.forEach((objects, i) => {
      for (const o of objects) {
        const key = `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
        assert.ok(!seen.has(key), `${key} rendered by both ${seen.get(key)} and ${releases[i]!.release}`);
        seen.set(key, releases[i]!.release);
      }
    });
    assert.equal(
      rendered.flat().filter((o) => o.kind === "CustomResourceDefinition").length,
      3,
      "one release owns the CRDs",
    );

    const [, web, db] = rendered as [RenderedObject[], RenderedObject[], RenderedObject[]];
    const webAgent = workload(web, "DaemonSet", "kubelvs-web-agent");
    const dbAgent = workload(db, "DaemonSet", "kubelvs-db-agent");
    // Operator and agents of a release serve its instance: its groups, NodeStates <instance>.<node>.
    assert.ok(onlyContainer(webAgent).args.includes("--instance=web"));
    assert.ok(onlyContainer(dbAgent).args.includes("--instance=kubelvs-db"));
    assert.ok(
      onlyContainer(workload(web, "Deployment", "kubelvs-web-operator")).args.includes("--instance=web"),
    );
    assert.ok(
      onlyContainer(workload(db, "Deployment", "kubelvs-db-operator")).args.includes("--instance=kubelvs-db"),
    );
    assert.deepEqual(
      [web, db].map(
        (objects) =>
          objects.find((o) => o.kind === "ClusterRole" && o.metadata.name.endsWith("-operator"))?.metadata
            .annotations?.["kubelvs.io/served-instance"],
      ),
      ["web", "kubelvs-db"],
      "the operator's ClusterRole says which instance it serves (checked at install)",
    );
    assert.ok(onlyContainer(webAgent).args.includes("--metrics-address=:9651"));
    assert.ok(onlyContainer(dbAgent).args.includes("--metrics-address=[2001:db8::10]:9652"));
    assert.equal(onlyContainer(dbAgent).ports?.[0]?.containerPort, 9652);
    assert.ok(
      onlyContainer(workload(web, "Deployment", "kubelvs-web-operator")).args.includes(
        "--lease-name=kubelvs-web-operator",
      ),
    );
    // No release's selector matches another's pods.
    const pods = [webAgent, dbAgent].map((w) => w.spec.template.metadata.labels);
    const selects = (w: Workload, labels: Record<string, string>) =>
      Object.entries(w.spec.selector.matchLabels).every(([k, v]) => labels[k] === v);
    assert.ok(!selects(webAgent, pods[1]!) && !selects(dbAgent, pods[0]!));
    for (const o of web)
      assert.equal(o.metadata.labels?.["kubelvs.io/instance"], "web", `${o.kind}/${o.metadata.name}`);
    for (const o of db)
      assert.equal(o.metadata.labels?.["kubelvs.io/instance"], "kubelvs-db", `${o.kind}/${o.metadata.name}`);

    // The web release may read Secrets in its own namespace and in "web", nowhere else.
    const secretRoles = web.filter((o) => o.kind === "Role" && o.metadata.name.endsWith("-secrets"));
    assert.deepEqual(secretRoles.map((o) => o.metadata.namespace).sort(), ["kubelvs-web", "web"]);
    // Each range policy admits its own instance's groups only.
    const range = findObject(web, "ValidatingAdmissionPolicy", "kubelvs-web-vrid-range") as unknown as {
      spec: { matchConditions: { expression: string }[]; validations: { expression: string }[] };
    };
    assert.match(
      range.spec.matchConditions[0]!.expression,
      /object\.metadata\.labels\['kubelvs\.io\/instance'\] : ''\) == 'web'$/,
    );
    assert.equal(range.spec.validations[0]!.expression, "object.spec.vrid >= 10 && object.spec.vrid <= 19");
    // A digest replaces the tag.
    const dbImage = (
      workload(db, "Deployment", "kubelvs-db-operator").spec.template.spec.containers[0] as unknown as {
        image: string;
      }
    ).image;
    assert.equal(dbImage, `kubelvs@sha256:${"ab".repeat(32)}`);
  });

  describe("values the chart refuses, with the reason", () => {
    async function refusal(values: Record<string, unknown>): Promise<string> {
      const result = await helm(templateArgs({ values }));
      assert.notEqual(result.code, 0, `helm template accepted ${JSON.stringify(values)}`);
      return result.stderr;
    }

    test("a cluster older than Kubernetes 1.30 (no node name in tokens, no ValidatingAdmissionPolicy v1)", async () => {
      const result = await helm([...templateArgs(), "--kube-version=1.29.9"]);
      assert.notEqual(result.code, 0);
      assert.match(
        result.stderr,
        /chart requires kubeVersion: >= 1\.30\.0-0 which is incompatible with Kubernetes v1\.29\.9/,
      );
      assert.equal((await helm([...templateArgs(), "--kube-version=1.30.0"])).code, 0);
    });
    test("an instance name that is no DNS label", async () => {
      assert.match(await refusal({ instance: "Web_1" }), /at '\/instance': 'Web_1' does not match pattern/);
    });
    test("an unknown key (a typo)", async () => {
      assert.match(await refusal({ "agent.tolerance": [] }), /additional properties 'tolerance' not allowed/);
    });
    test("a VRID outside 1-255", async () => {
      assert.match(
        await refusal({ "vrrp.vridRange.max": 256 }),
        /at '\/vrrp\/vridRange\/max': maximum: got 256, want 255/,
      );
    });
    test("a VRID range whose min is above its max", async () => {
      assert.match(
        await refusal({ "vrrp.vridRange": { enabled: true, min: 30, max: 20 } }),
        /vrrp\.vridRange: min 30 is greater than max 20/,
      );
    });
    test("every namespace's Secrets together with a list of namespaces", async () => {
      assert.match(
        await refusal({ "operator.secretNamespaces": ["*", "web"] }),
        /operator\.secretNamespaces: "\*" \(every namespace\) cannot be combined with namespace names/,
      );
    });
  });
});
