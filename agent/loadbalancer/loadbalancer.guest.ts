// The load balancer with real traffic, INSIDE the IPVS machine (User-Mode Linux, see e2e/vm),
// started by loadbalancer.vm.test.ts on the host:
//   node --test dist/agent/loadbalancer/loadbalancer.guest.js
// (not *.test.js: the host's runner never picks it up itself). The guest's root namespace is the
// director and runs the agent; clients and real servers are network namespaces:
//
//   kv-cli 198.51.100.1 ─┐                       ┌─ kv-nat1..3 203.0.113.11-13:8080 (NAT)
//   kv-dr1..3 .11-.13 ───┼─ kvbr0 198.51.100.254 │
//   kv-tun1..3 .21-.23 ──┘   (VRRP group "lan",  └─ kvnat0 203.0.113.126/25
//                             VIPs .200 .201 .202)
//
// The VirtualServices: NAT on 198.51.100.200:80, DR on .201:80, TUN (IPIP) on .202:80, and a NAT
// echo service on .200:9000 for the long-lived connections (agent restart, drain). DR and TUN real
// servers are prepared with `kubelvs realserver`. Every figure lands in
// $KUBELVS_RESULTS_DIR/loadbalancer.json.
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import type { NodeStateSpec, NodeVirtualService } from "../../crds/schema/node-state.js";
import type { HealthCheck, RealServer, VirtualServiceSpec } from "../../crds/schema/virtual-service.js";
import { parseIpvsadmDaemons } from "../../e2e/vm/ipvsadm.js";
import { createLogger, memorySink } from "../../core/log.js";
import { HeldConnection } from "./testing/held-connection.js";
import { IpvsClient } from "../../native/ipvs/client.js";
import { controlRequest } from "../process/control-socket.js";
import { instancePaths } from "../process/instance.js";
import type { AgentStatus } from "../runtime/agent.js";

const run = (command: string, ...args: string[]): string => execFileSync(command, args, { encoding: "utf8" });
const sh = (script: string): string => run("bash", "-ec", script);
const script = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));
const TRAFFIC_CLIENT = script("./testing/traffic-client.js");
const ECHO_SERVER = script("./testing/echo-server.js");
const REALSERVER = new URL("./realserver-command.js", import.meta.url).href;
const KUBELVS = script("../../cli/main.js");

const RESULTS = process.env.KUBELVS_RESULTS_DIR ?? "/tmp/kubelvs-results";
const WORK = "/tmp/kubelvs-lb";
const CONFIG = `${WORK}/lb.yaml`;
const RUN_DIR = `${WORK}/run`;
const figures: Record<string, unknown> = {};

const NAT_VIP = "198.51.100.200";
const DR_VIP = "198.51.100.201";
const TUN_VIP = "198.51.100.202";
const BACKENDS = {
  nat: [1, 2, 3].map((i) => ({ ns: `kv-nat${i}`, address: `203.0.113.${10 + i}`, port: 8080 })),
  dr: [1, 2, 3].map((i) => ({ ns: `kv-dr${i}`, address: `198.51.100.${10 + i}`, port: 80 })),
  tun: [1, 2, 3].map((i) => ({ ns: `kv-tun${i}`, address: `198.51.100.${20 + i}`, port: 80 })),
};
const NAMESPACES = ["kv-cli", ...Object.values(BACKENDS).flatMap((list) => list.map((b) => b.ns))];

/** The TCP check of the failover test: delay_loop 1 s, connect_timeout 500 ms, one retry after 200 ms. */
const TCP_CHECK: HealthCheck = {
  type: "TCP",
  intervalMillis: 1000,
  connectTimeoutMillis: 500,
  retries: 1,
  retryDelayMillis: 200,
};

type Mode = keyof typeof BACKENDS;
const METHOD: Record<Mode, "NAT" | "DR" | "TUN"> = { nat: "NAT", dr: "DR", tun: "TUN" };
const VIP: Record<Mode, string> = { nat: NAT_VIP, dr: DR_VIP, tun: TUN_VIP };

function virtualService(mode: Mode, scheduler: string, weights: number[]): NodeVirtualService {
  const spec: VirtualServiceSpec = {
    virtualIP: VIP[mode],
    port: 80,
    scheduler: scheduler as VirtualServiceSpec["scheduler"],
    forwarding: { method: METHOD[mode] },
    failureAction: "Inhibit",
    healthCheck: TCP_CHECK,
    realServers: BACKENDS[mode].map((b, i) => ({ address: b.address, port: b.port, weight: weights[i]! })),
  };
  return { namespace: "lab", name: mode, vrrpGroup: "lan", spec };
}

const ECHO_SERVICE: NodeVirtualService = {
  namespace: "lab",
  name: "echo",
  vrrpGroup: "lan",
  spec: {
    virtualIP: NAT_VIP,
    port: 9000,
    scheduler: "rr",
    healthCheck: TCP_CHECK,
    realServers: [{ address: BACKENDS.nat[0]!.address, port: 9000 }],
  },
};

function nodeState(services: NodeVirtualService[]): NodeStateSpec {
  return {
    vrrpGroups: [
      {
        name: "lan",
        vrid: 51,
        version: 3,
        advertIntervalMillis: 100,
        interface: { name: "kvbr0" },
        priority: 255,
        virtualIPs: [NAT_VIP, DR_VIP, TUN_VIP].map((address) => ({ address, prefixLength: 32 })),
        connectionSync: { enabled: true, syncID: 7 },
      },
    ],
    virtualServices: services,
  };
}

class GuestLab {
  private readonly servers: ChildProcess[] = [];

  build(): void {
    sh(`
      sysctl -qw net.ipv4.ip_forward=1
      # Reschedule a new connection reusing the port of one IPVS last saw in FIN_WAIT, the last state
      # a DR/TUN director sees (docs/dr-tun.md): without it, sequential test clients that wrap their
      # port range land on the old real server and bypass the scheduler.
      sysctl -qw net.ipv4.vs.conn_reuse_mode=3
      for ns in ${NAMESPACES.join(" ")}; do ip netns add $ns; ip -n $ns link set lo up; done
      ip link add kvbr0 type bridge; ip link set kvbr0 up; ip addr add 198.51.100.254/24 dev kvbr0
      ip link add kvnat0 type bridge; ip link set kvnat0 up; ip addr add 203.0.113.126/25 dev kvnat0
      attach() { # namespace bridge address/prefix
        ip link add $1-a type veth peer name $1-b
        ip link set $1-a netns $1; ip link set $1-b master $2 up
        ip -n $1 link set $1-a up; ip -n $1 addr add $3 dev $1-a
      }
      attach kv-cli kvbr0 198.51.100.1/24
      ${BACKENDS.dr.map((b) => `attach ${b.ns} kvbr0 ${b.address}/24`).join("\n")}
      ${BACKENDS.tun.map((b) => `attach ${b.ns} kvbr0 ${b.address}/24`).join("\n")}
      ${BACKENDS.nat.map((b) => `attach ${b.ns} kvnat0 ${b.address}/25; ip -n ${b.ns} route add default via 203.0.113.126`).join("\n")}
      mkdir -p ${WORK}
    `);
    for (const [mode, vip] of [
      ["dr", DR_VIP],
      ["tun", TUN_VIP],
    ] as const) {
      for (const backend of BACKENDS[mode]) {
        const command = `const m = await import(${JSON.stringify(REALSERVER)}); process.exitCode = await m.run(${JSON.stringify(["--vip", vip, "--mode", mode])});`;
        run("ip", "netns", "exec", backend.ns, process.execPath, "--input-type=module", "-e", command);
      }
    }
  }

  /** busybox httpd in each backend namespace, answering its namespace's name. */
  startWebServers(): void {
    for (const backend of Object.values(BACKENDS).flat()) this.startWebServer(backend.ns, backend.port);
  }

  startWebServer(ns: string, port: number): void {
    sh(`mkdir -p ${WORK}/${ns}; echo ${ns} > ${WORK}/${ns}/index.html`);
    run("ip", "netns", "exec", ns, "busybox", "httpd", "-p", String(port), "-h", `${WORK}/${ns}`);
  }

  /** Kills the web server of one namespace (busybox httpd daemonises: found by its listening socket). */
  /** SIGKILLs every process of the namespace; resolves with the time the kill returned, once nothing listens. */
  async killWebServer(ns: string, port: number): Promise<number> {
    sh(`ip netns pids ${ns} | xargs -r kill -9 2>/dev/null || true`);
    const killedAt = Date.now();
    for (let i = 0; i < 100; i++) {
      if (run("ip", "netns", "exec", ns, "ss", "-Hltn", `sport = :${port}`).trim() === "") return killedAt;
      await sleep(10);
    }
    throw new Error(`${ns} still listens on ${port} after kill -9`);
  }

  startEchoServer(): void {
    const server = spawn(
      "ip",
      ["netns", "exec", BACKENDS.nat[0]!.ns, process.execPath, ECHO_SERVER, "9000"],
      {
        stdio: "ignore",
      },
    );
    this.servers.push(server);
  }

  async waitListening(ns: string, port: number): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (run("ip", "netns", "exec", ns, "ss", "-Hltn", `sport = :${port}`).trim() !== "") return;
      await sleep(50);
    }
    throw new Error(`${ns} is not listening on ${port}`);
  }

  sequential(vip: string, count: number): string[] {
    return run(
      "ip",
      "netns",
      "exec",
      "kv-cli",
      process.execPath,
      TRAFFIC_CLIENT,
      "sequential",
      vip,
      "80",
      String(count),
    )
      .trim()
      .split("\n");
  }

  destroy(): void {
    for (const server of this.servers) server.kill("SIGKILL");
    for (const ns of NAMESPACES) {
      try {
        sh(`ip netns pids ${ns} | xargs -r kill -9; ip netns del ${ns}`);
      } catch {
        // never created
      }
    }
    for (const link of ["kvbr0", "kvnat0"]) {
      try {
        run("ip", "link", "del", link);
      } catch {
        // never created
      }
    }
  }
}

function counts(answers: string[]): Record<string, number> {
  const result: Record<string, number> = {};
  for (const answer of answers) result[answer] = (result[answer] ?? 0) + 1;
  return result;
}

/** Each backend's share within 5 % (relative) of its weight's share. */
function assertWeighted(mode: Mode, answers: string[], weights: number[], what: string): void {
  const total = weights.reduce((a, b) => a + b, 0);
  const seen = counts(answers);
  assert.deepEqual(
    Object.keys(seen).filter((k) => !BACKENDS[mode].some((b) => b.ns === k)),
    [],
    `${what}: unexpected answers ${JSON.stringify(seen)}`,
  );
  BACKENDS[mode].forEach((backend, i) => {
    const expected = (answers.length * weights[i]!) / total;
    const got = seen[backend.ns] ?? 0;
    assert.ok(
      Math.abs(got - expected) <= 0.05 * expected,
      `${what}: ${backend.ns} got ${got}, expected ${expected} ± 5 % (${JSON.stringify(seen)})`,
    );
  });
}

/**
 * `kubelvs agent` as a user runs it, in the guest's root namespace (the director): configuration
 * file, SIGHUP-equivalent reload through the control socket, status, SIGTERM. A separate process,
 * so the test's own work never delays the agent's timers.
 */
class AgentProcess {
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(readonly logFile: string) {
    this.child = spawn(
      process.execPath,
      [
        KUBELVS,
        "agent",
        "--config",
        CONFIG,
        "--instance",
        "lb",
        "--run-dir",
        RUN_DIR,
        "--no-guard",
        "--log-file",
        logFile,
        "--log-level",
        "debug",
      ],
      { stdio: "ignore" },
    );
    this.exited = new Promise((resolve) => this.child.on("close", () => resolve()));
  }

  /** Resident memory of the agent (no guard here: the process spawned is the agent), in MB. */
  rssMb(): number {
    const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.child.pid}/status`, "utf8"))?.[1];
    return Math.round(Number(kib) / 102.4) / 10;
  }

  static writeConfig(spec: NodeStateSpec): void {
    writeFileSync(CONFIG, stringify(spec));
  }

  status(): Promise<AgentStatus> {
    return controlRequest(instancePaths("lb", RUN_DIR).controlSocket, {
      command: "status",
    }) as Promise<AgentStatus>;
  }

  /** Writes the configuration and reloads it (what SIGHUP does), returning once it is applied. */
  async reload(spec: NodeStateSpec): Promise<void> {
    AgentProcess.writeConfig(spec);
    await controlRequest(instancePaths("lb", RUN_DIR).controlSocket, { command: "reload" });
  }

  /** Master of the group with every virtual service programmed. */
  async ready(services: string[]): Promise<void> {
    await until("agent ready", async () => {
      try {
        const status = await this.status();
        return status.groups[0]?.state === "Master" && allActive(status, services);
      } catch {
        return false;
      }
    });
  }

  async stop(): Promise<void> {
    this.child.kill("SIGTERM");
    await this.exited;
  }

  log(): string {
    return readFileSync(this.logFile, "utf8");
  }
}

let lab: GuestLab;
let agent: AgentProcess | undefined;
let ipvs: IpvsClient;

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 15_000,
  stepMs = 50,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

const allActive = (status: AgentStatus, names: string[]) =>
  names.every((name) => status.virtualServices?.find((s) => s.name === name)?.active === true);

async function destinationOf(vip: string, port: number, address: string) {
  const key = { kind: "address", protocol: "tcp", address: vip, port } as const;
  return (await ipvs.listDestinations(key)).find((d) => d.address === address);
}

async function weightOf(vip: string, port: number, address: string): Promise<number | undefined> {
  return (await destinationOf(vip, port, address))?.weight;
}

before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  lab = new GuestLab();
  lab.build();
  lab.startWebServers();
  lab.startEchoServer();
  for (const backend of Object.values(BACKENDS).flat()) await lab.waitListening(backend.ns, backend.port);
  await lab.waitListening(BACKENDS.nat[0]!.ns, 9000);
  ipvs = await IpvsClient.open();
});

after(async () => {
  await agent?.stop();
  ipvs?.close();
  lab?.destroy();
  writeFileSync(`${RESULTS}/loadbalancer.json`, JSON.stringify(figures, null, 2));
});

describe("load balancer with real traffic", () => {
  test("NAT, DR and TUN services from VirtualService specs carry TCP; wlc follows the weights within 5 %", async () => {
    // wlc first, on a fresh table: it weighs the connections already in the table (inactive ones
    // linger for minutes), so a measurement after other runs would measure their leftovers too.
    const weights = [1, 2, 3];
    AgentProcess.writeConfig(
      nodeState([
        virtualService("nat", "wlc", weights),
        virtualService("dr", "wlc", weights),
        virtualService("tun", "wlc", weights),
        ECHO_SERVICE,
      ]),
    );
    agent = new AgentProcess(`${RESULTS}/agent-1.log`);
    await agent.ready(["nat", "dr", "tun", "echo"]);
    await until("VIPs on the director", () =>
      run("ip", "-4", "addr", "show", "dev", "kvbr0").includes(TUN_VIP),
    );
    const table = run("ipvsadm", "-Ln");
    figures.tableAfterStart = table;
    // The group's connection sync: the Master runs the master sync daemon on the group's interface.
    assert.deepEqual(
      parseIpvsadmDaemons(run("ipvsadm", "-L", "--daemon")).map((d) => [d.state, d.interface, d.syncId]),
      [["master", "kvbr0", 7]],
    );
    // Forwarding as configured: masquerading, direct routing, IPIP tunnelling.
    assert.match(table, /198\.51\.100\.200:80 wlc\n(\s+->.*Masq.*\n){3}/);
    assert.match(table, /198\.51\.100\.201:80 wlc\n(\s+->.*Route.*\n){3}/);
    assert.match(table, /198\.51\.100\.202:80 wlc\n(\s+->.*Tunnel.*\n){3}/);
    for (const mode of ["nat", "dr", "tun"] as const) {
      const started = Date.now();
      const answers = lab.sequential(VIP[mode], 1200);
      figures[`${mode}-wlc`] = {
        connections: 1200,
        weights,
        counts: counts(answers),
        ms: Date.now() - started,
      };
      assertWeighted(mode, answers, weights, `${mode} wlc`);
    }
  });

  test("wrr follows the weights within 5 % and rr is exact; scheduler and weight changes are edits in place", async () => {
    const conns = (stats: string) => Number(/TCP\s+\S+\s+(\d+)/.exec(stats)?.[1]);
    for (const [scheduler, weights, connections] of [
      ["wrr", [1, 2, 3], 1200],
      ["rr", [1, 1, 1], 300],
    ] as const) {
      const statsBefore = run("ipvsadm", "-Ln", "--stats", "-t", `${NAT_VIP}:80`);
      await agent!.reload(
        nodeState([
          virtualService("nat", scheduler, [...weights]),
          virtualService("dr", scheduler, [...weights]),
          virtualService("tun", scheduler, [...weights]),
          ECHO_SERVICE,
        ]),
      );
      await until(
        `${scheduler} programmed`,
        () => (run("ipvsadm", "-Ln").match(new RegExp(`:80 ${scheduler}\\n`, "g"))?.length ?? 0) === 3,
      );
      await until(
        "weights programmed",
        async () => (await weightOf(TUN_VIP, 80, BACKENDS.tun[2]!.address)) === weights[2],
      );
      // Edited in place: the service's connection counter was not reset by a delete and re-add.
      assert.ok(
        conns(run("ipvsadm", "-Ln", "--stats", "-t", `${NAT_VIP}:80`)) >= conns(statsBefore),
        `${scheduler}: service counters survive the change`,
      );
      for (const mode of ["nat", "dr", "tun"] as const) {
        const started = Date.now();
        const answers = lab.sequential(VIP[mode], connections);
        figures[`${mode}-${scheduler}`] = {
          connections,
          weights,
          counts: counts(answers),
          ms: Date.now() - started,
        };
        if (scheduler === "rr")
          assert.deepEqual(
            counts(answers),
            Object.fromEntries(BACKENDS[mode].map((b) => [b.ns, connections / 3])),
            `${mode} rr over ${connections} connections`,
          );
        else assertWeighted(mode, answers, [...weights], `${mode} ${scheduler}`);
      }
    }
  });

  test("a killed backend gets weight 0 within delay_loop × retries + timeout; no new connection fails after that; it comes back", async () => {
    const spec = nodeState([
      virtualService("nat", "rr", [1, 1, 1]),
      virtualService("dr", "rr", [1, 1, 1]),
      virtualService("tun", "rr", [1, 1, 1]),
      ECHO_SERVICE,
    ]);
    if (agent === undefined) {
      AgentProcess.writeConfig(spec);
      agent = new AgentProcess(`${RESULTS}/agent-1.log`);
      await agent.ready(["nat", "dr", "tun", "echo"]);
    } else {
      await agent.reload(spec);
    }
    const victim = BACKENDS.nat[1]!;
    await until("rr programmed", () => run("ipvsadm", "-Ln").match(/ rr\n/g)?.length === 4);
    await until("all healthy", async () => (await weightOf(NAT_VIP, 80, victim.address)) === 1);
    // New connections every 20 ms until stopped, each recorded with its start time and outcome.
    const client = spawn(
      "ip",
      [
        "netns",
        "exec",
        "kv-cli",
        process.execPath,
        TRAFFIC_CLIENT,
        "continuous",
        NAT_VIP,
        "80",
        "60000",
        "20",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let output = "";
    client.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const clientDone = new Promise((resolve) => client.on("close", resolve));
    await sleep(1500);
    const killedAt = await lab.killWebServer(victim.ns, victim.port);
    await until("weight 0", async () => (await weightOf(NAT_VIP, 80, victim.address)) === 0, 5000, 5);
    const detectedAt = Date.now();
    await sleep(2500);
    lab.startWebServer(victim.ns, victim.port);
    const restartedAt = Date.now();
    await until("weight back to 1", async () => (await weightOf(NAT_VIP, 80, victim.address)) === 1, 5000, 5);
    const recoveredAt = Date.now();
    await sleep(2000);
    client.kill("SIGTERM");
    await clientDone;

    const attempts = output
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { start: number; ok: boolean; body?: string; error?: string });
    const failedBefore = attempts.filter((a) => !a.ok && a.start < detectedAt);
    const failedAfter = attempts.filter((a) => !a.ok && a.start >= detectedAt);
    const detectionMs = detectedAt - killedAt;
    const bound = TCP_CHECK.intervalMillis! * TCP_CHECK.retries! + TCP_CHECK.connectTimeoutMillis!;
    if (failedAfter.length > 0) figures.failedAfterDetection = failedAfter;
    figures.failover = {
      attempts: attempts.length,
      detectionMs,
      boundMs: bound,
      failedBeforeDetection: failedBefore.length,
      failedAfterDetection: failedAfter.length,
      recoveryMs: recoveredAt - restartedAt,
      answeredByVictimAfterRecovery: attempts.filter((a) => a.start > recoveredAt && a.body === victim.ns)
        .length,
    };
    assert.ok(detectionMs <= bound, `detected after ${detectionMs} ms, bound ${bound} ms`);
    assert.deepEqual(failedAfter, [], "no new connection fails after detection");
    assert.ok(failedBefore.length > 0, "the kill did break connections before detection (the test can fail)");
    assert.ok(recoveredAt - restartedAt <= TCP_CHECK.intervalMillis! + 500, "back within one interval");
    assert.ok(
      attempts.some((a) => a.start > recoveredAt && a.body === victim.ns),
      "the recovered backend serves again",
    );
  });

  test("an established long-lived connection survives an agent restart: no flush, no re-creation", async () => {
    const spec = nodeState([
      virtualService("nat", "rr", [1, 1, 1]),
      virtualService("dr", "rr", [1, 1, 1]),
      virtualService("tun", "rr", [1, 1, 1]),
      ECHO_SERVICE,
    ]);
    if (agent === undefined) {
      AgentProcess.writeConfig(spec);
      agent = new AgentProcess(`${RESULTS}/agent-1.log`);
    } else {
      await agent.reload(spec);
    }
    await agent.ready(["nat", "dr", "tun", "echo"]);
    const holder = new HeldConnection({ namespace: "kv-cli", host: NAT_VIP, port: 9000, intervalMs: 100 });
    const echoCount = () => holder.echoes().length;
    await until("echoes flowing", () => echoCount() >= 5);
    const entryBefore = run("ipvsadm", "-Lnc");
    const statsBefore = run("ipvsadm", "-Ln", "--stats", "-t", `${NAT_VIP}:9000`);

    // SIGTERM: the agent resigns and removes the VIPs; the IPVS table stays. A new process adopts it.
    const stoppedAt = Date.now();
    await agent.stop();
    const tableWhileDown = run("ipvsadm", "-Sn"); // rules only, no counters
    assert.equal(run("ipvsadm", "-L", "--daemon").trim(), "", "the stopped agent stopped its sync daemon");
    agent = new AgentProcess(`${RESULTS}/agent-2.log`);
    await agent.ready(["nat", "dr", "tun", "echo"]);
    const restartedAt = Date.now();
    await until("master sync daemon again", () =>
      run("ipvsadm", "-L", "--daemon").includes("master sync daemon"),
    );
    const echoesBefore = echoCount();
    await until("echoes after the restart", () => echoCount() >= echoesBefore + 10);
    await holder.stop();

    const lines = holder.lines();
    const connected = lines.find((l) => l.connected !== undefined)!;
    const closed = lines.find((l) => l.closed !== undefined);
    const echoes = lines.filter((l) => l.echo !== undefined);
    const secondLog = agent.log();
    figures.restart = {
      agentDownMs: restartedAt - stoppedAt,
      echoes: echoes.length,
      lastEcho: echoes.at(-1)?.echo,
      closedBy: closed?.closed,
      secondAgentOperations: secondLog.split("\n").filter((l) => l.includes("applying IPVS operations"))
        .length,
    };
    assert.equal(closed?.closed, "SIGTERM", "the connection stayed open until the test ended it");
    // Echoes in order without a gap: nothing was lost or reset.
    echoes.forEach((e, i) => assert.equal(e.echo, i + 1));
    assert.ok(
      echoes.some((e) => e.at! > restartedAt),
      "echoes continued after the restart",
    );
    assert.equal(
      run("ipvsadm", "-Sn"),
      tableWhileDown,
      "the table stayed as it was while the agent was down",
    );
    // The restarted agent found its own table through its ownership record: no operation at all.
    assert.doesNotMatch(
      secondLog,
      /applying IPVS operations|adopted an existing IPVS service|IPVS operation failed/,
    );
    assert.match(
      entryBefore,
      new RegExp(
        `TCP .* 198\\.51\\.100\\.1:${connected.local} +198\\.51\\.100\\.200:9000 +203\\.0\\.113\\.11:9000`,
      ),
    );
    const conns = (stats: string) => Number(/TCP\s+\S+\s+(\d+)/.exec(stats)?.[1]);
    assert.ok(
      conns(run("ipvsadm", "-Ln", "--stats", "-t", `${NAT_VIP}:9000`)) >= conns(statsBefore),
      "counters not reset",
    );
  });

  test("a removed real server with a live connection drains at weight 0 and is deleted drainTimeoutSeconds after its removal", async () => {
    const DRAIN_SECONDS = 2;
    const echo = nat1Echo();
    const spec = (realServers: RealServer[]) =>
      nodeState([
        virtualService("nat", "rr", [1, 1, 1]),
        virtualService("dr", "rr", [1, 1, 1]),
        virtualService("tun", "rr", [1, 1, 1]),
        { ...ECHO_SERVICE, spec: { ...ECHO_SERVICE.spec, drainTimeoutSeconds: DRAIN_SECONDS, realServers } },
      ]);
    if (agent === undefined) {
      AgentProcess.writeConfig(spec([echo]));
      agent = new AgentProcess(`${RESULTS}/agent-1.log`);
    } else {
      await agent.reload(spec([echo]));
    }
    await agent.ready(["nat", "dr", "tun", "echo"]);
    await until("echo server in the table", async () => (await weightOf(NAT_VIP, 9000, echo.address)) === 1);
    const holder = new HeldConnection({ namespace: "kv-cli", host: NAT_VIP, port: 9000, intervalMs: 50 });
    try {
      await until("echoes flowing", () => holder.echoes().length >= 5);
      await until(
        "the connection counted on the echo server",
        async () => (await destinationOf(NAT_VIP, 9000, echo.address))?.activeConnections === 1,
      );

      // The echo server leaves the configuration while the connection lasts.
      const reloadStartedAt = Date.now();
      await agent.reload(spec([]));
      const reloadMs = Date.now() - reloadStartedAt;
      await until("weight 0", async () => (await weightOf(NAT_VIP, 9000, echo.address)) === 0, 5000, 10);
      const drainingSeenAt = Date.now();
      const draining = await destinationOf(NAT_VIP, 9000, echo.address);
      await until(
        "the draining server deleted",
        async () => (await destinationOf(NAT_VIP, 9000, echo.address)) === undefined,
        (DRAIN_SECONDS + 5) * 1000,
        10,
      );
      const deletedAt = Date.now();
      await sleep(1000); // would any echo still come back?
      const echoes = holder.echoes();
      // From weight 0 (seen by 10 ms polls, so up to a poll after the drain started) to deletion.
      const drainMs = deletedAt - drainingSeenAt;
      const lowerMs = DRAIN_SECONDS * 1000 - 100;
      // The agent re-reads draining services every second (drainPollMs): the deletion is due at the
      // first poll after the timeout.
      const boundMs = DRAIN_SECONDS * 1000 + 1000 + 500;
      const drainLog = agent
        .log()
        .split("\n")
        .filter((line) => line.includes("draining removed real server"));
      figures.drain = {
        drainTimeoutSeconds: DRAIN_SECONDS,
        reloadMs,
        drainMs,
        boundMs,
        activeConnectionsWhileDraining: draining?.activeConnections,
        echoesWhileDraining: echoes.filter((e) => e.at > drainingSeenAt && e.at < deletedAt).length,
        echoesAfterDeletion: echoes.filter((e) => e.at > deletedAt + 200).length,
      };
      assert.equal(draining?.activeConnections, 1, "the drain waited on the live connection");
      assert.ok(drainMs >= lowerMs, `deleted ${drainMs} ms after its drain started, before the timeout`);
      assert.ok(drainMs <= boundMs, `deleted ${drainMs} ms after its drain started, bound ${boundMs} ms`);
      // Graceful: the established connection kept working at weight 0 until the deletion...
      assert.ok(
        echoes.some((e) => e.at > drainingSeenAt + DRAIN_SECONDS * 1000 - 500 && e.at < deletedAt),
        "echoes continued while the server drained",
      );
      // ...and the deletion ended it: the kernel drops packets of connections to a deleted server
      // (expire_nodest_conn=0). 200 ms of grace for an echo already on its way when it was deleted.
      assert.ok(
        echoes.every((e) => e.at <= deletedAt + 200),
        `no echo after the server was deleted at ${deletedAt}: ${JSON.stringify(echoes.slice(-3))}`,
      );
      assert.equal(drainLog.length, 1, `one drain logged:\n${drainLog.join("\n")}`);
      assert.match(drainLog[0]!, /"timeoutMs":2000/);
      assert.match(drainLog[0]!, /"realServer":"203\.0\.113\.11:9000"/);
    } finally {
      await holder.stop();
    }
  });

  test("a large reload runs on the load balancer's thread: the VRRP Master keeps advertising throughout", async () => {
    // Building and programming thousands of services takes the load balancer seconds here. On the
    // agent's own event loop that would stall VRRP: the native sender withholds the Master's adverts
    // once the loop has not turned for a second, and the Backups would take over.
    const base = [
      virtualService("nat", "rr", [1, 1, 1]),
      virtualService("dr", "rr", [1, 1, 1]),
      virtualService("tun", "rr", [1, 1, 1]),
      ECHO_SERVICE,
    ];
    if (agent === undefined) {
      AgentProcess.writeConfig(nodeState(base));
      agent = new AgentProcess(`${RESULTS}/agent-1.log`);
    } else {
      await agent.reload(nodeState(base));
    }
    await agent.ready(["nat", "dr", "tun", "echo"]);
    const BULK = 4000;
    const bulk: NodeVirtualService[] = Array.from({ length: BULK }, (_, i) => ({
      namespace: "bulk",
      name: `svc-${i}`,
      vrrpGroup: "lan",
      spec: {
        virtualIP: NAT_VIP,
        port: 20_000 + i,
        scheduler: "rr",
        realServers: [1, 2, 3, 4].map((j) => ({ address: `203.0.113.${40 + j}`, port: 8080 })),
      },
    }));
    const services = async () => (await ipvs.listServices()).length;
    // The advert rate of the idle Master first, measured the same way (the guest's clock is coarse).
    const idleStart = (await agent.status()).groups[0]!;
    const idleStarted = Date.now();
    await sleep(5000);
    const before = (await agent.status()).groups[0]!;
    const idleRate = (before.advertsSent - idleStart.advertsSent) / (Date.now() - idleStarted);
    // The agent's memory with the load balancer's thread running four services and their checks.
    const rssMbBefore = agent.rssMb();
    const started = Date.now();
    await agent.reload(nodeState([...base, ...bulk]));
    const reloadMs = Date.now() - started;
    await until("every bulk service programmed", async () => (await services()) === BULK + 4, 300_000, 500);
    const programmedMs = Date.now() - started;
    const during = (await agent.status()).groups[0]!;
    const busyRate = (during.advertsSent - before.advertsSent) / (Date.now() - started);
    await agent.reload(nodeState(base));
    await until("the bulk services removed", async () => (await services()) === 4, 300_000, 500);
    const afterRemoval = (await agent.status()).groups[0]!;
    figures.largeReload = {
      services: BULK,
      realServers: BULK * 4,
      reloadMs,
      programmedMs,
      removedMs: Date.now() - started - programmedMs,
      agentRssMbWithFourServices: rssMbBefore,
      agentRssMbAfterRemoval: agent.rssMb(),
      advertsSentWhileProgramming: during.advertsSent - before.advertsSent,
      advertsPerSecondIdle: Math.round(idleRate * 10_000) / 10,
      advertsPerSecondWhileProgramming: Math.round(busyRate * 10_000) / 10,
      advertsWithheld: afterRemoval.advertsWithheld - before.advertsWithheld,
      advertsMissed: afterRemoval.advertsMissed - before.advertsMissed,
      transitions: afterRemoval.transitions - before.transitions,
    };
    assert.equal(afterRemoval.state, "Master");
    assert.equal(afterRemoval.transitions, before.transitions, "no VRRP transition");
    assert.equal(
      afterRemoval.advertsWithheld,
      before.advertsWithheld,
      "no advert withheld for a stalled event loop while thousands of services were programmed and removed",
    );
    // Not asserted: rounds the sender skipped for waking late (advertsMissed). In this guest some are
    // skipped while the IPVS work runs, about as many with the sender at real-time priority (tried:
    // 7 % against 11 %), so what delays it is the emulated kernel, not the agent's threads. They
    // are in the figures.
  });

  test("the load balancer's thread, if it dies, starts again and adopts its table without an operation", async () => {
    const { LoadBalancerThread } = await import("./thread/load-balancer-thread.js");
    const sink = memorySink();
    const runDir = `${WORK}/thread-run`;
    mkdirSync(runDir, { recursive: true });
    const service: NodeVirtualService = {
      namespace: "thread",
      name: "web",
      vrrpGroup: "lan",
      spec: {
        virtualIP: "198.51.100.204",
        port: 80,
        scheduler: "wrr",
        realServers: [1, 2].map((j) => ({ address: `203.0.113.${50 + j}`, port: 8080, weight: j })),
      },
    };
    const thread = await LoadBalancerThread.start(
      { instance: "thread-test", runDir, logLevel: "debug", options: {} },
      createLogger({ sink, level: "debug" }),
    );
    try {
      await thread.apply([service], new Set(["lan"]));
      await until("programmed", async () => (await weightOf("198.51.100.204", 80, "203.0.113.52")) === 2);
      await thread.refreshStatus();
      assert.equal(thread.status()[0]?.active, true);
      assert.match(await thread.metricsText(), /kubelvs_ipvs_available\{kubelvs_instance="thread-test"\} 1/);
      const table = run("ipvsadm", "-Sn");
      const logged = () => sink.lines.join("");
      const operationsBefore = (logged().match(/applying IPVS operations/g) ?? []).length;
      // A thread that dies (a bug in it): the test ends it from outside.
      await (thread as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      await until("thread running again", () => logged().includes("load balancer thread running again"));
      await until("status again", async () => {
        await thread.refreshStatus().catch(() => undefined);
        return thread.status()[0]?.active === true && !/paused/.test(thread.status()[0]?.message ?? "");
      });
      assert.equal(run("ipvsadm", "-Sn"), table, "the table stayed as it was");
      assert.equal(
        (logged().match(/applying IPVS operations/g) ?? []).length,
        operationsBefore,
        "the restarted thread adopted its own services through the ownership record",
      );
      assert.match(logged(), /load balancer thread exited; starting it again/);
    } finally {
      await thread.stop();
      run("ipvsadm", "-D", "-t", "198.51.100.204:80");
    }
  });
});

/** The echo service's real server, as ECHO_SERVICE has it. */
function nat1Echo(): RealServer {
  return ECHO_SERVICE.spec.realServers[0]!;
}
