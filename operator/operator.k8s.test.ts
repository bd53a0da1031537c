// The operator against a real kube-apiserver + etcd: NodeStates rendered for Node objects, writes
// only where content changed, a resync that writes nothing, a condition and an Event for every
// problem the renderer reports, status aggregated from agents' reports (the test plays the agents),
// and leader failover between two operator processes that rewrites nothing.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { NodeStateSpec, NodeStateStatus } from "../crds/schema/node-state.js";
import type { Condition } from "../crds/schema/common.js";
import { contentHash } from "../core/render/content-hash.js";
import { createLogger, memorySink } from "../core/log.js";
import { render } from "../core/render/render.js";
import { missingCommand, tierOptions } from "../e2e/requirements.js";
import { requireControlPlaneBinaries } from "../e2e/control-plane/binaries.js";
import { startControlPlane, type ControlPlane } from "../e2e/control-plane/control-plane.js";
import { applyCrds, kubectl, kubectlOk } from "../e2e/control-plane/kubectl.js";
import {
  CONTENT_HASH_ANNOTATION,
  groupInput,
  namespaceInfo,
  nodeInfo,
  serviceInput,
  trimNamespace,
  trimNode,
  trimVirtualService,
  trimVrrpGroup,
} from "./cluster-objects.js";
import { KubeClient, loadKubeConfig } from "./kube/client.js";
import { NODE_STATES, statusPath, type KubeObject } from "./kube/resources.js";
import { Operator } from "./operator.js";
import { OperatorProcess, freePort } from "./testing/operator-process.js";
import { applyObjects, eventually, getJson, nodeObject, tableRows } from "./testing/k8s-helpers.js";

const requirements = [requireControlPlaneBinaries(), missingCommand("openssl", "apt-get install openssl")];

interface NodeStateObject {
  metadata: { name: string; resourceVersion: string; annotations?: Record<string, string> };
  spec: NodeStateSpec;
  status?: NodeStateStatus;
}

interface StatusObject {
  metadata: { name: string; namespace?: string; resourceVersion: string; generation: number };
  status?: { conditions?: Condition[]; master?: string; nodesReady?: string } & Record<string, unknown>;
}

interface EventObject {
  type: string;
  reason: string;
  note: string;
  reportingController: string;
  regarding: { kind: string; name: string; namespace?: string };
}

const group = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: "kubelvs.io/v1alpha1",
  kind: "VrrpGroup",
  metadata: { name },
  spec: { interface: { name: "eth0" }, ...spec },
});

const service = (namespace: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: "kubelvs.io/v1alpha1",
  kind: "VirtualService",
  metadata: { name, namespace },
  spec,
});

const realServers = (...hosts: number[]) => hosts.map((h) => ({ address: `203.0.113.${h}`, port: 8080 }));

const namespace = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: "v1",
  kind: "Namespace",
  metadata: { name, labels },
});

describe("the operator on a real kube-apiserver", tierOptions(...requirements), () => {
  let plane: ControlPlane;

  async function nodeStates(): Promise<Map<string, NodeStateObject>> {
    const list = await getJson<{ items: NodeStateObject[] }>(plane, "nodestates");
    return new Map(list.items.map((n) => [n.metadata.name, n]));
  }

  async function resourceVersions(kinds: string): Promise<Map<string, string>> {
    const list = await getJson<{ items: StatusObject[] }>(plane, kinds, "-A");
    return new Map(
      list.items.map((o) => [`${o.metadata.namespace ?? ""}/${o.metadata.name}`, o.metadata.resourceVersion]),
    );
  }

  async function condition(
    kind: string,
    name: string,
    type: string,
    ns?: string,
  ): Promise<Condition | undefined> {
    const o = await getJson<StatusObject>(plane, kind, name, ...(ns ? [`--namespace=${ns}`] : []));
    return o.status?.conditions?.find((c) => c.type === type);
  }

  async function events(name: string): Promise<EventObject[]> {
    const list = await getJson<{ items: EventObject[] }>(plane, "events.events.k8s.io", "-A");
    return list.items.filter((e) => e.regarding.name === name);
  }

  /** Writes an agent's report into a NodeState's status, as the node's agent would. */
  async function report(node: string, groups: [string, "Master" | "Backup", number][], extra: object = {}) {
    const status: NodeStateStatus = {
      agentVersion: "test",
      lastReportTime: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      masterOf: groups
        .filter(([, s]) => s === "Master")
        .map(([g]) => g)
        .join(","),
      vrrpGroups: groups.map(([name, state, priority]) => ({ name, state, priority })),
      ...extra,
    };
    // Through the API as the agent does (a merge patch of the status subresource).
    await new KubeClient(loadKubeConfig(plane.kubeconfigPath)).mergePatch(statusPath(NODE_STATES, node), {
      status,
    });
  }

  before(async () => {
    plane = await startControlPlane();
    await applyCrds(plane);
    await applyObjects(
      plane,
      namespace("kubelvs-system"),
      namespace("shop", { "kubelvs.io/allowed": "true" }),
      namespace("data"),
      nodeObject("node-a", { role: "lb" }, "198.51.100.11"),
      nodeObject("node-b", { role: "lb" }, "198.51.100.12"),
      nodeObject("node-c", { role: "db" }, "198.51.100.13"),
      nodeObject("node-d", { role: "db" }, "198.51.100.14"),
      group("web", {
        vrid: 51,
        nodeSelector: { matchLabels: { role: "lb" } },
        virtualIPs: [{ address: "198.51.100.200" }],
        priority: { default: 100, nodes: [{ nodeName: "node-a", priority: 150 }] },
        unicast: {},
        allowedNamespaces: { from: "Selector", selector: { matchLabels: { "kubelvs.io/allowed": "true" } } },
      }),
      group("db", {
        vrid: 52,
        nodeSelector: { matchLabels: { role: "db" } },
        virtualIPs: [{ address: "198.51.100.210" }],
      }),
    );
    await applyObjects(
      plane,
      service("shop", "http", { virtualIP: "198.51.100.200", port: 80, realServers: realServers(1, 2) }),
      service("data", "pg", { virtualIP: "198.51.100.210", port: 5432, realServers: realServers(3) }),
    );
  });
  after(async () => {
    await plane?.stop();
  });

  describe("one operator, in this process", () => {
    let operator: Operator;
    const logs = memorySink();

    async function metric(sample: string): Promise<number> {
      const text = await operator.metrics.text();
      const line = text.split("\n").find((l) => l.startsWith(`${sample} `));
      return Number(line?.slice(sample.length + 1) ?? 0);
    }

    before(() => {
      operator = new Operator({
        client: new KubeClient(loadKubeConfig(plane.kubeconfigPath)),
        log: createLogger({ sink: logs, level: "debug" }),
        identity: "in-process",
        leaderElection: {
          namespace: "kubelvs-system",
          name: "kubelvs-operator",
          leaseDurationMs: 3000,
          renewDeadlineMs: 2000,
          retryPeriodMs: 500,
        },
        // Short, so the tests below see several full resyncs.
        resyncPeriodMs: 1000,
      });
      operator.start();
    });
    after(async () => {
      await operator?.stop();
    });

    test("becomes ready once its caches synced, and leader", async () => {
      await eventually("readiness", () => (operator.ready().ok ? true : undefined));
      await eventually("leadership", () => (operator.isLeader ? true : undefined));
      assert.equal(await metric("kubelvs_operator_leader"), 1);
    });

    test("renders each node's NodeState from the groups selecting it, annotated with the content hash", async () => {
      const states = await eventually("four NodeStates", async () => {
        const s = await nodeStates();
        return s.size === 4 && [...s.values()].every((n) => n.spec.vrrpGroups.length === 1) ? s : undefined;
      });
      const a = states.get("node-a")!.spec;
      assert.deepEqual(
        a.vrrpGroups.map((g) => [g.name, g.vrid, g.priority, g.unicastPeers, g.unicastSourceAddress]),
        [["web", 51, 150, ["198.51.100.12"], "198.51.100.11"]],
      );
      assert.deepEqual(
        a.virtualServices?.map((s) => `${s.namespace}/${s.name}@${s.vrrpGroup}`),
        ["shop/http@web"],
      );
      assert.equal(states.get("node-b")!.spec.vrrpGroups[0]?.priority, 100);
      assert.deepEqual(
        states.get("node-c")!.spec.virtualServices?.map((s) => s.name),
        ["pg"],
      );

      // The annotation is the hash of what the renderer makes of the objects as stored.
      const kube = async <T>(kind: string, trim: (o: KubeObject) => T) =>
        (await getJson<{ items: KubeObject[] }>(plane, kind, "-A")).items.map(trim);
      const expected = render({
        nodes: (await kube("nodes", trimNode)).map(nodeInfo),
        namespaces: (await kube("namespaces", trimNamespace)).map(namespaceInfo),
        groups: (await kube("vrrpgroups", trimVrrpGroup)).map(groupInput),
        services: (await kube("virtualservices", trimVirtualService)).map(serviceInput),
      });
      for (const [name, state] of states)
        assert.equal(
          state.metadata.annotations?.[CONTENT_HASH_ANNOTATION],
          contentHash(expected.nodeStates.get(name)),
        );
    });

    test("a change to one VirtualService writes only the NodeStates of the nodes that carry it", async () => {
      const before = await nodeStates();
      const writesBefore = await metric('kubelvs_operator_nodestate_writes_total{operation="update"}');
      await kubectlOk(plane, [
        "patch",
        "virtualservice",
        "http",
        "--namespace=shop",
        "--type=merge",
        "-p",
        JSON.stringify({ spec: { realServers: realServers(1, 2, 4) } }),
      ]);
      const after = await eventually("node-a and node-b carrying three real servers", async () => {
        const s = await nodeStates();
        const carried = ["node-a", "node-b"].map(
          (n) => s.get(n)!.spec.virtualServices?.[0]?.spec.realServers.length,
        );
        return carried.every((n) => n === 3) ? s : undefined;
      });
      await sleep(1500);
      const settled = await nodeStates();
      for (const node of ["node-c", "node-d"])
        assert.equal(
          settled.get(node)!.metadata.resourceVersion,
          before.get(node)!.metadata.resourceVersion,
          `${node} does not carry shop/http and must not be written`,
        );
      for (const node of ["node-a", "node-b"]) {
        assert.notEqual(
          after.get(node)!.metadata.resourceVersion,
          before.get(node)!.metadata.resourceVersion,
        );
        assert.equal(settled.get(node)!.metadata.resourceVersion, after.get(node)!.metadata.resourceVersion);
      }
      assert.equal(
        await metric('kubelvs_operator_nodestate_writes_total{operation="update"}'),
        writesBefore + 2,
      );
    });

    test("a full resync writes nothing when nothing changed", async () => {
      // Let status writes caused by the previous test settle first.
      await sleep(1500);
      const versions = async () =>
        new Map([...(await resourceVersions("nodestates,vrrpgroups,virtualservices"))].sort());
      const before = await versions();
      const rendersBefore = await metric('kubelvs_operator_reconciles_total{controller="render"}');
      const nodeStateWrites = await operator.metrics
        .text()
        .then((t) => t.match(/nodestate_writes_total\{.*/g));
      const statusWrites = await operator.metrics.text().then((t) => t.match(/status_writes_total\{.*/g));
      await sleep(3500);
      assert.ok(
        (await metric('kubelvs_operator_reconciles_total{controller="render"}')) >= rendersBefore + 2,
        "at least two full resyncs ran",
      );
      assert.deepEqual(await versions(), before, "no object was written");
      assert.deepEqual(
        await operator.metrics.text().then((t) => t.match(/nodestate_writes_total\{.*/g)),
        nodeStateWrites,
      );
      assert.deepEqual(
        await operator.metrics.text().then((t) => t.match(/status_writes_total\{.*/g)),
        statusWrites,
      );
    });

    describe("every problem the renderer reports is a condition and one Event", () => {
      const cases: {
        reason: string;
        kind: "vrrpgroup" | "virtualservice";
        name: string;
        namespace?: string;
        object: object;
        message: RegExp;
      }[] = [
        {
          reason: "VRIDConflict",
          kind: "vrrpgroup",
          name: "web-clash",
          object: group("web-clash", {
            vrid: 51,
            nodeSelector: { matchLabels: { role: "lb" } },
            virtualIPs: [{ address: "198.51.100.201" }],
          }),
          message: /VRID 51 \(IPv4\) is already used on the same interface by VrrpGroup web/,
        },
        {
          reason: "VIPConflict",
          kind: "vrrpgroup",
          name: "vip-clash",
          object: group("vip-clash", { vrid: 60, virtualIPs: [{ address: "198.51.100.200" }] }),
          message: /virtual IP 198\.51\.100\.200 already belongs to VrrpGroup web/,
        },
        {
          reason: "SecretMissing",
          kind: "vrrpgroup",
          name: "v2-auth",
          object: group("v2-auth", {
            vrid: 70,
            version: 2,
            nodeSelector: { matchLabels: { role: "db" } },
            virtualIPs: [{ address: "198.51.100.220" }],
            authentication: {
              type: "Password",
              passwordSecretRef: { namespace: "kubelvs-system", name: "vrrp-password" },
            },
          }),
          message: /key password of Secret kubelvs-system\/vrrp-password not found/,
        },
        {
          reason: "EndpointConflict",
          kind: "virtualservice",
          namespace: "shop",
          name: "http-again",
          object: service("shop", "http-again", {
            virtualIP: "198.51.100.200",
            port: 80,
            realServers: realServers(9),
          }),
          message: /TCP 198\.51\.100\.200:80 is already served by VirtualService shop\/http/,
        },
        {
          reason: "NamespaceNotAllowed",
          kind: "virtualservice",
          namespace: "data",
          name: "sneaky",
          object: service("data", "sneaky", {
            virtualIP: "198.51.100.200",
            port: 8443,
            realServers: realServers(9),
          }),
          message: /VrrpGroup web does not allow VirtualServices from namespace data/,
        },
        {
          reason: "UnknownVIP",
          kind: "virtualservice",
          namespace: "shop",
          name: "nowhere",
          object: service("shop", "nowhere", {
            virtualIP: "198.51.100.99",
            port: 80,
            realServers: realServers(9),
          }),
          message: /no VrrpGroup carries virtual IP 198\.51\.100\.99/,
        },
        {
          reason: "UnknownGroup",
          kind: "virtualservice",
          namespace: "shop",
          name: "marked",
          object: service("shop", "marked", { firewallMark: 5, vrrpGroup: "missing", realServers: [] }),
          message: /VrrpGroup missing does not exist/,
        },
      ];

      before(async () => {
        await applyObjects(plane, ...cases.map((c) => c.object));
      });

      for (const c of cases) {
        test(`${c.reason}: Accepted=False on ${c.kind} ${c.name} and a Warning Event`, async () => {
          const accepted = await eventually(`Accepted=False on ${c.name}`, async () => {
            const found = await condition(c.kind, c.name, "Accepted", c.namespace);
            return found?.status === "False" ? found : undefined;
          });
          assert.equal(accepted.reason, c.reason);
          assert.match(accepted.message, c.message);
          const warnings = await eventually(`a ${c.reason} Event`, async () => {
            const found = (await events(c.name)).filter((e) => e.reason === c.reason);
            return found.length > 0 ? found : undefined;
          });
          assert.equal(warnings[0]!.type, "Warning");
          assert.equal(warnings[0]!.reportingController, "kubelvs.io/operator");
          assert.match(warnings[0]!.note, c.message);
        });
      }

      test("conflicting objects are left out of the NodeStates; the ones they clash with keep working", async () => {
        const states = await nodeStates();
        const a = states.get("node-a")!.spec;
        assert.deepEqual(
          a.vrrpGroups.map((g) => g.name),
          ["web"],
        );
        assert.deepEqual(
          a.virtualServices?.map((s) => s.name),
          ["http"],
        );
        assert.deepEqual(
          states.get("node-c")!.spec.vrrpGroups.map((g) => g.name),
          ["db"],
        );
      });

      test("after several resyncs there is still exactly one Event per problem", async () => {
        await sleep(2500);
        for (const c of cases)
          assert.equal(
            (await events(c.name)).length,
            1,
            `${c.name}: ${JSON.stringify(await events(c.name))}`,
          );
      });

      test("fixing a problem flips Accepted to True with a Normal Event, and the object is rendered", async () => {
        await kubectlOk(plane, [
          "create",
          "secret",
          "generic",
          "vrrp-password",
          "--namespace=kubelvs-system",
          "--from-literal=password=s3cret-long-password",
        ]);
        await eventually("Accepted=True on v2-auth", async () =>
          (await condition("vrrpgroup", "v2-auth", "Accepted"))?.status === "True" ? true : undefined,
        );
        const normal = await eventually("a Normal Accepted Event", async () =>
          (await events("v2-auth")).find((e) => e.type === "Normal"),
        );
        assert.equal(normal.reason, "Accepted");
        const c = await eventually("node-c carrying v2-auth", async () => {
          const spec = (await nodeStates()).get("node-c")!.spec;
          return spec.vrrpGroups.find((g) => g.name === "v2-auth");
        });
        assert.equal(c.authPassword, "s3cret-l", "v2 passwords are cut to 8 bytes, as on the wire");
      });
    });

    describe("status from the agents' reports (this test plays the agents)", () => {
      test("kubectl get vrrpgroups shows the Master and the ready nodes; the VirtualService its health", async () => {
        await report("node-a", [["web", "Master", 150]], {
          virtualServices: [
            {
              namespace: "shop",
              name: "http",
              active: true,
              realServers: [
                { address: "203.0.113.1", port: 8080, healthy: true },
                { address: "203.0.113.2", port: 8080, healthy: true },
                { address: "203.0.113.4", port: 8080, healthy: false },
              ],
            },
          ],
        });
        await report("node-b", [["web", "Backup", 100]]);
        const row = await eventually(
          "MASTER node-a and NODES 2/2",
          async () => {
            const rows = tableRows(await kubectlOk(plane, ["get", "vrrpgroups"]));
            const web = rows.find((r) => r.NAME === "web");
            return web?.MASTER === "node-a" && web.NODES === "2/2" ? web : undefined;
          },
          { describe: () => kubectlOk(plane, ["get", "vrrpgroups"]) },
        );
        assert.equal(row.VRID, "51");
        const lvs = await eventually(
          "REAL SERVERS 2/3 with MASTER node-a",
          async () => {
            const http = tableRows(await kubectlOk(plane, ["get", "lvs", "--namespace=shop"])).find(
              (r) => r.NAME === "http",
            );
            return http?.["REAL SERVERS"] === "2/3" && http.MASTER === "node-a" ? http : undefined;
          },
          { describe: () => kubectlOk(plane, ["get", "lvs", "--namespace=shop"]) },
        );
        assert.equal(lvs["VIP:PORT"], "198.51.100.200:80/TCP");
        const status = await getJson<StatusObject>(plane, "vrrpgroup", "web");
        assert.deepEqual(
          (status.status?.nodes as { name: string; state: string; priority: number }[]).map((n) => [
            n.name,
            n.state,
            n.priority,
          ]),
          [
            ["node-a", "Master", 150],
            ["node-b", "Backup", 100],
          ],
        );
        // The db group's nodes have not reported.
        const db = tableRows(await kubectlOk(plane, ["get", "vrrpgroups"])).find((r) => r.NAME === "db");
        assert.deepEqual([db?.MASTER, db?.NODES], ["", "0/2"]);
      });

      test("two nodes reporting Master: SplitBrain=True naming both, no MASTER, one Warning Event", async () => {
        await report("node-b", [["web", "Master", 100]]);
        const splitBrain = await eventually("SplitBrain=True", async () => {
          const c = await condition("vrrpgroup", "web", "SplitBrain");
          return c?.status === "True" ? c : undefined;
        });
        assert.equal(splitBrain.reason, "MultipleMasters");
        assert.match(splitBrain.message, /node-a, node-b/);
        const web = tableRows(await kubectlOk(plane, ["get", "vrrpgroups"])).find((r) => r.NAME === "web");
        assert.equal(web?.MASTER, "");
        const warning = await eventually("a SplitBrain Event", async () =>
          (await events("web")).find((e) => e.reason === "SplitBrain"),
        );
        assert.equal(warning.type, "Warning");
      });

      test("the split brain resolving: SplitBrain=False, the new MASTER, a Normal Event", async () => {
        await report("node-a", [["web", "Backup", 150]]);
        await eventually("MASTER node-b", async () => {
          const web = tableRows(await kubectlOk(plane, ["get", "vrrpgroups"])).find((r) => r.NAME === "web");
          return web?.MASTER === "node-b" ? web : undefined;
        });
        assert.equal((await condition("vrrpgroup", "web", "SplitBrain"))?.status, "False");
        const resolved = (await events("web")).filter((e) => e.reason === "SplitBrainResolved");
        assert.equal(resolved.length, 1);
        assert.equal((await events("web")).filter((e) => e.reason === "SplitBrain").length, 1);
        // node-b has no report of shop/http: nothing healthy, totals from the spec.
        const http = tableRows(await kubectlOk(plane, ["get", "lvs", "--namespace=shop"])).find(
          (r) => r.NAME === "http",
        );
        assert.deepEqual([http?.MASTER, http?.["REAL SERVERS"]], ["node-b", "0/3"]);
      });
    });

    test("a Node's labels decide membership and its address the peers; a deleted Node's NodeState goes", async () => {
      await applyObjects(plane, nodeObject("node-e", { role: "spare" }, "198.51.100.15"));
      await eventually("an empty NodeState for node-e", async () => {
        const e = (await nodeStates()).get("node-e");
        return e !== undefined && e.spec.vrrpGroups.length === 0 ? true : undefined;
      });
      await kubectlOk(plane, ["label", "node", "node-e", "role=lb", "--overwrite"]);
      const peersOfA = async () =>
        (await nodeStates()).get("node-a")?.spec.vrrpGroups.find((g) => g.name === "web")?.unicastPeers;
      await eventually("node-e in web, and a peer of node-a", async () => {
        const e = (await nodeStates()).get("node-e");
        const peers = await peersOfA();
        return e?.spec.vrrpGroups[0]?.name === "web" && peers?.includes("198.51.100.15") ? true : undefined;
      });
      await kubectlOk(plane, ["delete", "node", "node-e"]);
      await eventually("node-e's NodeState deleted and the peer gone", async () =>
        !(await nodeStates()).has("node-e") && (await peersOfA())?.join() === "198.51.100.12"
          ? true
          : undefined,
      );
      assert.equal(await metric('kubelvs_operator_nodestate_writes_total{operation="delete"}'), 1);
    });

    test("labelling a namespace admits its VirtualServices: Accepted=True and rendered", async () => {
      await kubectlOk(plane, ["label", "namespace", "data", "kubelvs.io/allowed=true"]);
      await eventually("sneaky accepted", async () =>
        (await condition("virtualservice", "sneaky", "Accepted", "data"))?.status === "True"
          ? true
          : undefined,
      );
      await eventually("sneaky carried by node-a", async () =>
        (await nodeStates()).get("node-a")?.spec.virtualServices?.some((v) => v.name === "sneaky")
          ? true
          : undefined,
      );
      assert.equal((await events("sneaky")).filter((e) => e.type === "Normal").length, 1);
    });

    test("a DR service's real servers on nodes: the VIP rendered into the worker's NodeState only, a director left out and reported", async () => {
      // node-a directs web's VIP; node-c is in another group only: an ordinary real server of it
      await applyObjects(
        plane,
        service("shop", "direct", {
          virtualIP: "198.51.100.200",
          port: 443,
          forwarding: { method: "DR" },
          realServers: [
            { address: "198.51.100.11", port: 443 },
            { address: "198.51.100.13", port: 443 },
          ],
        }),
      );
      const states = await eventually("node-c prepared as a real server", async () => {
        const s = await nodeStates();
        return s.get("node-c")?.spec.realServer !== undefined ? s : undefined;
      });
      assert.deepEqual(states.get("node-c")?.spec.realServer, {
        vips: [{ address: "198.51.100.200", forwarding: "DR", virtualServices: ["shop/direct"] }],
      });
      for (const node of ["node-a", "node-b", "node-d"])
        assert.equal(states.get(node)?.spec.realServer, undefined, `${node} is not prepared`);

      const reported = await eventually("RealServerNodesPrepared=False", async () => {
        const c = await condition("virtualservice", "direct", "RealServerNodesPrepared", "shop");
        return c?.status === "False" ? c : undefined;
      });
      assert.equal(reported.reason, "DirectorIsRealServer");
      assert.match(
        reported.message,
        /^node node-a \(198\.51\.100\.11\) is a director of VIP 198\.51\.100\.200 \(VrrpGroup web\) and is not prepared as a DR real server: /,
      );
      const warning = await eventually("a Warning Event", async () =>
        (await events("direct")).find((e) => e.reason === "DirectorIsRealServer"),
      );
      assert.equal(warning.type, "Warning");
      assert.equal(warning.note, reported.message);
      assert.equal(
        (await condition("virtualservice", "direct", "Accepted", "shop"))?.status,
        "True",
        "the service itself is rendered",
      );

      // Deleting the service takes the VIP out of node-c's NodeState again.
      await kubectlOk(plane, ["delete", "virtualservice", "direct", "--namespace=shop"]);
      await eventually("node-c no longer a real server", async () =>
        (await nodeStates()).get("node-c")?.spec.realServer === undefined ? true : undefined,
      );
    });

    test("serves /metrics with reconciles, durations, queue depth, conflicts, writes and leadership", async () => {
      const text = await operator.metrics.text();
      for (const name of [
        "kubelvs_operator_reconciles_total",
        "kubelvs_operator_reconcile_errors_total",
        "kubelvs_operator_reconcile_duration_seconds_bucket",
        "kubelvs_operator_queue_depth",
        "kubelvs_operator_conflicts",
        "kubelvs_operator_nodestate_writes_total",
        "kubelvs_operator_leader",
      ])
        assert.match(text, new RegExp(`^${name}`, "m"), name);
      assert.equal(await metric('kubelvs_operator_conflicts{reason="EndpointConflict"}'), 1);
      assert.equal(await metric('kubelvs_operator_conflicts{reason="SecretMissing"}'), 0);
    });
  });

  describe("leader failover between two operator processes", () => {
    const lease = "kubelvs-failover";
    let first: OperatorProcess;
    let second: OperatorProcess;

    async function holder(): Promise<string> {
      const result = await kubectl(plane, [
        "get",
        "lease",
        lease,
        "--namespace=kubelvs-system",
        "-o",
        "jsonpath={.spec.holderIdentity}",
      ]);
      return result.code === 0 ? result.stdout : "";
    }

    async function spawnOperator(identity: string): Promise<OperatorProcess> {
      return new OperatorProcess(identity, await freePort(), [
        `--kubeconfig=${plane.kubeconfigPath}`,
        "--leader-election-namespace=kubelvs-system",
        `--lease-name=${lease}`,
        "--lease-duration=3",
        "--renew-deadline=2",
        "--retry-period=0.5",
      ]);
    }

    before(async () => {
      // Fresh reports, so nothing goes stale (and changes status) while the test compares versions.
      await report("node-a", [["web", "Master", 150]]);
      await report("node-b", [["web", "Backup", 100]]);
      first = await spawnOperator("operator-1");
      second = await spawnOperator("operator-2");
    });
    after(async () => {
      await first?.ensureStopped();
      await second?.ensureStopped();
    });

    test("both become ready; one leads", async () => {
      for (const p of [first, second])
        await eventually(
          `${p.identity} /readyz`,
          async () => ((await p.get("/readyz")).status === 200 ? true : undefined),
          {
            describe: () => p.output.slice(-5).join("\n"),
          },
        );
      const leader = await eventually("a lease holder", async () => (await holder()) || undefined);
      assert.ok(["operator-1", "operator-2"].includes(leader), leader);
    });

    test("killing the leader hands over to the other without rewriting any NodeState", async () => {
      const leaderName = await holder();
      const [leader, follower] = leaderName === "operator-1" ? [first, second] : [second, first];
      await eventually("the leader reconciled once", async () =>
        ((await leader.metric('kubelvs_operator_reconciles_total{controller="render"}')) ?? 0) >= 1
          ? true
          : undefined,
      );
      // The new leader of this lease found everything already written by the in-process operator.
      await eventually("status reflecting the fresh reports", async () => {
        const web = tableRows(await kubectlOk(plane, ["get", "vrrpgroups"])).find((r) => r.NAME === "web");
        return web?.MASTER === "node-a" ? true : undefined;
      });
      await sleep(1000);
      const before = await resourceVersions("nodestates");
      const objectsBefore = await resourceVersions("vrrpgroups,virtualservices");
      assert.equal(await leader.metric('kubelvs_operator_nodestate_writes_total{operation="update"}'), 0);
      assert.equal(await follower.metric("kubelvs_operator_leader"), 0);

      leader.kill("SIGKILL");
      await leader.wait();
      const took = Date.now();
      await eventually(`${follower.identity} holding the lease`, async () =>
        (await holder()) === follower.identity ? true : undefined,
      );
      await eventually("the new leader reconciled", async () =>
        ((await follower.metric('kubelvs_operator_reconciles_total{controller="render"}')) ?? 0) >= 1
          ? true
          : undefined,
      );
      assert.ok(Date.now() - took < 10_000, `took over after ${Date.now() - took} ms`);
      await sleep(1500);
      assert.deepEqual(await resourceVersions("nodestates"), before, "no NodeState was rewritten");
      assert.deepEqual(
        await resourceVersions("vrrpgroups,virtualservices"),
        objectsBefore,
        "no status was rewritten",
      );
      for (const operation of ["create", "update", "delete"])
        assert.equal(
          await follower.metric(`kubelvs_operator_nodestate_writes_total{operation="${operation}"}`),
          0,
        );
      assert.equal(await follower.metric("kubelvs_operator_leader"), 1);
    });

    test("the new leader acts on changes", async () => {
      const survivor = (await holder()) === "operator-1" ? first : second;
      await kubectlOk(plane, [
        "patch",
        "vrrpgroup",
        "db",
        "--type=merge",
        "-p",
        JSON.stringify({ spec: { priority: { default: 90 } } }),
      ]);
      await eventually("node-c and node-d at priority 90", async () => {
        const s = await nodeStates();
        return ["node-c", "node-d"].every(
          (n) => s.get(n)!.spec.vrrpGroups.find((g) => g.name === "db")?.priority === 90,
        )
          ? true
          : undefined;
      });
      assert.equal(await survivor.metric('kubelvs_operator_nodestate_writes_total{operation="update"}'), 2);
    });

    test("SIGTERM releases the lease and exits 0", async () => {
      const survivor = (await holder()) === "operator-1" ? first : second;
      survivor.kill("SIGTERM");
      assert.equal(await survivor.wait(), 0);
      assert.equal(await holder(), "");
      assert.equal(survivor.logged("leader election: lease released").length, 1);
    });
  });
});
