import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeAdvert, type VrrpV3Advert } from "./packet.js";
import { ReceivedAdvertMemo } from "./received-advert.js";

const advert: VrrpV3Advert = {
  version: 3,
  vrid: 51,
  priority: 150,
  maxAdvertIntervalCs: 1,
  addresses: ["198.51.100.254"],
};
const meta = { src: "198.51.100.1", dst: "224.0.0.18", ttl: 255 };
const bytes = encodeAdvert(advert, { src: meta.src, dst: meta.dst });

test("a repeated advert is recognised: the same reading, decoded once", () => {
  const memo = new ReceivedAdvertMemo();
  const first = memo.read(bytes, meta, "pseudo-header");
  assert.equal(first.srcFamily, "ipv4");
  assert.equal(first.canonicalSrc, "198.51.100.1");
  assert.equal(first.decoded.ok, true);
  const again = memo.read(Buffer.from(bytes), { ...meta }, "pseudo-header");
  assert.equal(again, first);
  assert.equal(again.decoded, first.decoded);
});

test("other bytes, another destination or another checksum mode are read afresh", () => {
  const memo = new ReceivedAdvertMemo();
  const first = memo.read(bytes, meta, "pseudo-header");
  const lower = encodeAdvert({ ...advert, priority: 100 }, { src: meta.src, dst: meta.dst });
  const changed = memo.read(lower, meta, "pseudo-header");
  assert.notEqual(changed, first);
  assert.equal(changed.decoded.ok && changed.decoded.advert.priority, 100);
  assert.notEqual(memo.read(lower, { ...meta, dst: "198.51.100.2" }, "pseudo-header"), changed);
  const strict = memo.read(lower, { ...meta, dst: "198.51.100.2" }, "vrrp-only");
  assert.equal(strict.decoded.ok, false, "a pseudo-header checksum does not verify as vrrp-only");
});

test("the memo never mistakes a packet changed in place for a repeat: it keeps its own copy", () => {
  const memo = new ReceivedAdvertMemo();
  const buffer = Buffer.from(bytes);
  const first = memo.read(buffer, meta, "pseudo-header");
  buffer[2] = 1; // the caller's buffer reused for another packet
  assert.notEqual(memo.read(buffer, meta, "pseudo-header"), first);
});

test("an unusable source is read without decoding; many senders do not grow the memo without bound", () => {
  const memo = new ReceivedAdvertMemo();
  const bad = memo.read(bytes, { ...meta, src: "not-an-address" }, "pseudo-header");
  assert.equal(bad.srcFamily, undefined);
  assert.equal(bad.canonicalSrc, undefined);
  const readings = Array.from({ length: 20 }, (_, i) =>
    memo.read(bytes, { ...meta, src: `198.51.100.${i + 10}` }, "pseudo-header"),
  );
  // The first senders were forgotten (a fresh reading), the last one is still remembered.
  assert.notEqual(memo.read(bytes, { ...meta, src: "198.51.100.10" }, "pseudo-header"), readings[0]);
  assert.equal(memo.read(bytes, { ...meta, src: "198.51.100.29" }, "pseudo-header"), readings[19]);
});
