// Leader election on a real Lease: one of two candidates leads; a leader that loses the API server
// steps down within its renew deadline and the other takes over once the lease expires; a leader
// that stops releases the Lease and the other takes over within a retry period.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLogger, memorySink } from "../core/log.js";
import { requireControlPlaneBinaries } from "../e2e/control-plane/binaries.js";
import { startControlPlane, type ControlPlane } from "../e2e/control-plane/control-plane.js";
import { missingCommand, tierOptions } from "../e2e/requirements.js";
import { KubeClient, loadKubeConfig } from "./kube/client.js";
import { LeaderElector } from "./leader-election.js";
import { eventually } from "./testing/k8s-helpers.js";
import { Relay } from "./testing/relay.js";

const requirements = [requireControlPlaneBinaries(), missingCommand("openssl", "apt-get install openssl")];
const TIMING = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 400 };

interface Candidate {
  elector: LeaderElector;
  events: string[];
}

describe("leader election on a real Lease", tierOptions(...requirements), () => {
  let plane: ControlPlane;
  let relay: Relay;
  let admin: KubeClient;
  const logs = memorySink();
  const candidates: Candidate[] = [];

  function candidate(identity: string, client: KubeClient, lease: string): Candidate {
    const events: string[] = [];
    const elector = new LeaderElector({
      client,
      log: createLogger({ sink: logs, fields: { identity } }),
      namespace: "default",
      name: lease,
      identity,
      ...TIMING,
      onStartedLeading: () => events.push("started"),
      onStoppedLeading: () => events.push("stopped"),
    });
    const c = { elector, events };
    candidates.push(c);
    elector.start();
    return c;
  }

  async function holder(lease: string): Promise<string> {
    const found = await admin.get<{ spec: { holderIdentity?: string } }>(
      `/apis/coordination.k8s.io/v1/namespaces/default/leases/${lease}`,
    );
    return found.spec.holderIdentity ?? "";
  }

  before(async () => {
    plane = await startControlPlane();
    admin = new KubeClient(loadKubeConfig(plane.kubeconfigPath));
    const server = new URL(plane.server);
    relay = new Relay({ host: server.hostname, port: Number(server.port) });
    await relay.up();
  });
  after(async () => {
    for (const c of candidates) await c.elector.stop();
    await relay?.down();
    await plane?.stop();
  });

  test("one of two candidates leads; losing the API server makes it step down, and the other takes over", async () => {
    const access = loadKubeConfig(plane.kubeconfigPath);
    const cut = candidate(
      "behind-relay",
      new KubeClient({ ...access, server: new URL(`https://127.0.0.1:${relay.port}`) }),
      "a",
    );
    await eventually("behind-relay leading", () => (cut.elector.isLeader ? true : undefined));
    const other = candidate("direct", admin, "a");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(other.elector.isLeader, false, "the Lease is held and renewed");
    assert.equal(await holder("a"), "behind-relay");

    await relay.down();
    const cutAt = Date.now();
    await eventually("behind-relay stepping down", () => (cut.events.includes("stopped") ? true : undefined));
    const steppedDownAfter = Date.now() - cutAt;
    assert.ok(
      steppedDownAfter <= TIMING.renewDeadlineMs + TIMING.retryPeriodMs + 500,
      `${steppedDownAfter} ms`,
    );
    await eventually("direct leading", () => (other.elector.isLeader ? true : undefined), {
      timeoutMs: 10_000,
    });
    assert.ok(Date.now() - cutAt >= TIMING.leaseDurationMs - 1000, "not before the lease could have expired");
    assert.equal(await holder("a"), "direct");
    const lease = await admin.get<{ spec: { leaseTransitions?: number } }>(
      "/apis/coordination.k8s.io/v1/namespaces/default/leases/a",
    );
    assert.equal(lease.spec.leaseTransitions, 1);
    await relay.up();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(cut.elector.isLeader, false, "back online, it stays a follower while the other renews");
  });

  test("a leader that stops releases the Lease; the follower takes over within a retry period", async () => {
    const first = candidate("first", admin, "b");
    await eventually("first leading", () => (first.elector.isLeader ? true : undefined));
    const second = candidate("second", admin, "b");
    await new Promise((resolve) => setTimeout(resolve, 800));
    const stoppedAt = Date.now();
    await first.elector.stop();
    assert.deepEqual(first.events, ["started", "stopped"]);
    await eventually("second leading", () => (second.elector.isLeader ? true : undefined));
    const tookOver = Date.now() - stoppedAt;
    assert.ok(tookOver < TIMING.leaseDurationMs, `took over after ${tookOver} ms, before the lease duration`);
  });
});
