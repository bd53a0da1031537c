import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { apiServerArgs, etcdArgs, firstServiceIp, kubeconfigYaml, tokenAuthLine, urlHost } from "./config.js";

describe("control plane configuration", () => {
  test("etcd listens on loopback only, without fsync", () => {
    const args = etcdArgs({ dataDir: "/tmp/d/etcd", clientPort: 40001, peerPort: 40002 });
    assert.ok(args.includes("--listen-client-urls=http://127.0.0.1:40001"));
    assert.ok(args.includes("--listen-peer-urls=http://127.0.0.1:40002"));
    assert.ok(args.includes("--initial-cluster=kubelvs-test=http://127.0.0.1:40002"));
    assert.ok(args.includes("--unsafe-no-fsync"));
    assert.ok(args.includes("--data-dir=/tmp/d/etcd"));
  });

  test("the API server gets RBAC, token and service-account auth, and no controller-dependent admission", () => {
    const args = apiServerArgs({
      etcdClientPort: 40001,
      bindAddress: "203.0.113.10",
      advertiseAddress: "203.0.113.10",
      securePort: 40003,
      serviceClusterIpRange: "203.0.113.0/24",
      certDir: "/d/certs",
      caCertFile: "/d/ca.crt",
      servingCertFile: "/d/apiserver.crt",
      servingKeyFile: "/d/apiserver.key",
      tokenAuthFile: "/d/tokens.csv",
      serviceAccountPublicKeyFile: "/d/sa.pub",
      serviceAccountSigningKeyFile: "/d/sa.key",
      extraArgs: ["--v=2"],
    });
    for (const expected of [
      "--etcd-servers=http://127.0.0.1:40001",
      "--bind-address=203.0.113.10",
      "--advertise-address=203.0.113.10",
      "--secure-port=40003",
      "--authorization-mode=Node,RBAC",
      "--token-auth-file=/d/tokens.csv",
      "--client-ca-file=/d/ca.crt",
      "--service-account-key-file=/d/sa.pub",
      "--service-account-signing-key-file=/d/sa.key",
      "--disable-admission-plugins=ServiceAccount",
      "--endpoint-reconciler-type=none",
      "--service-cluster-ip-range=203.0.113.0/24",
    ]) {
      assert.ok(args.includes(expected), `missing ${expected} in ${args.join(" ")}`);
    }
    assert.ok(args.some((a) => a.startsWith("--service-account-issuer=https://")));
    assert.equal(args.at(-1), "--v=2", "extra arguments come last so they can override");
  });

  test("token auth lines quote the groups and refuse separators in fields", () => {
    assert.equal(
      tokenAuthLine("abc", "admin", "admin-uid", ["system:masters", "ops"]),
      'abc,admin,admin-uid,"system:masters,ops"\n',
    );
    assert.throws(() => tokenAuthLine("a,b", "admin", "uid", []), /token "a,b"/);
  });

  test("the kubeconfig embeds the CA and the token under one context", () => {
    const config = parse(
      kubeconfigYaml({
        name: "t",
        server: "https://127.0.0.1:40003",
        caCertPem: "-----PEM-----\n",
        token: "tok",
      }),
    );
    assert.equal(config["current-context"], "t");
    assert.equal(config.clusters[0].cluster.server, "https://127.0.0.1:40003");
    assert.equal(
      Buffer.from(String(config.clusters[0].cluster["certificate-authority-data"]), "base64").toString(),
      "-----PEM-----\n",
    );
    assert.deepEqual(config.users[0], { name: "t", user: { token: "tok" } });
    assert.deepEqual(config.contexts[0].context, { cluster: "t", user: "t", namespace: "default" });
  });

  test("the first service IP is the range's network address plus one", () => {
    assert.equal(firstServiceIp("203.0.113.0/24"), "203.0.113.1");
    assert.equal(firstServiceIp("198.51.100.128/25"), "198.51.100.129");
    assert.equal(firstServiceIp("198.51.100.0/28"), "198.51.100.1");
    assert.throws(() => firstServiceIp("2001:db8::/112"), /expected an IPv4 CIDR/);
  });

  test("IPv6 literals are bracketed in URLs", () => {
    assert.equal(urlHost("2001:db8::10"), "[2001:db8::10]");
    assert.equal(urlHost("127.0.0.1"), "127.0.0.1");
  });
});
