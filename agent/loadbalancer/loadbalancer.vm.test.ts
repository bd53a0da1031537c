// Boots the IPVS machine once and runs the load balancer's real-traffic tests inside it
// (loadbalancer.guest.ts): NAT, DR and TUN services from VirtualService specs, scheduler and weight
// distribution, a killed backend's detection and recovery, an agent restart under a long-lived
// connection, a removed real server's drain (drainTimeoutSeconds) under one, a large reload on the
// load balancer's thread under a VRRP Master, and that thread's restart. The guest's figures are
// printed as diagnostics.
import { describe, test } from "node:test";
import { missingIpvsMachine, runGuestTestFile } from "../../e2e/vm/ipvs-machine.js";
import { tierOptions } from "../../e2e/requirements.js";

describe("load balancer with real traffic in a kernel with IPVS", tierOptions(missingIpvsMachine()), () => {
  test("the guest-side traffic tests pass", (t) =>
    runGuestTestFile(t, {
      file: "dist/agent/loadbalancer/loadbalancer.guest.js",
      figuresFile: "loadbalancer.json",
      passes: 7,
      timeoutMs: 900_000,
      skipFigures: ["tableAfterStart"],
    }));
});
