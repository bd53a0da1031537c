import { test } from "node:test";
import assert from "node:assert/strict";
import { AgentMetrics } from "./metrics.js";
import { parseListenAddress } from "../core/http-endpoints.js";
import { serveAgentEndpoints } from "./process/http-endpoints.js";

test("metrics carry instance and group labels; state is one-hot", async () => {
  const m = new AgentMetrics("web");
  m.setState("g1", "Master");
  m.transition("g1", "Backup", "Master");
  const counters = {
    group: "g1",
    advertsSent: 5,
    advertsWithheld: 2,
    advertsMissed: 3,
    advertsReceived: 0,
    drops: { "bad-ttl": 1, "wrong-vrid": 0 },
  };
  m.setCounterSource(() => [counters]);
  const text = await m.text();
  assert.match(text, /kubelvs_vrrp_state\{group="g1",state="Master",kubelvs_instance="web"\} 1/);
  assert.match(text, /kubelvs_vrrp_state\{group="g1",state="Backup",kubelvs_instance="web"\} 0/);
  assert.match(
    text,
    /kubelvs_vrrp_transitions_total\{group="g1",from="Backup",to="Master",kubelvs_instance="web"\} 1/,
  );
  assert.match(
    text,
    /kubelvs_vrrp_packets_dropped_total\{group="g1",reason="bad-ttl",kubelvs_instance="web"\} 1/,
  );
  assert.doesNotMatch(text, /wrong-vrid/);
  assert.match(text, /kubelvs_vrrp_adverts_sent_total\{group="g1",kubelvs_instance="web"\} 5/);
  assert.match(text, /kubelvs_vrrp_adverts_withheld_total\{group="g1",kubelvs_instance="web"\} 2/);
  assert.match(text, /kubelvs_vrrp_adverts_missed_total\{group="g1",kubelvs_instance="web"\} 3/);
  counters.advertsSent = 7;
  assert.match(await m.text(), /kubelvs_vrrp_adverts_sent_total\{group="g1",kubelvs_instance="web"\} 7/);
  m.setCounterSource(() => []);
  m.removeGroup("g1");
  assert.doesNotMatch(await m.text(), /group="g1"/);
});

test("the registry is prom-client's own: metrics registered through the package entry land in it", async () => {
  const prom = await import("prom-client");
  const m = new AgentMetrics("web");
  assert.ok(m.registry instanceof prom.Registry);
  new prom.Gauge({ name: "kubelvs_test_gauge", help: "a gauge from elsewhere", registers: [m.registry] }).set(
    3,
  );
  m.setPriority("g1", 150);
  const text = await m.text();
  assert.match(text, /kubelvs_test_gauge\{kubelvs_instance="web"\} 3/);
  assert.match(text, /kubelvs_vrrp_priority\{group="g1",kubelvs_instance="web"\} 150/);
  // and the classes AgentMetrics uses are those prom-client exports
  assert.ok(m.registry.getSingleMetric("kubelvs_vrrp_priority") instanceof prom.Gauge);
  assert.ok(m.registry.getSingleMetric("kubelvs_vrrp_transitions_total") instanceof prom.Counter);
});

test("listen addresses", () => {
  assert.deepEqual(parseListenAddress("127.0.0.1:9650"), { host: "127.0.0.1", port: 9650 });
  assert.deepEqual(parseListenAddress("[::1]:9650"), { host: "::1", port: 9650 });
  assert.deepEqual(parseListenAddress(":9650"), { port: 9650 });
  assert.throws(() => parseListenAddress("9650"), /expected HOST:PORT/);
});

test("/metrics and /healthz over HTTP", async () => {
  const m = new AgentMetrics("web");
  m.setPriority("g1", 150);
  let healthy = true;
  const ep = await serveAgentEndpoints("127.0.0.1:0", { metrics: () => m.text(), healthy: () => healthy });
  try {
    const metrics = await fetch(`http://127.0.0.1:${ep.port}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /kubelvs_vrrp_priority\{group="g1",kubelvs_instance="web"\} 150/);
    assert.equal((await fetch(`http://127.0.0.1:${ep.port}/healthz`)).status, 200);
    healthy = false;
    assert.equal((await fetch(`http://127.0.0.1:${ep.port}/healthz`)).status, 503);
    assert.equal((await fetch(`http://127.0.0.1:${ep.port}/nope`)).status, 404);
  } finally {
    await ep.close();
  }
});
