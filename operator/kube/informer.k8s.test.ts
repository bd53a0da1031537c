// An informer that loses its API server long enough for etcd to compact away its resourceVersion
// resumes with a watch the server answers 410 Gone, re-lists, and ends up with the same cache as a
// fresh list: changes made meanwhile (updates, deletes, adds) are all seen. The control plane here
// serves watches from etcd (no watch cache) and compacts every two seconds, so the 410 is real.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createLogger, memorySink } from "../../core/log.js";
import { requireControlPlaneBinaries } from "../../e2e/control-plane/binaries.js";
import { startControlPlane, type ControlPlane } from "../../e2e/control-plane/control-plane.js";
import { missingCommand, tierOptions } from "../../e2e/requirements.js";
import { eventually } from "../testing/k8s-helpers.js";
import { Relay } from "../testing/relay.js";
import { KubeClient, loadKubeConfig } from "./client.js";
import { Informer } from "./informer.js";
import { collectionPath, objectPath, type KubeObject, type ResourceType } from "./resources.js";

const requirements = [requireControlPlaneBinaries(), missingCommand("openssl", "apt-get install openssl")];
const CONFIG_MAPS: ResourceType = {
  group: "",
  version: "v1",
  kind: "ConfigMap",
  plural: "configmaps",
  namespaced: true,
};

type ConfigMap = KubeObject & { data?: Record<string, string> };

describe("an informer whose resourceVersion was compacted away", tierOptions(...requirements), () => {
  let plane: ControlPlane;
  let relay: Relay;
  let admin: KubeClient;

  before(async () => {
    plane = await startControlPlane({
      extraApiServerArgs: ["--watch-cache=false", "--etcd-compaction-interval=2s"],
    });
    admin = new KubeClient(loadKubeConfig(plane.kubeconfigPath));
    await admin.create("/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "gone" },
    });
    const server = new URL(plane.server);
    relay = new Relay({ host: server.hostname, port: Number(server.port) });
    await relay.up();
  });
  after(async () => {
    await relay?.down();
    await plane?.stop();
  });

  test("re-lists after 410 Gone and catches up with every change it missed", async () => {
    const configMap = (name: string, value: string) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name },
      data: { value },
    });
    for (const name of ["keep", "change", "remove"])
      await admin.create(collectionPath(CONFIG_MAPS, "gone"), configMap(name, "1"));

    const logs = memorySink();
    const deleted: string[] = [];
    const access = loadKubeConfig(plane.kubeconfigPath);
    const informer = new Informer<ConfigMap>({
      client: new KubeClient({ ...access, server: new URL(`https://127.0.0.1:${relay.port}`) }),
      resource: CONFIG_MAPS,
      namespace: "gone",
      log: createLogger({ sink: logs, level: "debug" }),
      backoff: { initialMs: 200, maxMs: 1000 },
    });
    informer.addHandlers({ onDelete: (o) => deleted.push(o.metadata.name) });
    informer.start();
    try {
      await informer.waitForSync();
      assert.equal(informer.size, 3);

      await relay.down();
      await admin.mergePatch(objectPath(CONFIG_MAPS, "change", "gone"), { data: { value: "2" } });
      await admin.delete(objectPath(CONFIG_MAPS, "remove", "gone"));
      await admin.create(collectionPath(CONFIG_MAPS, "gone"), configMap("added", "1"));
      // Many more revisions, then time for the API server to compact them.
      for (let i = 0; i < 20; i++)
        await admin.mergePatch(objectPath(CONFIG_MAPS, "keep", "gone"), { data: { value: String(i) } });
      await sleep(5000);
      await relay.up();

      await eventually(
        "the cache caught up",
        () =>
          informer.get("change", "gone")?.data?.value === "2" &&
          informer.get("added", "gone") !== undefined &&
          informer.get("remove", "gone") === undefined &&
          informer.get("keep", "gone")?.data?.value === "19"
            ? true
            : undefined,
        { timeoutMs: 30_000, describe: () => logs.lines.slice(-5).join("\n") },
      );
      assert.deepEqual(deleted, ["remove"], "the delete it missed is reported once the list shows it");
      assert.ok(
        logs.records().some((r) => r.msg === "watch resource version expired; re-listing"),
        `a 410 answer made it re-list: ${logs.lines.slice(-8).join("\n")}`,
      );
    } finally {
      await informer.stop();
    }
  });
});
