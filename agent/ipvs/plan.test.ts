// The planner on hand-made cases (each rule once) and on random tables (properties that must hold
// for any desired table, kernel table and ownership: operations apply cleanly, foreign services are
// never touched, the result matches the desired table, every operation is needed, and planning
// again is a no-op).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  NO_SERVICE_FLAGS,
  serviceKeyId,
  type IpvsDestination,
  type IpvsService,
  type ServiceKey,
} from "../../native/ipvs/model.js";
import type { IpvsOperation } from "../../native/ipvs/requests.js";
import { desiredService, destinationId, type DesiredService, type DesiredTable } from "./desired.js";
import { planReconcile, type DrainTable, type PlanInput } from "./plan.js";
import { destination, service, tcp } from "./test-fixtures.js";
import {
  applyOperation,
  copyTable,
  keyOf,
  sameDestination,
  sameService,
  type KernelTable,
  type TableDestination,
} from "./table.js";

const inKernel = (d: IpvsDestination, active = 0): TableDestination => ({
  ...d,
  ...(d.forwarding === "tunnel" ? { tunnel: d.tunnel ?? { type: "ipip", port: 0, checksum: "nocsum" } } : {}),
  activeConnections: active,
  inactiveConnections: 0,
});

/** A service in the kernel; destinations given with their active connection count, or idle. */
type KernelEntry = [IpvsService, (IpvsDestination | [IpvsDestination, number])[] | undefined];

function kernelOf(entries: KernelEntry[]): KernelTable {
  return new Map(
    entries.map(([s, destinations]) => [
      serviceKeyId(s.key),
      {
        service: s,
        destinations:
          destinations &&
          new Map(
            destinations.map((d) => {
              const [dest, active] = Array.isArray(d) ? d : [d, 0];
              return [destinationId(dest), inKernel(dest, active)];
            }),
          ),
      },
    ]),
  );
}

const desiredOf = (...services: DesiredService[]): DesiredTable => new Map(services.map((s) => [s.id, s]));

const VIP = tcp("198.51.100.10", 80);
const VIP_ID = serviceKeyId(VIP);

function plan(input: Partial<PlanInput> & Pick<PlanInput, "desired" | "kernel">) {
  return planReconcile({ owned: new Set(), drains: new Map(), now: 0, drainTimeoutMs: 1000, ...input });
}

describe("planner rules", () => {
  test("a missing service is added with its destinations, in that order", () => {
    const want = desiredService("ns/web", service(VIP), [
      destination("203.0.113.1"),
      destination("203.0.113.2"),
    ]);
    const result = plan({ desired: desiredOf(want), kernel: new Map() });
    assert.deepEqual(
      result.operations.map((o) => o.kind),
      ["add-service", "add-destination", "add-destination"],
    );
    assert.deepEqual(result.addedServices, [VIP_ID]);
  });

  test("one weight change is one edit-destination and nothing else", () => {
    const kernel = kernelOf([[service(VIP), [destination("203.0.113.1"), destination("203.0.113.2")]]]);
    const want = desiredService("ns/web", service(VIP), [
      destination("203.0.113.1"),
      destination("203.0.113.2", { weight: 5 }),
    ]);
    const result = plan({ desired: desiredOf(want), kernel, owned: new Set([VIP_ID]) });
    assert.deepEqual(result.operations, [
      { kind: "edit-destination", service: VIP, destination: destination("203.0.113.2", { weight: 5 }) },
    ]);
  });

  test("scheduler, flags, persistence and forwarding change in place, never by delete and add", () => {
    const kernel = kernelOf([[service(VIP), [destination("203.0.113.1"), destination("203.0.113.2")]]]);
    const changed = service(VIP, {
      scheduler: "sh",
      flags: { ...NO_SERVICE_FLAGS, persistent: true, sched1: true },
      timeout: 300,
      netmask: "255.255.255.0",
    });
    const want = desiredService("ns/web", changed, [
      destination("203.0.113.1", { forwarding: "route", upperThreshold: 10, lowerThreshold: 5 }),
      destination("203.0.113.2", {
        forwarding: "tunnel",
        tunnel: { type: "gue", port: 6080, checksum: "csum" },
      }),
    ]);
    const result = plan({ desired: desiredOf(want), kernel, owned: new Set([VIP_ID]) });
    assert.deepEqual(
      result.operations.map((o) => o.kind),
      ["edit-service", "edit-destination", "edit-destination"],
    );
  });

  test("services kubelvs does not own are never touched; a desired key held by one is a conflict", () => {
    const foreign = tcp("198.51.100.99", 443);
    const kernel = kernelOf([
      [service(foreign, { scheduler: "rr" }), undefined],
      [service(VIP, { scheduler: "rr" }), undefined],
    ]);
    const want = desiredService("ns/web", service(VIP), [destination("203.0.113.1")]);
    const result = plan({ desired: desiredOf(want), kernel });
    assert.deepEqual(result.operations, []);
    assert.deepEqual(result.conflicts, [VIP_ID]);
  });

  test("an owned service no longer wanted is deleted at once when idle", () => {
    const kernel = kernelOf([[service(VIP), [destination("203.0.113.1")]]]);
    const result = plan({ desired: new Map(), kernel, owned: new Set([VIP_ID]) });
    assert.deepEqual(result.operations, [{ kind: "delete-service", service: VIP }]);
    assert.deepEqual(result.deletedServices, [VIP_ID]);
  });

  test("a removed real server with connections drains: weight 0, then deleted at zero connections", () => {
    const owned = new Set([VIP_ID]);
    const want = desiredService("ns/web", service(VIP), [destination("203.0.113.1")]);
    const busy = kernelOf([
      [service(VIP), [destination("203.0.113.1"), [destination("203.0.113.2", { weight: 3 }), 4]]],
    ]);
    const first = plan({ desired: desiredOf(want), kernel: busy, owned, now: 100 });
    assert.deepEqual(first.operations, [
      { kind: "edit-destination", service: VIP, destination: destination("203.0.113.2", { weight: 0 }) },
    ]);
    assert.equal(first.drains.get(VIP_ID)?.destinations.get("203.0.113.2/80"), 100, "drain start");
    assert.deepEqual(first.drainsStarted, [
      { service: VIP_ID, destination: "203.0.113.2/80", timeoutMs: 1000 },
    ]);

    // Still busy, now at weight 0: nothing to do until the connections end.
    const drained = kernelOf([
      [service(VIP), [destination("203.0.113.1"), [destination("203.0.113.2", { weight: 0 }), 2]]],
    ]);
    const second = plan({ desired: desiredOf(want), kernel: drained, owned, drains: first.drains, now: 500 });
    assert.deepEqual(second.operations, []);

    const idle = kernelOf([
      [service(VIP), [destination("203.0.113.1"), destination("203.0.113.2", { weight: 0 })]],
    ]);
    const third = plan({ desired: desiredOf(want), kernel: idle, owned, drains: second.drains, now: 600 });
    assert.deepEqual(third.operations, [
      {
        kind: "delete-destination",
        service: VIP,
        destination: inKernel(destination("203.0.113.2", { weight: 0 })),
      },
    ]);
    assert.equal(third.drains.size, 0);
  });

  test("a drain ends at its deadline even with connections left; wanting the server back cancels it", () => {
    const owned = new Set([VIP_ID]);
    const want = desiredService("ns/web", service(VIP), [destination("203.0.113.1")]);
    const drains: DrainTable = new Map([[VIP_ID, { destinations: new Map([["203.0.113.2/80", 0]]) }]]);
    const kernel = kernelOf([
      [service(VIP), [destination("203.0.113.1"), [destination("203.0.113.2", { weight: 0 }), 9]]],
    ]);
    const late = plan({ desired: desiredOf(want), kernel, owned, drains, now: 1000 });
    assert.deepEqual(
      late.operations.map((o) => o.kind),
      ["delete-destination"],
    );
    const back = desiredService("ns/web", service(VIP), [
      destination("203.0.113.1"),
      destination("203.0.113.2"),
    ]);
    const cancelled = plan({ desired: desiredOf(back), kernel, owned, drains, now: 10 });
    assert.deepEqual(cancelled.operations, [
      { kind: "edit-destination", service: VIP, destination: destination("203.0.113.2") },
    ]);
    assert.equal(cancelled.drains.size, 0);
  });

  test("a whole service drains the same way: every destination to weight 0, deleted when idle", () => {
    const owned = new Set([VIP_ID]);
    const busy = kernelOf([
      [service(VIP), [[destination("203.0.113.1"), 1], destination("203.0.113.2", { weight: 0 })]],
    ]);
    const first = plan({ desired: new Map(), kernel: busy, owned, now: 0 });
    assert.deepEqual(first.operations, [
      { kind: "edit-destination", service: VIP, destination: destination("203.0.113.1", { weight: 0 }) },
    ]);
    assert.equal(first.drains.get(VIP_ID)?.serviceSince, 0);
    assert.deepEqual(first.drainsStarted, [{ service: VIP_ID, timeoutMs: 1000 }]);
    const drained = kernelOf([
      [
        service(VIP),
        [[destination("203.0.113.1", { weight: 0 }), 1], destination("203.0.113.2", { weight: 0 })],
      ],
    ]);
    const before = plan({ desired: new Map(), kernel: drained, owned, drains: first.drains, now: 999 });
    assert.deepEqual(before.operations, []);
    const deadline = plan({ desired: new Map(), kernel: busy, owned, drains: first.drains, now: 1000 });
    assert.deepEqual(deadline.operations, [{ kind: "delete-service", service: VIP }]);
  });

  test("each service drains with its own timeout; drainTimeoutMs is for services without one", () => {
    const OTHER = tcp("198.51.100.11", 80);
    const owned = new Set([VIP_ID, serviceKeyId(OTHER)]);
    // .2 removed from the configuration, 3 connections left, at the given weight.
    const busy = (key: ServiceKey, weight: number): KernelEntry => [
      service(key),
      [destination("203.0.113.1"), [destination("203.0.113.2", { weight }), 3]],
    ];
    const desired = desiredOf(
      desiredService("ns/web", service(VIP), [destination("203.0.113.1")], { drainTimeoutMs: 5000 }),
      desiredService("ns/other", service(OTHER), [destination("203.0.113.1")]),
    );
    const first = plan({ desired, kernel: kernelOf([busy(VIP, 1), busy(OTHER, 1)]), owned, now: 0 });
    assert.deepEqual(first.drainsStarted, [
      { service: VIP_ID, destination: "203.0.113.2/80", timeoutMs: 5000 },
      { service: serviceKeyId(OTHER), destination: "203.0.113.2/80", timeoutMs: 1000 },
    ]);
    const drained = kernelOf([busy(VIP, 0), busy(OTHER, 0)]);
    const atDefault = plan({ desired, kernel: drained, owned, drains: first.drains, now: 1000 });
    assert.deepEqual(
      atDefault.operations.map((o) => [o.kind, serviceKeyId(keyOf(o))]),
      [["delete-destination", serviceKeyId(OTHER)]],
    );
    const left = kernelOf([busy(VIP, 0), [service(OTHER), [destination("203.0.113.1")]]]);
    const atOwn = plan({ desired, kernel: left, owned, drains: atDefault.drains, now: 5000 });
    assert.deepEqual(
      atOwn.operations.map((o) => [o.kind, serviceKeyId(keyOf(o))]),
      [["delete-destination", VIP_ID]],
    );
    assert.equal(atOwn.drains.size, 0);
  });

  test("a drain timeout of 0 deletes a removed real server or service at once, connections or not", () => {
    const owned = new Set([VIP_ID]);
    const busy = kernelOf([[service(VIP), [destination("203.0.113.1"), [destination("203.0.113.2"), 7]]]]);
    const want = desiredService("ns/web", service(VIP), [destination("203.0.113.1")], { drainTimeoutMs: 0 });
    const server = plan({ desired: desiredOf(want), kernel: busy, owned, now: 100 });
    assert.deepEqual(server.operations, [
      { kind: "delete-destination", service: VIP, destination: inKernel(destination("203.0.113.2"), 7) },
    ]);
    assert.deepEqual(server.drainsStarted, []);
    assert.equal(server.drains.size, 0);

    const removed = plan({
      desired: new Map(),
      kernel: busy,
      owned,
      now: 100,
      lastDrainTimeouts: new Map([[VIP_ID, 0]]),
    });
    assert.deepEqual(removed.operations, [{ kind: "delete-service", service: VIP }]);
    assert.deepEqual(removed.deletedServices, [VIP_ID]);
    assert.equal(removed.drains.size, 0);
  });

  test("a service no longer desired drains with the timeout it last had", () => {
    const owned = new Set([VIP_ID]);
    const busy = kernelOf([[service(VIP), [[destination("203.0.113.1", { weight: 0 }), 2]]]]);
    const lastDrainTimeouts = new Map([[VIP_ID, 5000]]);
    const first = plan({ desired: new Map(), kernel: busy, owned, now: 0, lastDrainTimeouts });
    assert.deepEqual(first.drainsStarted, [{ service: VIP_ID, timeoutMs: 5000 }]);
    const atDefault = plan({
      desired: new Map(),
      kernel: busy,
      owned,
      drains: first.drains,
      now: 1000,
      lastDrainTimeouts,
    });
    assert.deepEqual(atDefault.operations, [], "still draining after the planner's default");
    const atOwn = plan({
      desired: new Map(),
      kernel: busy,
      owned,
      drains: first.drains,
      now: 5000,
      lastDrainTimeouts,
    });
    assert.deepEqual(atOwn.operations, [{ kind: "delete-service", service: VIP }]);
  });

  test("a changed timeout applies to a drain under way, counted from the drain's start", () => {
    const owned = new Set([VIP_ID]);
    const kernel = kernelOf([
      [service(VIP), [destination("203.0.113.1"), [destination("203.0.113.2", { weight: 0 }), 4]]],
    ]);
    const withTimeout = (drainTimeoutMs: number) =>
      desiredOf(desiredService("ns/web", service(VIP), [destination("203.0.113.1")], { drainTimeoutMs }));
    // Started at 100 with 10 s to go.
    const drains: DrainTable = new Map([[VIP_ID, { destinations: new Map([["203.0.113.2/80", 100]]) }]]);
    const deleted = [
      {
        kind: "delete-destination",
        service: VIP,
        destination: inKernel(destination("203.0.113.2", { weight: 0 }), 4),
      },
    ];

    // Shortened to 1 s at 2000: the new deadline (1100) has passed, the server goes now.
    const shortened = plan({ desired: withTimeout(1000), kernel, owned, drains, now: 2000 });
    assert.deepEqual(shortened.operations, deleted);
    assert.equal(shortened.drains.size, 0);
    // Shortened to 3 s at 2000: it stays until 3100.
    const stays = plan({ desired: withTimeout(3000), kernel, owned, drains, now: 2000 });
    assert.deepEqual(stays.operations, []);
    assert.equal(stays.drains.get(VIP_ID)?.destinations.get("203.0.113.2/80"), 100, "start kept");
    assert.deepEqual(
      plan({ desired: withTimeout(3000), kernel, owned, drains, now: 3100 }).operations,
      deleted,
    );
    // Lengthened to 60 s: the original deadline (10100) no longer ends it.
    assert.deepEqual(
      plan({ desired: withTimeout(60_000), kernel, owned, drains, now: 10_100 }).operations,
      [],
    );
    // Set to 0: the drain ends at once.
    assert.deepEqual(plan({ desired: withTimeout(0), kernel, owned, drains, now: 200 }).operations, deleted);
  });

  test("a destination added by hand to an owned service is removed at once when idle", () => {
    const kernel = kernelOf([[service(VIP), [destination("203.0.113.1"), destination("203.0.113.66")]]]);
    const want = desiredService("ns/web", service(VIP), [destination("203.0.113.1")]);
    const result = plan({ desired: desiredOf(want), kernel, owned: new Set([VIP_ID]) });
    assert.deepEqual(
      result.operations.map((o) => [o.kind, o.kind === "delete-destination" ? o.destination.address : ""]),
      [["delete-destination", "203.0.113.66"]],
    );
  });

  test("scope restricts planning to the named services", () => {
    const other = tcp("198.51.100.11", 80);
    const kernel = kernelOf([
      [service(VIP), [destination("203.0.113.1")]],
      [service(other), [destination("203.0.113.1")]],
    ]);
    const desired = desiredOf(
      desiredService("ns/a", service(VIP), [destination("203.0.113.1", { weight: 2 })]),
      desiredService("ns/b", service(other), [destination("203.0.113.1", { weight: 2 })]),
    );
    const owned = new Set([VIP_ID, serviceKeyId(other)]);
    const scoped = plan({ desired, kernel, owned, scope: [serviceKeyId(other)] });
    assert.deepEqual(
      scoped.operations.map((o) => serviceKeyId(keyOf(o))),
      [serviceKeyId(other)],
    );
    assert.equal(plan({ desired, kernel, owned }).operations.length, 2);
  });
});

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVICE_POOL: ServiceKey[] = [
  tcp("198.51.100.1", 80),
  tcp("198.51.100.1", 443),
  tcp("198.51.100.2", 80),
  { kind: "address", protocol: "udp", address: "198.51.100.2", port: 53 },
  tcp("2001:db8::1", 80),
  { kind: "fwmark", family: 4, fwmark: 7 },
  { kind: "fwmark", family: 6, fwmark: 7 },
  tcp("198.51.100.3", 8080),
];
const DESTINATION_POOL = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4", "2001:db8::11"];

function randomCase(seed: number) {
  const rnd = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)]!;
  const some = <T>(items: readonly T[], p: number): T[] => items.filter(() => rnd() < p);
  const randomService = (key: ServiceKey): IpvsService => {
    const persistent = rnd() < 0.3;
    const v6 = key.kind === "fwmark" ? key.family === 6 : key.address.includes(":");
    return service(key, {
      scheduler: pick(["rr", "wrr", "wlc", "sh"]),
      flags: { ...NO_SERVICE_FLAGS, persistent, sched1: rnd() < 0.2 },
      timeout: persistent ? pick([60, 300]) : 0,
      netmask: v6 ? pick([128, 64]) : pick(["255.255.255.255", "255.255.255.0"]),
    });
  };
  const randomDestinations = (key: ServiceKey): IpvsDestination[] =>
    some(DESTINATION_POOL, 0.5)
      .map((address) => {
        const v6Service = key.kind === "fwmark" ? key.family === 6 : key.address.includes(":");
        const v6Destination = address.includes(":");
        // Another family than the service's only with tunnelling, as the kernel requires.
        const forwarding =
          v6Service !== v6Destination ? "tunnel" : pick(["masq", "route", "tunnel"] as const);
        return destination(address, {
          port: key.kind === "fwmark" ? 0 : pick([80, 8080]),
          forwarding,
          weight: pick([0, 1, 2, 3]),
          upperThreshold: pick([0, 0, 10]),
          ...(forwarding === "tunnel" && rnd() < 0.5
            ? { tunnel: { type: "gue" as const, port: 6080, checksum: "nocsum" as const } }
            : {}),
        });
      })
      // one port per address per service in this generator
      .filter((d, i, all) => all.findIndex((o) => o.address === d.address) === i);
  const drainTimeout = () => pick([undefined, undefined, 0, 2000]);
  const desired = desiredOf(
    ...some(SERVICE_POOL, 0.6).map((key) =>
      desiredService("ns/x", randomService(key), randomDestinations(key), { drainTimeoutMs: drainTimeout() }),
    ),
  );
  const kernelKeys = some(SERVICE_POOL, 0.6);
  const kernel = kernelOf(
    kernelKeys.map((key) => [
      randomService(key),
      randomDestinations(key).map((d) => [d, pick([0, 0, 1, 3])] as [IpvsDestination, number]),
    ]),
  );
  const owned = new Set(some(kernelKeys, 0.7).map(serviceKeyId));
  if (rnd() < 0.3) owned.add(serviceKeyId(pick(SERVICE_POOL))); // recorded but maybe gone
  // The timeouts services no longer desired had (the planner's default for the others).
  const lastDrainTimeouts = new Map<string, number>();
  for (const id of owned) {
    const timeout = drainTimeout();
    if (timeout !== undefined) lastDrainTimeouts.set(id, timeout);
  }
  // Sometimes the kernel holds exactly the desired service, sometimes with different attributes.
  return { desired, kernel, owned, lastDrainTimeouts, now: pick([0, 500, 5000]) };
}

describe("planner properties on random tables", () => {
  const CASES = 3000;

  test(`for ${CASES} random cases: clean apply, foreign untouched, desired reached, every op needed, idempotent`, () => {
    for (let seed = 1; seed <= CASES; seed++) {
      const { desired, kernel, owned, lastDrainTimeouts, now } = randomCase(seed);
      const context = `seed ${seed}`;
      const result = planReconcile({
        desired,
        kernel,
        owned,
        drains: new Map(),
        now,
        drainTimeoutMs: 1000,
        lastDrainTimeouts,
      });
      const after = copyTable(kernel);

      // Every operation applies cleanly, in order, and changes something that needed changing.
      for (const operation of result.operations) {
        const id = serviceKeyId(keyOf(operation));
        assert.ok(owned.has(id) || result.addedServices.includes(id), `${context}: op on foreign ${id}`);
        assertNeeded(after, operation, context);
        applyOperation(after, operation);
      }

      for (const [id, entry] of kernel) {
        if (owned.has(id)) continue;
        assert.deepEqual(after.get(id), entry, `${context}: foreign service ${id} changed`);
      }
      for (const [id, want] of desired) {
        if (kernel.has(id) && !owned.has(id)) {
          assert.ok(result.conflicts.includes(id), `${context}: conflict ${id} not reported`);
          continue;
        }
        const have = after.get(id);
        assert.ok(
          have !== undefined && sameService(want.service, have.service),
          `${context}: ${id} attributes`,
        );
        for (const [destination, wanted] of want.destinations) {
          const got = have.destinations?.get(destination);
          assert.ok(got !== undefined && sameDestination(wanted, got), `${context}: ${id} ${destination}`);
        }
        for (const [destination, got] of have.destinations ?? []) {
          if (want.destinations.has(destination)) continue;
          // Only draining leftovers remain: busy, at weight 0, and in a service that drains at all.
          assert.ok(
            got.activeConnections > 0 && got.weight === 0 && (want.drainTimeoutMs ?? 1000) > 0,
            `${context}: leftover ${id} ${destination}`,
          );
          assert.ok(result.drains.get(id)?.destinations.has(destination), `${context}: drain not recorded`);
        }
      }
      for (const id of owned) {
        if (desired.has(id) || !kernel.has(id)) continue;
        const have = after.get(id);
        if (have === undefined) continue;
        assert.ok(
          [...(have.destinations?.values() ?? [])].every((d) => d.weight === 0 && result.drains.has(id)),
          `${context}: unwanted service ${id} neither deleted nor draining`,
        );
        assert.notEqual(lastDrainTimeouts.get(id), 0, `${context}: ${id} drains with a timeout of 0`);
      }

      // No object is both deleted and re-added.
      const keys = result.operations.map((o) =>
        o.kind.endsWith("service")
          ? `${o.kind.split("-")[0]} ${serviceKeyId(keyOf(o))}`
          : `${o.kind.split("-")[0]} ${serviceKeyId(keyOf(o))} ${destinationId((o as { destination: IpvsDestination }).destination)}`,
      );
      for (const key of keys.filter((k) => k.startsWith("delete ")))
        assert.ok(!keys.includes(key.replace(/^delete/, "add")), `${context}: ${key} and re-add`);

      // Planning again with the result and the drains is a no-op.
      const nowOwned = new Set([...owned, ...result.addedServices].filter((id) => after.has(id)));
      const again = planReconcile({
        desired,
        kernel: after,
        owned: nowOwned,
        drains: result.drains,
        now,
        drainTimeoutMs: 1000,
        lastDrainTimeouts,
      });
      assert.deepEqual(again.operations, [], `${context}: second plan not empty`);
    }
  });
});

/** An operation is needed: adds of absent objects, edits that change something, deletes of present ones. */
function assertNeeded(table: KernelTable, operation: IpvsOperation, context: string): void {
  const entry = table.get(serviceKeyId(keyOf(operation)));
  switch (operation.kind) {
    case "add-service":
      assert.equal(entry, undefined, `${context}: add of present service`);
      return;
    case "edit-service":
      assert.ok(entry && !sameService(operation.service, entry.service), `${context}: no-op service edit`);
      return;
    case "delete-service":
      assert.ok(entry, `${context}: delete of absent service`);
      return;
  }
  const current = entry?.destinations?.get(destinationId(operation.destination));
  if (operation.kind === "add-destination")
    assert.equal(current, undefined, `${context}: add of present destination`);
  else if (operation.kind === "edit-destination")
    assert.ok(
      current && !sameDestination(operation.destination, current),
      `${context}: no-op destination edit`,
    );
  else assert.ok(current, `${context}: delete of absent destination`);
}
