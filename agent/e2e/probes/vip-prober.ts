// The client side of the VIP probe (see ../vip-probe-wire.ts): every interval one ordinary "U"
// datagram to the VIP and one "B" datagram in an Ethernet broadcast frame; the echo answers go
// through a ProbeTracker and its events are printed as JSON lines (times on CLOCK_MONOTONIC).
//   vip-prober.js '{"vip","port","intervalMs","source","localPort","ifname"}'
//   prints {"ready":true}, then events until killed
import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { loadAddon } from "../../../native/addon.js";
import { ProbeTracker, eventToJson } from "../vip-probe-tracker.js";
import { buildBroadcastProbeFrame, decodeReply, encodeProbe } from "../vip-probe-wire.js";

interface ProberArguments {
  vip: string;
  port: number;
  intervalMs: number;
  source: string;
  localPort: number;
  ifname: string;
}

const args = JSON.parse(process.argv[2] ?? "{}") as ProberArguments;
const sys = (file: string) => readFileSync(`/sys/class/net/${args.ifname}/${file}`, "utf8").trim();
const ifindex = Number(sys("ifindex"));
const mac = sys("address");

const tracker = new ProbeTracker((event) => process.stdout.write(`${eventToJson(event)}\n`));
const socket = createSocket("udp4");
const broadcast = new (loadAddon().PacketSocket)(ifindex);

socket.on("message", (msg) => {
  const now = process.hrtime.bigint();
  const reply = decodeReply(msg);
  if (reply) tracker.answer(reply, now);
});
socket.on("error", (e) => {
  process.stderr.write(`vip-prober: ${e.message}\n`);
  process.exit(1);
});

let seq = 0;
const tick = (): void => {
  seq++;
  socket.send(encodeProbe("U", seq), args.port, args.vip);
  try {
    broadcast.send(
      buildBroadcastProbeFrame({
        sourceMac: mac,
        source: args.source,
        destination: args.vip,
        sourcePort: args.localPort,
        destinationPort: args.port,
        payload: encodeProbe("B", seq),
      }),
    );
  } catch (e) {
    process.stderr.write(`vip-prober: broadcast probe ${seq} not sent: ${(e as Error).message}\n`);
  }
};

socket.bind(args.localPort, args.source, () => {
  setInterval(tick, args.intervalMs);
  process.stdout.write(`${JSON.stringify({ ready: true, ifindex, mac })}\n`);
});
