// The Kubernetes client against a real kube-apiserver: each kind of kubeconfig credential
// authenticates (admin token, client certificate signed by the cluster CA, exec plugin), API errors
// carry their status and reason, and an informer pages through a large list and then follows the
// watch.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { createLogger, memorySink } from "../../core/log.js";
import { requireControlPlaneBinaries } from "../../e2e/control-plane/binaries.js";
import { startControlPlane, type ControlPlane } from "../../e2e/control-plane/control-plane.js";
import { missingCommand, tierOptions } from "../../e2e/requirements.js";
import { eventually } from "../testing/k8s-helpers.js";
import { KubeApiError, KubeClient, isConflict, isNotFound, loadKubeConfig } from "./client.js";
import { Informer } from "./informer.js";
import { objectPath, type KubeObject, type ResourceType } from "./resources.js";

const requirements = [requireControlPlaneBinaries(), missingCommand("openssl", "apt-get install openssl")];
const CONFIG_MAPS: ResourceType = {
  group: "",
  version: "v1",
  kind: "ConfigMap",
  plural: "configmaps",
  namespaced: true,
};

interface Whoami {
  status: { userInfo: { username: string; groups?: string[] } };
}

describe("the Kubernetes client on a real kube-apiserver", tierOptions(...requirements), () => {
  let plane: ControlPlane;
  let dir: string;
  let admin: KubeClient;

  const whoami = (client: KubeClient) =>
    client.create<Whoami>("/apis/authentication.k8s.io/v1/selfsubjectreviews", {
      apiVersion: "authentication.k8s.io/v1",
      kind: "SelfSubjectReview",
    });

  function kubeconfig(name: string, user: object): string {
    const path = join(dir, `${name}.yaml`);
    writeFileSync(
      path,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          { name: "test", cluster: { server: plane.server, "certificate-authority": plane.caCertFile } },
        ],
        users: [{ name, user }],
        contexts: [{ name: "test", context: { cluster: "test", user: name } }],
        "current-context": "test",
      }),
    );
    return path;
  }

  before(async () => {
    plane = await startControlPlane();
    dir = mkdtempSync(join(tmpdir(), "kubelvs-client-"));
    admin = new KubeClient(loadKubeConfig(plane.kubeconfigPath));
    await admin.create("/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "cm" },
    });
  });
  after(async () => {
    await plane?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("a client certificate signed by the cluster CA authenticates as its subject", async () => {
    const key = join(dir, "client.key");
    const csr = join(dir, "client.csr");
    const cert = join(dir, "client.crt");
    const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
    openssl(
      "req",
      "-new",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      csr,
      "-subj",
      "/O=kubelvs-testers/CN=cert-user",
    );
    openssl(
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      plane.caCertFile,
      "-CAkey",
      plane.caKeyFile,
      "-CAcreateserial",
      "-out",
      cert,
      "-days",
      "1",
    );
    const client = new KubeClient(
      loadKubeConfig(kubeconfig("cert-user", { "client-certificate": cert, "client-key": key })),
    );
    const review = await whoami(client);
    assert.equal(review.status.userInfo.username, "cert-user");
    assert.ok(review.status.userInfo.groups?.includes("kubelvs-testers"));
  });

  test("an exec credential plugin's token authenticates", async () => {
    const plugin = join(dir, "plugin.mjs");
    writeFileSync(
      plugin,
      `#!${process.execPath}\nconsole.log(JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status: { token: ${JSON.stringify(plane.adminToken)} } }));\n`,
    );
    chmodSync(plugin, 0o755);
    const client = new KubeClient(
      loadKubeConfig(
        kubeconfig("exec-user", { exec: { apiVersion: "client.authentication.k8s.io/v1", command: plugin } }),
      ),
    );
    assert.equal((await whoami(client)).status.userInfo.username, "kubelvs-admin");
  });

  test("errors carry the method, path, HTTP status and the server's reason", async () => {
    const missing = objectPath(CONFIG_MAPS, "absent", "cm");
    const notFound = await admin.get(missing).catch((e: unknown) => e);
    assert.ok(notFound instanceof KubeApiError);
    assert.ok(isNotFound(notFound));
    assert.equal(notFound.reason, "NotFound");
    assert.match(
      notFound.message,
      /^GET \/api\/v1\/namespaces\/cm\/configmaps\/absent: HTTP 404 NotFound: configmaps "absent" not found/,
    );

    const body = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "once" } };
    await admin.create("/api/v1/namespaces/cm/configmaps", body);
    const exists = await admin.create("/api/v1/namespaces/cm/configmaps", body).catch((e: unknown) => e);
    assert.ok(isConflict(exists) && (exists as KubeApiError).reason === "AlreadyExists");

    const failedTest = await admin
      .jsonPatch(objectPath(CONFIG_MAPS, "once", "cm"), [
        { op: "test", path: "/metadata/name", value: "other" },
      ])
      .catch((e: unknown) => e);
    assert.ok(failedTest instanceof KubeApiError);
    assert.equal(failedTest.status, 422, failedTest.message);

    const unreachable = new KubeClient({ ...admin.access, server: new URL("https://127.0.0.1:1") });
    const refused = await unreachable.get("/version").catch((e: unknown) => e);
    assert.ok(refused instanceof KubeApiError);
    assert.deepEqual([refused.status, refused.reason], [0, "ECONNREFUSED"]);
  });

  test("an informer pages through the list, then follows adds, updates and deletes", async () => {
    for (let i = 0; i < 23; i++)
      await admin.create("/api/v1/namespaces/cm/configmaps", {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `page-${i}` },
        data: { i: String(i) },
      });
    const seen: string[] = [];
    const logs = memorySink();
    const informer = new Informer<KubeObject & { data?: Record<string, string> }>({
      client: admin,
      resource: CONFIG_MAPS,
      namespace: "cm",
      pageSize: 5,
      log: createLogger({ sink: logs }),
    });
    informer.addHandlers({
      onAdd: (o) => seen.push(`add ${o.metadata.name}`),
      onUpdate: (_old, o) => seen.push(`update ${o.metadata.name} ${o.data?.i}`),
      onDelete: (o) => seen.push(`delete ${o.metadata.name}`),
    });
    informer.start();
    try {
      await informer.waitForSync();
      assert.equal(informer.size, 24, "23 pages' worth and the one from the previous test");
      assert.equal(seen.filter((s) => s.startsWith("add ")).length, 24);
      assert.equal(informer.get("page-7", "cm")?.metadata.name, "page-7");
      await admin.mergePatch(objectPath(CONFIG_MAPS, "page-7", "cm"), { data: { i: "seven" } });
      await admin.delete(objectPath(CONFIG_MAPS, "page-8", "cm"));
      await admin.create("/api/v1/namespaces/cm/configmaps", {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "late" },
      });
      await eventually("the watch events", () =>
        seen.includes("update page-7 seven") && seen.includes("delete page-8") && seen.includes("add late")
          ? true
          : undefined,
      );
      assert.equal(informer.size, 24);
      assert.ok(!("managedFields" in informer.get("late", "cm")!.metadata), "managedFields are not cached");
    } finally {
      await informer.stop();
    }
  });
});
