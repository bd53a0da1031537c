// The servers the probes lab test checks against (run in a lab namespace with `ip netns exec`):
//   node probe-servers.js CERT_FILE KEY_FILE
// HTTP on 8080 and HTTPS on 8443 (paths below), a UDP echo on 5000, a silent UDP port 5001, a DNS
// responder on 53 and a bare TCP listener on 9000. Prints {"ready": true} when all listen.
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createTcpServer, type Server } from "node:net";

const [certFile, keyFile] = process.argv.slice(2);
if (certFile === undefined || keyFile === undefined) throw new Error("usage: probe-servers.js CERT KEY");

export const HELLO_BODY = "hello from kubelvs\n";

/** /ok 200 HELLO_BODY, /fail 503, /slow never answers, /whoami the client's address, /host the Host header. */
function handle(request: IncomingMessage, response: ServerResponse): void {
  switch (request.url) {
    case "/ok":
      response.end(HELLO_BODY);
      return;
    case "/fail":
      response.statusCode = 503;
      response.end("unavailable\n");
      return;
    case "/slow":
      return; // never answers
    case "/whoami":
      response.end(`${request.socket.remoteAddress ?? ""}\n`);
      return;
    case "/host":
      response.end(`${request.headers.host ?? ""}\n`);
      return;
    default:
      response.statusCode = 404;
      response.end();
  }
}

const listening = (server: Server | ReturnType<typeof createSocket>, port: number) =>
  new Promise<void>((resolve) => {
    // IPv4 only, so /whoami shows plain dotted addresses (not ::ffff:-mapped ones).
    if ("bind" in server) server.bind(port, "0.0.0.0", resolve);
    else server.listen(port, "0.0.0.0", resolve);
  });

const udpEcho = createSocket("udp4");
udpEcho.on("message", (message, remote) =>
  udpEcho.send(Buffer.concat([Buffer.from("pong:"), message]), remote.port, remote.address),
);
const udpSilent = createSocket("udp4");
udpSilent.on("message", () => undefined);
// DNS: NOERROR with one answer for ok.example., NXDOMAIN for anything else (id and question echoed).
const dns = createSocket("udp4");
dns.on("message", (query, remote) => {
  if (query.length < 12) return;
  let offset = 12;
  const labels: string[] = [];
  while (offset < query.length && query[offset]! > 0) {
    labels.push(query.subarray(offset + 1, offset + 1 + query[offset]!).toString("ascii"));
    offset += 1 + query[offset]!;
  }
  const questionEnd = offset + 5;
  const found = labels.join(".") === "ok.example";
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  header.writeUInt16BE(0x8180 | (found ? 0 : 3), 2); // QR, RD, RA, RCODE
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(found ? 1 : 0, 6);
  const answer = found
    ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 203, 0, 113, 53]) // A 203.0.113.53
    : Buffer.alloc(0);
  dns.send(Buffer.concat([header, query.subarray(12, questionEnd), answer]), remote.port, remote.address);
});

await Promise.all([
  listening(createHttpServer(handle), 8080),
  listening(createHttpsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, handle), 8443),
  listening(
    createTcpServer((socket) => socket.end()),
    9000,
  ),
  listening(udpEcho, 5000),
  listening(udpSilent, 5001),
  listening(dns, 53),
]);
process.stdout.write(JSON.stringify({ ready: true }) + "\n");
