// The codec against real keepalived 2.2.7 traffic (../shared/testdata, see its README): VRID 51,
// VIP 198.51.100.254, nodes 198.51.100.1-3 with priorities 150/100/50, failovers and failbacks.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { readPcapIpPackets } from "../../e2e/pcap/pcap.js";
import type { PcapIpPacket } from "../../e2e/pcap/pcap.js";
import { sharedTestdataOptions, sharedTestdataPath } from "../../e2e/pcap/testdata.js";
import { decodeAdvert, encodeAdvert, tryDecodeAdvert } from "./packet.js";
import type { DecodedAdvert, VrrpAdvert } from "./packet.js";

const V2_CAPTURE = "keepalived-vrrpv2-adv1.pcap";
const V3_CAPTURE = "keepalived-vrrpv3-adv0.05.pcap";

function vrrpPackets(name: string): PcapIpPacket[] {
  return [...readPcapIpPackets(readFileSync(sharedTestdataPath(name)))].filter((p) => p.protocol === 112);
}

function withoutDecodeFields(decoded: DecodedAdvert): VrrpAdvert {
  const { family: _family, checksum: _checksum, checksumVariant: _variant, ...advert } = decoded;
  return advert;
}

/** Priority counts per sender, e.g. { "198.51.100.1": { 150: 115, 0: 6 } }. */
function tally(adverts: { src: string; advert: DecodedAdvert }[]): Record<string, Record<number, number>> {
  const out: Record<string, Record<number, number>> = {};
  for (const { src, advert } of adverts) {
    const bySrc = (out[src] ??= {});
    bySrc[advert.priority] = (bySrc[advert.priority] ?? 0) + 1;
  }
  return out;
}

describe("keepalived 2.2.7 captures", sharedTestdataOptions(V2_CAPTURE, V3_CAPTURE), () => {
  test("VRRPv2, 1 s: every advert decodes, verifies and re-encodes byte for byte", () => {
    const packets = vrrpPackets(V2_CAPTURE);
    assert.equal(packets.length, 239);
    const adverts = packets.map((p) => {
      assert.equal(p.ttl, 255);
      assert.equal(p.ipDst, "224.0.0.18");
      const advert = decodeAdvert(p.payload, { src: p.ipSrc, dst: p.ipDst });
      assert.equal(advert.checksumVariant, "vrrp-only");
      assert.deepEqual(encodeAdvert(withoutDecodeFields(advert), { src: p.ipSrc, dst: p.ipDst }), p.payload);
      return { src: p.ipSrc, advert };
    });
    for (const { advert } of adverts) {
      assert.equal(advert.version, 2);
      assert.equal(advert.vrid, 51);
      assert.deepEqual(advert.addresses, ["198.51.100.254"]);
      assert.equal(advert.version === 2 && advert.authType, "none");
      assert.equal(advert.version === 2 && advert.advertIntervalS, 1);
    }
    assert.deepEqual(tally(adverts), {
      "198.51.100.1": { 150: 115, 0: 6 },
      "198.51.100.2": { 100: 115, 0: 1 },
      "198.51.100.3": { 50: 1, 0: 1 },
    });
    const resigns = adverts.filter((a) => a.advert.priority === 0);
    assert.equal(resigns.length, 8);
  });

  test("VRRPv3, 50 ms: every advert decodes with the IPv4 pseudo-header checksum and re-encodes byte for byte", () => {
    const packets = vrrpPackets(V3_CAPTURE);
    assert.equal(packets.length, 1872);
    const adverts = packets.map((p) => {
      assert.equal(p.ttl, 255);
      const options = { src: p.ipSrc, dst: p.ipDst };
      const advert = decodeAdvert(p.payload, options);
      assert.equal(advert.checksumVariant, "pseudo-header");
      // keepalived includes the pseudo-header: the variant without it must not verify
      const withoutPseudo = tryDecodeAdvert(p.payload, { ...options, checksumMode: "vrrp-only" });
      assert.equal(withoutPseudo.ok ? "ok" : withoutPseudo.error.reason, "bad-checksum");
      assert.deepEqual(encodeAdvert(withoutDecodeFields(advert), options), p.payload);
      return { src: p.ipSrc, advert };
    });
    for (const { advert } of adverts) {
      assert.equal(advert.version, 3);
      assert.equal(advert.vrid, 51);
      assert.deepEqual(advert.addresses, ["198.51.100.254"]);
      assert.equal(advert.version === 3 && advert.maxAdvertIntervalCs, 5);
    }
    assert.deepEqual(tally(adverts), {
      "198.51.100.1": { 150: 1294, 0: 6 },
      "198.51.100.2": { 100: 550, 0: 1 },
      "198.51.100.3": { 50: 20, 0: 1 },
    });
    assert.equal(adverts.filter((a) => a.advert.priority === 0).length, 8);
  });
});
