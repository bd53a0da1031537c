import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger, memorySink } from "./log.js";

test("one JSON object per line with level, message, base and call fields", () => {
  const sink = memorySink();
  const log = createLogger({ sink, fields: { instance: "web" }, now: () => new Date(0) });
  log.child({ group: "g1" }).info("transition", { from: "Backup", to: "Master" });
  assert.deepEqual(sink.records(), [
    {
      time: "1970-01-01T00:00:00.000Z",
      level: "info",
      msg: "transition",
      instance: "web",
      group: "g1",
      from: "Backup",
      to: "Master",
    },
  ]);
});

test("levels below the minimum are dropped; errors keep errno, syscall and object", () => {
  const sink = memorySink();
  const log = createLogger({ sink, level: "warn" });
  log.info("quiet");
  const err = Object.assign(new Error("add address failed"), {
    code: "EPERM",
    errno: 1,
    syscall: "sendmsg",
    object: "eth0",
  });
  log.error("vip", { err });
  const [rec] = sink.records();
  assert.equal(sink.lines.length, 1);
  assert.deepEqual(rec!.err, {
    message: "add address failed",
    name: "Error",
    code: "EPERM",
    errno: 1,
    syscall: "sendmsg",
    object: "eth0",
  });
});
