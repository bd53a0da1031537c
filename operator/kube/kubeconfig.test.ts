import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { inClusterAccess, kubeconfigAccess } from "./kubeconfig.js";

describe("kubeconfig loading", () => {
  let dir: string;
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const kubeconfig = (name: string, user: object, cluster: object = {}, extra: object = {}) =>
    file(
      name,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: { server: "https://198.51.100.1:6443", ...cluster } }],
        users: [{ name: "u", user }],
        contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }],
        "current-context": "ctx",
        ...extra,
      }),
    );

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "kubelvs-kubeconfig-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a token, inline CA data, TLS server name and insecure flag", async () => {
    const access = kubeconfigAccess([
      kubeconfig(
        "token.yaml",
        { token: "abc" },
        {
          "certificate-authority-data": Buffer.from("CA PEM").toString("base64"),
          "tls-server-name": "api.example",
          "insecure-skip-tls-verify": true,
        },
      ),
    ]);
    assert.equal(access.server.href, "https://198.51.100.1:6443/");
    assert.match(access.source, /context ctx/);
    const credentials = await access.credentials();
    assert.deepEqual(credentials.headers, { Authorization: "Bearer abc" });
    assert.equal(credentials.tls.ca?.toString(), "CA PEM");
    assert.equal(credentials.tls.servername, "api.example");
    assert.equal(credentials.tls.rejectUnauthorized, false);
  });

  test("client certificate files relative to the kubeconfig, a token file, basic auth", async () => {
    mkdirSync(join(dir, "pki"), { recursive: true });
    file("pki/client.crt", "CERT");
    file("pki/client.key", "KEY");
    file("pki/token", "from-file\n");
    const certs = await kubeconfigAccess([
      kubeconfig("certs.yaml", { "client-certificate": "pki/client.crt", "client-key": "pki/client.key" }),
    ]).credentials();
    assert.equal(certs.tls.cert?.toString(), "CERT");
    assert.equal(certs.tls.key?.toString(), "KEY");
    assert.deepEqual(certs.headers, {});
    const tokenFile = await kubeconfigAccess([
      kubeconfig("tf.yaml", { tokenFile: "pki/token" }),
    ]).credentials();
    assert.deepEqual(tokenFile.headers, { Authorization: "Bearer from-file" });
    const basic = await kubeconfigAccess([
      kubeconfig("basic.yaml", { username: "a", password: "b" }),
    ]).credentials();
    assert.deepEqual(basic.headers, { Authorization: `Basic ${Buffer.from("a:b").toString("base64")}` });
  });

  test("an exec plugin runs once per credential lifetime, with its env and KUBERNETES_EXEC_INFO", async () => {
    const calls = join(dir, "calls");
    const plugin = file(
      "plugin.mjs",
      `#!${process.execPath}
import { appendFileSync } from "node:fs";
appendFileSync(${JSON.stringify(calls)}, process.env.KUBERNETES_EXEC_INFO + "\\n");
const expires = new Date(Date.now() + Number(process.env.LIFETIME_MS)).toISOString();
console.log(JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential",
  status: { token: "exec-" + process.env.TOKEN_SUFFIX, expirationTimestamp: expires } }));
`,
    );
    chmodSync(plugin, 0o755);
    const exec = (lifetimeMs: number) => ({
      exec: {
        apiVersion: "client.authentication.k8s.io/v1",
        command: "./plugin.mjs",
        env: [
          { name: "TOKEN_SUFFIX", value: "t1" },
          { name: "LIFETIME_MS", value: String(lifetimeMs) },
        ],
        provideClusterInfo: true,
      },
    });
    const longLived = kubeconfigAccess([kubeconfig("exec.yaml", exec(3_600_000))]);
    assert.deepEqual((await longLived.credentials()).headers, { Authorization: "Bearer exec-t1" });
    await longLived.credentials();
    let lines = readFileSync(calls, "utf8").trim().split("\n");
    assert.equal(lines.length, 1, "a valid credential is reused");
    const info = JSON.parse(lines[0]!) as { kind: string; spec: { cluster?: { server: string } } };
    assert.equal(info.kind, "ExecCredential");
    assert.equal(info.spec.cluster?.server, "https://198.51.100.1:6443");

    const shortLived = kubeconfigAccess([kubeconfig("exec-short.yaml", exec(1000))]);
    await shortLived.credentials();
    await shortLived.credentials();
    lines = readFileSync(calls, "utf8").trim().split("\n");
    assert.equal(lines.length, 3, "a credential within 30 s of expiry is renewed");
  });

  test("several files merge: the first to name an entry wins, current-context from the first that sets it", async () => {
    const first = file("first.yaml", stringify({ users: [{ name: "u", user: { token: "first" } }] }));
    const second = kubeconfig("second.yaml", { token: "second" });
    const access = kubeconfigAccess([join(dir, "missing.yaml"), first, second]);
    assert.deepEqual((await access.credentials()).headers, { Authorization: "Bearer first" });
  });

  test("what cannot work is refused with a message naming it", () => {
    assert.throws(
      () => kubeconfigAccess([kubeconfig("nocontext.yaml", {}, {}, { "current-context": "other" })]),
      /context other not found/,
    );
    assert.throws(
      () => kubeconfigAccess([kubeconfig("provider.yaml", { "auth-provider": { name: "gcp" } })]),
      /auth-provider gcp is not supported; use an exec credential plugin/,
    );
    assert.throws(
      () => kubeconfigAccess([kubeconfig("proxy.yaml", {}, { "proxy-url": "http://198.51.100.9:3128" })]),
      /proxy-url is not supported/,
    );
    assert.throws(() => kubeconfigAccess([join(dir, "absent.yaml")]), /kubeconfig .*absent\.yaml: ENOENT/);
  });

  test("in-cluster: the service's address from the environment, the service account's CA and token", async () => {
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    const sa = join(dir, "sa");
    mkdirSync(sa);
    writeFileSync(join(sa, "token"), "sa-token");
    writeFileSync(join(sa, "ca.crt"), "SA CA");
    try {
      process.env.KUBERNETES_SERVICE_HOST = "2001:db8::1";
      process.env.KUBERNETES_SERVICE_PORT = "443";
      const access = inClusterAccess(sa);
      assert.equal(access.server.href, "https://[2001:db8::1]/");
      const credentials = await access.credentials();
      assert.deepEqual(credentials.headers, { Authorization: "Bearer sa-token" });
      assert.equal(credentials.tls.ca?.toString(), "SA CA");
      delete process.env.KUBERNETES_SERVICE_HOST;
      assert.throws(() => inClusterAccess(sa), /needs KUBERNETES_SERVICE_HOST/);
    } finally {
      for (const [key, value] of [
        ["KUBERNETES_SERVICE_HOST", saved.host],
        ["KUBERNETES_SERVICE_PORT", saved.port],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});
