// Two kubelvs instances in one cluster, on a real kube-apiserver: the unnamed instance (a single
// installation's operator, groups without a kubelvs.io/instance label) and instance "web", each with
// groups selecting the same nodes. Each operator renders only its groups, into its own NodeStates
// (node-a vs web.node-a), holds its own Lease, aggregates status from its own NodeStates only and
// writes status only to its own groups and services (each operator's writes carry its own field
// manager, so managedFields shows who wrote what); deleting a node removes both instances'
// NodeStates, each operator its own; another instance's NodeStates are never touched.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { NodeStateSpec, NodeStateStatus } from "../crds/schema/node-state.js";
import type { Condition } from "../crds/schema/common.js";
import { createLogger, memorySink } from "../core/log.js";
import { missingCommand, tierOptions } from "../e2e/requirements.js";
import { requireControlPlaneBinaries } from "../e2e/control-plane/binaries.js";
import { startControlPlane, type ControlPlane } from "../e2e/control-plane/control-plane.js";
import { applyCrds, kubectlOk } from "../e2e/control-plane/kubectl.js";
import { KubeClient, loadKubeConfig } from "./kube/client.js";
import { NODE_STATES, statusPath } from "./kube/resources.js";
import { Operator } from "./operator.js";
import { applyObjects, eventually, getJson, nodeObject } from "./testing/k8s-helpers.js";

const requirements = [requireControlPlaneBinaries(), missingCommand("openssl", "apt-get install openssl")];

interface ManagedFieldsEntry {
  manager: string;
  operation: string;
  subresource?: string;
}

interface NodeStateObject {
  metadata: {
    name: string;
    uid: string;
    labels?: Record<string, string>;
    managedFields?: ManagedFieldsEntry[];
  };
  spec: NodeStateSpec;
  status?: NodeStateStatus;
}

interface StatusObject {
  metadata: { name: string; namespace?: string; managedFields?: ManagedFieldsEntry[] };
  status?: {
    conditions?: Condition[];
    master?: string;
    nodesReady?: string;
    vrrpGroup?: string;
    nodes?: { name: string; state: string }[];
  };
}

const group = (name: string, instance: string | undefined, vrid: number, vip: string) => ({
  apiVersion: "kubelvs.io/v1alpha1",
  kind: "VrrpGroup",
  metadata: { name, ...(instance === undefined ? {} : { labels: { "kubelvs.io/instance": instance } }) },
  spec: {
    vrid,
    interface: { name: "eth0" },
    nodeSelector: { matchLabels: { role: "lb" } },
    virtualIPs: [{ address: vip }],
  },
});

const service = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: "kubelvs.io/v1alpha1",
  kind: "VirtualService",
  metadata: { name, namespace: "shop" },
  spec: { port: 80, realServers: [{ address: "203.0.113.1", port: 8080 }], ...spec },
});

/** The field managers that wrote an object's status subresource. */
function statusWriters(o: { metadata: { managedFields?: ManagedFieldsEntry[] } }): string[] {
  return (o.metadata.managedFields ?? [])
    .filter((f) => f.subresource === "status")
    .map((f) => f.manager)
    .sort();
}

/** The field managers that wrote an object itself (spec, metadata), not a subresource. */
function objectWriters(o: { metadata: { managedFields?: ManagedFieldsEntry[] } }): string[] {
  return (o.metadata.managedFields ?? [])
    .filter((f) => f.subresource === undefined && f.manager !== "kubectl-client-side-apply")
    .map((f) => f.manager)
    .sort();
}

/** One operator in this process, writing with its own user agent (the API server's field manager). */
class InstanceOperator {
  readonly logs = memorySink();
  readonly operator: Operator;

  constructor(
    plane: ControlPlane,
    readonly instance: string,
    readonly fieldManager: string,
  ) {
    this.operator = new Operator({
      client: new KubeClient(loadKubeConfig(plane.kubeconfigPath), fieldManager),
      log: createLogger({ sink: this.logs, level: "debug" }),
      ...(instance === "" ? {} : { instance }),
      identity: fieldManager,
      leaderElection: {
        namespace: "kubelvs-system",
        name: instance === "" ? "kubelvs-operator" : `kubelvs-operator-${instance}`,
        leaseDurationMs: 3000,
        renewDeadlineMs: 2000,
        retryPeriodMs: 500,
      },
      resyncPeriodMs: 1000,
    });
  }

  /** Log records with this message. */
  logged(msg: string): Record<string, unknown>[] {
    return this.logs.lines.flatMap((line) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      return record.msg === msg ? [record] : [];
    });
  }
}

describe("two kubelvs instances in one cluster", tierOptions(...requirements), () => {
  let plane: ControlPlane;
  let unnamed: InstanceOperator;
  let web: InstanceOperator;

  async function nodeStates(): Promise<Map<string, NodeStateObject>> {
    const list = await getJson<{ items: NodeStateObject[] }>(plane, "nodestates", "--show-managed-fields");
    return new Map(list.items.map((n) => [n.metadata.name, n]));
  }

  const get = (kind: string, name: string, ns?: string) =>
    getJson<StatusObject>(
      plane,
      kind,
      name,
      "--show-managed-fields",
      ...(ns === undefined ? [] : [`--namespace=${ns}`]),
    );

  /** Writes a report into a NodeState's status, as the node's agent of that instance would. */
  async function report(nodeState: string, groups: [string, "Master" | "Backup", number][]) {
    const status: NodeStateStatus = {
      agentVersion: "test",
      lastReportTime: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      masterOf: groups
        .filter(([, s]) => s === "Master")
        .map(([g]) => g)
        .join(","),
      vrrpGroups: groups.map(([name, state, priority]) => ({ name, state, priority })),
    };
    await new KubeClient(loadKubeConfig(plane.kubeconfigPath), "test-agent").mergePatch(
      statusPath(NODE_STATES, nodeState),
      { status },
    );
  }

  before(async () => {
    plane = await startControlPlane();
    await applyCrds(plane);
    await applyObjects(
      plane,
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "kubelvs-system" } },
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } },
      nodeObject("node-a", { role: "lb" }, "198.51.100.11"),
      nodeObject("node-b", { role: "lb" }, "198.51.100.12"),
      nodeObject("node-c", { role: "lb" }, "198.51.100.13"),
      // The same VRID in both instances: each checks its own groups only (they are on separate LANs).
      group("plain", undefined, 51, "198.51.100.200"),
      group("web", "web", 51, "198.51.100.210"),
    );
    await applyObjects(
      plane,
      service("http", { virtualIP: "198.51.100.200" }),
      service("web-http", { virtualIP: "198.51.100.210" }),
      service("nowhere", { virtualIP: "198.51.100.99" }),
    );
    // A third instance's NodeState with no operator running: neither operator may touch it.
    await applyObjects(plane, {
      apiVersion: "kubelvs.io/v1alpha1",
      kind: "NodeState",
      metadata: {
        name: "db.node-c",
        labels: { "app.kubernetes.io/managed-by": "kubelvs-operator", "kubelvs.io/instance": "db" },
      },
      spec: { vrrpGroups: [] },
    });
    unnamed = new InstanceOperator(plane, "", "kubelvs-unnamed");
    web = new InstanceOperator(plane, "web", "kubelvs-web");
    unnamed.operator.start();
    web.operator.start();
  });
  after(async () => {
    try {
      await Promise.all([unnamed?.operator.stop(), web?.operator.stop()]);
    } finally {
      await plane?.stop();
    }
  });

  test("each operator leads its own instance through its own Lease", async () => {
    await eventually("both leaders", () =>
      unnamed.operator.isLeader && web.operator.isLeader ? true : undefined,
    );
    const leases = await getJson<{
      items: { metadata: { name: string }; spec: { holderIdentity: string } }[];
    }>(plane, "leases", "--namespace=kubelvs-system");
    assert.deepEqual(leases.items.map((l) => `${l.metadata.name}=${l.spec.holderIdentity}`).sort(), [
      "kubelvs-operator-web=kubelvs-web",
      "kubelvs-operator=kubelvs-unnamed",
    ]);
  });

  test("each renders only its groups and services, into its own NodeStates", async () => {
    const states = await eventually(
      "three NodeStates per instance, each with its group",
      async () => {
        const s = await nodeStates();
        const ready = ["node-a", "node-b", "node-c", "web.node-a", "web.node-b", "web.node-c"].every(
          (n) => s.get(n)?.spec.vrrpGroups.length === 1,
        );
        return ready ? s : undefined;
      },
      { describe: async () => [...(await nodeStates()).keys()].join(", ") },
    );
    assert.deepEqual([...states.keys()].sort(), [
      "db.node-c",
      "node-a",
      "node-b",
      "node-c",
      "web.node-a",
      "web.node-b",
      "web.node-c",
    ]);
    for (const node of ["node-a", "node-b", "node-c"]) {
      const own = states.get(node)!;
      assert.deepEqual(
        own.spec.vrrpGroups.map((g) => g.name),
        ["plain"],
      );
      assert.deepEqual(
        own.spec.virtualServices?.map((s) => s.name),
        ["http"],
      );
      assert.equal(own.spec.nodeName, node);
      assert.deepEqual(own.metadata.labels, {
        "app.kubernetes.io/managed-by": "kubelvs-operator",
        "kubelvs.io/node": node,
      });
      assert.deepEqual(objectWriters(own), ["kubelvs-unnamed"]);

      const theirs = states.get(`web.${node}`)!;
      assert.deepEqual(
        theirs.spec.vrrpGroups.map((g) => g.name),
        ["web"],
      );
      assert.deepEqual(
        theirs.spec.virtualServices?.map((s) => s.name),
        ["web-http"],
      );
      assert.equal(theirs.spec.nodeName, node, "the spec names the node, not the NodeState");
      assert.deepEqual(theirs.metadata.labels, {
        "app.kubernetes.io/managed-by": "kubelvs-operator",
        "kubelvs.io/instance": "web",
        "kubelvs.io/node": node,
      });
      assert.deepEqual(objectWriters(theirs), ["kubelvs-web"]);
    }
    const byLabel = await kubectlOk(plane, [
      "get",
      "nodestates",
      "-l",
      "kubelvs.io/node=node-a",
      "-o",
      "name",
    ]);
    assert.deepEqual(byLabel.trim().split("\n").sort(), [
      "nodestate.kubelvs.io/node-a",
      "nodestate.kubelvs.io/web.node-a",
    ]);
  });

  test("statuses don't mix: each group's and service's status comes from its instance's NodeStates and operator", async () => {
    await report("node-a", [["plain", "Master", 100]]);
    await report("node-b", [
      ["plain", "Backup", 100],
      // A report about a group of the other instance, in this instance's NodeState: not web's to count.
      ["web", "Master", 255],
    ]);
    await report("web.node-a", [["web", "Backup", 100]]);
    await report("web.node-b", [["web", "Backup", 100]]);
    await report("web.node-c", [["web", "Master", 100]]);

    const plain = await eventually("plain: Master node-a", async () => {
      const g = await get("vrrpgroup", "plain");
      return g.status?.master === "node-a" && g.status.nodesReady === "2/3" ? g : undefined;
    });
    const webGroup = await eventually("web: Master node-c, three nodes ready", async () => {
      const g = await get("vrrpgroup", "web");
      return g.status?.master === "node-c" && g.status.nodesReady === "3/3" ? g : undefined;
    });
    assert.deepEqual(
      webGroup.status?.nodes?.map((n) => `${n.name}:${n.state}`),
      ["node-a:Backup", "node-b:Backup", "node-c:Master"],
      "node-b's report in the unnamed instance's NodeState does not count for web",
    );
    assert.equal(
      webGroup.status?.conditions?.find((c) => c.type === "SplitBrain")?.status,
      "False",
      "no split brain from another instance's report",
    );
    assert.deepEqual(statusWriters(plain), ["kubelvs-unnamed"]);
    assert.deepEqual(statusWriters(webGroup), ["kubelvs-web"]);

    const http = await eventually("http carried by plain, Master node-a", async () => {
      const s = await get("virtualservice", "http", "shop");
      return s.status?.master === "node-a" ? s : undefined;
    });
    assert.equal(http.status?.vrrpGroup, "plain");
    const webHttp = await eventually("web-http carried by web, Master node-c", async () => {
      const s = await get("virtualservice", "web-http", "shop");
      return s.status?.master === "node-c" ? s : undefined;
    });
    assert.equal(webHttp.status?.vrrpGroup, "web");
    // A service attached to no group is the unnamed instance's to report.
    const nowhere = await eventually("nowhere: Accepted=False", async () => {
      const s = await get("virtualservice", "nowhere", "shop");
      return s.status?.conditions?.find((c) => c.type === "Accepted")?.status === "False" ? s : undefined;
    });
    assert.equal(nowhere.status?.conditions?.find((c) => c.type === "Accepted")?.reason, "UnknownVIP");
    assert.deepEqual(statusWriters(http), ["kubelvs-unnamed"]);
    assert.deepEqual(statusWriters(nowhere), ["kubelvs-unnamed"]);
    assert.deepEqual(statusWriters(webHttp), ["kubelvs-web"]);
  });

  test("relabelling a group moves it, its services and its status to the other instance", async () => {
    await applyObjects(plane, group("moving", undefined, 53, "198.51.100.220"));
    await applyObjects(plane, service("moving-http", { virtualIP: "198.51.100.220" }));
    await eventually("moving in node-a's NodeState", async () =>
      (await nodeStates()).get("node-a")?.spec.vrrpGroups.some((g) => g.name === "moving") ? true : undefined,
    );
    await eventually("moving's status from the unnamed instance", async () => {
      const g = await get("vrrpgroup", "moving");
      return g.status?.nodesReady === "0/3" ? true : undefined;
    });

    await kubectlOk(plane, ["label", "vrrpgroup", "moving", "kubelvs.io/instance=web"]);
    const states = await eventually("moving out of node-a's NodeState and into web.node-a's", async () => {
      const s = await nodeStates();
      const inUnnamed = s.get("node-a")!.spec.vrrpGroups.some((g) => g.name === "moving");
      const inWeb = s.get("web.node-a")!.spec.vrrpGroups.some((g) => g.name === "moving");
      return !inUnnamed && inWeb ? s : undefined;
    });
    assert.deepEqual(
      states.get("web.node-a")!.spec.virtualServices?.map((s) => s.name),
      ["moving-http", "web-http"],
    );
    assert.deepEqual(
      states.get("node-a")!.spec.virtualServices?.map((s) => s.name),
      ["http"],
    );
    // The web agents report it; web's operator aggregates it and now writes its status.
    await report("web.node-a", [
      ["moving", "Master", 100],
      ["web", "Backup", 100],
    ]);
    const moved = await eventually("moving: Master node-a, written by web's operator", async () => {
      const g = await get("vrrpgroup", "moving");
      return g.status?.master === "node-a" && statusWriters(g).includes("kubelvs-web") ? g : undefined;
    });
    assert.equal(moved.status?.nodesReady, "1/3");
    const movedService = await eventually("moving-http: Master node-a", async () => {
      const s = await get("virtualservice", "moving-http", "shop");
      return s.status?.master === "node-a" ? s : undefined;
    });
    assert.equal(movedService.status?.vrrpGroup, "moving");
  });

  test("a resync of either operator leaves the other instance's objects alone", async () => {
    await sleep(1500);
    const snapshot = async () => {
      const list = await getJson<{ items: { metadata: { name: string; resourceVersion: string } }[] }>(
        plane,
        "nodestates,vrrpgroups",
      );
      return new Map(list.items.map((o) => [o.metadata.name, o.metadata.resourceVersion]));
    };
    const before = await snapshot();
    // Several full resyncs of both operators (period 1 s); nothing changed, so nothing is written.
    await sleep(3500);
    assert.deepEqual(await snapshot(), before);
  });

  test("deleting a node removes both instances' NodeStates, each operator its own", async () => {
    const before = await nodeStates();
    await kubectlOk(plane, ["delete", "node", "node-c"]);
    const after = await eventually("node-c's NodeStates gone", async () => {
      const s = await nodeStates();
      return !s.has("node-c") && !s.has("web.node-c") ? s : undefined;
    });
    assert.deepEqual([...after.keys()].sort(), ["db.node-c", "node-a", "node-b", "web.node-a", "web.node-b"]);
    assert.equal(
      after.get("db.node-c")!.metadata.uid,
      before.get("db.node-c")!.metadata.uid,
      "another instance's NodeState of the deleted node is that instance's to remove",
    );
    assert.deepEqual(
      unnamed.logged("NodeState deleted: its node is gone").map((r) => r.nodeState),
      ["node-c"],
    );
    assert.deepEqual(
      web.logged("NodeState deleted: its node is gone").map((r) => r.nodeState),
      ["web.node-c"],
    );
    // Node-c no longer counts in either group; the groups' status follows.
    await eventually("web counts two nodes", async () =>
      (await get("vrrpgroup", "web")).status?.nodesReady === "2/2" ? true : undefined,
    );
    await eventually("plain counts two nodes", async () =>
      (await get("vrrpgroup", "plain")).status?.nodesReady === "2/2" ? true : undefined,
    );
  });

  test("a node whose name is another instance's NodeState name: the second to create it says whose it is", async () => {
    // Node "web.node-d" is the unnamed instance's NodeState "web.node-d"; node "node-d" is web's.
    await applyObjects(plane, nodeObject("node-d", { role: "db" }, "198.51.100.14"));
    const taken = await eventually("web.node-d created by web's operator", async () =>
      (await nodeStates()).get("web.node-d"),
    );
    assert.equal(taken.metadata.labels?.["kubelvs.io/instance"], "web");
    await applyObjects(plane, nodeObject("web.node-d", { role: "db" }, "198.51.100.15"));
    const refusal = await eventually("the unnamed operator's refusal", () =>
      unnamed.logs.lines.find((l) =>
        l.includes(
          "NodeState web.node-d (node web.node-d, the unnamed instance) already exists and is not this instance's: it is labelled kubelvs.io/instance=web",
        ),
      ),
    );
    assert.match(refusal, /reconcile failed; retrying/);
    // Web's NodeState was neither overwritten nor deleted.
    const still = (await nodeStates()).get("web.node-d")!;
    assert.equal(still.metadata.uid, taken.metadata.uid);
    assert.deepEqual(objectWriters(still), ["kubelvs-web"]);
  });
});
