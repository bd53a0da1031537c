// Property test of every IPVS and generic netlink decoder: random bytes and mutations of valid
// kernel replies (seeded, so a failure reproduces) either decode or throw NetlinkDecodeError.
// Nothing else may escape: no RangeError from a short read, no TypeError from a missing field.
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeFamily, decodeGenlPayload, encodeGenlPayload } from "../genl/header.js";
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_MCAST_GROUPS,
  CTRL_ATTR_OPS,
  CTRL_ATTR_VERSION,
} from "../genl/constants.js";
import { encodeAttributes } from "../netlink/attributes.js";
import { NetlinkDecodeError } from "../netlink/errors.js";
import { decodeInfo, decodeTimeouts, writeSyncDaemon } from "./config-codec.js";
import {
  IPVS_CMD_ATTR_DAEMON,
  IPVS_CMD_ATTR_DEST,
  IPVS_CMD_ATTR_SERVICE,
  IPVS_CMD_ATTR_TIMEOUT_TCP,
  IPVS_CMD_ATTR_TIMEOUT_UDP,
  IPVS_DEST_ATTR_ACTIVE_CONNS,
  IPVS_DEST_ATTR_FWD_METHOD,
  IPVS_DEST_ATTR_L_THRESH,
  IPVS_DEST_ATTR_STATS,
  IPVS_DEST_ATTR_STATS64,
  IPVS_DEST_ATTR_TUN_FLAGS,
  IPVS_DEST_ATTR_TUN_PORT,
  IPVS_DEST_ATTR_TUN_TYPE,
  IPVS_DEST_ATTR_U_THRESH,
  IPVS_DEST_ATTR_WEIGHT,
  IPVS_INFO_ATTR_CONN_TAB_SIZE,
  IPVS_INFO_ATTR_VERSION,
  IPVS_SVC_ATTR_FLAGS,
  IPVS_SVC_ATTR_NETMASK,
  IPVS_SVC_ATTR_PE_NAME,
  IPVS_SVC_ATTR_SCHED_NAME,
  IPVS_SVC_ATTR_STATS,
  IPVS_SVC_ATTR_STATS64,
  IPVS_SVC_ATTR_TIMEOUT,
} from "./constants.js";
import { writeDestinationKey } from "./destination-codec.js";
import { writeStats } from "./fake-kernel.js";
import { ZERO_STATS } from "./model.js";
import { decodeDestinationReply, decodeServiceReply, decodeSyncDaemonReply } from "./requests.js";
import { writeServiceKey } from "./service-codec.js";

/** mulberry32: a small seeded PRNG, so every failing input can be regenerated from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const stats = { ...ZERO_STATS, connections: 3n, inBytes: 1n << 40n };

/** Valid replies, shaped like the kernel's (see fake-kernel.ts), to mutate. */
const SEEDS: Record<string, Buffer> = {
  service: encodeAttributes((w) =>
    w.nested(IPVS_CMD_ATTR_SERVICE, (s) => {
      writeServiceKey(s, { kind: "address", protocol: "udp", address: "2001:db8::1", port: 53 });
      s.string(IPVS_SVC_ATTR_SCHED_NAME, "sh")
        .string(IPVS_SVC_ATTR_PE_NAME, "sip")
        .binary(IPVS_SVC_ATTR_FLAGS, Buffer.from("1b000000ffffffff", "hex"))
        .u32(IPVS_SVC_ATTR_TIMEOUT, 300)
        .u32(IPVS_SVC_ATTR_NETMASK, 64);
      writeStats(s, IPVS_SVC_ATTR_STATS, IPVS_SVC_ATTR_STATS64, stats);
    }),
  ),
  fwmarkService: encodeAttributes((w) =>
    w.nested(IPVS_CMD_ATTR_SERVICE, (s) => {
      writeServiceKey(s, { kind: "fwmark", family: 4, fwmark: 7 });
      s.string(IPVS_SVC_ATTR_SCHED_NAME, "rr")
        .binary(IPVS_SVC_ATTR_FLAGS, Buffer.from("02000000ffffffff", "hex"))
        .u32(IPVS_SVC_ATTR_TIMEOUT, 0)
        .binary(IPVS_SVC_ATTR_NETMASK, Buffer.from("ffffffff", "hex"));
      writeStats(s, IPVS_SVC_ATTR_STATS, IPVS_SVC_ATTR_STATS64, stats);
    }),
  ),
  destination: encodeAttributes((w) =>
    w.nested(IPVS_CMD_ATTR_DEST, (d) => {
      writeDestinationKey(d, { address: "203.0.113.11", port: 80 });
      d.u32(IPVS_DEST_ATTR_FWD_METHOD, 2)
        .u32(IPVS_DEST_ATTR_WEIGHT, 1)
        .u32(IPVS_DEST_ATTR_U_THRESH, 10)
        .u32(IPVS_DEST_ATTR_L_THRESH, 5)
        .u32(IPVS_DEST_ATTR_ACTIVE_CONNS, 2)
        .u8(IPVS_DEST_ATTR_TUN_TYPE, 1)
        .u16be(IPVS_DEST_ATTR_TUN_PORT, 6080)
        .u16(IPVS_DEST_ATTR_TUN_FLAGS, 1);
      writeStats(d, IPVS_DEST_ATTR_STATS, IPVS_DEST_ATTR_STATS64, stats);
    }),
  ),
  daemon: encodeAttributes((w) =>
    w.nested(IPVS_CMD_ATTR_DAEMON, (d) =>
      writeSyncDaemon(d, {
        state: "backup",
        interface: "eth0",
        syncId: 3,
        maxLength: 1400,
        group: "ff02::12",
        port: 8848,
        ttl: 1,
      }),
    ),
  ),
  timeouts: encodeAttributes((w) =>
    w.u32(IPVS_CMD_ATTR_TIMEOUT_TCP, 900).u32(5, 120).u32(IPVS_CMD_ATTR_TIMEOUT_UDP, 300),
  ),
  info: encodeAttributes((w) =>
    w.u32(IPVS_INFO_ATTR_VERSION, 0x010201).u32(IPVS_INFO_ATTR_CONN_TAB_SIZE, 4096),
  ),
  family: encodeAttributes((w) =>
    w
      .u16(CTRL_ATTR_FAMILY_ID, 0x1c)
      .string(CTRL_ATTR_FAMILY_NAME, "IPVS")
      .u32(CTRL_ATTR_VERSION, 1)
      .nested(CTRL_ATTR_OPS, (ops) => ops.nested(1, (op) => op.u32(1, 1).u32(2, 0xa)))
      .nested(CTRL_ATTR_MCAST_GROUPS, (groups) => groups.nested(1, (g) => g.string(1, "events").u32(2, 3))),
  ),
  genl: encodeGenlPayload({ command: 1, version: 1 }, Buffer.from("0800010002000000", "hex")),
};

/** Each decoder with the seed it is best exercised by. */
const DECODERS: [string, keyof typeof SEEDS, (bytes: Buffer) => unknown][] = [
  ["decodeServiceReply", "service", decodeServiceReply],
  ["decodeServiceReply (fwmark)", "fwmarkService", decodeServiceReply],
  ["decodeDestinationReply (IPv4 service)", "destination", (b) => decodeDestinationReply(b, 4)],
  ["decodeDestinationReply (IPv6 service)", "destination", (b) => decodeDestinationReply(b, 6)],
  ["decodeSyncDaemonReply", "daemon", decodeSyncDaemonReply],
  ["decodeTimeouts", "timeouts", decodeTimeouts],
  ["decodeInfo", "info", decodeInfo],
  ["decodeFamily", "family", decodeFamily],
  ["decodeGenlPayload", "genl", (b) => decodeGenlPayload(b, "fuzz")],
];

function mutate(seed: Buffer, random: () => number): Buffer {
  const bytes = Buffer.from(seed);
  const pick = (n: number) => Math.floor(random() * n);
  switch (pick(6)) {
    case 0: // flip a few bytes
      for (let i = 0, n = 1 + pick(4); i < n && bytes.length > 0; i++) bytes[pick(bytes.length)] = pick(256);
      return bytes;
    case 1: // truncate
      return bytes.subarray(0, pick(bytes.length + 1));
    case 2: // rewrite one attribute length field (every 4th byte pair is a candidate)
      if (bytes.length >= 4) bytes.writeUInt16LE(pick(0x10000), (pick(bytes.length >> 2) << 2) & ~3);
      return bytes;
    case 3: // insert random bytes
      return Buffer.concat([
        bytes.subarray(0, pick(bytes.length + 1)),
        randomBytes(1 + pick(12), random),
        bytes,
      ]);
    case 4: // zero a range
      bytes.fill(0, pick(bytes.length + 1), pick(bytes.length + 1));
      return bytes;
    default: // a nested copy of itself, which stresses nest length accounting
      return Buffer.concat([bytes, bytes.subarray(pick(bytes.length + 1))]);
  }
}

function randomBytes(length: number, random: () => number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

function assertOnlyTypedErrors(
  name: string,
  decode: (bytes: Buffer) => unknown,
  input: Buffer,
  seed: number,
): void {
  try {
    decode(input);
  } catch (error) {
    if (error instanceof NetlinkDecodeError) return;
    assert.fail(
      `${name} threw ${String(error)} (not a NetlinkDecodeError) for seed ${seed}, input ${input.toString("hex")}`,
    );
  }
}

test("the seeds decode (so the mutations start from valid replies)", () => {
  for (const [name, seed, decode] of DECODERS) assert.doesNotThrow(() => decode(SEEDS[seed]!), name);
});

for (const [name, seedName, decode] of DECODERS) {
  test(`${name}: 3000 random and mutated inputs give a value or a NetlinkDecodeError`, () => {
    const seed = 0x5eed0000 + name.length;
    const random = prng(seed);
    for (let i = 0; i < 1000; i++)
      assertOnlyTypedErrors(name, decode, randomBytes(Math.floor(random() * 200), random), seed);
    for (let i = 0; i < 2000; i++)
      assertOnlyTypedErrors(name, decode, mutate(SEEDS[seedName]!, random), seed);
  });
}
