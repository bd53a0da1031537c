// Boots the IPVS machine and runs the connection-sync failover tests inside it
// (connection-sync.guest.ts): two directors running the agent, a connection held through the
// Master while its link goes down, with the group's connection sync and, as the control, without.
import { describe, test } from "node:test";
import { missingIpvsMachine, runGuestTestFile } from "../../e2e/vm/ipvs-machine.js";
import { tierOptions } from "../../e2e/requirements.js";

describe(
  "connection sync across a director failover in a kernel with IPVS",
  tierOptions(missingIpvsMachine()),
  () => {
    test("the guest-side connection-sync tests pass", (t) =>
      runGuestTestFile(t, {
        file: "dist/agent/loadbalancer/connection-sync.guest.js",
        figuresFile: "connection-sync.json",
        passes: 2,
        timeoutMs: 300_000,
      }));
  },
);
