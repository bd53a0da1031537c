// The seed document's multi-instance setup: its two keepalived configurations (web.conf, VRID 70,
// and db.conf, VRID 71, both "priority 100") run as two kubelvs agent instances on ONE host, straight
// from the files (`--keepalived-conf`), against lower-priority peers on other hosts: two keepalived
// daemons (the same two instances) on n2 and one kubelvs agent carrying both groups on n3.
// The seed's quirks stay as they are: db's VIP is the subnet's broadcast address (.255) and web
// tracks a script "check_web" that is never defined; the importer warns about both and the agent runs.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { NodeStateSpec } from "../../crds/schema/node-state.js";
import { KeepalivedDaemon, missingKeepalived } from "../../e2e/keepalived/daemon.js";
import { packetErrors } from "../../e2e/keepalived/log.js";
import { Lab, type LabHost } from "../../e2e/lab/lab.js";
import { missingNetns, tierOptions } from "../../e2e/requirements.js";
import { instancePaths } from "../process/instance.js";
import type { AgentStatus } from "../runtime/agent.js";
import { AgentFleet, KUBELVS_MAIN, waitFor, type RunningAgent } from "./agent-harness.js";

const SEED = (name: string): string =>
  fileURLToPath(new URL(`../../../importer/testdata/seed-${name}.conf`, import.meta.url));
const WEB_VIP = { address: "198.51.100.254", prefixLength: 24 };
const DB_VIP = { address: "198.51.100.255", prefixLength: 24 };

const peerGroups = (priority: number): NodeStateSpec["vrrpGroups"] => [
  {
    name: "web",
    vrid: 70,
    version: 2,
    advertIntervalMillis: 1000,
    interface: { name: "eth0" },
    priority,
    virtualIPs: [WEB_VIP],
  },
  {
    name: "db",
    vrid: 71,
    version: 2,
    advertIntervalMillis: 1000,
    interface: { name: "eth0" },
    priority,
    virtualIPs: [DB_VIP],
  },
];

const run = promisify(execFile);

describe(
  "the seed's web and db as two agent instances on one host",
  tierOptions(missingNetns(), missingKeepalived()),
  () => {
    let lab: Lab;
    let fleet: AgentFleet;
    let web: RunningAgent, db: RunningAgent, n3: RunningAgent;
    let kaWeb: KeepalivedDaemon, kaDb: KeepalivedDaemon;
    let n1: LabHost, n2: LabHost;

    const groupOf = async (agent: RunningAgent, name: string) => {
      const g = (await agent.status()).groups.find((x) => x.name === name);
      assert.ok(g, `${agent.host.name}/${agent.instance} has no group ${name}`);
      return g;
    };
    const addresses = async (host: LabHost): Promise<string> =>
      lab.ip(host, "-4", "addr", "show", "dev", "eth0");
    const has = (text: string, vip: { address: string; prefixLength: number }) =>
      text.includes(`${vip.address}/${vip.prefixLength}`);

    before(async () => {
      lab = await Lab.create({ nodes: 3, client: false });
      fleet = new AgentFleet(lab);
      [n1, n2] = lab.nodes as [LabHost, LabHost];
      kaWeb = KeepalivedDaemon.start(
        lab,
        n2,
        {
          routerId: "n2-web",
          instances: [
            {
              name: "WEB",
              interface: "eth0",
              vrid: 70,
              version: 2,
              priority: 50,
              advertIntervalMs: 1000,
              virtualIPs: [WEB_VIP],
            },
          ],
        },
        join(fleet.dir, "keepalived-web"),
      );
      kaDb = KeepalivedDaemon.start(
        lab,
        n2,
        {
          routerId: "n2-db",
          instances: [
            {
              name: "DB",
              interface: "eth0",
              vrid: 71,
              version: 2,
              priority: 50,
              advertIntervalMs: 1000,
              virtualIPs: [DB_VIP],
            },
          ],
        },
        join(fleet.dir, "keepalived-db"),
      );
      web = fleet.start(n1, { keepalivedConf: SEED("web") }, { instance: "web" });
      db = fleet.start(n1, { keepalivedConf: SEED("db") }, { instance: "db" });
      n3 = fleet.start(lab.nodes[2]!, { vrrpGroups: peerGroups(30) }, { instance: "peer" });
      await Promise.all([kaWeb.ready(), kaDb.ready()]);
    });
    after(async () => {
      await lab?.teardown();
      fleet?.cleanup();
    });

    test("both instances become Master of their VRIDs on n1; the peers are Backup", async () => {
      // version 2, 1 s adverts: Master_Down_Interval 3.6 s from start
      await waitFor(
        "web and db Master on n1",
        async () =>
          (await groupOf(web, "web")).state === "Master" && (await groupOf(db, "db")).state === "Master"
            ? true
            : undefined,
        10_000,
      );
      const w = await groupOf(web, "web");
      const d = await groupOf(db, "db");
      assert.equal(w.vrid, 70);
      assert.equal(d.vrid, 71);
      assert.equal(w.priority, 100);
      assert.equal(d.priority, 100);
      await waitFor("keepalived WEB and DB Backup", () =>
        kaWeb.state("WEB") === "BACKUP" && kaDb.state("DB") === "BACKUP" ? true : undefined,
      );
      await waitFor("n3 Backup of both", async () =>
        (await groupOf(n3, "web")).state === "Backup" && (await groupOf(n3, "db")).state === "Backup"
          ? true
          : undefined,
      );
      const onN1 = await addresses(n1);
      assert.ok(has(onN1, WEB_VIP) && has(onN1, DB_VIP), onN1);
      const onN2 = await addresses(n2);
      assert.ok(!has(onN2, WEB_VIP) && !has(onN2, DB_VIP), onN2);
    });

    test("each instance has its own pid file, control socket and log file", async () => {
      assert.equal(web.runDir, db.runDir);
      const [wp, dp] = [instancePaths("web", web.runDir), instancePaths("db", db.runDir)];
      for (const f of [wp.pidFile, wp.controlSocket, dp.pidFile, dp.controlSocket])
        assert.ok(existsSync(f), f);
      assert.notEqual(web.agentPid(), db.agentPid());
      assert.notEqual(web.logFile, db.logFile);
      const webStatus = await web.status();
      const dbStatus = await db.status();
      assert.equal(webStatus.instance, "web");
      assert.equal(dbStatus.instance, "db");
      assert.equal(webStatus.pid, web.agentPid());
      assert.equal(dbStatus.pid, db.agentPid());
      assert.deepEqual(
        webStatus.groups.map((g) => g.name),
        ["web"],
      );
      assert.deepEqual(
        dbStatus.groups.map((g) => g.name),
        ["db"],
      );
      // every line of each log is its own instance's
      for (const agent of [web, db]) {
        const lines = agent.log().trim().split("\n");
        assert.ok(lines.length > 0);
        for (const line of lines)
          assert.equal((JSON.parse(line) as { instance: string }).instance, agent.instance, line);
      }
    });

    test("the importer's warnings are logged and the agents run regardless", () => {
      assert.match(web.log(), /track_script \\"check_web\\" refers to no vrrp_script/);
      assert.match(db.log(), /198\.51\.100\.255\/24 is the broadcast address of its subnet/);
    });

    test("kubelvs status lists both instances; --instance picks one", async () => {
      const all = await run(process.execPath, [KUBELVS_MAIN, "status", "--run-dir", web.runDir]);
      assert.match(all.stdout, /instance db: pid \d+/);
      assert.match(all.stdout, /instance web: pid \d+/);
      assert.match(all.stdout, /^db\s+Master\s+100\s+71\s+eth0/m);
      assert.match(all.stdout, /^web\s+Master\s+100\s+70\s+eth0/m);
      const json = JSON.parse(
        (await run(process.execPath, [KUBELVS_MAIN, "status", "--run-dir", web.runDir, "--json"])).stdout,
      ) as AgentStatus[];
      assert.deepEqual(
        json.map((s) => s.instance),
        ["db", "web"],
      );
      const one = await run(process.execPath, [
        KUBELVS_MAIN,
        "status",
        "--run-dir",
        web.runDir,
        "--instance",
        "db",
      ]);
      assert.match(one.stdout, /instance db:/);
      assert.doesNotMatch(one.stdout, /instance web:/);
    });

    test("SIGTERM of web hands VRID 70 to keepalived and leaves db untouched", async () => {
      const dbPid = db.agentPid();
      const dbBefore = await groupOf(db, "db");
      const dbLogLines = db.log().split("\n").length;
      web.process.child.kill("SIGTERM");
      assert.equal((await web.process.exited).code, 0);
      await waitFor(
        "keepalived WEB Master",
        () => (kaWeb.state("WEB") === "MASTER" ? true : undefined),
        5000,
      );
      await waitFor(
        "web VIP on n2",
        async () => (has(await addresses(n2), WEB_VIP) ? true : undefined),
        2000,
      );
      assert.ok(!has(await addresses(n1), WEB_VIP), "web VIP left on n1");
      assert.ok(
        !existsSync(instancePaths("web", web.runDir).controlSocket),
        "web's control socket left behind",
      );
      assert.ok(!existsSync(instancePaths("web", web.runDir).pidFile), "web's pid file left behind");

      // db: same process, still Master, no transition, still advertising, VIP in place, peers still Backup
      await new Promise((r) => setTimeout(r, 2500));
      const dbAfter = await groupOf(db, "db");
      assert.equal(db.agentPid(), dbPid);
      assert.equal(dbAfter.state, "Master");
      assert.equal(dbAfter.transitions, dbBefore.transitions);
      assert.ok(
        dbAfter.advertsSent >= dbBefore.advertsSent + 2,
        `${dbBefore.advertsSent} → ${dbAfter.advertsSent}`,
      );
      assert.ok(has(await addresses(n1), DB_VIP));
      assert.equal(kaDb.state("DB"), "BACKUP");
      assert.equal((await groupOf(n3, "db")).state, "Backup");
      // db logged nothing about web's departure
      assert.deepEqual(
        db
          .log()
          .split("\n")
          .slice(dbLogLines - 1)
          .filter((l) => l.trim() !== ""),
        [],
      );
      const status = await run(process.execPath, [KUBELVS_MAIN, "status", "--run-dir", db.runDir]);
      assert.match(status.stdout, /instance db:/);
      assert.doesNotMatch(status.stdout, /instance web:/);
    });

    test("keepalived rejected none of the agents' adverts", () => {
      assert.deepEqual([...packetErrors(kaWeb.log()), ...packetErrors(kaDb.log())], []);
    });
  },
);
