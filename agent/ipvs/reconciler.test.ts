// The reconciler against the in-memory IPVS kernel (a real IpvsClient over the fake netlink
// transport): batching, ownership and adoption across restarts, drift repair, per-operation errors,
// drains, and that a one-weight change is one kernel write.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createLogger, memorySink } from "../../core/log.js";
import { IPVS_CMD_SET_DEST } from "../../native/ipvs/constants.js";
import type { IpvsControl } from "../../native/ipvs/control.js";
import { FakeIpvsKernel } from "../../native/ipvs/fake-kernel.js";
import { serviceKeyId } from "../../native/ipvs/model.js";
import { desiredService, type DesiredService, type DesiredTable } from "./desired.js";
import {
  FileOwnershipStore,
  MemoryOwnershipStore,
  ownershipFilePath,
  type OwnershipStore,
} from "./ownership.js";
import { IpvsReconciler } from "./reconciler.js";
import { destination, service, tcp } from "./test-fixtures.js";

const table = (...services: DesiredService[]): DesiredTable => new Map(services.map((s) => [s.id, s]));

const WEB = tcp("198.51.100.10", 80);
const web = (weights: number[] = [1, 1], drainTimeoutMs?: number) =>
  desiredService(
    "ns/web",
    service(WEB),
    weights.map((weight, i) => destination(`203.0.113.${i + 1}`, { weight })),
    { drainTimeoutMs },
  );

async function setup(
  options: { ownership?: OwnershipStore; kernel?: FakeIpvsKernel; drainTimeoutMs?: number } = {},
) {
  const kernel = options.kernel ?? new FakeIpvsKernel();
  const client = await kernel.client();
  const sink = memorySink();
  let now = 0;
  const reconciler = new IpvsReconciler({
    ipvs: client,
    ownership: options.ownership ?? new MemoryOwnershipStore(),
    log: createLogger({ sink, level: "debug" }),
    drainTimeoutMs: options.drainTimeoutMs ?? 60_000,
    drainPollMs: 10,
    retryDelayMs: 10,
    now: () => now,
  });
  return {
    kernel,
    client,
    sink,
    reconciler,
    advance: (ms: number) => void (now += ms),
    close: async () => {
      await reconciler.stop();
      client.close();
    },
  };
}

type View = Record<string, { scheduler: string; destinations: string[] }>;

async function view(client: IpvsControl): Promise<View> {
  const services = await client.listServices();
  return Object.fromEntries(
    await Promise.all(
      services.map(async (s): Promise<[string, View[string]]> => [
        serviceKeyId(s.key),
        {
          scheduler: s.scheduler,
          destinations: (await client.listDestinations(s.key))
            .map((d) => `${d.address}:${d.port}=${d.weight}`)
            .sort(),
        },
      ]),
    ),
  );
}

const logs = (sink: ReturnType<typeof memorySink>, msg: string) =>
  sink.records().filter((r) => r.msg === msg);

describe("IpvsReconciler", () => {
  test("programs from empty in batches and records ownership; a one-weight change is one SET_DEST", async () => {
    const env = await setup();
    env.reconciler.setDesired(table(web()));
    const first = await env.reconciler.reconcile();
    assert.equal(first.kind, "full");
    assert.equal(first.operations, 3);
    assert.deepEqual(await view(env.client), {
      [serviceKeyId(WEB)]: { scheduler: "wlc", destinations: ["203.0.113.1:80=1", "203.0.113.2:80=1"] },
    });
    assert.ok(env.reconciler.serviceState(serviceKeyId(WEB)).programmed);

    env.kernel.commands.length = 0;
    env.reconciler.setDesired(table(web([1, 7])), [serviceKeyId(WEB)]);
    const change = await env.reconciler.reconcile();
    assert.deepEqual(
      { kind: change.kind, operations: change.operations },
      { kind: "incremental", operations: 1 },
    );
    assert.deepEqual(env.kernel.commands, [IPVS_CMD_SET_DEST], "one kernel write, no read");
    await env.close();
  });

  test("other tools' services survive; a conflicting key is reported, not taken", async () => {
    const kernel = new FakeIpvsKernel();
    const other = await kernel.client();
    const foreign = tcp("198.51.100.99", 443);
    await other.addService(service(foreign, { scheduler: "rr" }));
    await other.addDestination(foreign, destination("203.0.113.50", { port: 443 }));
    await other.addService(service(WEB, { scheduler: "rr" })); // same key as ours, other settings
    const env = await setup({ kernel });
    env.reconciler.setDesired(table(web()));
    await env.reconciler.reconcile();
    const state = env.reconciler.serviceState(serviceKeyId(WEB));
    assert.deepEqual(state, { programmed: false, conflict: true });
    assert.deepEqual(await view(other), {
      [serviceKeyId(foreign)]: { scheduler: "rr", destinations: ["203.0.113.50:443=1"] },
      [serviceKeyId(WEB)]: { scheduler: "rr", destinations: [] },
    });
    assert.equal(
      logs(env.sink, "an IPVS service with this key exists and was not created by kubelvs; leaving it alone")
        .length,
      1,
    );
    await env.close();
    other.close();
  });

  test("a restart adopts its own services through the ownership file: no operation at all", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kubelvs-owned-"));
    try {
      const path = ownershipFilePath(dir, "lb");
      const kernel = new FakeIpvsKernel();
      const first = await setup({ kernel, ownership: new FileOwnershipStore(path) });
      first.reconciler.setDesired(table(web()));
      await first.reconciler.reconcile();
      await first.close();
      assert.deepEqual(JSON.parse(readFileSync(path, "utf8")), { version: 1, services: [serviceKeyId(WEB)] });

      kernel.commands.length = 0;
      const second = await setup({ kernel, ownership: new FileOwnershipStore(path) });
      second.reconciler.setDesired(table(web()));
      const pass = await second.reconciler.reconcile();
      assert.equal(pass.operations, 0);
      assert.ok(second.reconciler.serviceState(serviceKeyId(WEB)).programmed);
      // Reads only: one service dump and one destination dump.
      assert.ok(
        kernel.commands.every((c) => c === 4 || c === 8),
        `writes: ${kernel.commands.join(",")}`,
      );

      // The configuration dropped the service while the agent was down: the record says it is ours.
      const third = await setup({ kernel, ownership: new FileOwnershipStore(path) });
      third.reconciler.setDesired(new Map());
      await third.reconciler.reconcile();
      assert.deepEqual(await view(third.client), {});
      assert.deepEqual(JSON.parse(readFileSync(path, "utf8")), { version: 1, services: [] });
      await second.close();
      await third.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("without a record, a service exactly matching the configuration is adopted; destinations are reconciled", async () => {
    const kernel = new FakeIpvsKernel();
    const other = await kernel.client();
    await other.addService(service(WEB));
    await other.addDestination(WEB, destination("203.0.113.1", { weight: 4 }));
    const env = await setup({ kernel });
    env.reconciler.setDesired(table(web()));
    const pass = await env.reconciler.reconcile();
    assert.equal(pass.operations, 2); // edit .1's weight, add .2
    assert.equal(logs(env.sink, "adopted an existing IPVS service matching the configuration").length, 1);
    assert.deepEqual((await view(other))[serviceKeyId(WEB)]!.destinations, [
      "203.0.113.1:80=1",
      "203.0.113.2:80=1",
    ]);
    await env.close();
    other.close();
  });

  test("drift made by hand is found on the next full pass, repaired and logged", async () => {
    const env = await setup();
    env.reconciler.setDesired(table(web([2, 3])));
    await env.reconciler.reconcile();
    const hand = await env.kernel.client();
    await hand.deleteDestination(WEB, { address: "203.0.113.1", port: 80 });
    await hand.editDestination(WEB, destination("203.0.113.2", { weight: 9 }));
    await hand.addDestination(WEB, destination("203.0.113.77"));
    env.reconciler.resyncSoon();
    const pass = await env.reconciler.reconcile();
    assert.equal(pass.kind, "full");
    assert.equal(pass.driftRepaired, 3);
    assert.deepEqual((await view(hand))[serviceKeyId(WEB)]!.destinations, [
      "203.0.113.1:80=2",
      "203.0.113.2:80=3",
    ]);
    const [drift] = logs(env.sink, "IPVS table changed outside kubelvs; repairing");
    assert.equal(drift!.service, "TCP 198.51.100.10:80");
    assert.equal(
      drift!.changes,
      "real server 203.0.113.1:80 deleted; real server 203.0.113.2:80 weight 3 → 9; real server 203.0.113.77:80 added",
    );

    await hand.deleteService(WEB);
    env.reconciler.resyncSoon();
    await env.reconciler.reconcile();
    assert.deepEqual((await view(hand))[serviceKeyId(WEB)]!.destinations, [
      "203.0.113.1:80=2",
      "203.0.113.2:80=3",
    ]);
    assert.equal(
      logs(env.sink, "IPVS table changed outside kubelvs; repairing").at(-1)!.changes,
      "service deleted",
    );
    await env.close();
    hand.close();
  });

  test("a failing operation is reported with its object and errno, the rest still applies, and it is retried", async () => {
    const env = await setup();
    const broken = desiredService("ns/bad", service(tcp("198.51.100.20", 80), { scheduler: "nope" }), [
      destination("203.0.113.9"),
    ]);
    env.reconciler.setDesired(table(web(), broken));
    const pass = await env.reconciler.reconcile();
    assert.equal(pass.failed, 2); // the add-service and its destination
    assert.ok(env.reconciler.serviceState(serviceKeyId(WEB)).programmed);
    const state = env.reconciler.serviceState(broken.id);
    assert.equal(state.programmed, false);
    assert.match(state.error!, /TCP 198\.51\.100\.20:80: E(NOENT|SRCH)/);
    const failure = logs(env.sink, "IPVS operation failed")[0]!;
    assert.equal(failure.operation, "add service TCP 198.51.100.20:80");
    assert.equal(failure.code, "ENOENT");
    assert.equal(failure.virtualService, "ns/bad");

    // Fixed configuration: the retry (or the change) creates it.
    const fixed = desiredService("ns/bad", service(tcp("198.51.100.20", 80), { scheduler: "rr" }), [
      destination("203.0.113.9"),
    ]);
    env.reconciler.setDesired(table(web(), fixed), [fixed.id]);
    await env.reconciler.reconcile();
    assert.deepEqual(env.reconciler.serviceState(fixed.id), { programmed: true, conflict: false });
    await env.close();
  });

  test("removed real servers drain: weight 0 while connections last, then deleted", async () => {
    const env = await setup({ drainTimeoutMs: 60_000 });
    env.reconciler.setDesired(table(web([1, 1])));
    await env.reconciler.reconcile();
    env.kernel.setDestinationCounters(WEB, { address: "203.0.113.2", port: 80 }, { activeConnections: 2 });
    env.reconciler.resyncSoon(); // read the counts
    await env.reconciler.reconcile();
    env.reconciler.setDesired(table(web([1])), [serviceKeyId(WEB)]);
    await env.reconciler.reconcile();
    assert.deepEqual((await view(env.client))[serviceKeyId(WEB)]!.destinations, [
      "203.0.113.1:80=1",
      "203.0.113.2:80=0",
    ]);
    assert.equal(logs(env.sink, "draining removed real server")[0]!.realServer, "203.0.113.2:80");

    env.kernel.setDestinationCounters(WEB, { address: "203.0.113.2", port: 80 }, { activeConnections: 0 });
    // The drain poll re-reads the service and the next pass deletes the idle server.
    const deadline = Date.now() + 2000;
    while ((await view(env.client))[serviceKeyId(WEB)]!.destinations.length !== 1) {
      assert.ok(Date.now() < deadline, "drained server not deleted");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await env.close();
  });

  test("a server that became busy after the last full read still drains: removals re-read the service first", async () => {
    const env = await setup({ drainTimeoutMs: 60_000 });
    const id = serviceKeyId(WEB);
    env.reconciler.setDesired(table(web([1, 1])));
    await env.reconciler.reconcile();
    // Connections arrive; no full pass reads them before the server is removed.
    env.kernel.setDestinationCounters(WEB, { address: "203.0.113.2", port: 80 }, { activeConnections: 1 });
    env.reconciler.setDesired(table(web([1])), [id]);
    const pass = await env.reconciler.reconcile();
    assert.equal(pass.kind, "incremental");
    assert.deepEqual((await view(env.client))[id]!.destinations, ["203.0.113.1:80=1", "203.0.113.2:80=0"]);
    await env.close();
  });

  test("a drain that outlives its timeout ends by deletion", async () => {
    const env = await setup({ drainTimeoutMs: 1000 });
    env.reconciler.setDesired(table(web([1, 1])));
    await env.reconciler.reconcile();
    env.kernel.setDestinationCounters(WEB, { address: "203.0.113.2", port: 80 }, { activeConnections: 5 });
    env.reconciler.resyncSoon();
    await env.reconciler.reconcile();
    env.reconciler.setDesired(table(web([1])), [serviceKeyId(WEB)]);
    await env.reconciler.reconcile();
    env.advance(1000);
    env.reconciler.setDesired(table(web([1])), [serviceKeyId(WEB)]);
    await env.reconciler.reconcile();
    assert.deepEqual((await view(env.client))[serviceKeyId(WEB)]!.destinations, ["203.0.113.1:80=1"]);
    await env.close();
  });

  test("a service's own drain timeout bounds its drains; once removed it drains with the one it last had", async () => {
    const env = await setup({ drainTimeoutMs: 60_000 });
    const id = serviceKeyId(WEB);
    const busy = async (address: string, activeConnections: number) => {
      env.kernel.setDestinationCounters(WEB, { address, port: 80 }, { activeConnections });
      env.reconciler.resyncSoon(); // read the counts
      await env.reconciler.reconcile();
    };
    env.reconciler.setDesired(table(web([1, 1], 2000)));
    await env.reconciler.reconcile();
    await busy("203.0.113.2", 5);
    env.reconciler.setDesired(table(web([1], 2000)), [id]);
    await env.reconciler.reconcile();
    assert.deepEqual(
      logs(env.sink, "draining removed real server").map((r) => [
        r.realServer,
        r.virtualService,
        r.timeoutMs,
      ]),
      [["203.0.113.2:80", "ns/web", 2000]],
    );
    env.advance(1999);
    env.reconciler.setDesired(table(web([1], 2000)), [id]);
    await env.reconciler.reconcile();
    assert.deepEqual((await view(env.client))[id]!.destinations, ["203.0.113.1:80=1", "203.0.113.2:80=0"]);
    env.advance(1);
    env.reconciler.setDesired(table(web([1], 2000)), [id]);
    await env.reconciler.reconcile();
    assert.deepEqual((await view(env.client))[id]!.destinations, ["203.0.113.1:80=1"]);

    // The VirtualService is deleted: the desired table no longer has its timeout, the reconciler does.
    await busy("203.0.113.1", 3);
    env.reconciler.setDesired(table(), [id]);
    await env.reconciler.reconcile();
    assert.deepEqual(
      logs(env.sink, "draining removed IPVS service").map((r) => r.timeoutMs),
      [2000],
    );
    assert.deepEqual((await view(env.client))[id]!.destinations, ["203.0.113.1:80=0"]);
    env.advance(2000);
    env.reconciler.setDesired(table(), [id]);
    await env.reconciler.reconcile();
    assert.deepEqual(await view(env.client), {});
    await env.close();
  });

  test("a drain timeout of 0 deletes a removed real server with connections at once", async () => {
    const env = await setup({ drainTimeoutMs: 60_000 });
    const id = serviceKeyId(WEB);
    env.reconciler.setDesired(table(web([1, 1], 0)));
    await env.reconciler.reconcile();
    env.kernel.setDestinationCounters(WEB, { address: "203.0.113.2", port: 80 }, { activeConnections: 9 });
    env.reconciler.resyncSoon();
    await env.reconciler.reconcile();
    env.reconciler.setDesired(table(web([1], 0)), [id]);
    await env.reconciler.reconcile();
    assert.deepEqual((await view(env.client))[id]!.destinations, ["203.0.113.1:80=1"]);
    assert.deepEqual(logs(env.sink, "draining removed real server"), []);
    await env.close();
  });
});
