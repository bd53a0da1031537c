import assert from "node:assert/strict";
import { test } from "node:test";
import { normaliseHex } from "./map-lvs.js";
import { addressLabel, dnsLabel, NameAllocator } from "./names.js";
import {
  commandArgv,
  expandIPv4Range,
  isIPv4Broadcast,
  netmaskToPrefixLength,
  parseBool,
  parseIP,
  parseIPPrefix,
  parseInteger,
  parseTimerMillis,
} from "./values.js";

test("addresses and prefixes", () => {
  assert.deepEqual(parseIP("198.51.100.7"), { family: 4, text: "198.51.100.7" });
  assert.deepEqual(parseIP("2001:DB8:0:0::0001"), { family: 6, text: "2001:db8::1" });
  assert.equal(parseIP("198.51.100.256"), undefined);
  assert.deepEqual(parseIPPrefix("2001:db8::/64"), { family: 6, text: "2001:db8::", prefixLength: 64 });
  assert.equal(parseIPPrefix("198.51.100.1/33"), '"/33" is not a prefix length for an IPv4 address (0-32)');
  assert.equal(isIPv4Broadcast("198.51.100.255", 24), true);
  assert.equal(isIPv4Broadcast("198.51.100.254", 24), false);
});

test("numbers, timers, booleans, netmasks", () => {
  assert.equal(parseInteger("42", 1, 255), 42);
  assert.equal(parseInteger("4x", 1, 255), '"4x" is not an integer');
  assert.equal(parseTimerMillis("0.25", 0, 10), 250);
  assert.equal(parseTimerMillis(".5", 0, 10), 500);
  assert.equal(parseTimerMillis("11", 0, 10), "11 s is out of range (0-10 s)");
  assert.equal(parseBool(undefined), true);
  assert.equal(parseBool("Off"), false);
  assert.equal(netmaskToPrefixLength("255.255.255.0"), 24);
  assert.equal(netmaskToPrefixLength("ffff:ffff:ffff:ffff::"), 64);
  assert.equal(netmaskToPrefixLength("96"), 96);
  assert.equal(netmaskToPrefixLength("255.0.255.0"), '"255.0.255.0" is not a contiguous netmask');
});

test("script lines split like keepalived's: whitespace, single quotes group", () => {
  assert.deepEqual(commandArgv("/bin/check --name 'two words'  x"), [
    "/bin/check",
    "--name",
    "two words",
    "x",
  ]);
  assert.equal(commandArgv("/bin/x 'open"), "unterminated ' in command \"/bin/x 'open\"");
});

test("virtual_server_group ranges", () => {
  assert.deepEqual(expandIPv4Range("198.51.100.1-3", 10), ["198.51.100.1", "198.51.100.2", "198.51.100.3"]);
  assert.deepEqual(expandIPv4Range("198.51.100.254-198.51.101.1", 10), [
    "198.51.100.254",
    "198.51.100.255",
    "198.51.101.0",
    "198.51.101.1",
  ]);
  assert.deepEqual(expandIPv4Range("198.51.100.9/31", 10), ["198.51.100.8", "198.51.100.9"]);
  assert.equal(
    expandIPv4Range("198.51.100.0/16", 256),
    'range "198.51.100.0/16" has 65536 addresses; the importer expands at most 256',
  );
});

test("UDP_CHECK hex as keepalived reads it", () => {
  assert.equal(normaliseHex("Ab12f 3 456 546443123"), "ab120f0345065464431203");
  assert.equal(normaliseHex("zz"), undefined);
});

test("Kubernetes names", () => {
  assert.equal(dnsLabel("LVS_VIP", "x"), "lvs-vip");
  assert.equal(dnsLabel("__", "fallback"), "fallback");
  assert.equal(dnsLabel("a".repeat(70), "x").length, 63);
  assert.equal(addressLabel({ family: 6, text: "::1" }), "0--1");
  assert.equal(addressLabel({ family: 6, text: "2001:db8::" }), "2001-db8--0");
  const names = new NameAllocator();
  assert.deepEqual(
    [names.allocate("vi-1"), names.allocate("vi-1"), names.allocate("vi-1")],
    ["vi-1", "vi-1-2", "vi-1-3"],
  );
});
