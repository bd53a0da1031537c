import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_GARP, diffInstanceConfig, resolveInstanceConfig, VrrpConfigError } from "./config.js";
import type { VrrpInstanceConfigInput } from "./config.js";

const base: VrrpInstanceConfigInput = {
  name: "VI_1",
  interface: "eth0",
  vrid: 51,
  virtualAddresses: [{ address: "198.51.100.254", prefixLength: 24 }],
  primaryAddress: "198.51.100.1",
};

describe("resolveInstanceConfig", () => {
  test("keepalived's defaults", () => {
    const config = resolveInstanceConfig(base);
    assert.equal(config.version, 2);
    assert.equal(config.family, "ipv4");
    assert.equal(config.priority, 100);
    assert.equal(config.advertIntervalMs, 1000);
    assert.equal(config.preempt, true);
    assert.equal(config.preemptDelayMs, 0);
    assert.equal(config.checksumVariant, "pseudo-header");
    assert.equal(config.addressListPolicy, "drop");
    assert.equal(config.advertOnLowerPriority, true);
    assert.deepEqual(config.garp, DEFAULT_GARP);
    assert.deepEqual(DEFAULT_GARP, {
      masterRepeat: 5,
      masterDelayMs: 5000,
      masterRefreshMs: 0,
      masterRefreshRepeat: 1,
      intervalMs: 0,
    });
    assert.deepEqual(config.unicastPeers, []);
  });

  test("IPv6 defaults to VRRPv3; script defaults follow vrrp_script", () => {
    const config = resolveInstanceConfig({
      ...base,
      primaryAddress: "fe80::1",
      virtualAddresses: [{ address: "2001:db8::1", prefixLength: 64 }],
      trackScripts: [{ name: "chk", command: "/bin/true", intervalMs: 2000 }],
      trackInterfaces: [{ name: "eth1" }],
    });
    assert.equal(config.version, 3);
    assert.equal(config.family, "ipv6");
    assert.deepEqual(config.trackScripts[0], {
      name: "chk",
      command: "/bin/true",
      intervalMs: 2000,
      timeoutMs: 2000,
      rise: 1,
      fall: 1,
      weight: 0,
      reverse: false,
      initFail: false,
    });
    assert.deepEqual(config.trackInterfaces[0], { name: "eth1", weight: 0, reverse: false });
  });

  const invalid: [string, Partial<VrrpInstanceConfigInput>, RegExp][] = [
    ["VRID 0", { vrid: 0 }, /vrid must be an integer in 1\.\.255/],
    ["priority 0", { priority: 0 }, /priority must be an integer in 1\.\.255/],
    [
      "v2 over IPv6",
      {
        version: 2,
        primaryAddress: "fe80::1",
        virtualAddresses: [{ address: "2001:db8::1", prefixLength: 64 }],
      },
      /IPv4-only/,
    ],
    ["v2 fractional seconds", { advertIntervalMs: 1500 }, /whole seconds/],
    ["v3 not in 10 ms units", { version: 3, advertIntervalMs: 15 }, /multiple of 10 ms/],
    ["v3 above 40950 ms", { version: 3, advertIntervalMs: 40960 }, /10\.\.40950/],
    [
      "mixed families",
      { virtualAddresses: [{ address: "2001:db8::1", prefixLength: 64 }] },
      /virtualAddresses\[0\]\.address 2001:db8::1 is not an ipv4 address/,
    ],
    ["no virtual address", { virtualAddresses: [] }, /at least one/],
    [
      "duplicate virtual address",
      {
        virtualAddresses: [
          { address: "198.51.100.9", prefixLength: 24 },
          { address: "198.51.100.9", prefixLength: 32 },
        ],
      },
      /repeats 198\.51\.100\.9/,
    ],
    ["prefix 33", { virtualAddresses: [{ address: "198.51.100.9", prefixLength: 33 }] }, /prefixLength/],
    ["bad peer", { unicastPeers: ["peer-1"] }, /unicastPeers\[0\] "peer-1" is not an IP address/],
    ["password > 8 bytes", { authPassword: "123456789" }, /1\.\.8 bytes/],
    ["password with v3", { version: 3, authPassword: "pw" }, /VRRPv2 only/],
    [
      "weight out of range",
      { trackInterfaces: [{ name: "eth1", weight: 254 }] },
      /weight must be an integer in -253\.\.253/,
    ],
    ["rise 0", { trackScripts: [{ name: "chk", command: "x", rise: 0 }] }, /rise/],
    ["empty interface", { interface: "" }, /interface must not be empty/],
  ];
  for (const [name, override, message] of invalid) {
    test(`rejects ${name}, naming instance and field`, () => {
      assert.throws(
        () => resolveInstanceConfig({ ...base, ...override }),
        (e: unknown) => e instanceof VrrpConfigError && e.instance === "VI_1" && message.test(e.message),
      );
    });
  }
});

describe("diffInstanceConfig (reload without a state flip)", () => {
  const previous = resolveInstanceConfig({
    ...base,
    unicastPeers: ["198.51.100.2", "198.51.100.3"],
    trackScripts: [{ name: "chk", command: "/bin/check", intervalMs: 1000 }],
    notify: { master: "/bin/notify master" },
  });

  test("identical, or equal after normalisation (address spelling, order): unchanged", () => {
    assert.deepEqual(diffInstanceConfig(previous, previous), {
      keepsState: true,
      changed: [],
      requiresRestart: [],
    });
    const reordered = resolveInstanceConfig({
      ...base,
      unicastPeers: ["198.51.100.3", "198.51.100.2"],
      trackScripts: [{ name: "chk", command: "/bin/check", intervalMs: 1000 }],
      notify: { master: "/bin/notify master" },
    });
    assert.deepEqual(diffInstanceConfig(previous, reordered).changed, []);
  });

  test("non-disruptive fields (notify, GARP, script timings) keep the state", () => {
    const next = resolveInstanceConfig({
      ...base,
      unicastPeers: ["198.51.100.2", "198.51.100.3"],
      trackScripts: [{ name: "chk", command: "/bin/check", intervalMs: 5000, timeoutMs: 3000 }],
      notify: { master: "/bin/other master", fault: "/bin/other fault" },
      garp: { masterRefreshMs: 60_000 },
    });
    assert.deepEqual(diffInstanceConfig(previous, next), {
      keepsState: true,
      changed: ["garp", "trackScripts", "notify"],
      requiresRestart: [],
    });
  });

  test("protocol fields are applied live: priority, interval, preempt, addresses, peers", () => {
    const next = resolveInstanceConfig({
      ...base,
      priority: 150,
      advertIntervalMs: 2000,
      preempt: false,
      virtualAddresses: [{ address: "198.51.100.253", prefixLength: 24 }],
      unicastPeers: ["198.51.100.4"],
      trackScripts: [{ name: "chk", command: "/bin/check", intervalMs: 1000 }],
      notify: { master: "/bin/notify master" },
    });
    const diff = diffInstanceConfig(previous, next);
    assert.equal(diff.keepsState, true);
    assert.deepEqual(diff.changed, [
      "priority",
      "advertIntervalMs",
      "preempt",
      "virtualAddresses",
      "unicastPeers",
    ]);
  });

  test("identity fields and multicast ↔ unicast need a new instance", () => {
    const restart = (override: Partial<VrrpInstanceConfigInput>): readonly string[] =>
      diffInstanceConfig(
        previous,
        resolveInstanceConfig({
          ...base,
          unicastPeers: previous.unicastPeers,
          trackScripts: previous.trackScripts,
          notify: previous.notify,
          ...override,
        }),
      ).requiresRestart;
    assert.deepEqual(restart({ vrid: 52 }), ["vrid"]);
    assert.deepEqual(restart({ interface: "eth1" }), ["interface"]);
    assert.deepEqual(restart({ name: "VI_2" }), ["name"]);
    assert.deepEqual(restart({ primaryAddress: "198.51.100.9" }), ["primaryAddress"]);
    assert.deepEqual(restart({ version: 3 }), ["version"]);
    assert.deepEqual(restart({ unicastPeers: [] }), ["unicastPeers"]);
    assert.equal(
      diffInstanceConfig(previous, resolveInstanceConfig({ ...base, vrid: 52 })).keepsState,
      false,
    );
  });
});
