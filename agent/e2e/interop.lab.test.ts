// kubelvs agents and real keepalived 2.2.7 daemons in one VRRP group on one LAN. For each protocol
// variant (v2/v3, multicast/unicast, v2 simple-password auth, v3 over IPv6):
//   n1 kubelvs (150) · n2 keepalived (100) · n3 kubelvs (50)
// and the steps below, which cover both directions of takeover, failover and failback:
//   1. kubelvs has the highest priority: n1 Master, keepalived and n3 Backup, the VIP on n1 only
//   2. n1 resigns (SIGTERM)            → keepalived takes over           (kubelvs → keepalived)
//   3. n1 starts again                 → n1 preempts keepalived          (keepalived → kubelvs)
//   4. n1 lowered to 90 (SIGHUP)       → keepalived is now highest, wins (keepalived preempts kubelvs)
//   5. keepalived crashes (SIGKILL)    → n1 takes over after Master_Down (keepalived → kubelvs)
//   6. keepalived starts again         → keepalived preempts n1          (kubelvs → keepalived)
//   7. keepalived stops (SIGTERM)      → n1 takes over after Skew_Time   (keepalived → kubelvs)
// Throughout: keepalived logs no rejected packet (checksum, TTL, auth, interval...), and the kubelvs
// agents drop none of keepalived's adverts.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { join } from "node:path";
import { Lab, type LabHost } from "../../e2e/lab/lab.js";
import { missingKeepalived } from "../../e2e/keepalived/daemon.js";
import { packetErrors } from "../../e2e/keepalived/log.js";
import { missingNetns, tierOptions } from "../../e2e/requirements.js";
import { AgentFleet, waitFor } from "./agent-harness.js";
import {
  KeepalivedRouter,
  KubelvsRouter,
  keepalivedConfig,
  kubelvsSpec,
  type GroupPlan,
  type Router,
  type RouterState,
} from "./routers.js";

interface Variant {
  title: string;
  plan: GroupPlan;
}

const V4_VIP = { address: "198.51.100.250", prefixLength: 24 };
const VARIANTS: Variant[] = [
  {
    title: "v3 multicast IPv4",
    plan: { name: "v3mc", vrid: 31, version: 3, advertIntervalMs: 100, virtualIPs: [V4_VIP] },
  },
  {
    title: "v3 unicast IPv4",
    plan: { name: "v3uc", vrid: 32, version: 3, advertIntervalMs: 100, virtualIPs: [V4_VIP], unicast: true },
  },
  {
    title: "v3 multicast IPv6",
    plan: {
      name: "v3mc6",
      vrid: 33,
      version: 3,
      advertIntervalMs: 100,
      virtualIPs: [{ address: "2001:db8::250", prefixLength: 64 }],
    },
  },
  {
    title: "v2 multicast with simple password",
    plan: {
      name: "v2mc",
      vrid: 21,
      version: 2,
      advertIntervalMs: 1000,
      virtualIPs: [V4_VIP],
      authPassword: "kubelvs",
    },
  },
  {
    title: "v2 unicast",
    plan: { name: "v2uc", vrid: 22, version: 2, advertIntervalMs: 1000, virtualIPs: [V4_VIP], unicast: true },
  },
];

describe("interop with keepalived 2.2.7", tierOptions(missingNetns(), missingKeepalived()), () => {
  let lab: Lab;
  let fleet: AgentFleet;

  before(async () => {
    lab = await Lab.create({ nodes: 3, client: false });
    fleet = new AgentFleet(lab);
  });
  after(async () => {
    await lab?.teardown();
    fleet?.cleanup();
  });

  for (const { title, plan } of VARIANTS) {
    describe(title, () => {
      const vip = plan.virtualIPs[0]!;
      const family = vip.address.includes(":") ? "-6" : "-4";
      // A takeover needs Master_Down_Interval (3 adverts and the skew) plus start-up; allow twice that.
      const stepMs = Math.max(3000, plan.advertIntervalMs * 8);
      let n1: KubelvsRouter, n2: KeepalivedRouter, n3: KubelvsRouter;
      let routers: Router[];
      /** keepalived logs of earlier runs of n2 (each start has its own). */
      const keepalivedLogs: string[] = [];

      const hasVip = async (host: LabHost): Promise<boolean> =>
        (await lab.ip(host, family, "addr", "show", "dev", "eth0")).includes(
          `${vip.address}/${vip.prefixLength}`,
        );

      /** Waits for exactly these states, then checks which nodes hold the VIP. */
      const expectStates = async (
        want: [Router, RouterState][],
        vipOn: Router,
        staleVipAllowedOn?: Router,
      ): Promise<void> => {
        await waitFor(
          want.map(([r, s]) => `${r.host.name} ${s}`).join(", "),
          async () => {
            for (const [r, s] of want) if ((await r.state()) !== s) return undefined;
            return true;
          },
          stepMs,
        );
        await waitFor(
          `VIP on ${vipOn.host.name}`,
          async () => ((await hasVip(vipOn.host)) ? true : undefined),
          2000,
        );
        for (const r of routers) {
          if (r === vipOn || r === staleVipAllowedOn) continue;
          assert.equal(await hasVip(r.host), false, `VIP also on ${r.host.name} (${r.kind})`);
        }
      };

      before(async () => {
        const hosts = lab.nodes.slice(0, 3);
        const [h1, h2, h3] = hosts as [LabHost, LabHost, LabHost];
        n1 = new KubelvsRouter(fleet, h1, kubelvsSpec(plan, h1, 150, hosts), 150);
        n2 = new KeepalivedRouter(
          lab,
          h2,
          keepalivedConfig(plan, h2, 100, hosts),
          100,
          join(fleet.dir, "keepalived", plan.name),
        );
        n3 = new KubelvsRouter(fleet, h3, kubelvsSpec(plan, h3, 50, hosts), 50);
        routers = [n1, n2, n3];
        await Promise.all(routers.map((r) => r.start()));
      });
      after(async () => {
        await Promise.all((routers ?? []).map((r) => r.shutdown()));
      });

      test("1. kubelvs highest: n1 (kubelvs) Master, n2 (keepalived) and n3 (kubelvs) Backup", async () => {
        await expectStates(
          [
            [n1, "Master"],
            [n2, "Backup"],
            [n3, "Backup"],
          ],
          n1,
        );
        if (family === "-4") {
          const seen = (await n3.running!.status()).groups[0]!;
          assert.equal(seen.masterAddress, n1.host.eth0.ipv4);
        }
      });

      test("2. n1 resigns (SIGTERM): keepalived takes over", async () => {
        await n1.resign();
        await expectStates(
          [
            [n2, "Master"],
            [n3, "Backup"],
          ],
          n2,
        );
        if (family === "-4") {
          // a kubelvs Backup follows a keepalived Master
          assert.equal((await n3.running!.status()).groups[0]!.masterAddress, n2.host.eth0.ipv4);
        }
      });

      test("3. n1 starts again and preempts keepalived", async () => {
        await n1.start();
        await expectStates(
          [
            [n1, "Master"],
            [n2, "Backup"],
            [n3, "Backup"],
          ],
          n1,
        );
      });

      test("4. n1 lowered to 90 (SIGHUP): keepalived is highest and takes over", async () => {
        n1.reconfigure(kubelvsSpec(plan, n1.host, 90, lab.nodes.slice(0, 3)));
        await expectStates(
          [
            [n2, "Master"],
            [n1, "Backup"],
            [n3, "Backup"],
          ],
          n2,
        );
      });

      test("5. keepalived crashes (SIGKILL): n1 takes over; keepalived leaves its VIP behind", async () => {
        await n2.crash();
        keepalivedLogs.push(n2.log());
        // keepalived cannot clean up after a crash: its VIP stays on n2 until it starts again.
        await expectStates(
          [
            [n1, "Master"],
            [n3, "Backup"],
          ],
          n1,
          n2,
        );
      });

      test("6. keepalived starts again and preempts n1", async () => {
        await n2.start();
        await expectStates(
          [
            [n2, "Master"],
            [n1, "Backup"],
            [n3, "Backup"],
          ],
          n2,
        );
      });

      test("7. keepalived stops (SIGTERM): n1 takes over", async () => {
        await n2.resign();
        keepalivedLogs.push(n2.log());
        await expectStates(
          [
            [n1, "Master"],
            [n3, "Backup"],
          ],
          n1,
        );
      });

      test("keepalived rejected none of the kubelvs adverts", () => {
        assert.deepEqual(keepalivedLogs.flatMap(packetErrors), []);
        // and it did hear them: as Master it yielded to a higher kubelvs priority (steps 3 and 6 start
        // it or n1 afresh, step 4's takeover is keepalived discarding n1's lower adverts)
        assert.match(keepalivedLogs.join("\n"), /received advert from \S+ with higher priority 150/);
      });

      test("the kubelvs agents dropped none of keepalived's adverts", async () => {
        for (const r of [n1, n3]) {
          const g = (await r.running!.status()).groups[0]!;
          assert.ok(g.advertsReceived > 0, `${r.host.name} received no adverts`);
          assert.deepEqual(g.drops, {}, `${r.host.name} dropped: ${JSON.stringify(g.drops)}`);
        }
      });
    });
  }
  describe("control: a wrong password is noticed by both sides", () => {
    // Shows that the checks above can fail: the same grep and counters catch a real mismatch.
    const plan: GroupPlan = {
      name: "v2bad",
      vrid: 23,
      version: 2,
      advertIntervalMs: 1000,
      virtualIPs: [V4_VIP],
      authPassword: "kubelvs",
    };
    let ours: KubelvsRouter, theirs: KeepalivedRouter;

    before(async () => {
      const hosts = lab.nodes.slice(0, 2);
      const [h1, h2] = hosts as [LabHost, LabHost];
      ours = new KubelvsRouter(
        fleet,
        h1,
        kubelvsSpec({ ...plan, authPassword: "wrong" }, h1, 150, hosts),
        150,
      );
      theirs = new KeepalivedRouter(
        lab,
        h2,
        keepalivedConfig(plan, h2, 100, hosts),
        100,
        join(fleet.dir, "keepalived", plan.name),
      );
      await Promise.all([ours.start(), theirs.start()]);
    });
    after(async () => {
      await Promise.all([ours?.shutdown(), theirs?.shutdown()]);
    });

    test("keepalived logs the bad password and kubelvs counts auth-mismatch drops", async () => {
      await waitFor(
        "keepalived auth error",
        () => (packetErrors(theirs.log()).some((e) => e.problem === "auth") ? true : undefined),
        8000,
      );
      await waitFor(
        "kubelvs auth-mismatch drops",
        async () =>
          ((await ours.running!.status()).groups[0]!.drops["auth-mismatch"] ?? 0) > 0 ? true : undefined,
        8000,
      );
      // each side, deaf to the other, claims the VIP: the split brain a password mismatch causes
      assert.equal(await ours.state(), "Master");
      assert.equal(await theirs.state(), "Master");
    });
  });
});
