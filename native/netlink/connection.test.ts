import assert from "node:assert/strict";
import { test } from "node:test";
import { ackFor, doneFor, FakeNetlinkTransport, replyTo } from "../testing/fake-netlink.js";
import {
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_EXCL,
  NLM_F_MULTI,
  NLM_F_REQUEST,
} from "./constants.js";
import { NetlinkConnection } from "./connection.js";
import {
  NetlinkDumpInterruptedError,
  NetlinkError,
  NetlinkLostReplyError,
  NetlinkTimeoutError,
} from "./errors.js";
import { encodeMessage, type NetlinkMessage } from "./message.js";

const NEW = 20;
const GET = 22;
const OBJECT = 24;

test("request: flags, sequence and port id are set; the ack resolves it with the replies before it", async () => {
  const transport = new FakeNetlinkTransport((request) =>
    request.type === GET
      ? [replyTo(request, OBJECT, Buffer.from("obj"), 0), ackFor(request)]
      : [ackFor(request)],
  );
  const connection = new NetlinkConnection(transport);
  assert.deepEqual(
    await connection.request({
      type: NEW,
      flags: NLM_F_CREATE | NLM_F_EXCL,
      payload: Buffer.from([1]),
      description: "create",
    }),
    [],
  );
  const replies = await connection.request({ type: GET, description: "get" });
  assert.deepEqual(
    replies.map((m) => [m.type, m.payload.toString()]),
    [[OBJECT, "obj"]],
  );
  const [first, second] = transport.requests;
  assert.equal(first!.flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  assert.equal(first!.pid, transport.portId);
  assert.equal(second!.seq, first!.seq + 1);
  connection.close();
});

test("a kernel error becomes a NetlinkError naming the request, errno, code and extended ack", async () => {
  const connection = new NetlinkConnection(
    new FakeNetlinkTransport((r) => [ackFor(r, 17, "Address already assigned")]),
  );
  await assert.rejects(
    connection.request({ type: NEW, description: "add address 198.51.100.10/24 to ifindex 3" }),
    (error: unknown) => {
      assert.ok(error instanceof NetlinkError);
      assert.equal(error.errno, 17);
      assert.equal(error.code, "EEXIST");
      assert.equal(error.kernelMessage, "Address already assigned");
      assert.equal(
        error.message,
        "add address 198.51.100.10/24 to ifindex 3: EEXIST: Address already assigned",
      );
      return true;
    },
  );
  connection.close();
});

test("dump: sets NLM_F_DUMP and collects messages over several datagrams until NLMSG_DONE", async () => {
  const transport = new FakeNetlinkTransport((r) => [
    Buffer.concat([replyTo(r, OBJECT, Buffer.from("a")), replyTo(r, OBJECT, Buffer.from("b"))]),
    replyTo(r, OBJECT, Buffer.from("c")),
    doneFor(r),
  ]);
  const connection = new NetlinkConnection(transport);
  const messages = await connection.dump({ type: GET, description: "dump objects" });
  assert.deepEqual(
    messages.map((m) => m.payload.toString()),
    ["a", "b", "c"],
  );
  assert.equal(transport.requests[0]!.flags, NLM_F_REQUEST | NLM_F_DUMP);
  connection.close();
});

test("dump: an error in NLMSG_DONE or an NLMSG_ERROR rejects", async () => {
  const connection = new NetlinkConnection(new FakeNetlinkTransport((r) => [doneFor(r, 95)]));
  await assert.rejects(connection.dump({ type: GET, description: "dump x" }), /dump x: EOPNOTSUPP/);
  connection.close();
  const other = new NetlinkConnection(new FakeNetlinkTransport((r) => [ackFor(r, 1)]));
  await assert.rejects(other.dump({ type: GET, description: "dump y" }), /dump y: EPERM/);
  other.close();
});

test("dump: an interrupted dump is retried, and fails after the configured attempts", async () => {
  let calls = 0;
  const flaky = new NetlinkConnection(
    new FakeNetlinkTransport((r) => {
      calls++;
      return calls === 1
        ? [replyTo(r, OBJECT, Buffer.from("old"), NLM_F_MULTI | NLM_F_DUMP_INTR), doneFor(r)]
        : [replyTo(r, OBJECT, Buffer.from("new")), doneFor(r)];
    }),
  );
  assert.deepEqual(
    (await flaky.dump({ type: GET, description: "d" })).map((m) => m.payload.toString()),
    ["new"],
  );
  assert.equal(calls, 2);
  flaky.close();

  const broken = new NetlinkConnection(
    new FakeNetlinkTransport((r) => [
      replyTo(r, OBJECT, Buffer.alloc(1), NLM_F_MULTI | NLM_F_DUMP_INTR),
      doneFor(r),
    ]),
    { dumpAttempts: 2 },
  );
  await assert.rejects(broken.dump({ type: GET, description: "d" }), NetlinkDumpInterruptedError);
  broken.close();
});

test("batch: one sendmsg for many requests, each failure mapped to its own request", async () => {
  const transport = new FakeNetlinkTransport((r) => [ackFor(r, r.payload[0] === 2 ? 17 : 0)]);
  const connection = new NetlinkConnection(transport);
  const results = await connection.batch(
    [1, 2, 3].map((n) => ({ type: NEW, payload: Buffer.from([n]), description: `add #${n}` })),
  );
  assert.equal(transport.sent.length, 1);
  assert.equal(transport.requests.length, 3);
  assert.deepEqual(
    results.map((r) => (r.ok ? "ok" : r.error.message)),
    ["ok", "add #2: EEXIST", "ok"],
  );
  connection.close();
});

test("batch: replies arriving out of order still reach their own request", async () => {
  const pendingReplies: NetlinkMessage[] = [];
  const transport = new FakeNetlinkTransport((r) => {
    pendingReplies.push(r);
    return [];
  });
  const connection = new NetlinkConnection(transport);
  const results = connection.batch(
    [1, 2].map((n) => ({ type: NEW, payload: Buffer.from([n]), description: `op ${n}` })),
  );
  await new Promise((resolve) => setImmediate(resolve));
  transport.deliver(ackFor(pendingReplies[1]!, 2));
  transport.deliver(ackFor(pendingReplies[0]!));
  assert.deepEqual(
    (await results).map((r) => (r.ok ? "ok" : r.error.message)),
    ["ok", "op 2: ENOENT"],
  );
  connection.close();
});

test("batch: split by message count and byte size", async () => {
  const transport = new FakeNetlinkTransport((r) => [ackFor(r)]);
  const connection = new NetlinkConnection(transport, { maxBatchMessages: 4, maxBatchBytes: 1000 });
  const small = Array.from({ length: 10 }, (_, i) => ({
    type: NEW,
    payload: Buffer.alloc(8),
    description: `s${i}`,
  }));
  assert.equal((await connection.batch(small)).filter((r) => r.ok).length, 10);
  assert.deepEqual(
    transport.sent.map((d) => d.length / 24),
    [4, 4, 2],
  );
  transport.sent.length = 0;
  const large = Array.from({ length: 3 }, (_, i) => ({
    type: NEW,
    payload: Buffer.alloc(400),
    description: `l${i}`,
  }));
  await connection.batch(large);
  assert.deepEqual(
    transport.sent.map((d) => d.length),
    [832, 416],
  );
  connection.close();
});

test("a request with no final reply times out with NetlinkTimeoutError", async () => {
  const connection = new NetlinkConnection(new FakeNetlinkTransport(), { timeoutMs: 20 });
  await assert.rejects(
    connection.request({ type: NEW, description: "silent" }),
    (e: unknown) => e instanceof NetlinkTimeoutError && /silent: no reply/.test(e.message),
  );
  connection.close();
});

test("unsolicited messages go to listeners; stray acks are dropped", () => {
  const transport = new FakeNetlinkTransport();
  const connection = new NetlinkConnection(transport);
  const seen: number[] = [];
  const unsubscribe = connection.subscribe({ onMessage: (m) => seen.push(m.type) });
  transport.deliver(encodeMessage({ type: OBJECT, flags: 0, seq: 0, pid: 0 }));
  transport.deliver(encodeMessage({ type: OBJECT + 1, flags: 0, seq: 77, pid: 999 })); // another process's change
  transport.deliver(
    ackFor({ type: NEW, flags: 0, seq: 12345, pid: transport.portId, payload: Buffer.alloc(0) }),
  );
  unsubscribe();
  transport.deliver(encodeMessage({ type: OBJECT, flags: 0, seq: 0, pid: 0 }));
  assert.deepEqual(seen, [OBJECT, OBJECT + 1]);
  connection.close();
});

test("ENOBUFS: pending requests fail as lost, listeners are told to resynchronise", async () => {
  const transport = new FakeNetlinkTransport();
  const connection = new NetlinkConnection(transport);
  const lost: string[] = [];
  connection.subscribe({ onMessage: () => undefined, onLost: (e) => lost.push(e.message) });
  const request = connection.request({ type: NEW, description: "pending op" });
  transport.fail(Object.assign(new Error("recv: ENOBUFS"), { code: "ENOBUFS" }));
  await assert.rejects(
    request,
    (e: unknown) => e instanceof NetlinkLostReplyError && /pending op: replies lost/.test(e.message),
  );
  assert.deepEqual(lost, ["recv: ENOBUFS"]);
  // the connection still works afterwards
  assert.equal(connection.closed, false);
  connection.close();
});

test("a socket failure fails pending and later requests and tells listeners", async () => {
  const transport = new FakeNetlinkTransport();
  const connection = new NetlinkConnection(transport);
  const errors: string[] = [];
  connection.subscribe({ onMessage: () => undefined, onError: (e) => errors.push(e.message) });
  const request = connection.request({ type: NEW, description: "op" });
  transport.fail(Object.assign(new Error("recv: EBADF"), { code: "EBADF" }));
  await assert.rejects(request, NetlinkLostReplyError);
  await assert.rejects(
    connection.request({ type: NEW, description: "later" }),
    /later: connection failed earlier/,
  );
  assert.deepEqual(errors, ["recv: EBADF"]);
  connection.close();
});

test("an undecodable datagram fails pending requests but not the connection", async () => {
  const transport = new FakeNetlinkTransport();
  const connection = new NetlinkConnection(transport);
  const request = connection.request({ type: NEW, description: "op" });
  transport.deliver(Buffer.from([1, 2, 3]));
  await assert.rejects(request, /op: undecodable reply/);
  const ok = new NetlinkConnection(new FakeNetlinkTransport((r) => [ackFor(r)]));
  assert.deepEqual(await ok.request({ type: NEW, description: "fine" }), []);
  ok.close();
  connection.close();
});

test("a failing send rejects the requests it carried", async () => {
  const transport = new FakeNetlinkTransport();
  transport.send = () => {
    throw Object.assign(new Error("sendto: EPERM"), { code: "EPERM" });
  };
  const connection = new NetlinkConnection(transport);
  await assert.rejects(connection.request({ type: NEW, description: "op" }), /EPERM/);
  const results = await connection.batch([
    { type: NEW, description: "a" },
    { type: NEW, description: "b" },
  ]);
  assert.deepEqual(
    results.map((r) => r.ok),
    [false, false],
  );
  connection.close();
});

test("close rejects pending requests and later ones; it is idempotent", async () => {
  const transport = new FakeNetlinkTransport();
  const connection = new NetlinkConnection(transport);
  const request = connection.request({ type: NEW, description: "op" });
  connection.close();
  connection.close();
  await assert.rejects(request, /op: connection closed/);
  await assert.rejects(
    connection.request({ type: NEW, description: "after" }),
    /after: connection closed before sending/,
  );
  assert.equal(transport.closed, true);
});

test("the socket keeps the process alive only while a request is pending or someone listens", async () => {
  const transport = new FakeNetlinkTransport((r) => [ackFor(r)]);
  const connection = new NetlinkConnection(transport);
  assert.equal(transport.referenced, false);
  const request = connection.request({ type: NEW, description: "op" });
  assert.equal(transport.referenced, true);
  await request;
  assert.equal(transport.referenced, false);
  const unsubscribe = connection.subscribe({ onMessage: () => undefined });
  assert.equal(transport.referenced, true);
  unsubscribe();
  assert.equal(transport.referenced, false);
  connection.close();
});
