import assert from "node:assert/strict";
import { test } from "node:test";
import { AttributeSet, AttributeWriter, decodeAttributes, encodeAttributes } from "./attributes.js";
import { NLA_F_NESTED } from "./constants.js";
import { NetlinkDecodeError } from "./errors.js";

test("every scalar type round-trips with 4-byte alignment", () => {
  const bytes = encodeAttributes((w) =>
    w
      .u8(1, 0xab)
      .u16(2, 0xbeef)
      .u16be(3, 8080)
      .u32(4, 0xdeadbeef)
      .u32be(5, 0xffffff00)
      .s32(6, -17)
      .u64(7, 0x1122334455667788n)
      .string(8, "eth0")
      .binary(9, Buffer.from([1, 2, 3]))
      .flag(10),
  );
  // u8 (5→8) u16 (6→8) u16be (8) u32 (8) u32be (8) s32 (8) u64 (12) "eth0\0" (9→12) 3 bytes (7→8) flag (4)
  assert.equal(bytes.length, 8 + 8 + 8 + 8 + 8 + 8 + 12 + 12 + 8 + 4);
  const set = new AttributeSet(bytes, "test attributes");
  assert.equal(set.u8(1), 0xab);
  assert.equal(set.u16(2), 0xbeef);
  assert.equal(set.u16be(3), 8080);
  assert.equal(set.u32(4), 0xdeadbeef);
  assert.equal(set.u32be(5), 0xffffff00);
  assert.equal(set.s32(6), -17);
  assert.equal(set.u64(7), 0x1122334455667788n);
  assert.equal(set.string(8), "eth0");
  assert.deepEqual(set.binary(9), Buffer.from([1, 2, 3]));
  assert.equal(set.has(10), true);
  assert.equal(set.get(10)?.length, 0);
  assert.equal(set.u32(99), undefined);
  // the port is really big-endian on the wire
  assert.deepEqual(bytes.subarray(16 + 4, 16 + 6), Buffer.from([0x1f, 0x90]));
});

test("nested attributes carry NLA_F_NESTED and decode recursively", () => {
  const bytes = encodeAttributes((w) =>
    w.nested(1, (inner) => inner.u32(2, 7).nested(3, (deeper) => deeper.string(4, "x"))),
  );
  const [outer] = decodeAttributes(bytes, "outer");
  assert.equal(outer?.type, 1);
  assert.equal(outer?.nested, true);
  assert.equal(bytes.readUInt16LE(2), 1 | NLA_F_NESTED);
  const set = new AttributeSet(bytes, "outer");
  const inner = set.nested(1)!;
  assert.equal(inner.u32(2), 7);
  assert.equal(inner.nested(3)?.string(4), "x");
});

test("a repeated type: get() returns the last, all() every one", () => {
  const set = new AttributeSet(
    encodeAttributes((w) => w.u32(1, 1).u32(1, 2).u32(2, 3)),
    "t",
  );
  assert.equal(set.u32(1), 2);
  assert.deepEqual(
    set.all(1).map((b) => b.readUInt32LE(0)),
    [1, 2],
  );
});

test("a string without a terminating NUL is read to the attribute's end", () => {
  const w = new AttributeWriter().binary(1, Buffer.from("lo"));
  assert.equal(new AttributeSet(w.toBuffer(), "t").string(1), "lo");
});

test("malformed attributes throw NetlinkDecodeError with the offset", () => {
  const good = encodeAttributes((w) => w.u32(1, 5));
  const tooLong = Buffer.from(good);
  tooLong.writeUInt16LE(12, 0);
  assert.throws(
    () => decodeAttributes(tooLong, "t"),
    (e: unknown) => e instanceof NetlinkDecodeError && e.offset === 0,
  );
  const tooShort = Buffer.from(good);
  tooShort.writeUInt16LE(3, 0);
  assert.throws(() => decodeAttributes(tooShort, "t"), NetlinkDecodeError);
  assert.throws(() => decodeAttributes(Buffer.concat([good, Buffer.from([1, 2])]), "t"), /2 trailing bytes/);
  // a u32 accessor on a 2-byte value
  const short = new AttributeSet(
    encodeAttributes((w) => w.u16(1, 5)),
    "t",
    { 1: "X_ATTR" },
  );
  assert.throws(() => short.u32(1), /X_ATTR has 2 bytes, expected 4/);
  assert.throws(() => short.required(2, (s, t) => s.u32(t)), /required attribute type 2 is missing/);
});

test("the writer refuses attributes that cannot be encoded", () => {
  assert.throws(() => new AttributeWriter().binary(1, Buffer.alloc(0xffff)), RangeError);
  assert.throws(() => new AttributeWriter().u8(0x10000, 1), RangeError);
});

test("the last attribute may omit its trailing padding", () => {
  const bytes = encodeAttributes((w) => w.u8(1, 9));
  const set = new AttributeSet(bytes.subarray(0, 5), "t");
  assert.equal(set.u8(1), 9);
});
