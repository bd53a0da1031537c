// The IPVS machine harness itself: output, exit codes, environment, read-write mounts, isolation
// of guest writes, the kernel modules the IPVS tests rely on, and the timeout.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { tierOptions } from "../requirements.js";
import { missingIpvsMachine, runInIpvsMachine, TIMED_OUT_EXIT_CODE } from "./ipvs-machine.js";

const SCHEDULERS = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"];

describe("IPVS machine (User-Mode Linux)", tierOptions(missingIpvsMachine()), () => {
  test("runs a command as root with IPVS, passing output, exit code, env and rw dirs through", async () => {
    const shared = mkdtempSync(join(tmpdir(), "kubelvs-vm-test-"));
    const hostOnly = join(tmpdir(), `kubelvs-vm-test-guest-write-${process.pid}`);
    try {
      const script = [
        "set -e",
        'echo "uid=$(id -u) kernel=$(uname -r) greeting=$GREETING"',
        "echo to-stderr >&2",
        `echo from-guest > ${shared}/written`,
        `echo never-on-host > ${hostOnly}`,
        "genl ctrl get name IPVS | grep -m1 Name:",
        "ipvsadm -A -t 198.51.100.1:80 -s rr && ipvsadm -Ln | tail -1",
        "cat /proc/sys/kernel/modprobe",
        "grep -o '^ip_vs_[a-z]*' /proc/modules | sort | tr '\\n' ' '; echo",
        "grep -oE '^(ipip|ip_gre|fou|veth|dummy|bridge|ip6_tunnel) ' /proc/modules | sort | tr -d ' ' | tr '\\n' ' '; echo",
        "exit 3",
      ].join("\n");
      const result = await runInIpvsMachine(script, {
        env: { GREETING: "hello world" },
        rwDirs: [shared],
        timeoutMs: 120_000,
      });
      assert.equal(result.code, 3, `stderr: ${result.stderr}`);
      const lines = result.stdout.split("\n");
      assert.match(lines[0]!, /^uid=0 kernel=6\.1\.\d+ greeting=hello world$/);
      assert.match(lines[1]!, /^Name: IPVS$/);
      assert.match(lines[2]!, /^TCP {2}198\.51\.100\.1:80 rr/);
      assert.equal(lines[3], "/run/kubelvs-vm/bin/modprobe");
      const schedulers = new Set(lines[4]!.trim().split(" "));
      for (const name of SCHEDULERS) assert.ok(schedulers.has(`ip_vs_${name}`), `scheduler ${name} loaded`);
      assert.deepEqual(lines[5]!.trim().split(" "), [
        "bridge",
        "dummy",
        "fou",
        "ip6_tunnel",
        "ip_gre",
        "ipip",
        "veth",
      ]);
      assert.equal(result.stderr, "to-stderr\n");
      assert.equal(readFileSync(join(shared, "written"), "utf8"), "from-guest\n");
      assert.equal(existsSync(hostOnly), false, "a write outside the rw dirs stays in the guest");
    } finally {
      rmSync(shared, { recursive: true, force: true });
      rmSync(hostOnly, { force: true });
    }
  });

  test("kills a command that outlives its timeout and reports exit code 124", async () => {
    const result = await runInIpvsMachine(["sleep", "60"], { timeoutMs: 4_000 });
    assert.equal(result.code, TIMED_OUT_EXIT_CODE);
    assert.match(result.stderr, /did not finish within 4s/);
    assert.ok(result.durationMs < 20_000, `took ${result.durationMs} ms`);
  });
});
