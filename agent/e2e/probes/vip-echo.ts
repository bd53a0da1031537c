// The VIP echo responder of a lab node: answers every probe (see ../vip-probe-wire.ts) that reaches
// this namespace with the probe's kind and sequence number and this node's name. It listens on all
// addresses, so it answers for the VIP exactly while the kernel has the VIP on this node.
//   vip-echo.js PORT NODE_NAME      prints {"ready":true} once bound
import { createSocket } from "node:dgram";
import { decodeProbe, encodeReply } from "../vip-probe-wire.js";

const [portText, node] = process.argv.slice(2);
const port = Number(portText);
if (!Number.isInteger(port) || port < 1 || port > 65535 || !node) {
  process.stderr.write("usage: vip-echo.js PORT NODE_NAME\n");
  process.exit(2);
}
const socket = createSocket("udp4");
socket.on("message", (msg, from) => {
  if (decodeProbe(msg) === undefined) return;
  socket.send(encodeReply(msg, node), from.port, from.address);
});
socket.on("error", (e) => {
  process.stderr.write(`vip-echo ${node}: ${e.message}\n`);
  process.exit(1);
});
socket.bind(port, "0.0.0.0", () => process.stdout.write(`${JSON.stringify({ ready: true, node, port })}\n`));
