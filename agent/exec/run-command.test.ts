import { test } from "node:test";
import assert from "node:assert/strict";
import { describeResult, runCommand } from "./run-command.js";

test("exit codes and output", async () => {
  const ok = await runCommand(["/bin/sh", "-c", "echo hello; exit 0"], { timeoutMs: 5000 });
  assert.equal(ok.code, 0);
  assert.equal(ok.output.trim(), "hello");
  const bad = await runCommand(["/bin/sh", "-c", "echo oops >&2; exit 3"], { timeoutMs: 5000 });
  assert.equal(bad.code, 3);
  assert.equal(describeResult(["check"], bad), "check: exit 3: oops");
});

test("extra arguments are appended (notify GROUP STATE PRIORITY)", async () => {
  const r = await runCommand(["/bin/echo", "notify"], {
    timeoutMs: 5000,
    extraArgs: ["web", "MASTER", "150"],
  });
  assert.equal(r.output.trim(), "notify web MASTER 150");
});

test("a timeout kills the command and its children", async () => {
  const r = await runCommand(["/bin/sh", "-c", "sleep 30 & sleep 30"], { timeoutMs: 200 });
  assert.equal(r.timedOut, true);
  assert.ok(r.durationMs < 5000);
  assert.match(describeResult(["slow"], r), /^slow: timed out after \d+ ms$/);
});

test("a missing program is a spawn error, not an exception", async () => {
  const r = await runCommand(["/nonexistent/check"], { timeoutMs: 1000 });
  assert.equal(r.code, undefined);
  assert.match(r.spawnError ?? "", /ENOENT/);
});

test("output is bounded", async () => {
  const r = await runCommand(["/bin/sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x"], { timeoutMs: 5000 });
  assert.equal(r.output.length, 4096);
});
