import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AddressError,
  canonicalAddress,
  compareAddresses,
  formatAddress,
  ipFamily,
  parseAddress,
  sameAddress,
} from "./address.js";
import { internetChecksum } from "./checksum.js";

describe("address helpers", () => {
  test("family of addresses, zones ignored", () => {
    assert.equal(ipFamily("198.51.100.1"), "ipv4");
    assert.equal(ipFamily("2001:db8::1"), "ipv6");
    assert.equal(ipFamily("fe80::1%eth0"), "ipv6");
    assert.equal(ipFamily("198.51.100"), undefined);
    assert.equal(ipFamily("example.org"), undefined);
  });

  test("parse and format round trip in RFC 5952 form", () => {
    const cases: [string, string][] = [
      ["198.51.100.254", "198.51.100.254"],
      ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
      ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // first of two equal zero runs
      ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // a single zero group stays
      ["::", "::"],
      ["::1", "::1"],
      ["fe80::1%eth0", "fe80::1"],
      ["ff02:0:0:0:0:0:0:12", "ff02::12"],
      ["::ffff:198.51.100.1", "::ffff:198.51.100.1"],
      ["2001:db8::198.51.100.1", "2001:db8::c633:6401"],
    ];
    for (const [input, canonical] of cases) assert.equal(canonicalAddress(input), canonical, input);
    assert.deepEqual([...parseAddress("203.0.113.9")], [203, 0, 113, 9]);
    assert.equal(parseAddress("2001:db8::1").length, 16);
    assert.equal(formatAddress(new Uint8Array([198, 51, 100, 7])), "198.51.100.7");
  });

  test("malformed addresses are rejected with the address in the message", () => {
    for (const bad of [
      "",
      "1.2.3",
      "1.2.3.256",
      "2001:db8::1::2",
      "2001:db8:1:2:3:4:5:6:7",
      "12345::",
      "gg::1",
    ]) {
      assert.throws(
        () => parseAddress(bad),
        (e: unknown) => e instanceof AddressError && e.message.includes(JSON.stringify(bad)),
        bad,
      );
    }
    assert.throws(() => formatAddress(new Uint8Array(5)), /4 or 16 bytes/);
  });

  test("numeric order, IPv4 and IPv6", () => {
    assert.ok(compareAddresses("198.51.100.2", "198.51.100.10") < 0, "numeric, not textual");
    assert.ok(compareAddresses("203.0.113.1", "198.51.100.255") > 0);
    assert.ok(compareAddresses("fe80::2", "fe80::10") < 0);
    assert.ok(compareAddresses("fe80::1:0", "fe80::ffff") > 0);
    assert.ok(compareAddresses("198.51.100.1", "::1") < 0, "IPv4 sorts before IPv6");
    assert.ok(sameAddress("2001:db8::1", "2001:0db8:0:0::1"));
  });

  test("internet checksum: RFC 1071 example and odd-length data across chunks", () => {
    // RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2 → checksum 0x220d
    assert.equal(internetChecksum(Buffer.from("0001f203f4f5f6f7", "hex")), 0x220d);
    const whole = Buffer.from("45000073000040004011c6336401cb007109", "hex");
    assert.equal(
      internetChecksum(whole.subarray(0, 3), whole.subarray(3, 10), whole.subarray(10)),
      internetChecksum(whole),
    );
    assert.equal(internetChecksum(Buffer.from([0x01])), ~0x0100 & 0xffff);
  });
});
