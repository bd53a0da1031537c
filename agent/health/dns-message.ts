// The DNS query a DNS check sends and the three things it reads from the answer (RFC 1035 4.1):
// same id, the QR (response) bit, and RCODE. As keepalived's DNS_CHECK: a response with RCODE 0
// (NOERROR) is healthy, another RCODE is not, anything else is ignored while waiting.
const TYPES = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28 } as const;
export type DnsQueryType = keyof typeof TYPES;

const CLASS_IN = 1;
const FLAG_RD = 0x0100;
const FLAG_QR = 0x8000;

/** A query for `name` (default the root, "."), recursion desired, as keepalived builds it. */
export function encodeDnsQuery(id: number, name: string, type: DnsQueryType): Buffer {
  const labels = name === "." || name === "" ? [] : name.replace(/\.$/, "").split(".");
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, "ascii");
    if (bytes.length === 0 || bytes.length > 63)
      throw new RangeError(`DNS name ${JSON.stringify(name)}: label of ${bytes.length} bytes (1-63)`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id & 0xffff, 0);
  header.writeUInt16BE(FLAG_RD, 2);
  header.writeUInt16BE(1, 4); // QDCOUNT
  const question = Buffer.alloc(4);
  question.writeUInt16BE(TYPES[type], 0);
  question.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([header, ...parts, Buffer.from([0]), question]);
}

export type DnsAnswer =
  | { readonly kind: "ignore"; readonly reason: string }
  | { readonly kind: "response"; readonly rcode: number; readonly answers: number };

/** What a received datagram means for the query with `id`. */
export function readDnsAnswer(id: number, message: Buffer): DnsAnswer {
  if (message.length < 12) return { kind: "ignore", reason: `${message.length}-byte message` };
  if (message.readUInt16BE(0) !== (id & 0xffff)) return { kind: "ignore", reason: "another query's id" };
  const flags = message.readUInt16BE(2);
  if ((flags & FLAG_QR) === 0) return { kind: "ignore", reason: "not a response" };
  return { kind: "response", rcode: flags & 0x000f, answers: message.readUInt16BE(6) };
}

const RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];
export const rcodeName = (rcode: number): string => RCODES[rcode] ?? `RCODE ${rcode}`;
