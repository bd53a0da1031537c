// Property test of every decoder in native/ (netlink framing, acks, attributes, links, addresses,
// notifications, ARP, neighbour advertisements): thousands of random and mutated inputs from a
// seeded PRNG must each decode or throw the decoder's typed error — nothing else, and no hang.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AttributeSet, encodeAttributes } from "./netlink/attributes.js";
import { NLMSGERR_ATTR_MSG } from "./netlink/constants.js";
import { NetlinkConnection } from "./netlink/connection.js";
import { NetlinkDecodeError, NetlinkLostReplyError } from "./netlink/errors.js";
import { decodeAck, decodeDoneErrno, decodeMessages, encodeMessage } from "./netlink/message.js";
import {
  buildGratuitousArp,
  buildUnsolicitedNeighborAdvertisement,
  decodeArpFrame,
  decodeNeighborAdvertisement,
  PacketDecodeError,
} from "./neighbor-packets.js";
import { decodeAddress, encodeAddAddress } from "./rtnetlink/address.js";
import * as C from "./rtnetlink/constants.js";
import { decodeRtnetlinkEvent } from "./rtnetlink/events.js";
import { decodeLink, encodeLinkRequest } from "./rtnetlink/link.js";
import { ackFor, doneFor, FakeNetlinkTransport } from "./testing/fake-netlink.js";
import { fuzzDecoder, SeededRandom } from "./testing/random-bytes.js";

const COUNT = 20_000;

const linkPayload = Buffer.concat([
  encodeLinkRequest(3, (w) =>
    w
      .string(C.IFLA_IFNAME, "eth0")
      .u32(C.IFLA_MTU, 1500)
      .u8(C.IFLA_OPERSTATE, 6)
      .binary(C.IFLA_ADDRESS, Buffer.from([2, 0, 0, 0, 0, 1]))
      .nested(C.IFLA_LINKINFO, (n) => n.string(C.IFLA_INFO_KIND, "veth")),
  ),
]);
const addressPayloads = [
  encodeAddAddress({
    ifindex: 3,
    address: "198.51.100.10",
    prefixLength: 24,
    label: "eth0:vip",
    broadcast: "198.51.100.255",
  }),
  encodeAddAddress({
    ifindex: 3,
    address: "2001:db8::10",
    prefixLength: 64,
    flags: ["nodad", "noprefixroute"],
  }),
];
const request = { type: C.RTM_NEWADDR, flags: 5, seq: 9, pid: 4242, payload: addressPayloads[0]! };
const netlinkSamples = [
  encodeMessage({ type: C.RTM_NEWLINK, flags: 0, seq: 0, payload: linkPayload }),
  ...addressPayloads.map((payload) => encodeMessage({ type: C.RTM_NEWADDR, flags: 2, seq: 1, payload })),
  ackFor(request, 17, "Address already assigned"),
  ackFor(request),
  doneFor(request, 95),
  Buffer.concat([ackFor(request), doneFor(request)]),
];

const readers: ((set: AttributeSet, type: number) => unknown)[] = [
  (s, t) => s.u8(t),
  (s, t) => s.u16(t),
  (s, t) => s.u16be(t),
  (s, t) => s.u32(t),
  (s, t) => s.u32be(t),
  (s, t) => s.s32(t),
  (s, t) => s.u64(t),
  (s, t) => s.string(t),
  (s, t) => s.binary(t),
];

/** Reads every attribute with every accessor, recursing into plausible nests. */
function readEverything(set: AttributeSet, depth = 0): void {
  for (const attribute of set.list) {
    for (const read of readers) {
      try {
        read(set, attribute.type);
      } catch (error) {
        if (!(error instanceof NetlinkDecodeError)) throw error;
      }
    }
    if (depth < 4) {
      try {
        readEverything(set.nested(attribute.type)!, depth + 1);
      } catch (error) {
        if (!(error instanceof NetlinkDecodeError)) throw error;
      }
    }
  }
}

const cases: {
  name: string;
  seed: number;
  samples: Buffer[];
  decode: (input: Buffer) => unknown;
  allowed: typeof NetlinkDecodeError | typeof PacketDecodeError;
}[] = [
  {
    name: "nlmsghdr framing",
    seed: 1,
    samples: netlinkSamples,
    decode: decodeMessages,
    allowed: NetlinkDecodeError,
  },
  {
    name: "NLMSG_ERROR / NLMSG_DONE payloads",
    seed: 2,
    samples: netlinkSamples.map((s) => s.subarray(16)),
    // Odd-length inputs are read as capped acks, even ones as acks echoing the whole request.
    decode: (payload) => {
      decodeDoneErrno({ type: 3, flags: 0, seq: 1, pid: 1, payload });
      return decodeAck({
        type: 2,
        flags: 0x200 | (payload.length % 2 === 1 ? 0x100 : 0),
        seq: 1,
        pid: 1,
        payload,
      });
    },
    allowed: NetlinkDecodeError,
  },
  {
    name: "attributes and every accessor",
    seed: 3,
    samples: [
      linkPayload.subarray(16),
      ...addressPayloads.map((p) => p.subarray(8)),
      encodeAttributes((w) => w.string(NLMSGERR_ATTR_MSG, "x").u64(2, 1n)),
    ],
    decode: (input) => readEverything(new AttributeSet(input, "fuzz")),
    allowed: NetlinkDecodeError,
  },
  {
    name: "links",
    seed: 4,
    samples: [linkPayload],
    decode: (payload) => decodeLink({ type: 16, flags: 0, seq: 0, pid: 0, payload }),
    allowed: NetlinkDecodeError,
  },
  {
    name: "addresses",
    seed: 5,
    samples: addressPayloads,
    decode: (payload) => decodeAddress({ type: 20, flags: 0, seq: 0, pid: 0, payload }),
    allowed: NetlinkDecodeError,
  },
  {
    name: "rtnetlink notifications",
    seed: 6,
    samples: netlinkSamples,
    decode: (datagram) => decodeMessages(datagram).map(decodeRtnetlinkEvent),
    allowed: NetlinkDecodeError,
  },
  {
    name: "ARP frames",
    seed: 7,
    samples: [buildGratuitousArp("198.51.100.254", "02:00:00:00:00:01")],
    decode: decodeArpFrame,
    allowed: PacketDecodeError,
  },
  {
    name: "neighbour advertisements",
    seed: 8,
    samples: [buildUnsolicitedNeighborAdvertisement("2001:db8::fe", "02:00:00:00:00:01")],
    decode: decodeNeighborAdvertisement,
    allowed: PacketDecodeError,
  },
];

for (const fuzzCase of cases) {
  test(
    `fuzz: ${fuzzCase.name} (${COUNT} inputs, seed ${fuzzCase.seed}) only ever throws ${fuzzCase.allowed.name}`,
    { timeout: 60_000 },
    () => {
      const { decoded, rejected } = fuzzDecoder({ ...fuzzCase, count: COUNT });
      assert.equal(decoded + rejected, COUNT);
      // Both outcomes must occur, or the inputs were not exercising the decoder.
      assert.ok(decoded > 0, `no input decoded (rejected ${rejected})`);
      assert.ok(rejected > 0, `no input rejected (decoded ${decoded})`);
    },
  );
}

test("fuzz: a connection fed random datagrams never throws and only fails requests with typed errors", async () => {
  const transport = new FakeNetlinkTransport();
  const connection = new NetlinkConnection(transport, { timeoutMs: 50 });
  const random = new SeededRandom(9);
  const outcomes = new Set<string>();
  for (let round = 0; round < 200; round++) {
    const pending = connection.request({
      type: C.RTM_NEWADDR,
      payload: Buffer.alloc(8),
      description: `round ${round}`,
    });
    const seq = transport.requests.at(-1)!.seq;
    for (let i = 0; i < 10; i++) {
      const sample = Buffer.from(random.pick(netlinkSamples));
      if (sample.length >= 16) {
        sample.writeUInt32LE(seq, 8);
        sample.writeUInt32LE(transport.portId, 12);
      }
      transport.deliver(random.next() < 0.5 ? random.mutate(sample) : random.bytes(random.int(0, 64)));
    }
    transport.deliver(ackFor(transport.requests.at(-1)!));
    try {
      await pending;
      outcomes.add("ok");
    } catch (error) {
      assert.ok(
        error instanceof NetlinkDecodeError ||
          error instanceof NetlinkLostReplyError ||
          (error as Error).name === "NetlinkError",
        String(error),
      );
      outcomes.add((error as Error).name);
    }
  }
  assert.ok(outcomes.size >= 2, [...outcomes].join());
  connection.close();
});
