// The addon's JavaScript boundary without privileges: argument checking, NativeSystemError shape,
// lifecycle (closed sockets, double start), and that an idle socket does not keep Node running.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { tierOptions } from "../e2e/requirements.js";
import { addonPath, loadAddon, NativeSystemError } from "./addon.js";
import { NETLINK_ROUTE } from "./netlink/constants.js";

const missingAddon = existsSync(addonPath())
  ? undefined
  : `addon not built at ${addonPath()} (npm run build:native)`;

/** Runs an ES module snippet in a fresh Node and returns its stdout; throws if it does not exit within 5 s. */
function runSnippet(code: string): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  return execFileSync(process.execPath, ["--input-type=module", "-e", code], {
    cwd: here,
    encoding: "utf8",
    timeout: 5000,
  });
}

describe("native addon boundary", tierOptions(missingAddon), () => {
  test("a failing system call throws NativeSystemError with errno, code, syscall and object", () => {
    const { NetlinkSocket } = loadAddon();
    assert.throws(
      () => new NetlinkSocket(31), // no such netlink protocol
      (error: unknown) => {
        assert.ok(error instanceof NativeSystemError);
        assert.equal(error.code, "EPROTONOSUPPORT");
        assert.equal(error.errno, 93);
        assert.equal(error.syscall, "socket");
        assert.equal(error.object, "netlink protocol 31");
        assert.equal(error.message, "socket netlink protocol 31: EPROTONOSUPPORT (Protocol not supported)");
        return true;
      },
    );
  });

  test("arguments are checked before any system call", () => {
    const { NetlinkSocket, RawIpSocket, PacketSocket } = loadAddon();
    assert.throws(() => new NetlinkSocket("0" as unknown as number), TypeError);
    assert.throws(() => new NetlinkSocket(NETLINK_ROUTE, [0]), /positive 32-bit integer/);
    assert.throws(() => new RawIpSocket(5 as 4, 112), /family must be 4 or 6/);
    assert.throws(() => new RawIpSocket(4, 112, { checksumOffset: 6 }), /checksumOffset is IPv6 only/);
    assert.throws(() => new PacketSocket(0), /ifindex must be positive/);
    const socket = new NetlinkSocket(NETLINK_ROUTE);
    assert.throws(() => socket.send("x" as unknown as Buffer), /must be a Buffer/);
    assert.throws(
      () => socket.start(() => undefined, undefined as unknown as () => void),
      /both arguments must be functions/,
    );
    socket.close();
  });

  test("a netlink socket has a port id; closed sockets refuse work; close is idempotent", () => {
    const { NetlinkSocket } = loadAddon();
    const socket = new NetlinkSocket(NETLINK_ROUTE, []);
    assert.ok(socket.portId > 0);
    assert.ok(socket.setReceiveBufferSize(256 * 1024) >= 256 * 1024);
    socket.start(
      () => undefined,
      () => undefined,
    );
    assert.throws(
      () =>
        socket.start(
          () => undefined,
          () => undefined,
        ),
      /already started/,
    );
    socket.stop();
    socket.close();
    socket.close();
    assert.equal(socket.closed, true);
    assert.throws(() => socket.send(Buffer.alloc(16)), /is closed/);
  });

  test("closing a socket from inside its own receive callback stops delivery at once", async () => {
    const { NetlinkSocket } = loadAddon();
    const socket = new NetlinkSocket(NETLINK_ROUTE);
    let deliveries = 0;
    const firstDelivery = new Promise<void>((resolve) =>
      socket.start(
        () => {
          deliveries++;
          socket.close();
          resolve();
        },
        () => undefined,
      ),
    );
    // An address dump answers with several datagrams; only the first may be delivered.
    const request = Buffer.alloc(24);
    request.writeUInt32LE(24, 0);
    request.writeUInt16LE(22, 4); // RTM_GETADDR
    request.writeUInt16LE(0x301, 6); // NLM_F_REQUEST | NLM_F_DUMP
    socket.send(request);
    await firstDelivery;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(deliveries, 1);
    assert.equal(socket.closed, true);
  });

  test("a worker thread that ends with a socket still polling tears down cleanly", () => {
    const output = runSnippet(`
      import { Worker } from "node:worker_threads";
      const body = \`
        const { parentPort } = await import("node:worker_threads");
        const { loadAddon } = await import(\${JSON.stringify(new URL("./addon.js", import.meta.url).href)});
        const socket = new (loadAddon().NetlinkSocket)(0, [1]);
        socket.start(() => {}, () => {});
        parentPort.postMessage("polling");\`;
      const worker = new Worker(new URL("data:text/javascript," + encodeURIComponent(body)));
      worker.on("message", async (m) => { console.log(m); await worker.terminate(); console.log("terminated"); });`);
    assert.deepEqual(output.trim().split("\n"), ["polling", "terminated"]);
  });

  test("an idle request connection lets Node exit; a started listener keeps it alive until closed", () => {
    const idle = runSnippet(`
      import { NetlinkConnection } from "./netlink/connection.js";
      const c = NetlinkConnection.open(0);
      await c.dump({ type: 18, payload: Buffer.alloc(16), description: "links" });
      console.log("dumped");`);
    assert.equal(idle.trim(), "dumped");
    const listening = runSnippet(`
      import { NetlinkConnection } from "./netlink/connection.js";
      const c = NetlinkConnection.open(0, { groups: [1] });
      const stop = c.subscribe({ onMessage() {} });
      // The timer is unref()ed: only the listening socket can keep the process alive to run it.
      setTimeout(() => { console.log("still running"); stop(); c.close(); }, 200).unref();`);
    assert.equal(listening.trim(), "still running");
  });
});
