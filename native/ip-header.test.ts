import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeAdvert, encodeAdvert, type VrrpV3Advert } from "../agent/vrrp/packet.js";
import { withIpHeader } from "./ip-header.js";

const resign4: VrrpV3Advert = {
  version: 3,
  vrid: 51,
  priority: 0,
  maxAdvertIntervalCs: 1,
  addresses: ["198.51.100.254"],
};
const resign6: VrrpV3Advert = { ...resign4, addresses: ["2001:db8::254"] };

test("IPv4: a 20-byte header, TTL 255, protocol 112, DF, the addresses; the advert after it unchanged", () => {
  const addressing = { source: "198.51.100.1", destination: "224.0.0.18" };
  const advert = encodeAdvert(resign4, { src: addressing.source, dst: addressing.destination });
  const packet = withIpHeader(4, advert, addressing);
  assert.equal(packet.length, 20 + advert.length);
  assert.equal(packet[0], 0x45);
  assert.equal(packet.readUInt16BE(2), packet.length);
  assert.equal(packet.readUInt16BE(4), 0, "identification: the kernel picks it");
  assert.equal(packet.readUInt16BE(6), 0x4000);
  assert.equal(packet[8], 255);
  assert.equal(packet[9], 112);
  assert.equal(packet.readUInt16BE(10), 0, "header checksum: the kernel computes it");
  assert.deepEqual([...packet.subarray(12, 16)], [198, 51, 100, 1]);
  assert.deepEqual([...packet.subarray(16, 20)], [224, 0, 0, 18]);
  const decoded = decodeAdvert(packet.subarray(20), { src: addressing.source, dst: addressing.destination });
  assert.equal(decoded.priority, 0);
});

test("IPv6: a 40-byte header, payload length, next header 112, hop limit 255, the addresses", () => {
  const addressing = { source: "fe80::1", destination: "ff02::12" };
  const advert = encodeAdvert(resign6, { src: addressing.source, dst: addressing.destination });
  const packet = withIpHeader(6, advert, addressing);
  assert.equal(packet.length, 40 + advert.length);
  assert.equal(packet.readUInt32BE(0), 0x6000_0000);
  assert.equal(packet.readUInt16BE(4), advert.length);
  assert.equal(packet[6], 112);
  assert.equal(packet[7], 255);
  assert.equal(packet.subarray(8, 24).toString("hex"), "fe800000000000000000000000000001");
  assert.equal(packet.subarray(24, 40).toString("hex"), "ff020000000000000000000000000012");
  const decoded = decodeAdvert(packet.subarray(40), { src: addressing.source, dst: addressing.destination });
  assert.deepEqual(decoded.addresses, ["2001:db8::254"]);
});

test("an address of the other family is refused with both addresses named", () => {
  assert.throws(
    () => withIpHeader(4, new Uint8Array(8), { source: "fe80::1", destination: "224.0.0.18" }),
    /IPv4 header from fe80::1 to 224\.0\.0\.18/,
  );
  assert.throws(() => withIpHeader(6, new Uint8Array(8), { source: "fe80::1", destination: "198.51.100.2" }));
});
