// Generic netlink: the genl header, nlctrl's family description, and requests to a resolved family.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { encodeAttributes } from "../netlink/attributes.js";
import { NLM_F_DUMP } from "../netlink/constants.js";
import { NetlinkConnection } from "../netlink/connection.js";
import { NetlinkDecodeError, NetlinkError } from "../netlink/errors.js";
import { ackFor, doneFor, FakeNetlinkTransport, replyTo } from "../testing/fake-netlink.js";
import {
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_HDRSIZE,
  CTRL_ATTR_MAXATTR,
  CTRL_ATTR_MCAST_GROUPS,
  CTRL_ATTR_OPS,
  CTRL_ATTR_VERSION,
  CTRL_CMD_GETFAMILY,
  CTRL_CMD_NEWFAMILY,
  GENL_ID_CTRL,
} from "./constants.js";
import { GenlFamilyClient, GenlFamilyNotFoundError, resolveFamily } from "./family.js";
import { decodeFamily, decodeGenlPayload, encodeGenlPayload, encodeGetFamilyAttributes } from "./header.js";

const FAMILY_ID = 0x1c;
const familyAttributes = encodeAttributes((w) =>
  w
    .u16(CTRL_ATTR_FAMILY_ID, FAMILY_ID)
    .string(CTRL_ATTR_FAMILY_NAME, "IPVS")
    .u32(CTRL_ATTR_VERSION, 1)
    .u32(CTRL_ATTR_HDRSIZE, 0)
    .u32(CTRL_ATTR_MAXATTR, 6)
    .nested(CTRL_ATTR_OPS, (ops) => {
      ops.nested(1, (op) => op.u32(1, 1).u32(2, 0x0a));
      ops.nested(2, (op) => op.u32(1, 4).u32(2, 0x0e));
    })
    .nested(CTRL_ATTR_MCAST_GROUPS, (groups) => groups.nested(1, (g) => g.string(1, "events").u32(2, 9))),
);

/** nlctrl knowing only "IPVS"; the family answers GET (4) with two parts of a dump or one reply. */
function fakeKernel() {
  return new FakeNetlinkTransport((request) => {
    if (request.type === GENL_ID_CTRL) {
      const { attributes } = decodeGenlPayload(request.payload, "test");
      if (!attributes.includes(Buffer.from("IPVS\0"))) return [ackFor(request, 2)];
      const payload = encodeGenlPayload({ command: CTRL_CMD_NEWFAMILY, version: 2 }, familyAttributes);
      return [replyTo(request, GENL_ID_CTRL, payload, 0), ackFor(request)];
    }
    const { command } = decodeGenlPayload(request.payload, "test");
    const reply = (n: number) => encodeGenlPayload({ command: 99, version: 1 }, Buffer.from([n, 0, 0, 0]));
    if ((request.flags & NLM_F_DUMP) === NLM_F_DUMP) {
      return [replyTo(request, FAMILY_ID, reply(1)), replyTo(request, FAMILY_ID, reply(2)), doneFor(request)];
    }
    if (command === 5) return [ackFor(request, 17)];
    return [replyTo(request, FAMILY_ID, reply(command), 0), ackFor(request)];
  });
}

describe("generic netlink header", () => {
  test("genlmsghdr is command, version and two reserved bytes before the attributes", () => {
    assert.deepEqual(
      encodeGenlPayload({ command: 3, version: 2 }, Buffer.from([9, 9, 9, 9])),
      Buffer.from([3, 2, 0, 0, 9, 9, 9, 9]),
    );
    assert.deepEqual(decodeGenlPayload(Buffer.from([1, 1, 0, 0, 7]), "x"), {
      command: 1,
      version: 1,
      attributes: Buffer.from([7]),
    });
    assert.throws(() => encodeGenlPayload({ command: 256, version: 1 }), RangeError);
    assert.throws(() => decodeGenlPayload(Buffer.from([1, 1]), "IPVS reply"), NetlinkDecodeError);
  });

  test("a family-specific header is skipped before the attributes", () => {
    assert.deepEqual(
      decodeGenlPayload(Buffer.from([1, 1, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd, 5]), "x", 4).attributes,
      Buffer.from([5]),
    );
  });

  test("CTRL_CMD_GETFAMILY asks by name; the reply gives id, version, commands and multicast groups", () => {
    assert.deepEqual(
      encodeGetFamilyAttributes("IPVS"),
      Buffer.from("0900020049505653000000 00".replace(/ /g, ""), "hex"),
    );
    assert.throws(() => encodeGetFamilyAttributes("a-name-longer-than-15"), RangeError);
    assert.deepEqual(decodeFamily(familyAttributes), {
      name: "IPVS",
      id: FAMILY_ID,
      version: 1,
      headerSize: 0,
      maxAttribute: 6,
      commands: [1, 4],
      multicastGroups: [{ name: "events", id: 9 }],
    });
    assert.throws(
      () => decodeFamily(encodeAttributes((w) => w.string(CTRL_ATTR_FAMILY_NAME, "IPVS"))),
      /CTRL_ATTR_FAMILY_ID is missing/,
    );
  });
});

describe("resolveFamily and GenlFamilyClient", () => {
  test("resolves a registered family through nlctrl", async () => {
    const transport = fakeKernel();
    const connection = new NetlinkConnection(transport);
    const family = await resolveFamily(connection, "IPVS");
    assert.equal(family.id, FAMILY_ID);
    const [request] = transport.requests;
    assert.equal(request!.type, GENL_ID_CTRL);
    assert.equal(request!.payload[0], CTRL_CMD_GETFAMILY);
    connection.close();
  });

  test("an unknown family is a GenlFamilyNotFoundError carrying the kernel's ENOENT", async () => {
    const connection = new NetlinkConnection(fakeKernel());
    await assert.rejects(resolveFamily(connection, "NOPE"), (error: unknown) => {
      assert.ok(error instanceof GenlFamilyNotFoundError);
      assert.equal(error.family, "NOPE");
      assert.ok(error.cause instanceof NetlinkError && error.cause.code === "ENOENT");
      return true;
    });
    connection.close();
  });

  test("requests carry the family id and version; replies, dumps and batch results are decoded", async () => {
    const transport = fakeKernel();
    const connection = new NetlinkConnection(transport);
    const client = new GenlFamilyClient(connection, await resolveFamily(connection, "IPVS"));
    const [reply] = await client.request({ command: 4, description: "get" });
    assert.deepEqual(reply, { command: 99, version: 1, attributes: Buffer.from([4, 0, 0, 0]) });
    const sent = transport.requests.at(-1)!;
    assert.equal(sent.type, FAMILY_ID);
    assert.deepEqual(sent.payload.subarray(0, 4), Buffer.from([4, 1, 0, 0]));

    const [first, second] = await Promise.all([
      client.dump({ command: 4, description: "dump one" }),
      client.dump({ command: 4, description: "dump two" }),
    ]);
    assert.equal(first.length, 2);
    assert.equal(second.length, 2);

    const results = await client.batch([
      { command: 1, description: "one" },
      { command: 5, description: "five" },
      { command: 2, description: "two" },
    ]);
    assert.deepEqual(
      results.map((r) => r.ok),
      [true, false, true],
    );
    assert.match(String(!results[1]!.ok && results[1]!.error.message), /^five: EEXIST/);
    connection.close();
  });

  test("concurrent dumps are sent one after the other (the kernel allows one dump per socket)", async () => {
    const transport = fakeKernel();
    const connection = new NetlinkConnection(transport);
    const client = new GenlFamilyClient(connection, await resolveFamily(connection, "IPVS"));
    const before = transport.sent.length;
    const first = client.dump({ command: 4, description: "first" });
    const second = client.dump({ command: 4, description: "second" });
    await Promise.resolve();
    assert.equal(transport.sent.length - before, 1, "the second dump waits for the first");
    await Promise.all([first, second]);
    assert.equal(transport.sent.length - before, 2);
    connection.close();
  });
});
