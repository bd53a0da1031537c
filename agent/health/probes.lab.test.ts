// Every network probe against real servers in a namespace lab: the probes run in node n1, the
// servers (agent/health/testing/probe-servers.ts) in the client namespace. TCP connect, refused and
// timeout; HTTP status, digest, regex, virtual host, several paths, source address, timeout; HTTPS
// with and without certificate verification (trusted CA, wrong name, untrusted); UDP with and
// without a required reply, reply regex, port unreachable; DNS NOERROR, NXDOMAIN, no server.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import type { HealthCheck } from "../../crds/schema/virtual-service.js";
import { createTestPki, type TestPki } from "../../e2e/control-plane/pki.js";
import { Lab } from "../../e2e/lab/lab.js";
import { missingCommand, missingNetns, tierOptions } from "../../e2e/requirements.js";
import type { ProbeTarget } from "./probe.js";

const SERVERS = fileURLToPath(new URL("./testing/probe-servers.js", import.meta.url));
const RUNNER = fileURLToPath(new URL("./testing/run-probes.js", import.meta.url));
const HELLO_BODY = "hello from kubelvs\n";
const SERVER = "198.51.100.100"; // the lab's client namespace hosts the servers
const SOURCE = "198.51.100.50"; // a second address on n1, for sourceAddress

interface Case {
  name: string;
  check: HealthCheck;
  target: ProbeTarget;
}
interface Result {
  name: string;
  healthy: boolean;
  message: string;
  ms: number;
}

const target = (port: number, timeoutMs = 1000, extra: Partial<ProbeTarget> = {}): ProbeTarget => ({
  address: SERVER,
  port,
  timeoutMs,
  ...extra,
});
const http = (
  paths: NonNullable<HealthCheck["http"]>["paths"],
  extra: Partial<NonNullable<HealthCheck["http"]>> = {},
) => ({ paths, ...extra });

describe(
  "health-check probes against real servers",
  tierOptions(missingNetns(), missingCommand("openssl")),
  () => {
    let lab: Lab;
    let dir: string;
    let pki: TestPki;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "kubelvs-probes-"));
      pki = createTestPki(dir, { ipAddresses: [], dnsNames: ["kubelvs.test"] });
      lab = await Lab.create({ nodes: 1, client: true });
      await lab.ip("n1", "addr", "add", `${SOURCE}/24`, "dev", "eth0");
      const servers = lab.spawnNode("client", SERVERS, [pki.servingCertFile, pki.servingKeyFile]);
      await servers.waitForJson((v) => v.ready === true);
    });
    after(async () => {
      await lab?.teardown();
      rmSync(dir, { recursive: true, force: true });
    });

    async function probe(cases: Case[], trustCa: boolean): Promise<Record<string, Result>> {
      const env = { ...process.env, ...(trustCa ? { NODE_EXTRA_CA_CERTS: pki.caCertFile } : {}) };
      if (!trustCa) delete env.NODE_EXTRA_CA_CERTS;
      const runner = lab.spawn("n1", process.execPath, [RUNNER, JSON.stringify(cases)], { env });
      const exit = await runner.exited;
      assert.equal(exit.code, 0, runner.stderr);
      const results = JSON.parse(runner.lines.join("")) as Result[];
      return Object.fromEntries(results.map((r) => [r.name, r]));
    }

    const expect = (results: Record<string, Result>, name: string, healthy: boolean, message: RegExp) => {
      const result = results[name]!;
      assert.equal(result.healthy, healthy, `${name}: ${result.message}`);
      assert.match(result.message, message, name);
    };

    test("TCP: connected, refused, timed out", async () => {
      const r = await probe(
        [
          { name: "open", check: { type: "TCP" }, target: target(9000) },
          { name: "closed", check: { type: "TCP" }, target: target(9001) },
          // Nobody has this address: ARP never resolves, the connect hangs until the timeout.
          {
            name: "blackhole",
            check: { type: "TCP" },
            target: { address: "198.51.100.77", port: 80, timeoutMs: 300 },
          },
        ],
        false,
      );
      expect(r, "open", true, /^connect 198\.51\.100\.100:9000: connected in [\d.]+ ms$/);
      expect(r, "closed", false, /^connect 198\.51\.100\.100:9001: ECONNREFUSED$/);
      expect(r, "blackhole", false, /^connect 198\.51\.100\.77:80: timeout after 300 ms$/);
      assert.ok(r.blackhole!.ms >= 290 && r.blackhole!.ms < 1500, `blackhole took ${r.blackhole!.ms} ms`);
    });

    test("HTTP: status codes, digest, regex, virtual host, all paths, source address, timeout", async () => {
      const md5 = createHash("md5").update(HELLO_BODY).digest("hex");
      const check = (h: NonNullable<HealthCheck["http"]>): HealthCheck => ({ type: "HTTP", http: h });
      const r = await probe(
        [
          { name: "ok", check: check(http([{ path: "/ok" }])), target: target(8080) },
          { name: "503", check: check(http([{ path: "/fail" }])), target: target(8080) },
          {
            name: "503 expected",
            check: check(http([{ path: "/fail", statusCodes: [503] }])),
            target: target(8080),
          },
          { name: "digest", check: check(http([{ path: "/ok", digest: md5 }])), target: target(8080) },
          {
            name: "wrong digest",
            check: check(http([{ path: "/ok", digest: "0".repeat(32) }])),
            target: target(8080),
          },
          {
            name: "regex",
            check: check(http([{ path: "/ok", bodyRegex: "hello from \\w+" }])),
            target: target(8080),
          },
          {
            name: "wrong regex",
            check: check(http([{ path: "/ok", bodyRegex: "^bye" }])),
            target: target(8080),
          },
          {
            name: "all paths",
            check: check(http([{ path: "/ok" }, { path: "/fail" }])),
            target: target(8080),
          },
          {
            name: "virtual host",
            check: check(
              http([{ path: "/host", bodyRegex: "^www\\.kubelvs\\.test\\n$" }], {
                virtualHost: "www.kubelvs.test",
              }),
            ),
            target: target(8080),
          },
          {
            name: "source address",
            check: check(http([{ path: "/whoami", bodyRegex: `^${SOURCE.replace(/\./g, "\\.")}\\n$` }])),
            target: target(8080, 1000, { sourceAddress: SOURCE }),
          },
          { name: "slow", check: check(http([{ path: "/slow" }])), target: target(8080, 300) },
          { name: "refused", check: check(http([{ path: "/ok" }])), target: target(8081) },
        ],
        false,
      );
      expect(r, "ok", true, /^GET http:\/\/198\.51\.100\.100:8080\/ok: 200$/);
      expect(r, "503", false, /\/fail: status 503, expected 2xx$/);
      expect(r, "503 expected", true, /\/fail: 503$/);
      expect(r, "digest", true, /\/ok: 200, body checked$/);
      expect(r, "wrong digest", false, new RegExp(`body digest ${md5}, expected 0{32}$`));
      expect(r, "regex", true, /body checked/);
      expect(r, "wrong regex", false, /body does not match \/\^bye\/$/);
      expect(r, "all paths", false, /\/fail: status 503/);
      expect(r, "virtual host", true, /body checked/);
      expect(r, "source address", true, /body checked/);
      expect(r, "slow", false, /\/slow: timeout after 300 ms$/);
      expect(r, "refused", false, /ECONNREFUSED$/);
    });

    test("HTTPS: without verification any certificate passes; with it, a trusted CA and the right name are needed", async () => {
      const check = (h: NonNullable<HealthCheck["http"]>): HealthCheck => ({ type: "HTTPS", http: h });
      const cases: Case[] = [
        { name: "no verify", check: check(http([{ path: "/ok" }])), target: target(8443) },
        {
          name: "verify, right name",
          check: check(http([{ path: "/ok" }], { verifyCertificate: true, serverName: "kubelvs.test" })),
          target: target(8443),
        },
        {
          name: "verify, name from virtual host",
          check: check(http([{ path: "/ok" }], { verifyCertificate: true, virtualHost: "kubelvs.test" })),
          target: target(8443),
        },
        {
          name: "verify, wrong name",
          check: check(http([{ path: "/ok" }], { verifyCertificate: true, serverName: "other.test" })),
          target: target(8443),
        },
      ];
      const trusted = await probe(cases, true);
      expect(trusted, "no verify", true, /^GET https:\/\/198\.51\.100\.100:8443\/ok: 200$/);
      expect(trusted, "verify, right name", true, /: 200$/);
      expect(trusted, "verify, name from virtual host", true, /: 200$/);
      expect(trusted, "verify, wrong name", false, /ERR_TLS_CERT_ALTNAME_INVALID/);
      const untrusted = await probe(cases, false);
      expect(untrusted, "no verify", true, /: 200$/);
      expect(
        untrusted,
        "verify, right name",
        false,
        /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/,
      );
    });

    test("UDP: reply required or not, reply regex, port unreachable", async () => {
      const udp = (u: NonNullable<HealthCheck["udp"]>): HealthCheck => ({ type: "UDP", udp: u });
      const r = await probe(
        [
          {
            name: "reply",
            check: udp({ payload: "70696e67", requireReply: true }),
            target: target(5000, 500),
          },
          {
            name: "reply regex",
            check: udp({ payload: "70696e67", replyRegex: "^pong:ping$" }),
            target: target(5000, 500),
          },
          {
            name: "wrong reply",
            check: udp({ payload: "70696e67", replyRegex: "^nope" }),
            target: target(5000, 500),
          },
          { name: "silent, reply required", check: udp({ requireReply: true }), target: target(5001, 300) },
          { name: "silent", check: { type: "UDP" }, target: target(5001, 300) },
          { name: "closed", check: { type: "UDP" }, target: target(5002, 500) },
        ],
        false,
      );
      expect(r, "reply", true, /^udp 198\.51\.100\.100:5000: 9-byte reply$/);
      expect(r, "reply regex", true, /9-byte reply/);
      expect(r, "wrong reply", false, /reply does not match \/\^nope\//);
      expect(r, "silent, reply required", false, /no reply within 300 ms$/);
      expect(r, "silent", true, /no port unreachable within 300 ms$/);
      expect(r, "closed", false, /:5002: port unreachable$/);
      assert.ok(r.closed!.ms < 300, "the ICMP error ends the check at once");
    });

    test("DNS: NOERROR healthy, NXDOMAIN not, no server not", async () => {
      const r = await probe(
        [
          {
            name: "noerror",
            check: { type: "DNS", dns: { name: "ok.example", type: "A" } },
            target: target(53),
          },
          {
            name: "nxdomain",
            check: { type: "DNS", dns: { name: "missing.example", type: "A" } },
            target: target(53),
          },
          { name: "no server", check: { type: "DNS" }, target: target(5002, 500) },
        ],
        false,
      );
      expect(r, "noerror", true, /^dns A ok\.example @198\.51\.100\.100:53: NOERROR, 1 answers$/);
      expect(r, "nxdomain", false, /: NXDOMAIN$/);
      expect(r, "no server", false, /dns SOA \. @198\.51\.100\.100:5002: port unreachable$/);
    });
  },
);
