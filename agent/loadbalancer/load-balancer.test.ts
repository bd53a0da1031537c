// The load balancer against the in-memory IPVS kernel, with Exec health checks driven by files
// (no network): tables from VirtualService specs, failure actions, notify commands, quorum and the
// sorry server, dynamic weights, reloads that keep check state, inactive services, and the agent
// wiring (IPVS opened on demand, VRRP-only without IPVS, sync daemons following VRRP state).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { NodeVirtualService, NodeVrrpGroup } from "../../crds/schema/node-state.js";
import type { HealthCheck, RealServer, VirtualServiceSpec } from "../../crds/schema/virtual-service.js";
import { createLogger, memorySink } from "../../core/log.js";
import { IpvsUnavailableError } from "../../native/ipvs/errors.js";
import { FakeIpvsKernel } from "../../native/ipvs/fake-kernel.js";
import type { IpvsClient } from "../../native/ipvs/client.js";
import { FakeKernelEdge } from "../../native/testing/fake-kernel.js";
import { MemoryOwnershipStore } from "../ipvs/ownership.js";
import { AgentMetrics } from "../metrics.js";
import { Agent } from "../runtime/agent.js";
import { LoadBalancer } from "./load-balancer.js";
import { LoadBalancerMetrics } from "./metrics.js";

const dir = mkdtempSync(join(tmpdir(), "kubelvs-lb-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** An Exec check healthy while `<dir>/<name>` exists. */
const fileCheck = (name: string, extra: Partial<HealthCheck> = {}): HealthCheck => ({
  type: "Exec",
  intervalMillis: 100,
  connectTimeoutMillis: 2000,
  retries: 0,
  exec: { command: ["/bin/sh", "-c", `test -e '${join(dir, name)}'`] },
  ...extra,
});
const up = (name: string) => writeFileSync(join(dir, name), "");
const down = (name: string) => rmSync(join(dir, name), { force: true });

const server = (last: number, extra: Partial<RealServer> = {}): RealServer => ({
  address: `203.0.113.${last}`,
  port: 8080,
  ...extra,
});

const entry = (name: string, spec: Partial<VirtualServiceSpec>, group = "web"): NodeVirtualService => ({
  namespace: "shop",
  name,
  vrrpGroup: group,
  spec: { virtualIP: "198.51.100.10", port: 80, realServers: [], ...spec },
});

async function setup() {
  const kernel = new FakeIpvsKernel();
  const client = await kernel.client();
  const sink = memorySink();
  const agentMetrics = new AgentMetrics("t");
  const lb = new LoadBalancer({
    ipvs: await kernel.client(),
    ownership: new MemoryOwnershipStore(),
    log: createLogger({ sink, level: "debug" }),
    metrics: new LoadBalancerMetrics(agentMetrics.registry),
    options: { retryDelayMs: 50, notifyTimeoutMs: 5000 },
  });
  return { kernel, client, sink, lb, agentMetrics };
}

/** "address:port=weight" of the service's destinations, sorted. */
async function table(client: IpvsClient, address = "198.51.100.10", port = 80): Promise<string[]> {
  const key = { kind: "address", protocol: "tcp", address, port } as const;
  if ((await client.getService(key)) === undefined) return [];
  return (await client.listDestinations(key)).map((d) => `${d.address}:${d.port}=${d.weight}`).sort();
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const same = (a: string[], b: string[]) => JSON.stringify(a) === JSON.stringify(b);

describe("LoadBalancer", () => {
  test("a VirtualService becomes its IPVS service: defaults, weights, forwarding; status reports it", async () => {
    const env = await setup();
    env.lb.apply(
      [
        entry("web", {
          scheduler: "wrr",
          realServers: [server(1, { weight: 3 }), server(2, { port: 80, forwarding: { method: "DR" } })],
        }),
      ],
      new Set(["web"]),
    );
    await env.lb.reconcile();
    const [service] = await env.client.listServices();
    assert.equal(service!.scheduler, "wrr");
    assert.deepEqual(
      (await env.client.listDestinations(service!.key)).map((d) => [
        d.address,
        d.port,
        d.forwarding,
        d.weight,
      ]),
      [
        ["203.0.113.1", 8080, "masq", 3],
        ["203.0.113.2", 80, "route", 1],
      ],
    );
    const [status] = env.lb.status();
    assert.equal(status!.active, true);
    assert.equal(status!.message, "2/2 real servers healthy");
    assert.deepEqual(
      status!.realServers!.map((r) => [r.address, r.port, r.healthy, r.weight, r.message]),
      [
        ["203.0.113.1", 8080, true, 3, "no health check"],
        ["203.0.113.2", 80, true, 1, "no health check"],
      ],
    );
    assert.match(
      await env.agentMetrics.text(),
      /kubelvs_realserver_weight\{virtual_service="shop\/web",real_server="203.0.113.1:8080",kubelvs_instance="t"\} 3/,
    );
    await env.lb.stop();
    env.client.close();
  });

  test("failed checks remove a server (Remove) or set weight 0 (Inhibit); notify commands run; recovery restores", async () => {
    const env = await setup();
    for (const name of ["a1", "a2", "a3"]) up(name);
    const log = join(dir, "notify.log");
    const notify = (event: string) => [
      "/bin/sh",
      "-c",
      `echo ${event} $KUBELVS_REAL_SERVER_ADDRESS >> '${log}'`,
    ];
    env.lb.apply(
      [
        entry("web", {
          failureAction: "Remove",
          realServers: [
            server(1, { healthCheck: fileCheck("a1"), notify: { up: notify("up"), down: notify("down") } }),
            server(2, { healthCheck: fileCheck("a2"), failureAction: "Inhibit" }),
            server(3, { healthCheck: fileCheck("a3") }),
          ],
        }),
      ],
      new Set(["web"]),
    );
    await until("programmed", async () => (await table(env.client)).length === 3);
    down("a1");
    down("a2");
    await until("a1 removed, a2 at weight 0", async () =>
      same(await table(env.client), ["203.0.113.2:8080=0", "203.0.113.3:8080=1"]),
    );
    await until(
      "notify down ran",
      () => existsSync(log) && readFileSync(log, "utf8").includes("down 203.0.113.1"),
    );
    const status = env.lb.status()[0]!;
    assert.equal(status.message, "1/3 real servers healthy");
    assert.match(status.realServers![0]!.message!, /test -e .*a1': exit 1/);
    assert.equal(status.realServers![0]!.healthy, false);
    assert.equal(status.realServers![0]!.weight, undefined);
    assert.equal(status.realServers![1]!.weight, 0);

    up("a1");
    up("a2");
    await until("restored", async () =>
      same(await table(env.client), ["203.0.113.1:8080=1", "203.0.113.2:8080=1", "203.0.113.3:8080=1"]),
    );
    await until("notify up ran", () => readFileSync(log, "utf8").includes("up 203.0.113.1"));
    const events = env.sink
      .records()
      .filter((r) => r.msg === "real server unhealthy" || r.msg === "real server healthy");
    assert.deepEqual(events.map((r) => [r.msg, r.realServer]).sort(), [
      ["real server healthy", "203.0.113.1:8080"],
      ["real server healthy", "203.0.113.2:8080"],
      ["real server unhealthy", "203.0.113.1:8080"],
      ["real server unhealthy", "203.0.113.2:8080"],
    ]);
    await env.lb.stop();
    env.client.close();
  });

  test("quorum lost → the sorry server replaces the remaining servers; regained with hysteresis → back", async () => {
    const env = await setup();
    for (const name of ["q1", "q2", "q3"]) up(name);
    const quorumLog = join(dir, "quorum.log");
    env.lb.apply(
      [
        entry("q", {
          failureAction: "Inhibit",
          sorryServer: { address: "203.0.113.99", inhibit: true },
          quorum: {
            minimumWeight: 2,
            hysteresis: 1,
            up: ["/bin/sh", "-c", `echo up >> '${quorumLog}'`],
            down: ["/bin/sh", "-c", `echo down >> '${quorumLog}'`],
          },
          realServers: [1, 2, 3].map((i) => server(i, { healthCheck: fileCheck(`q${i}`) })),
        }),
      ],
      new Set(["web"]),
    );
    await until("programmed with the inhibited sorry server at weight 0", async () =>
      same(await table(env.client), [
        "203.0.113.1:8080=1",
        "203.0.113.2:8080=1",
        "203.0.113.3:8080=1",
        "203.0.113.99:80=0",
      ]),
    );
    down("q1");
    down("q2"); // healthy weight 1 < 2 - 1? no: 1 is not below 1. Still up.
    await until("q1, q2 inhibited", async () =>
      same(await table(env.client), [
        "203.0.113.1:8080=0",
        "203.0.113.2:8080=0",
        "203.0.113.3:8080=1",
        "203.0.113.99:80=0",
      ]),
    );
    down("q3"); // weight 0: lost
    await until("sorry server in use", async () =>
      same(await table(env.client), [
        "203.0.113.1:8080=0",
        "203.0.113.2:8080=0",
        "203.0.113.3:8080=0",
        "203.0.113.99:80=1",
      ]),
    );
    assert.match(env.lb.status()[0]!.message!, /quorum lost, sorry server 203\.0\.113\.99:80 in use/);
    up("q1");
    up("q2"); // weight 2 < 2 + 1: still lost
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.ok((await table(env.client)).includes("203.0.113.99:80=1"), "hysteresis keeps the sorry server");
    up("q3");
    await until("quorum regained", async () =>
      same(await table(env.client), [
        "203.0.113.1:8080=1",
        "203.0.113.2:8080=1",
        "203.0.113.3:8080=1",
        "203.0.113.99:80=0",
      ]),
    );
    await until(
      "quorum commands ran",
      () => existsSync(quorumLog) && readFileSync(quorumLog, "utf8") === "down\nup\n",
    );
    await env.lb.stop();
    env.client.close();
  });

  test("Exec dynamic weight sets the server's weight from the exit code", async () => {
    const env = await setup();
    const weightFile = join(dir, "weight");
    writeFileSync(weightFile, "7");
    env.lb.apply(
      [
        entry("dyn", {
          realServers: [
            server(1, {
              weight: 1,
              healthCheck: {
                type: "Exec",
                intervalMillis: 100,
                retries: 0,
                exec: { command: ["/bin/sh", "-c", `exit $(cat '${weightFile}')`], dynamicWeight: true },
              },
            }),
          ],
        }),
      ],
      new Set(["web"]),
    );
    await until("weight 5 from exit 7", async () => same(await table(env.client), ["203.0.113.1:8080=5"]));
    writeFileSync(weightFile, "0");
    await until("configured weight on exit 0", async () =>
      same(await table(env.client), ["203.0.113.1:8080=1"]),
    );
    await env.lb.stop();
    env.client.close();
  });

  test("a reload keeps unchanged checks' state; services of absent groups and duplicate keys are inactive", async () => {
    const env = await setup();
    up("r1");
    down("r2");
    const services = (weight: number) => [
      entry("a", {
        realServers: [
          server(1, { weight, healthCheck: fileCheck("r1") }),
          server(2, { healthCheck: fileCheck("r2") }),
        ],
      }),
      entry("b", { realServers: [server(5)] }), // same VIP:port as a
      entry("c", { virtualIP: "198.51.100.20", realServers: [server(6)] }, "db"),
    ];
    env.lb.apply(services(1), new Set(["web"]));
    await until("r2 down", async () => same(await table(env.client), ["203.0.113.1:8080=1"]));
    const checksBefore = env.sink.records().filter((r) => r.msg === "real server unhealthy").length;
    env.lb.apply(services(4), new Set(["web"]));
    await until("weight change applied", async () => same(await table(env.client), ["203.0.113.1:8080=4"]));
    // r2 stayed down across the reload: no second "unhealthy" transition, no flap through healthy.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(env.sink.records().filter((r) => r.msg === "real server unhealthy").length, checksBefore);
    assert.equal(env.sink.records().filter((r) => r.msg === "real server healthy").length, 0);
    const status = Object.fromEntries(env.lb.status().map((s) => [s.name, s]));
    assert.equal(status.a!.active, true);
    assert.deepEqual(
      { active: status.b!.active, message: status.b!.message },
      { active: false, message: "TCP 198.51.100.10:80 is already programmed for shop/a" },
    );
    assert.deepEqual(
      { active: status.c!.active, message: status.c!.message },
      { active: false, message: "VRRP group db is not configured on this node" },
    );
    // Removing the service deletes it (idle: no drain needed).
    env.lb.apply([], new Set(["web"]));
    await until("deleted", async () => (await env.client.listServices()).length === 0);
    await env.lb.stop();
    env.client.close();
  });

  test("drainTimeoutSeconds reaches the reconciler: 0 deletes a removed busy server at once, the default drains it", async () => {
    const env = await setup();
    const services = (servers: number[]) => [
      entry("now", { drainTimeoutSeconds: 0, realServers: servers.map((last) => server(last)) }),
      entry("later", { port: 81, realServers: servers.map((last) => server(last)) }),
    ];
    env.lb.apply(services([1, 2]), new Set(["web"]));
    await env.lb.reconcile();
    for (const port of [80, 81]) {
      const key = { kind: "address", protocol: "tcp", address: "198.51.100.10", port } as const;
      env.kernel.setDestinationCounters(
        key,
        { address: "203.0.113.2", port: 8080 },
        { activeConnections: 3 },
      );
    }
    env.lb.apply(services([1]), new Set(["web"]));
    await env.lb.reconcile();
    assert.deepEqual(await table(env.client, "198.51.100.10", 80), ["203.0.113.1:8080=1"]);
    assert.deepEqual(await table(env.client, "198.51.100.10", 81), [
      "203.0.113.1:8080=1",
      "203.0.113.2:8080=0",
    ]);
    await env.lb.stop();
    env.client.close();
  });
});

describe("Agent with IPVS", () => {
  const group = (extra: Partial<NodeVrrpGroup> = {}): NodeVrrpGroup => ({
    name: "web",
    vrid: 51,
    version: 3,
    advertIntervalMillis: 20,
    interface: { name: "eth0" },
    priority: 255,
    virtualIPs: [{ address: "198.51.100.10", prefixLength: 24 }],
    ...extra,
  });
  async function kernelEdge(): Promise<FakeKernelEdge> {
    const k = new FakeKernelEdge();
    k.links.addLink({ index: 1, name: "lo", linkType: 772 });
    k.links.addLink({ index: 2, name: "eth0" });
    await k.addresses.add({ ifindex: 2, address: "198.51.100.1", prefixLength: 24 });
    return k;
  }

  test("programs the node's virtual services, reports them, runs the sync daemon as Master, leaves the table on stop", async () => {
    const ipvs = new FakeIpvsKernel();
    const observer = await ipvs.client();
    const sink = memorySink();
    const agent = new Agent({
      instance: "t",
      kernel: await kernelEdge(),
      log: createLogger({ sink, level: "debug" }),
      metrics: new AgentMetrics("t"),
      openIpvs: () => ipvs.client(),
      runDir: dir,
    });
    await agent.apply({
      vrrpGroups: [group({ connectionSync: { enabled: true, syncID: 9 } })],
      virtualServices: [entry("web", { realServers: [server(1), server(2)] })],
    });
    await until("programmed", async () => (await table(observer)).length === 2);
    await until("master sync daemon", async () =>
      (await observer.listSyncDaemons()).some(
        (d) => d.state === "master" && d.interface === "eth0" && d.syncId === 9,
      ),
    );
    await until("status active", () => agent.status().virtualServices?.[0]?.active === true);
    assert.deepEqual(agent.status().ipvs, { available: true });
    assert.ok(existsSync(join(dir, "t.ipvs-owned.json")));
    await agent.stop();
    assert.deepEqual(await table(observer), ["203.0.113.1:8080=1", "203.0.113.2:8080=1"], "the table stays");
    assert.deepEqual(await observer.listSyncDaemons(), [], "sync daemons stop with the agent");
    observer.close();
  });

  test(
    "by default the load balancer runs on a thread of its own; where the kernel has no IPVS, the agent says so",
    {
      skip: existsSync("/proc/net/ip_vs")
        ? "this kernel has IPVS (the IPVS machine's tests run the thread against it)"
        : undefined,
    },
    async () => {
      const sink = memorySink();
      const agent = new Agent({
        instance: "t",
        kernel: await kernelEdge(),
        log: createLogger({ sink, level: "debug" }),
        metrics: new AgentMetrics("t"),
        runDir: dir,
      });
      await agent.apply({
        vrrpGroups: [group()],
        virtualServices: [entry("web", { realServers: [server(1)] })],
      });
      const status = await agent.currentStatus();
      assert.equal(status.ipvs?.available, false);
      assert.match(status.ipvs.message!, /IPVS is not available in this kernel/);
      assert.match(status.virtualServices?.[0]?.message ?? "", /not programmed: IPVS is not available/);
      assert.match(await agent.metricsText(), /kubelvs_ipvs_available\{kubelvs_instance="t"\} 0/);
      await agent.stop();
    },
  );

  test("without IPVS the agent runs VRRP only and says so in status and log", async () => {
    const kernel = await kernelEdge();
    const sink = memorySink();
    const agent = new Agent({
      instance: "t",
      kernel,
      log: createLogger({ sink, level: "debug" }),
      metrics: new AgentMetrics("t"),
      openIpvs: () => Promise.reject(new IpvsUnavailableError(new Error("ENOENT"))),
      runDir: dir,
    });
    await agent.apply({
      vrrpGroups: [group()],
      virtualServices: [entry("web", { realServers: [server(1)] })],
    });
    await until("VRRP Master", () => agent.status().groups[0]?.state === "Master");
    const status = agent.status();
    assert.equal(status.ipvs?.available, false);
    assert.match(status.ipvs.message!, /IPVS is not available in this kernel/);
    assert.equal(status.virtualServices?.[0]?.active, false);
    assert.match(status.virtualServices[0].message!, /not programmed: IPVS is not available/);
    assert.equal(sink.records().filter((r) => /running VRRP only/.test(String(r.msg))).length, 1);
    await agent.stop();
  });
});
