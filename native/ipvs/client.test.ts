// IpvsClient end to end over the real netlink connection and codec, against the in-memory kernel.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NetlinkConnection } from "../netlink/connection.js";
import { decodeMessages } from "../netlink/message.js";
import { FakeNetlinkTransport } from "../testing/fake-netlink.js";
import { IpvsClient } from "./client.js";
import { IPVS_CMD_NEW_DEST, IPVS_CMD_NEW_SERVICE } from "./constants.js";
import { IpvsOperationError, IpvsUnavailableError } from "./errors.js";
import { FakeIpvsKernel } from "./fake-kernel.js";
import { NO_SERVICE_FLAGS, type IpvsDestination, type IpvsService, type ServiceKey } from "./model.js";
import type { IpvsOperation } from "./requests.js";

const web: ServiceKey = { kind: "address", protocol: "tcp", address: "198.51.100.254", port: 80 };
const webService: IpvsService = {
  key: web,
  scheduler: "wlc",
  flags: { ...NO_SERVICE_FLAGS, persistent: true },
  timeout: 300,
  netmask: "255.255.255.0",
};
const backend = (last: number, extra: Partial<IpvsDestination> = {}): IpvsDestination => ({
  address: `203.0.113.${last}`,
  port: 80,
  forwarding: "masq",
  weight: 1,
  upperThreshold: 0,
  lowerThreshold: 0,
  ...extra,
});

describe("IpvsClient against the in-memory kernel", () => {
  test("open fails with IpvsUnavailableError when the kernel has no IPVS family", async () => {
    const kernel = new FakeIpvsKernel();
    kernel.available = false;
    await assert.rejects(kernel.client(), (error: unknown) => {
      assert.ok(error instanceof IpvsUnavailableError);
      assert.equal(error.message, "IPVS is not available in this kernel (ip_vs module not loaded?)");
      assert.match(
        String((error.cause as Error).message),
        /generic netlink family IPVS is not registered.*ENOENT/,
      );
      return true;
    });
  });

  test("services and destinations are added, read back, edited and deleted", async () => {
    const kernel = new FakeIpvsKernel();
    const client = await kernel.client();
    await client.addService(webService);
    await client.addDestination(web, backend(11, { weight: 3, upperThreshold: 100, lowerThreshold: 10 }));
    await client.addDestination(
      web,
      backend(12, { forwarding: "tunnel", tunnel: { type: "gue", port: 6080, checksum: "csum" } }),
    );

    const [service] = await client.listServices();
    assert.deepEqual({ ...service!, stats: undefined }, { ...webService, stats: undefined });
    assert.deepEqual(await client.getService(web), service);
    const destinations = await client.listDestinations(web);
    assert.deepEqual(
      destinations.map((d) => [
        d.address,
        d.weight,
        d.upperThreshold,
        d.lowerThreshold,
        d.forwarding,
        d.tunnel,
      ]),
      [
        ["203.0.113.11", 3, 100, 10, "masq", undefined],
        ["203.0.113.12", 1, 0, 0, "tunnel", { type: "gue", port: 6080, checksum: "csum" }],
      ],
    );

    await client.editService({ ...webService, scheduler: "rr", flags: NO_SERVICE_FLAGS });
    assert.equal((await client.getService(web))!.scheduler, "rr");
    assert.equal((await client.getService(web))!.flags.persistent, false);
    await client.editDestination(web, backend(11, { weight: 0 }));
    assert.equal((await client.listDestinations(web))[0]!.weight, 0);
    await client.deleteDestination(web, { address: "203.0.113.11", port: 80 });
    assert.equal((await client.listDestinations(web)).length, 1);
    await client.deleteService(web);
    assert.deepEqual(await client.listServices(), []);
    assert.equal(await client.getService(web), undefined);
    client.close();
  });

  test("apply sends the whole batch in one datagram and reports exactly the failing operation", async () => {
    const kernel = new FakeIpvsKernel();
    const transport = new FakeNetlinkTransport(kernel.handle);
    const client = await IpvsClient.over(new NetlinkConnection(transport));
    const before = transport.sent.length;
    const operations: IpvsOperation[] = [
      { kind: "add-service", service: webService },
      { kind: "add-destination", service: web, destination: backend(11) },
      { kind: "add-destination", service: web, destination: backend(11) },
      { kind: "add-destination", service: web, destination: backend(12) },
    ];
    const results = await client.apply(operations);
    assert.equal(transport.sent.length - before, 1, "one sendmsg for the batch");
    assert.equal(decodeMessages(transport.sent.at(-1)!).length, 4);
    assert.deepEqual(kernel.commands.slice(-4), [
      IPVS_CMD_NEW_SERVICE,
      IPVS_CMD_NEW_DEST,
      IPVS_CMD_NEW_DEST,
      IPVS_CMD_NEW_DEST,
    ]);
    assert.deepEqual(
      results.map((r) => r.ok),
      [true, true, false, true],
    );
    const failed = results[2]!;
    assert.ok(!failed.ok);
    assert.ok(failed.error instanceof IpvsOperationError);
    assert.equal(failed.error.message, "add destination 203.0.113.11:80 to TCP 198.51.100.254:80: EEXIST");
    assert.equal(failed.error.code, "EEXIST");
    assert.equal(failed.error.errno, 17);
    assert.equal(failed.error.operation, operations[2]);
    assert.equal((await client.listDestinations(web)).length, 2);
    client.close();
  });

  test("an operation that cannot be encoded fails alone and the others still reach the kernel", async () => {
    const kernel = new FakeIpvsKernel();
    const client = await kernel.client();
    const results = await client.apply([
      { kind: "add-service", service: webService },
      { kind: "add-destination", service: web, destination: backend(11, { port: 70000 }) },
      { kind: "add-destination", service: web, destination: backend(12) },
    ]);
    assert.deepEqual(
      results.map((r) => r.ok),
      [true, false, true],
    );
    const failed = results[1]!;
    assert.ok(!failed.ok);
    assert.equal(failed.error.errno, undefined);
    assert.match(
      failed.error.message,
      /^add destination 203\.0\.113\.11:70000 to TCP 198\.51\.100\.254:80: .*port/,
    );
    client.close();
  });

  test("single operations reject with the kernel's errno", async () => {
    const client = await new FakeIpvsKernel().client();
    await assert.rejects(
      client.deleteService(web),
      /^IpvsOperationError: delete service TCP 198\.51\.100\.254:80: ESRCH$/,
    );
    await client.addService(webService);
    await assert.rejects(
      client.addService(webService),
      (e: unknown) => e instanceof IpvsOperationError && e.code === "EEXIST",
    );
    await assert.rejects(
      client.editDestination(web, backend(9)),
      (e: unknown) => e instanceof IpvsOperationError && e.code === "ENOENT",
    );
    await assert.rejects(
      client.addDestination(web, backend(9, { upperThreshold: 5, lowerThreshold: 6 })),
      (e: unknown) => e instanceof IpvsOperationError && e.code === "ERANGE",
    );
    await assert.rejects(
      client.addService({ ...webService, key: { ...web, port: 81 }, scheduler: "nope" }),
      (e: unknown) => e instanceof IpvsOperationError && e.code === "ENOENT",
    );
    client.close();
  });

  test("destinations of a missing service: an empty list, as the kernel's dump gives", async () => {
    const client = await new FakeIpvsKernel().client();
    assert.deepEqual(await client.listDestinations(web), []);
    client.close();
  });

  test("timeouts, sync daemons, info, zero and flush", async () => {
    const kernel = new FakeIpvsKernel();
    const client = await kernel.client();
    assert.deepEqual(await client.info(), { version: "1.2.1", connectionTableSize: 4096 });
    await client.setTimeouts({ tcp: 901, udp: 301 });
    assert.deepEqual(await client.getTimeouts(), { tcp: 901, tcpFin: 120, udp: 301 });

    await client.startSyncDaemon({
      state: "master",
      interface: "eth0",
      syncId: 5,
      group: "224.0.0.18",
      port: 8849,
      ttl: 2,
    });
    await client.startSyncDaemon({
      state: "backup",
      interface: "eth1",
      syncId: 6,
      group: "ff02::12",
      maxLength: 1400,
    });
    assert.deepEqual(await client.listSyncDaemons(), [
      { state: "master", interface: "eth0", syncId: 5, group: "224.0.0.18", port: 8849, ttl: 2 },
      { state: "backup", interface: "eth1", syncId: 6, maxLength: 1400, group: "ff02::12" },
    ]);
    await client.stopSyncDaemon("master");
    await assert.rejects(client.stopSyncDaemon("master"), /ESRCH/);
    assert.equal((await client.listSyncDaemons()).length, 1);

    await client.addService(webService);
    await client.addDestination(web, backend(11));
    kernel.setServiceStats(web, { connections: 5n, inBytes: 1n << 40n });
    kernel.setDestinationCounters(
      web,
      { address: "203.0.113.11", port: 80 },
      { activeConnections: 2, stats: { inPackets: 7n } },
    );
    assert.equal((await client.getService(web))!.stats.inBytes, 1n << 40n);
    const [destination] = await client.listDestinations(web);
    assert.equal(destination!.activeConnections, 2);
    assert.equal(destination!.stats.inPackets, 7n);
    await client.zero(web);
    assert.equal((await client.getService(web))!.stats.connections, 0n);
    assert.equal((await client.listDestinations(web))[0]!.stats.inPackets, 0n);
    await client.zero();
    await client.flush();
    assert.deepEqual(await client.listServices(), []);
    client.close();
  });
});
