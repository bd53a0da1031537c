// IPVS client tests that need a kernel with IPVS. They run INSIDE the IPVS machine (User-Mode
// Linux, see e2e/vm), started by ipvs.vm.test.ts on the host:
//   node --test dist/native/ipvs/ipvs.guest.js
// The file name does not end in .test.js, so the host's test runner never picks it up itself.
// Everything read back through IpvsClient is compared with ipvsadm's own listings.
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  combineIpvsadmListings,
  IPVSADM_LISTINGS,
  parseIpvsadmDaemons,
  parseIpvsadmTimeouts,
  type IpvsadmListings,
  type IpvsadmView,
} from "../../e2e/vm/ipvsadm.js";
import { IpvsClient } from "./client.js";
import { IpvsOperationError } from "./errors.js";
import { FakeIpvsKernel } from "./fake-kernel.js";
import {
  destinationKeyId,
  NO_SERVICE_FLAGS,
  SCHEDULERS,
  serviceKeyId,
  ZERO_STATS,
  type IpvsDestination,
  type IpvsService,
  type ServiceKey,
} from "./model.js";
import type { IpvsControl } from "./control.js";
import type { IpvsOperation } from "./requests.js";

const run = (command: string, ...args: string[]): string => execFileSync(command, args, { encoding: "utf8" });
const ipvsadm = (...args: string[]): string => run("ipvsadm", ...args);

/** IPVS operation → whether a test compared its effect with ipvsadm's read-back. */
const verified = new Map<string, boolean>();
const verify = (...operations: string[]): void =>
  operations.forEach((operation) => verified.set(operation, true));

function ipvsadmView(): IpvsadmView[] {
  const listings = Object.fromEntries(
    Object.entries(IPVSADM_LISTINGS).map(([name, args]) => [name, ipvsadm(...args)]),
  ) as unknown as IpvsadmListings;
  return sortView(combineIpvsadmListings(listings));
}

async function clientView(client: IpvsControl): Promise<IpvsadmView[]> {
  const services = await client.listServices();
  const view = await Promise.all(
    services.map(async (service) => ({ service, destinations: await client.listDestinations(service.key) })),
  );
  return sortView(view);
}

/**
 * What both sides can show: rates are not in ipvsadm's listings, and ipvsadm prints timeout and
 * netmask only for persistent services.
 */
function sortView(view: IpvsadmView[]): IpvsadmView[] {
  const withoutRates = <T extends { stats: typeof ZERO_STATS }>(item: T): T => ({
    ...item,
    stats: {
      ...item.stats,
      connectionRate: 0n,
      inPacketRate: 0n,
      outPacketRate: 0n,
      inByteRate: 0n,
      outByteRate: 0n,
    },
  });
  return view
    .map(({ service, destinations }) => {
      const family =
        service.key.kind === "fwmark" ? service.key.family : service.key.address.includes(":") ? 6 : 4;
      const shown = service.flags.persistent
        ? service
        : { ...service, timeout: 0, netmask: family === 4 ? "255.255.255.255" : 128 };
      return {
        service: withoutRates(shown),
        destinations: destinations
          .map(withoutRates)
          .sort((a, b) => destinationKeyId(a).localeCompare(destinationKeyId(b))),
      };
    })
    .sort((a, b) => serviceKeyId(a.service.key).localeCompare(serviceKeyId(b.service.key)));
}

async function assertSameAsIpvsadm(client: IpvsControl): Promise<IpvsadmView[]> {
  const fromClient = await clientView(client);
  assert.deepEqual(fromClient, ipvsadmView());
  return fromClient;
}

const tcp = (address: string, port: number): ServiceKey => ({
  kind: "address",
  protocol: "tcp",
  address,
  port,
});
const service = (key: ServiceKey, extra: Partial<IpvsService> = {}): IpvsService => ({
  key,
  scheduler: "wlc",
  flags: NO_SERVICE_FLAGS,
  timeout: 0,
  netmask:
    key.kind === "fwmark"
      ? key.family === 4
        ? "255.255.255.255"
        : 128
      : key.address.includes(":")
        ? 128
        : "255.255.255.255",
  ...extra,
});
const destination = (
  address: string,
  port: number,
  extra: Partial<IpvsDestination> = {},
): IpvsDestination => ({
  address,
  port,
  forwarding: "masq",
  weight: 1,
  upperThreshold: 0,
  lowerThreshold: 0,
  ...extra,
});

async function applyAll(client: IpvsControl, operations: IpvsOperation[]): Promise<void> {
  const results = await client.apply(operations);
  const failures = results.filter((r) => !r.ok).map((r) => (r.ok ? "" : r.error.message));
  assert.deepEqual(failures, []);
}

let client: IpvsClient;

before(async () => {
  client = await IpvsClient.open();
});

after(() => {
  client.close();
  const results = process.env.KUBELVS_RESULTS_DIR;
  if (results !== undefined) {
    mkdirSync(results, { recursive: true });
    writeFileSync(`${results}/ipvs-operations.json`, JSON.stringify(Object.fromEntries(verified), null, 2));
  }
});

describe("IPVS over generic netlink, compared with ipvsadm", () => {
  test("the family resolves to the id genl reports, and info matches ipvsadm's version line", async () => {
    const id = /ID: (0x[0-9a-f]+)/.exec(run("genl", "ctrl", "get", "name", "IPVS"))?.[1];
    assert.equal(client.family.id, Number(id));
    assert.equal(client.family.version, 1);
    const info = await client.info();
    const header = ipvsadm("-Ln").split("\n")[0]!;
    assert.equal(header, `IP Virtual Server version ${info.version} (size=${info.connectionTableSize})`);
    verify("resolve family", "get info");
  });

  test("every kind of service: protocols, families, firewall marks, every scheduler, flags, persistence, engine", async () => {
    ipvsadm("-C");
    const services: IpvsService[] = [
      ...SCHEDULERS.map((scheduler, i) => service(tcp("198.51.100.10", 1000 + i), { scheduler })),
      service(
        { kind: "address", protocol: "udp", address: "198.51.100.11", port: 53 },
        { scheduler: "rr", flags: { ...NO_SERVICE_FLAGS, onePacket: true } },
      ),
      service(
        { kind: "address", protocol: "sctp", address: "198.51.100.12", port: 3868 },
        { scheduler: "lc" },
      ),
      service({ kind: "address", protocol: "tcp", address: "2001:db8::10", port: 443 }, { scheduler: "wrr" }),
      service(
        { kind: "address", protocol: "udp", address: "2001:db8::11", port: 53 },
        { scheduler: "sh", flags: { ...NO_SERVICE_FLAGS, sched1: true, sched2: true } },
      ),
      service(
        { kind: "address", protocol: "sctp", address: "2001:db8::12", port: 3868 },
        { scheduler: "mh", flags: { ...NO_SERVICE_FLAGS, sched1: true } },
      ),
      service({ kind: "fwmark", family: 4, fwmark: 7 }, { scheduler: "dh" }),
      service(
        { kind: "fwmark", family: 6, fwmark: 8 },
        { scheduler: "sed", flags: { ...NO_SERVICE_FLAGS, sched3: true } },
      ),
      service(tcp("198.51.100.13", 80), {
        flags: { ...NO_SERVICE_FLAGS, persistent: true },
        timeout: 300,
        netmask: "255.255.255.0",
      }),
      service(tcp("2001:db8::13", 80), {
        flags: { ...NO_SERVICE_FLAGS, persistent: true },
        timeout: 60,
        netmask: 64,
      }),
      service(
        { kind: "fwmark", family: 4, fwmark: 9 },
        { flags: { ...NO_SERVICE_FLAGS, persistent: true }, timeout: 1800, netmask: "255.255.0.0" },
      ),
      service(
        { kind: "address", protocol: "udp", address: "198.51.100.14", port: 5060 },
        {
          scheduler: "rr",
          flags: { ...NO_SERVICE_FLAGS, persistent: true },
          timeout: 30,
          persistenceEngine: "sip",
        },
      ),
      service(tcp("198.51.100.15", 0), { flags: { ...NO_SERVICE_FLAGS, persistent: true }, timeout: 120 }),
    ];
    await applyAll(
      client,
      services.map((s) => ({ kind: "add-service", service: s })),
    );
    const view = await assertSameAsIpvsadm(client);
    assert.equal(view.length, services.length);
    for (const expected of services) {
      const found = view.find((v) => serviceKeyId(v.service.key) === serviceKeyId(expected.key));
      assert.deepEqual(
        { ...found!.service, stats: undefined },
        { ...expected, stats: undefined },
        serviceKeyId(expected.key),
      );
      assert.deepEqual(
        await client.getService(expected.key),
        (await client.listServices()).find((s) => serviceKeyId(s.key) === serviceKeyId(expected.key)),
      );
    }
    verify("add service", "list services", "get service");
  });

  test("every kind of destination: NAT, DR, local, bypass, tunnels ipip/gue/gre with port and checksum, weights, thresholds, mixed family", async () => {
    ipvsadm("-C");
    const v4 = tcp("198.51.100.20", 80);
    const v6: ServiceKey = { kind: "address", protocol: "udp", address: "2001:db8::20", port: 53 };
    const mark: ServiceKey = { kind: "fwmark", family: 4, fwmark: 20 };
    const destinations: [ServiceKey, IpvsDestination][] = [
      [
        v4,
        destination("203.0.113.11", 8080, {
          forwarding: "masq",
          weight: 5,
          upperThreshold: 1000,
          lowerThreshold: 500,
        }),
      ],
      [v4, destination("203.0.113.12", 80, { forwarding: "route", weight: 0 })],
      [v4, destination("203.0.113.13", 80, { forwarding: "local", weight: 2 })],
      [v4, destination("203.0.113.14", 80, { forwarding: "bypass" })],
      [v4, destination("203.0.113.15", 80, { forwarding: "tunnel" })],
      [
        v4,
        destination("203.0.113.16", 80, {
          forwarding: "tunnel",
          tunnel: { type: "ipip", port: 0, checksum: "nocsum" },
        }),
      ],
      [
        v4,
        destination("203.0.113.17", 80, {
          forwarding: "tunnel",
          tunnel: { type: "gue", port: 6080, checksum: "nocsum" },
        }),
      ],
      [
        v4,
        destination("203.0.113.18", 80, {
          forwarding: "tunnel",
          tunnel: { type: "gue", port: 6081, checksum: "csum" },
        }),
      ],
      [
        v4,
        destination("203.0.113.19", 80, {
          forwarding: "tunnel",
          tunnel: { type: "gue", port: 6082, checksum: "remcsum" },
        }),
      ],
      [
        v4,
        destination("203.0.113.20", 80, {
          forwarding: "tunnel",
          tunnel: { type: "gre", port: 0, checksum: "csum" },
        }),
      ],
      [
        v4,
        destination("203.0.113.21", 80, {
          forwarding: "tunnel",
          tunnel: { type: "gre", port: 0, checksum: "nocsum" },
        }),
      ],
      [v4, destination("2001:db8::22", 80, { forwarding: "tunnel", weight: 7 })],
      [
        v4,
        destination("2001:db8::23", 80, {
          forwarding: "tunnel",
          tunnel: { type: "gue", port: 6080, checksum: "csum" },
        }),
      ],
      [
        v4,
        destination("203.0.113.24", 80, {
          weight: 2147483647,
          upperThreshold: 2147483647,
          lowerThreshold: 1,
        }),
      ],
      [
        v6,
        destination("2001:db8::31", 5353, {
          forwarding: "masq",
          weight: 3,
          upperThreshold: 10,
          lowerThreshold: 0,
        }),
      ],
      [v6, destination("2001:db8::32", 53, { forwarding: "route" })],
      [
        v6,
        destination("203.0.113.33", 53, {
          forwarding: "tunnel",
          tunnel: { type: "gre", port: 0, checksum: "nocsum" },
        }),
      ],
      [mark, destination("203.0.113.41", 0, { forwarding: "route" })],
      [mark, destination("203.0.113.42", 0, { forwarding: "masq", weight: 4 })],
    ];
    await applyAll(client, [
      { kind: "add-service", service: service(v4, { scheduler: "wrr" }) },
      { kind: "add-service", service: service(v6, { scheduler: "rr" }) },
      { kind: "add-service", service: service(mark, { scheduler: "wlc" }) },
      ...destinations.map(([key, d]): IpvsOperation => ({
        kind: "add-destination",
        service: key,
        destination: d,
      })),
    ]);
    const view = await assertSameAsIpvsadm(client);
    for (const [key, expected] of destinations) {
      const found = view
        .find((v) => serviceKeyId(v.service.key) === serviceKeyId(key))!
        .destinations.find((d) => destinationKeyId(d) === destinationKeyId(expected))!;
      const tunnel =
        expected.forwarding === "tunnel"
          ? (expected.tunnel ?? { type: "ipip", port: 0, checksum: "nocsum" })
          : undefined;
      assert.deepEqual(
        {
          ...found,
          activeConnections: 0,
          inactiveConnections: 0,
          persistentConnections: 0,
          stats: ZERO_STATS,
        },
        {
          ...expected,
          ...(tunnel ? { tunnel } : {}),
          activeConnections: 0,
          inactiveConnections: 0,
          persistentConnections: 0,
          stats: ZERO_STATS,
        },
        destinationKeyId(expected),
      );
    }
    verify("add destination", "list destinations");
  });

  test("edit and delete services and destinations", async () => {
    ipvsadm("-C");
    const key = tcp("198.51.100.30", 80);
    await client.addService(service(key, { scheduler: "rr" }));
    await client.addDestination(key, destination("203.0.113.51", 80));
    await client.addDestination(key, destination("203.0.113.52", 80, { forwarding: "route" }));
    await client.addDestination(key, destination("203.0.113.53", 80, { forwarding: "tunnel" }));
    await assertSameAsIpvsadm(client);

    await client.editService(
      service(key, {
        scheduler: "sh",
        flags: { ...NO_SERVICE_FLAGS, persistent: true, sched1: true },
        timeout: 900,
        netmask: "255.255.255.128",
      }),
    );
    await client.editDestination(
      key,
      destination("203.0.113.51", 80, { weight: 9, upperThreshold: 50, lowerThreshold: 40 }),
    );
    await client.editDestination(
      key,
      destination("203.0.113.52", 80, {
        forwarding: "tunnel",
        tunnel: { type: "gue", port: 7000, checksum: "remcsum" },
      }),
    );
    await client.editDestination(key, destination("203.0.113.53", 80, { forwarding: "route", weight: 0 }));
    let view = await assertSameAsIpvsadm(client);
    assert.equal(view[0]!.service.scheduler, "sh");
    assert.deepEqual(view[0]!.service.flags, { ...NO_SERVICE_FLAGS, persistent: true, sched1: true });
    assert.equal(view[0]!.service.netmask, "255.255.255.128");
    assert.deepEqual(
      view[0]!.destinations.map((d) => [
        d.address,
        d.forwarding,
        d.weight,
        d.upperThreshold,
        d.lowerThreshold,
        d.tunnel?.type,
      ]),
      [
        ["203.0.113.51", "masq", 9, 50, 40, undefined],
        ["203.0.113.52", "tunnel", 1, 0, 0, "gue"],
        ["203.0.113.53", "route", 0, 0, 0, undefined],
      ],
    );

    await client.deleteDestination(key, { address: "203.0.113.52", port: 80 });
    view = await assertSameAsIpvsadm(client);
    assert.deepEqual(
      view[0]!.destinations.map((d) => d.address),
      ["203.0.113.51", "203.0.113.53"],
    );
    await client.deleteService(key);
    assert.deepEqual(await assertSameAsIpvsadm(client), []);
    assert.equal(ipvsadm("-Sn"), "");
    verify("edit service", "edit destination", "delete destination", "delete service");
  });

  test("a batch with one failing operation reports exactly that one; the others take effect", async () => {
    ipvsadm("-C");
    const key = tcp("198.51.100.40", 80);
    const operations: IpvsOperation[] = [
      { kind: "add-service", service: service(key) },
      { kind: "add-destination", service: key, destination: destination("203.0.113.61", 80) },
      { kind: "add-destination", service: key, destination: destination("203.0.113.61", 80) },
      { kind: "add-destination", service: key, destination: destination("203.0.113.62", 80) },
      { kind: "edit-destination", service: key, destination: destination("203.0.113.62", 80, { weight: 4 }) },
    ];
    const results = await client.apply(operations);
    assert.deepEqual(
      results.map((r) => r.ok),
      [true, true, false, true, true],
    );
    const failure = results[2]!;
    assert.ok(!failure.ok && failure.error instanceof IpvsOperationError);
    assert.equal(failure.error.message, "add destination 203.0.113.61:80 to TCP 198.51.100.40:80: EEXIST");
    assert.equal(failure.error.operation, operations[2]);
    const view = await assertSameAsIpvsadm(client);
    assert.deepEqual(
      view[0]!.destinations.map((d) => [d.address, d.weight]),
      [
        ["203.0.113.61", 1],
        ["203.0.113.62", 4],
      ],
    );
    verify("apply (batch, per-operation result)");
  });

  test("the in-memory kernel answers every operation like the real one (same errnos, same tables)", async () => {
    ipvsadm("-C");
    const key = tcp("198.51.100.50", 80);
    const key6: ServiceKey = { kind: "address", protocol: "tcp", address: "2001:db8::50", port: 80 };
    const missing = tcp("198.51.100.51", 80);
    const operations: IpvsOperation[] = [
      { kind: "add-service", service: service(key, { scheduler: "rr" }) },
      { kind: "add-service", service: service(key) },
      { kind: "edit-service", service: service(missing) },
      { kind: "delete-service", service: missing },
      { kind: "add-service", service: service(missing, { scheduler: "no-such-scheduler" }) },
      { kind: "add-service", service: service(missing, { persistenceEngine: "nope" }) },
      {
        kind: "add-service",
        service: service(key6, { flags: { ...NO_SERVICE_FLAGS, persistent: true }, netmask: 0 }),
      },
      { kind: "add-service", service: service(key6, { scheduler: "rr" }) },
      { kind: "add-destination", service: missing, destination: destination("203.0.113.71", 80) },
      { kind: "add-destination", service: key, destination: destination("203.0.113.71", 80) },
      { kind: "add-destination", service: key, destination: destination("203.0.113.71", 80) },
      { kind: "edit-destination", service: key, destination: destination("203.0.113.72", 80) },
      { kind: "delete-destination", service: key, destination: { address: "203.0.113.72", port: 80 } },
      {
        kind: "add-destination",
        service: key,
        destination: destination("203.0.113.73", 80, { upperThreshold: 1, lowerThreshold: 2 }),
      },
      {
        kind: "add-destination",
        service: key,
        destination: destination("203.0.113.74", 80, { upperThreshold: 0, lowerThreshold: 2 }),
      },
      {
        kind: "add-destination",
        service: key,
        destination: destination("2001:db8::75", 80, { forwarding: "masq" }),
      },
      {
        kind: "add-destination",
        service: key,
        destination: destination("2001:db8::76", 80, { forwarding: "route" }),
      },
      {
        kind: "add-destination",
        service: key,
        destination: destination("2001:db8::77", 80, { forwarding: "tunnel" }),
      },
      {
        kind: "add-destination",
        service: key,
        destination: destination("203.0.113.78", 80, {
          forwarding: "tunnel",
          tunnel: { type: "gue", port: 0, checksum: "nocsum" },
        }),
      },
      {
        kind: "add-destination",
        service: key6,
        destination: destination("203.0.113.79", 80, { forwarding: "route" }),
      },
      {
        kind: "edit-service",
        service: service(key, { scheduler: "mh", flags: { ...NO_SERVICE_FLAGS, sched2: true } }),
      },
      {
        kind: "edit-destination",
        service: key,
        destination: destination("203.0.113.71", 80, { weight: 0, forwarding: "route" }),
      },
      { kind: "delete-destination", service: key, destination: { address: "2001:db8::77", port: 80 } },
    ];
    const fake = await new FakeIpvsKernel().client();
    const outcome = (results: Awaited<ReturnType<IpvsControl["apply"]>>) =>
      results.map((r) => (r.ok ? "ok" : (r.error.code ?? r.error.message)));
    const real = outcome(await client.apply(operations));
    assert.deepEqual(outcome(await fake.apply(operations)), real);
    assert.deepEqual(await clientView(fake), await clientView(client));
    await assertSameAsIpvsadm(client);
    assert.ok(
      real.includes("EEXIST") &&
        real.includes("ESRCH") &&
        real.includes("ENOENT") &&
        real.includes("ERANGE") &&
        real.includes("EINVAL"),
      real.join(" "),
    );
    fake.close();
  });

  test("timeouts are set and read back with ipvsadm -L --timeout", async () => {
    await client.setTimeouts({ tcp: 901, tcpFin: 121, udp: 301 });
    assert.deepEqual(await client.getTimeouts(), { tcp: 901, tcpFin: 121, udp: 301 });
    assert.deepEqual(parseIpvsadmTimeouts(ipvsadm("-L", "--timeout")), { tcp: 901, tcpFin: 121, udp: 301 });
    await client.setTimeouts({ udp: 302 });
    assert.deepEqual(parseIpvsadmTimeouts(ipvsadm("-L", "--timeout")), { tcp: 901, tcpFin: 121, udp: 302 });
    assert.deepEqual(await client.getTimeouts(), { tcp: 901, tcpFin: 121, udp: 302 });
    verify("set timeouts", "get timeouts");
  });

  test("sync daemons start, list and stop, read back with ipvsadm -L --daemon", async () => {
    // Sync daemons need a multicast-capable interface; the groups are the VRRP ones.
    run("ip", "link", "add", "kvsync0", "type", "veth", "peer", "name", "kvsync1");
    try {
      run("ip", "link", "set", "kvsync0", "up");
      run("ip", "link", "set", "kvsync1", "up");
      await client.startSyncDaemon({
        state: "master",
        interface: "kvsync0",
        syncId: 5,
        maxLength: 1400,
        group: "224.0.0.18",
        port: 8848,
        ttl: 2,
      });
      await client.startSyncDaemon({
        state: "backup",
        interface: "kvsync1",
        syncId: 6,
        group: "ff02::12",
        port: 8849,
      });
      const daemons = await client.listSyncDaemons();
      assert.deepEqual(daemons, parseIpvsadmDaemons(ipvsadm("-L", "--daemon")));
      assert.deepEqual(
        daemons.map((d) => [d.state, d.interface, d.syncId, d.group, d.port]),
        [
          ["master", "kvsync0", 5, "224.0.0.18", 8848],
          ["backup", "kvsync1", 6, "ff02::12", 8849],
        ],
      );
      assert.equal(daemons[0]!.maxLength, 1400);
      assert.equal(daemons[0]!.ttl, 2);
      await assert.rejects(
        client.startSyncDaemon({ state: "master", interface: "kvsync0", syncId: 7 }),
        /start master sync daemon on kvsync0 \(sync id 7\): EEXIST/,
      );
      await client.stopSyncDaemon("master");
      assert.deepEqual(
        parseIpvsadmDaemons(ipvsadm("-L", "--daemon")).map((d) => d.state),
        ["backup"],
      );
      await client.stopSyncDaemon("backup");
      assert.deepEqual(await client.listSyncDaemons(), []);
      assert.equal(ipvsadm("-L", "--daemon").trim(), "");
      verify("start sync daemon", "list sync daemons", "stop sync daemon");
    } finally {
      run("ip", "link", "del", "kvsync0");
    }
  });

  test("statistics and connection counts after real TCP traffic through NAT, DR and IPIP tunnel", async () => {
    ipvsadm("-C");
    const lab = new TrafficLab();
    try {
      lab.build();
      const nat = tcp("203.0.113.200", 80);
      const dr = tcp("203.0.113.201", 80);
      const tun = tcp("203.0.113.202", 80);
      await applyAll(client, [
        {
          kind: "add-service",
          service: service(nat, {
            scheduler: "rr",
            flags: { ...NO_SERVICE_FLAGS, persistent: true },
            timeout: 300,
          }),
        },
        {
          kind: "add-destination",
          service: nat,
          destination: destination("203.0.113.11", 8080, { forwarding: "masq" }),
        },
        { kind: "add-service", service: service(dr, { scheduler: "rr" }) },
        {
          kind: "add-destination",
          service: dr,
          destination: destination("198.51.100.12", 80, { forwarding: "route" }),
        },
        { kind: "add-service", service: service(tun, { scheduler: "rr" }) },
        {
          kind: "add-destination",
          service: tun,
          destination: destination("198.51.100.13", 80, { forwarding: "tunnel" }),
        },
      ]);
      await lab.startServers();
      const requests = 5;
      const answers = lab.requests(["203.0.113.200", "203.0.113.201", "203.0.113.202"], requests);
      assert.deepEqual(answers, [
        ...Array<string>(requests).fill("kv-nat"),
        ...Array<string>(requests).fill("kv-dr"),
        ...Array<string>(requests).fill("kv-tun"),
      ]);
      // The kernel publishes counters through its rate estimator, every 2 s: wait for them.
      await waitFor(async () => {
        const services = await client.listServices();
        return services.every((s) => s.stats.connections === BigInt(requests));
      }, 10_000);
      await sleep(2_200); // one more estimator period: the closing packets are folded in too

      const view = await assertSameAsIpvsadm(client);
      const byKey = new Map(view.map((v) => [serviceKeyId(v.service.key), v]));
      for (const key of [nat, dr, tun]) {
        const { service: s, destinations } = byKey.get(serviceKeyId(key))!;
        assert.equal(s.stats.connections, BigInt(requests), `${serviceKeyId(key)} connections`);
        assert.ok(
          s.stats.inPackets >= BigInt(requests * 3),
          `${serviceKeyId(key)} inPackets ${s.stats.inPackets}`,
        );
        assert.ok(s.stats.inBytes > 0n);
        assert.deepEqual(
          destinations[0]!.stats,
          s.stats,
          "one destination carries all of the service's traffic",
        );
        assert.equal(
          destinations[0]!.activeConnections + destinations[0]!.inactiveConnections,
          key === nat ? requests : requests,
        );
      }
      // Replies of NAT come back through the director; DR and tunnel replies go straight to the client.
      assert.ok(byKey.get(serviceKeyId(nat))!.service.stats.outPackets > 0n);
      assert.equal(byKey.get(serviceKeyId(dr))!.service.stats.outPackets, 0n);
      assert.equal(byKey.get(serviceKeyId(tun))!.service.stats.outPackets, 0n);
      assert.equal(
        byKey.get(serviceKeyId(nat))!.destinations[0]!.persistentConnections,
        1,
        "one persistence template",
      );

      const [rates] = await client.listServices();
      assert.equal(typeof rates!.stats.connectionRate, "bigint");
      verify("read statistics (64-bit)", "read connection counts");

      await client.zero(nat);
      let after = ipvsadmView();
      assert.equal(
        after.find((v) => serviceKeyId(v.service.key) === serviceKeyId(nat))!.service.stats.connections,
        0n,
      );
      assert.equal(
        after.find((v) => serviceKeyId(v.service.key) === serviceKeyId(dr))!.service.stats.connections,
        BigInt(requests),
      );
      await client.zero();
      after = ipvsadmView();
      assert.ok(after.every((v) => v.service.stats.connections === 0n && v.service.stats.inBytes === 0n));
      await assertSameAsIpvsadm(client);
      verify("zero counters (one service, all)");
    } finally {
      lab.destroy();
    }
  });

  test("flush removes every service (API completeness; the product never flushes)", async () => {
    ipvsadm("-C");
    await client.addService(service(tcp("198.51.100.60", 80)));
    await client.addService(service({ kind: "fwmark", family: 6, fwmark: 60 }));
    assert.equal(ipvsadm("-Sn").split("\n").filter(Boolean).length, 2);
    await client.flush();
    assert.equal(ipvsadm("-Sn"), "");
    assert.deepEqual(await client.listServices(), []);
    verify("flush");
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/**
 * The director is the guest's root namespace. Client, DR and tunnel real servers share a bridge
 * LAN 198.51.100.0/24 (DR needs the client on the real servers' segment, since replies bypass
 * the director); the NAT real server sits behind the director on 203.0.113.0/25. Virtual IPs
 * 203.0.113.200-202 live on a dummy interface of the director.
 */
class TrafficLab {
  private readonly namespaces = ["kv-cli", "kv-nat", "kv-dr", "kv-tun"];
  private readonly servers: ChildProcess[] = [];

  build(): void {
    const sh = (script: string) => run("bash", "-ec", script);
    sh(`
      sysctl -qw net.ipv4.ip_forward=1
      for ns in ${this.namespaces.join(" ")}; do ip netns add $ns; ip -n $ns link set lo up; done
      ip link add kvbr0 type bridge; ip link set kvbr0 up; ip addr add 198.51.100.254/24 dev kvbr0
      for ns in kv-cli kv-dr kv-tun; do
        ip link add $ns-a type veth peer name $ns-b
        ip link set $ns-a netns $ns; ip link set $ns-b master kvbr0 up; ip -n $ns link set $ns-a up
      done
      ip -n kv-cli addr add 198.51.100.1/24 dev kv-cli-a
      ip -n kv-cli route add 203.0.113.128/25 via 198.51.100.254
      ip -n kv-dr addr add 198.51.100.12/24 dev kv-dr-a
      ip -n kv-dr addr add 203.0.113.201/32 dev lo
      ip netns exec kv-dr sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
      ip -n kv-tun addr add 198.51.100.13/24 dev kv-tun-a
      ip -n kv-tun link set tunl0 up
      ip -n kv-tun addr add 203.0.113.202/32 dev tunl0
      ip netns exec kv-tun sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.tunl0.rp_filter=0
      ip link add kv-nat-b type veth peer name kv-nat-a
      ip link set kv-nat-a netns kv-nat; ip link set kv-nat-b up
      ip addr add 203.0.113.126/25 dev kv-nat-b
      ip -n kv-nat addr add 203.0.113.11/25 dev kv-nat-a; ip -n kv-nat link set kv-nat-a up
      ip -n kv-nat route add default via 203.0.113.126
      ip link add kvvip0 type dummy; ip link set kvvip0 up
      for vip in 200 201 202; do ip addr add 203.0.113.$vip/32 dev kvvip0; done
    `);
  }

  async startServers(): Promise<void> {
    const server = 'require("http").createServer((q,r)=>r.end(process.argv[1])).listen(+process.argv[2])';
    for (const [ns, port] of [
      ["kv-nat", 8080],
      ["kv-dr", 80],
      ["kv-tun", 80],
    ] as const) {
      this.servers.push(
        spawn("ip", ["netns", "exec", ns, "node", "-e", server, ns, String(port)], { stdio: "ignore" }),
      );
    }
    for (let attempt = 0; attempt < 100; attempt++) {
      const listening = ["kv-nat", "kv-dr", "kv-tun"].filter(
        (ns) => run("ip", "netns", "exec", ns, "ss", "-Hltn").trim() !== "",
      );
      if (listening.length === 3) return;
      await sleep(100);
    }
    throw new Error("the real servers did not start listening within 10 s");
  }

  /** `count` sequential HTTP requests (one connection each) from the client namespace to each address. */
  requests(addresses: string[], count: number): string[] {
    const client = `
      const http = require("http");
      (async () => {
        // node -e puts the first argument after the script at argv[1]
        for (const host of process.argv.slice(1)) for (let i = 0; i < ${count}; i++) {
          const body = await new Promise((resolve, reject) => {
            http.get({ host, port: 80, agent: false, timeout: 3000 }, (response) => {
              let data = ""; response.on("data", (c) => (data += c)); response.on("end", () => resolve(data));
            }).on("error", reject).on("timeout", () => reject(new Error("timeout to " + host)));
          });
          console.log(body);
        }
      })().catch((e) => { console.error(e.message); process.exit(1); });`;
    return run("ip", "netns", "exec", "kv-cli", "node", "-e", client, ...addresses)
      .trim()
      .split("\n");
  }

  destroy(): void {
    for (const server of this.servers) server.kill("SIGKILL");
    for (const ns of this.namespaces) {
      try {
        run("ip", "netns", "del", ns);
      } catch {
        // never created
      }
    }
    for (const link of ["kvbr0", "kvvip0"]) {
      try {
        run("ip", "link", "del", link);
      } catch {
        // never created
      }
    }
  }
}
