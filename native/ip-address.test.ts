import assert from "node:assert/strict";
import { test } from "node:test";
import { formatIp, formatMac, ipFamilyOf, normalizeIp, parseIp, parseMac } from "./ip-address.js";
import { SeededRandom } from "./testing/random-bytes.js";

test("IPv4 and IPv6 parse to network byte order", () => {
  assert.deepEqual(parseIp("198.51.100.7"), Buffer.from([198, 51, 100, 7]));
  assert.equal(parseIp("2001:db8::1").toString("hex"), "20010db8000000000000000000000001");
  assert.equal(parseIp("::").toString("hex"), "0".repeat(32));
  assert.equal(parseIp("::ffff:198.51.100.1").toString("hex"), "00000000000000000000ffffc6336401");
  assert.equal(parseIp("fe80::1:2").toString("hex"), "fe800000000000000000000000010002");
});

test("formatting is canonical (RFC 5952)", () => {
  const cases: [string, string][] = [
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // first of equal runs
    ["2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"], // longest run wins
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // one zero group stays
    ["0:0:0:0:0:0:0:0", "::"],
    ["ff02:0:0:0:0:0:0:12", "ff02::12"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["::ffff:c633:6401", "::ffff:198.51.100.1"],
    ["198.051.100.001", "198.51.100.1"],
  ];
  for (const [input, canonical] of cases) {
    if (ipFamilyOf(input) === undefined) continue; // node rejects leading zeros in IPv4
    assert.equal(normalizeIp(input), canonical, input);
  }
  assert.equal(normalizeIp("2001:DB8:0:0:0:0:0:1"), "2001:db8::1");
});

test("formatIp(parseIp(x)) round-trips random addresses", () => {
  const random = new SeededRandom(5952);
  for (let i = 0; i < 2000; i++) {
    const bytes = random.bytes(random.pick([4, 16]));
    // sprinkle zero groups so compression paths are exercised
    if (bytes.length === 16)
      for (let g = 0; g < 8; g++) if (random.next() < 0.4) bytes.writeUInt16BE(0, g * 2);
    assert.deepEqual(parseIp(formatIp(bytes)), bytes, bytes.toString("hex"));
  }
});

test("invalid input is a TypeError naming the field", () => {
  assert.throws(() => parseIp("198.51.100", "vip"), /vip: not an IP address: '198.51.100'/);
  assert.throws(() => parseIp("fe80::1%eth0"), /zone ids/);
  assert.throws(() => formatIp(Buffer.alloc(5)), RangeError);
  assert.throws(() => parseMac("02:00:00:00:00"), /not a MAC address/);
});

test("MAC addresses", () => {
  assert.deepEqual(parseMac("02:00:00:00:00:0a"), Buffer.from([2, 0, 0, 0, 0, 10]));
  assert.equal(formatMac(Buffer.from([2, 0, 0, 0xab, 0, 10])), "02:00:00:ab:00:0a");
  assert.equal(formatMac(parseMac("02-00-00-AB-00-0A")), "02:00:00:ab:00:0a");
});
