import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  buildBroadcastProbeFrame,
  decodeProbe,
  decodeReply,
  encodeProbe,
  encodeReply,
} from "./vip-probe-wire.js";

describe("VIP probe packets", () => {
  test("probe and answer round trip", () => {
    const probe = encodeProbe("B", 70_000);
    assert.deepEqual(decodeProbe(probe), { kind: "B", seq: 70_000 });
    assert.deepEqual(decodeReply(encodeReply(probe, "n2")), { kind: "B", seq: 70_000, node: "n2" });
    assert.equal(decodeProbe(Buffer.from([0x58, 0, 0, 0, 1])), undefined);
    assert.equal(decodeReply(probe), undefined, "an answer names its node");
  });

  test("the broadcast frame: Ethernet broadcast, a valid IPv4 header, UDP to the echo port", () => {
    const frame = buildBroadcastProbeFrame({
      sourceMac: "02:00:00:00:01:64",
      source: "198.51.100.100",
      destination: "198.51.100.254",
      sourcePort: 40007,
      destinationPort: 7,
      payload: encodeProbe("B", 1),
    });
    assert.equal(frame.length, 60, "padded to the Ethernet minimum");
    assert.equal(frame.subarray(0, 6).toString("hex"), "ffffffffffff");
    assert.equal(frame.subarray(6, 12).toString("hex"), "020000000164");
    assert.equal(frame.readUInt16BE(12), 0x0800);
    const ip = frame.subarray(14, 34);
    assert.equal(ip.readUInt16BE(2), 20 + 8 + 5);
    assert.equal([...ip.subarray(12, 16)].join("."), "198.51.100.100");
    assert.equal([...ip.subarray(16, 20)].join("."), "198.51.100.254");
    // the header checksum verifies: the one's-complement sum over the header is 0xffff
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    assert.equal(sum, 0xffff);
    const udp = frame.subarray(34);
    assert.equal(udp.readUInt16BE(0), 40007);
    assert.equal(udp.readUInt16BE(2), 7);
    assert.equal(udp.readUInt16BE(4), 13);
    assert.deepEqual(decodeProbe(udp.subarray(8, 13)), { kind: "B", seq: 1 });
  });
});
