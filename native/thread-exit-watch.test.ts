import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { loadAddon } from "./addon.js";

test("ThreadExitWatch reports a killed process's thread, before the process is reaped", async () => {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  const pid = child.pid!;
  // wait until Node has started its worker threads
  let tids: number[] = [];
  for (let i = 0; i < 100 && tids.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
    tids = readdirSync(`/proc/${pid}/task`)
      .map(Number)
      .filter((t) => t !== pid);
  }
  assert.ok(tids.length > 0, "a Node process has worker threads");
  const watch = new (loadAddon().ThreadExitWatch)(pid, tids[0]!);
  const exited = new Promise<number>((resolve, reject) =>
    watch.start(() => resolve(performance.now()), reject),
  );
  const killedAt = performance.now();
  child.kill("SIGKILL");
  const seenAt = await exited;
  assert.ok(seenAt - killedAt < 1000);
  assert.equal(typeof watch.threadLevel, "boolean");
  watch.close();
  assert.equal(watch.closed, true);
});

test("ThreadExitWatch refuses a process that does not exist with a named system error", () => {
  assert.throws(
    () => new (loadAddon().ThreadExitWatch)(4194304, 4194304),
    (e: Error & { code?: string; syscall?: string }) =>
      e.code === "ESRCH" && /pidfd_open/.test(e.syscall ?? ""),
  );
});
