import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeDnsQuery, readDnsAnswer } from "./dns-message.js";

test("queries are RFC 1035 messages: header with RD, labels, type and class IN", () => {
  assert.equal(
    encodeDnsQuery(0x1234, "www.example.org", "A").toString("hex"),
    "1234" +
      "0100" +
      "0001" +
      "0000" +
      "0000" +
      "0000" +
      "03777777076578616d706c65036f726700" +
      "0001" +
      "0001",
  );
  // The default query of keepalived: SOA of the root.
  assert.equal(
    encodeDnsQuery(1, ".", "SOA").toString("hex"),
    "000101000001000000000000" + "00" + "0006" + "0001",
  );
  assert.throws(() => encodeDnsQuery(1, "a..b", "A"), /label of 0 bytes/);
});

test("answers: another id or a query is ignored; a response gives its RCODE", () => {
  const response = (id: number, flags: number, answers = 0) => {
    const b = Buffer.alloc(12);
    b.writeUInt16BE(id, 0);
    b.writeUInt16BE(flags, 2);
    b.writeUInt16BE(answers, 6);
    return b;
  };
  assert.equal(readDnsAnswer(7, response(8, 0x8180)).kind, "ignore");
  assert.equal(readDnsAnswer(7, response(7, 0x0100)).kind, "ignore");
  assert.equal(readDnsAnswer(7, Buffer.alloc(5)).kind, "ignore");
  assert.deepEqual(readDnsAnswer(7, response(7, 0x8180, 2)), { kind: "response", rcode: 0, answers: 2 });
  assert.deepEqual(readDnsAnswer(7, response(7, 0x8183)), { kind: "response", rcode: 3, answers: 0 });
});
