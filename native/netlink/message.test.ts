import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeAttributes } from "./attributes.js";
import {
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
} from "./constants.js";
import { NetlinkDecodeError } from "./errors.js";
import { decodeAck, decodeDoneErrno, decodeMessages, encodeMessage } from "./message.js";

test("a message encodes its header little-endian and pads the payload to 4 bytes", () => {
  const bytes = encodeMessage({
    type: 20,
    flags: 0x305,
    seq: 7,
    pid: 42,
    payload: Buffer.from([1, 2, 3, 4, 5]),
  });
  assert.equal(bytes.length, 24);
  assert.equal(bytes.readUInt32LE(0), 21); // length excludes padding
  assert.equal(bytes.readUInt16LE(4), 20);
  assert.equal(bytes.readUInt16LE(6), 0x305);
  assert.equal(bytes.readUInt32LE(8), 7);
  assert.equal(bytes.readUInt32LE(12), 42);
  const [decoded] = decodeMessages(bytes);
  assert.deepEqual(decoded, {
    type: 20,
    flags: 0x305,
    seq: 7,
    pid: 42,
    payload: Buffer.from([1, 2, 3, 4, 5]),
  });
});

test("a datagram with several messages splits into all of them", () => {
  const datagram = Buffer.concat([
    encodeMessage({ type: 16, flags: 2, seq: 1, payload: Buffer.alloc(3) }),
    encodeMessage({ type: 16, flags: 2, seq: 1, payload: Buffer.alloc(8) }),
    encodeMessage({ type: NLMSG_DONE, flags: 2, seq: 1, payload: Buffer.alloc(4) }),
  ]);
  const messages = decodeMessages(datagram);
  assert.deepEqual(
    messages.map((m) => [m.type, m.payload.length]),
    [
      [16, 3],
      [16, 8],
      [NLMSG_DONE, 4],
    ],
  );
});

test("broken framing throws NetlinkDecodeError", () => {
  const ok = encodeMessage({ type: 16, flags: 0, seq: 1, payload: Buffer.alloc(4) });
  const tooLong = Buffer.from(ok);
  tooLong.writeUInt32LE(64, 0);
  assert.throws(() => decodeMessages(tooLong), /runs past the end/);
  const tooShort = Buffer.from(ok);
  tooShort.writeUInt32LE(8, 0);
  assert.throws(() => decodeMessages(tooShort), /smaller than its header/);
  assert.throws(() => decodeMessages(Buffer.concat([ok, Buffer.alloc(5)])), NetlinkDecodeError);
});

/** An NLMSG_ERROR as the kernel builds it (netlink_ack). */
function kernelAck(options: { errno: number; capped: boolean; request: Buffer; tlvs?: Buffer }): Buffer {
  const header = options.request.subarray(0, 16);
  const echoed = options.capped ? header : options.request;
  const body = Buffer.alloc(4);
  body.writeInt32LE(-options.errno);
  const flags = (options.capped ? NLM_F_CAPPED : 0) | (options.tlvs ? NLM_F_ACK_TLVS : 0);
  return encodeMessage({
    type: NLMSG_ERROR,
    flags,
    seq: header.readUInt32LE(8),
    pid: header.readUInt32LE(12),
    payload: Buffer.concat([body, echoed, options.tlvs ?? Buffer.alloc(0)]),
  });
}

const request = encodeMessage({ type: 20, flags: 0x605, seq: 9, pid: 1234, payload: Buffer.alloc(10, 0xee) });

test("an ack decodes to errno 0 and echoes the request header", () => {
  const [message] = decodeMessages(kernelAck({ errno: 0, capped: true, request }));
  const ack = decodeAck(message!);
  assert.equal(ack.errno, 0);
  assert.deepEqual(ack.request, { length: 26, type: 20, flags: 0x605, seq: 9, pid: 1234 });
  assert.equal(ack.kernelMessage, undefined);
});

test("an error with extended ack yields errno, message and attribute offset, capped or not", () => {
  const tlvs = encodeAttributes((w) =>
    w.string(NLMSGERR_ATTR_MSG, "Invalid prefix for given prefix length").u32(NLMSGERR_ATTR_OFFS, 24),
  );
  for (const capped of [true, false]) {
    const [message] = decodeMessages(kernelAck({ errno: 22, capped, request, tlvs }));
    const ack = decodeAck(message!);
    assert.equal(ack.errno, 22, `capped=${capped}`);
    assert.equal(ack.kernelMessage, "Invalid prefix for given prefix length");
    assert.equal(ack.attributeOffset, 24);
  }
});

test("a truncated or impossible error payload is a decode error", () => {
  const [message] = decodeMessages(kernelAck({ errno: 1, capped: true, request }));
  assert.throws(
    () => decodeAck({ ...message!, payload: message!.payload.subarray(0, 10) }),
    NetlinkDecodeError,
  );
  const positive = Buffer.from(message!.payload);
  positive.writeInt32LE(5, 0);
  assert.throws(() => decodeAck({ ...message!, payload: positive }), /positive/);
});

test("NLMSG_DONE may carry a dump error", () => {
  const errorPayload = Buffer.alloc(4);
  errorPayload.writeInt32LE(-95);
  assert.equal(decodeDoneErrno({ type: NLMSG_DONE, flags: 2, seq: 1, pid: 1, payload: errorPayload }), 95);
  assert.equal(decodeDoneErrno({ type: NLMSG_DONE, flags: 2, seq: 1, pid: 1, payload: Buffer.alloc(4) }), 0);
  assert.equal(decodeDoneErrno({ type: NLMSG_DONE, flags: 2, seq: 1, pid: 1, payload: Buffer.alloc(0) }), 0);
});
