// The "must show" for failover, measured on real agents in the lab:
//   - on the wire (tcpdump on the LAN bridge), the new Master's first advert follows the old
//     Master's last one by the RFC timer, within 5 ms: Skew_Time after a priority-0 advert (resign,
//     and crash: the guard sends it for the dead agent), Master_Down_Interval after a silent loss
//     (host down: the Master's link goes down);
//   - from the client (a probe every 2 ms), a crashed agent's VIP answers from the new Master sooner
//     than keepalived's crash figure on this machine kind, and the old Master never answers together
//     with another node.
// Three agents: n1 (150) Master, n2 (100) takes over, n3 (50). Every case runs three times at each
// advert interval; the wire check takes the median error of the three, because this machine is
// shared and a single run can lose a few milliseconds to the scheduler (figures in the diagnostics).
import assert from "node:assert/strict";
import { after, before, describe, test, type TestContext } from "node:test";
import type { NodeStateSpec } from "../../crds/schema/node-state.js";
import { Lab, type LabHost } from "../../e2e/lab/lab.js";
import { missingNetns, tierOptions } from "../../e2e/requirements.js";
import { AgentFleet } from "./agent-harness.js";
import { FailoverBed, type BreakKind } from "./failover-bed.js";
import { KubelvsRouter } from "./routers.js";
import { VipProbe } from "./vip-probe.js";
import type { DoubleEpisode } from "./vip-probe-tracker.js";
import { VrrpCapture, missingTcpdump } from "./vrrp-capture.js";

const VIP = "198.51.100.200";
const PRIORITY = { n1: 150, n2: 100, n3: 50 } as const;
const RUNS = 3;
/** The RFC timer may be missed by this much (the bound) ... */
const LATE_TOLERANCE_MS = 5;
/** ... and cannot be beaten: the Backup starts its timer when the advert arrives, after the capture saw it. */
const EARLY_TOLERANCE_MS = 0.5;

interface IntervalCase {
  label: string;
  version: 2 | 3;
  intervalMs: number;
  vrid: number;
  /** keepalived 2.2.7's measured crash failover on this machine kind (shared/reference/README.md). */
  keepalivedCrashMs: number;
}

const CASES: IntervalCase[] = [
  { label: "v3, 10 ms adverts", version: 3, intervalMs: 10, vrid: 110, keepalivedCrashMs: 33 },
  { label: "v3, 50 ms adverts", version: 3, intervalMs: 50, vrid: 150, keepalivedCrashMs: 181 },
  { label: "v2, 1 s adverts", version: 2, intervalMs: 1000, vrid: 100, keepalivedCrashMs: 3292 },
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const describeDoubles = (doubles: DoubleEpisode[]): string =>
  doubles.map((d) => `${d.nodes.join("+")} for ${d.probes ?? "ongoing"} probes`).join(", ");

function spec(c: IntervalCase, priority: number): NodeStateSpec {
  return {
    vrrpGroups: [
      {
        name: "bench",
        vrid: c.vrid,
        version: c.version,
        advertIntervalMillis: c.intervalMs,
        interface: { name: "eth0" },
        priority,
        virtualIPs: [{ address: VIP, prefixLength: 24 }],
      },
    ],
  };
}

describe("failover on the RFC timer", tierOptions(missingNetns(), missingTcpdump()), () => {
  let lab: Lab;
  let fleet: AgentFleet;
  let capture: VrrpCapture;
  let probe: VipProbe;

  before(async () => {
    lab = await Lab.create({ nodes: 3, client: true });
    fleet = new AgentFleet(lab);
    capture = await VrrpCapture.start(lab);
    probe = await VipProbe.start(lab, { vip: VIP, nodes: lab.nodes });
  });
  after(async () => {
    await probe?.stop();
    await capture?.stop();
    await lab?.teardown();
    fleet?.cleanup();
  });

  for (const c of CASES) {
    describe(c.label, () => {
      let bed: FailoverBed;
      let h1: LabHost;

      before(async () => {
        const [a, b, d] = lab.nodes as [LabHost, LabHost, LabHost];
        h1 = a;
        const routers = [
          new KubelvsRouter(fleet, a, spec(c, PRIORITY.n1), PRIORITY.n1),
          new KubelvsRouter(fleet, b, spec(c, PRIORITY.n2), PRIORITY.n2),
          new KubelvsRouter(fleet, d, spec(c, PRIORITY.n3), PRIORITY.n3),
        ] as const;
        bed = new FailoverBed(lab, probe, capture, routers, { vrid: c.vrid, intervalMs: c.intervalMs });
        await Promise.all(routers.map((r) => r.start()));
        await bed.established();
      });
      after(async () => {
        await lab.ip(h1, "link", "set", "eth0", "up");
        await Promise.all((bed?.routers ?? []).map((r) => r.shutdown()));
      });

      /**
       * Breaks n1 RUNS times: each takeover must be n2's, on the wire within the tolerance of the RFC
       * timer (median of the runs), with never two nodes answering. Returns the client's failover times.
       */
      const measure = async (t: TestContext, kind: BreakKind): Promise<number[]> => {
        // each test starts from n1 Master, whatever an earlier failed test left behind
        await bed.established().catch(() => bed.reset());
        const expectedMs = bed.rfcTimerMs(kind);
        const errors: number[] = [];
        const clientMs: number[] = [];
        for (let run = 0; run < RUNS; run++) {
          const seen = await bed.breakMaster(kind);
          assert.equal(seen.newMaster, "n2", `run ${run}: the client was taken over by ${seen.newMaster}`);
          assert.ok(seen.wire, `run ${run}: no takeover by n2 captured`);
          // resign and crash (the guard): a priority-0 advert; host down: n1's last normal advert
          assert.equal(
            seen.wire.lastOld.priority,
            kind === "host-down" ? PRIORITY.n1 : 0,
            `run ${run}: n1's last advert`,
          );
          // The old Master must never answer together with anyone: after a resign or a crash it has
          // released the VIP before the new Master claims it (the guard's job after a crash).
          const withOld = seen.doubles.filter((d) => d.nodes.includes("n1"));
          assert.equal(withOld.length, 0, `run ${run}: n1 still answered with ${describeDoubles(withOld)}`);
          // Two Backups may race: n3's Skew_Time is (100 - 50) / 256 intervals longer than n2's, 1.95 ms
          // at 10 ms adverts; when n2's first advert is later than that (a busy scheduler), n3 takes over
          // too until it hears n2. That is the RFC's behaviour, shown rather than failed.
          if (seen.doubles.length > withOld.length)
            t.diagnostic(`run ${run}: Backups raced: ${describeDoubles(seen.doubles)}`);
          errors.push(seen.wire.gapMs - expectedMs);
          clientMs.push(seen.clientMs);
          t.diagnostic(
            `run ${run}: wire ${seen.wire.gapMs.toFixed(3)} ms (RFC ${expectedMs.toFixed(3)}, error ${(seen.wire.gapMs - expectedMs).toFixed(3)}); ` +
              `client served by n2 after ${seen.clientMs.toFixed(1)} ms (outage ${seen.outageMs?.toFixed(1) ?? "?"} ms)`,
          );
          await bed.restore(kind);
        }
        const error = median(errors);
        assert.ok(
          error <= LATE_TOLERANCE_MS && error >= -EARLY_TOLERANCE_MS,
          `median error ${error.toFixed(3)} ms off the RFC timer ${expectedMs.toFixed(3)} ms (runs: ${errors.map((e) => e.toFixed(3)).join(", ")})`,
        );
        return clientMs;
      };

      test("resign (SIGTERM): n2 advertises Skew_Time after n1's priority-0 advert", async (t) => {
        await measure(t, "resign");
      });

      test("crash (SIGKILL of the agent): the guard resigns for it, n2 advertises Skew_Time later, the client is served by n2 sooner than keepalived manages", async (t) => {
        const clientMs = await measure(t, "crash");
        // The guard learns of the death once the kernel has torn the agent down (its memory freed),
        // which takes longer on a busy machine: judged by the median like the wire timing.
        assert.ok(
          median(clientMs) < c.keepalivedCrashMs,
          `client served by n2 after ${clientMs.map((ms) => ms.toFixed(1)).join(", ")} ms; keepalived: ${c.keepalivedCrashMs} ms`,
        );
      });

      test("host down (n1's link down): n2 advertises Master_Down_Interval after n1's last advert", async (t) => {
        await measure(t, "host-down");
      });
    });
  }
});
