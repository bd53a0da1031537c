import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { acquirePidFile, InstanceRunningError } from "./pid-file.js";
import { ControlServer, controlRequest } from "./control-socket.js";
import { instancePaths } from "./instance.js";

test("instance paths are per instance; bad names are refused", () => {
  const web = instancePaths("web", "/run/x");
  const db = instancePaths("db", "/run/x");
  assert.equal(web.pidFile, "/run/x/web.pid");
  assert.notEqual(web.controlSocket, db.controlSocket);
  assert.throws(() => instancePaths("../etc"), /instance name/);
});

test("a pid file refuses a second live instance and takes over a stale one", () => {
  const dir = mkdtempSync(join(tmpdir(), "kubelvs-pid-"));
  try {
    const path = join(dir, "web.pid");
    const mine = acquirePidFile(path);
    assert.equal(readFileSync(path, "utf8"), `${process.pid}\n`);
    // our parent is alive: a file naming it blocks
    writeFileSync(path, `${process.ppid}\n`);
    assert.throws(() => acquirePidFile(path), InstanceRunningError);
    // a pid that cannot exist is stale
    writeFileSync(path, "4194304\n");
    const again = acquirePidFile(path);
    again.release();
    assert.equal(existsSync(path), false);
    mine.release(); // no longer ours: must not throw
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("control socket answers requests and reports handler errors", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kubelvs-ctl-"));
  const path = join(dir, "web.sock");
  const server = await ControlServer.listen(path, async (req) => {
    if (req.command === "status") return { groups: 2 };
    throw new Error(`unknown command ${req.command}`);
  });
  try {
    assert.deepEqual(await controlRequest(path, { command: "status" }), { groups: 2 });
    await assert.rejects(controlRequest(path, { command: "nope" }), /unknown command nope/);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  await assert.rejects(controlRequest(path, { command: "status" }), /is the agent instance running/);
});
