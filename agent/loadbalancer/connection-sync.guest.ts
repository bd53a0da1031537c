// Connection sync across a director failover, INSIDE the IPVS machine (User-Mode Linux, see e2e/vm),
// started by connection-sync.vm.test.ts on the host:
//   node --test dist/agent/loadbalancer/connection-sync.guest.js
// Two directors, each a network namespace running `kubelvs agent` with the same VRRP group (d1
// priority 200, d2 100) and a DR VirtualService; two DR real servers with echo servers; a client
// holding one TCP connection to the VIP:
//
//   cs-cli .31 ─┐
//   cs-d1  .11 ─┤
//   cs-d2  .12 ─┼─ csbr0     VIP 198.51.100.100:9000 (DR, rr) → cs-rs1 .21:9000, cs-rs2 .22:9000
//   cs-rs1 .21 ─┤
//   cs-rs2 .22 ─┘
//
// d1's link goes down mid-connection. With the group's connection sync, d1's master sync daemon
// has sent the connection to d2's backup daemon, so d2 forwards the connection's next packets to
// the same real server and it carries on. Without it (the control), d2 has no entry for a packet
// that is not a SYN, takes it as addressed to itself and answers with a reset.
import assert from "node:assert/strict";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import type { NodeStateSpec } from "../../crds/schema/node-state.js";
import { controlRequest } from "../process/control-socket.js";
import { instancePaths } from "../process/instance.js";
import type { AgentStatus } from "../runtime/agent.js";
import { HeldConnection } from "./testing/held-connection.js";

const run = (command: string, ...args: string[]): string => execFileSync(command, args, { encoding: "utf8" });
const inNs = (ns: string, ...command: string[]): string => run("ip", "netns", "exec", ns, ...command);
const script = (relative: string): string => fileURLToPath(new URL(relative, import.meta.url));
const KUBELVS = script("../../cli/main.js");
const ECHO_SERVER = script("./testing/echo-server.js");
const REALSERVER = new URL("./realserver-command.js", import.meta.url).href;

const RESULTS = process.env.KUBELVS_RESULTS_DIR ?? "/tmp/kubelvs-results";
const WORK = "/tmp/kubelvs-cs";
const VIP = "198.51.100.100";
const PORT = 9000;
const HOSTS = {
  "cs-cli": "198.51.100.31",
  "cs-d1": "198.51.100.11",
  "cs-d2": "198.51.100.12",
  "cs-rs1": "198.51.100.21",
  "cs-rs2": "198.51.100.22",
} as const;
const DIRECTORS = ["cs-d1", "cs-d2"] as const;
type Director = (typeof DIRECTORS)[number];
const REAL_SERVERS = ["cs-rs1", "cs-rs2"] as const;
const figures: Record<string, unknown> = {};
const servers: ChildProcess[] = [];

function nodeState(director: Director, connectionSync: boolean): NodeStateSpec {
  return {
    vrrpGroups: [
      {
        name: "cs",
        vrid: 52,
        version: 3,
        advertIntervalMillis: 100,
        interface: { name: "eth0" },
        priority: director === "cs-d1" ? 200 : 100,
        virtualIPs: [{ address: VIP, prefixLength: 32 }],
        ...(connectionSync ? { connectionSync: { enabled: true, syncID: 8 } } : {}),
      },
    ],
    virtualServices: [
      {
        namespace: "lab",
        name: "echo",
        vrrpGroup: "cs",
        spec: {
          virtualIP: VIP,
          port: PORT,
          scheduler: "rr",
          forwarding: { method: "DR" },
          realServers: REAL_SERVERS.map((rs) => ({ address: HOSTS[rs], port: PORT })),
        },
      },
    ],
  };
}

/** `kubelvs agent` in a director's namespace, as a user runs it. */
class DirectorAgent {
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  readonly runDir: string;
  readonly logFile: string;

  constructor(
    readonly director: Director,
    connectionSync: boolean,
    label: string,
  ) {
    const dir = `${WORK}/${director}`;
    this.runDir = `${dir}/run`;
    mkdirSync(this.runDir, { recursive: true });
    const config = `${dir}/agent.yaml`;
    writeFileSync(config, stringify(nodeState(director, connectionSync)));
    this.logFile = `${RESULTS}/connection-sync-${label}-${director}.log`;
    this.child = spawn(
      "ip",
      [
        "netns",
        "exec",
        director,
        process.execPath,
        KUBELVS,
        "agent",
        "--config",
        config,
        "--instance",
        "cs",
        "--node-name",
        director,
        "--run-dir",
        this.runDir,
        "--no-guard",
        "--log-file",
        this.logFile,
        "--log-level",
        "debug",
      ],
      { stdio: "ignore" },
    );
    this.exited = new Promise((resolve) => this.child.on("close", () => resolve()));
  }

  async status(): Promise<AgentStatus | undefined> {
    try {
      return (await controlRequest(instancePaths("cs", this.runDir).controlSocket, {
        command: "status",
      })) as AgentStatus;
    } catch {
      return undefined; // not listening yet
    }
  }

  async state(): Promise<string | undefined> {
    return (await this.status())?.groups[0]?.state;
  }

  async stop(): Promise<void> {
    this.child.kill("SIGTERM");
    await this.exited;
  }
}

async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 15_000,
  stepMs = 50,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

function buildLab(): void {
  run(
    "bash",
    "-ec",
    `
    ip link add csbr0 type bridge; ip link set csbr0 up
    ${Object.entries(HOSTS)
      .map(
        ([ns, address]) => `
    ip netns add ${ns}; ip -n ${ns} link set lo up
    ip link add ${ns}-p type veth peer name eth0 netns ${ns}
    ip link set ${ns}-p master csbr0 up
    ip -n ${ns} link set eth0 up; ip -n ${ns} addr add ${address}/24 dev eth0`,
      )
      .join("\n")}
    mkdir -p ${WORK}
  `,
  );
  for (const rs of REAL_SERVERS) {
    // The VIP on lo with ARP suppressed, as `kubelvs realserver` prepares a DR real server.
    const command = `const m = await import(${JSON.stringify(REALSERVER)}); process.exitCode = await m.run(${JSON.stringify(["--vip", VIP])});`;
    inNs(rs, process.execPath, "--input-type=module", "-e", command);
    servers.push(
      spawn("ip", ["netns", "exec", rs, process.execPath, ECHO_SERVER, String(PORT)], { stdio: "ignore" }),
    );
  }
}

function destroyLab(): void {
  for (const server of servers) server.kill("SIGKILL");
  for (const ns of Object.keys(HOSTS)) {
    try {
      run("bash", "-c", `ip netns pids ${ns} | xargs -r kill -9; ip netns del ${ns}`);
    } catch {
      // never created
    }
  }
  try {
    run("ip", "link", "del", "csbr0");
  } catch {
    // never created
  }
}

/** The director namespace's IPVS connection entries (ipvsadm -Lnc) for the client's port. */
function connectionEntries(director: Director, clientPort: number): string[] {
  return inNs(director, "ipvsadm", "-Lnc")
    .split("\n")
    .filter((line) => line.includes(`${HOSTS["cs-cli"]}:${clientPort} `));
}

/**
 * Both directors up (d1 Master), a held connection through d1, then d1's link down. Resolves with
 * what the client saw after d2 took over.
 */
async function failoverUnderConnection(connectionSync: boolean, label: string) {
  const agents = DIRECTORS.map((d) => new DirectorAgent(d, connectionSync, label));
  const [d1, d2] = agents as [DirectorAgent, DirectorAgent];
  let held: HeldConnection | undefined;
  try {
    await until(
      "d1 Master, d2 Backup",
      async () => (await d1.state()) === "Master" && (await d2.state()) === "Backup",
    );
    await until("the echo service programmed on both directors", async () =>
      (await Promise.all(agents.map((a) => a.status()))).every(
        (s) => s?.virtualServices?.[0]?.active === true,
      ),
    );
    if (connectionSync) {
      await until(
        "master sync daemon on d1, backup on d2",
        () =>
          inNs("cs-d1", "ipvsadm", "-L", "--daemon").includes("master sync daemon") &&
          inNs("cs-d2", "ipvsadm", "-L", "--daemon").includes("backup sync daemon"),
      );
    }
    held = new HeldConnection({ namespace: "cs-cli", host: VIP, port: PORT, intervalMs: 50 });
    await until("echoes through d1", () => held!.echoes().length >= 20);
    const clientPort = held.localPort()!;
    const onD1 = connectionEntries("cs-d1", clientPort);
    // The sync daemon sends a connection after a few packets, then every sync period: give it time.
    await sleep(2000);
    const onD2 = connectionEntries("cs-d2", clientPort);
    const echoesBefore = held.echoes().length;
    const downAt = Date.now();
    inNs("cs-d1", "ip", "link", "set", "eth0", "down");
    await until("d2 Master", async () => (await d2.state()) === "Master", 10_000, 10);
    const takeoverMs = Date.now() - downAt;
    // Two seconds of echoes after the takeover, or the connection's end.
    await until(
      "two seconds of echoes after the takeover, or the end of the connection",
      () => held!.closed() !== undefined || held!.echoes().some((e) => e.at > downAt + takeoverMs + 2000),
      20_000,
    );
    const echoes = held.echoes();
    return {
      clientPort,
      entriesOnD1: onD1,
      entriesOnD2BeforeFailover: onD2,
      takeoverMs,
      echoesBefore,
      echoesAfterTakeover: echoes.filter((e) => e.at > downAt + takeoverMs).length,
      inOrder: echoes.every((e, i) => e.echo === i + 1),
      closed: held.closed(),
      lastGapMs: Math.max(...echoes.slice(1).map((e, i) => e.at - echoes[i]!.at)),
    };
  } finally {
    await held?.stop();
    await Promise.all(agents.map((a) => a.stop()));
    inNs("cs-d1", "ip", "link", "set", "eth0", "up");
    // Each case starts from empty tables: the control must not find the first case's entries.
    for (const d of DIRECTORS) {
      inNs(d, "ipvsadm", "-C");
      // The agents stopped their daemons; this is for a run that failed before they could.
      for (const role of ["master", "backup"])
        try {
          inNs(d, "ipvsadm", "--stop-daemon", role);
        } catch {
          // not running
        }
    }
  }
}

before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  buildLab();
  for (const rs of REAL_SERVERS)
    await until(`the echo server on ${rs}`, () => inNs(rs, "ss", "-Hltn", `sport = :${PORT}`).trim() !== "");
});

after(() => {
  destroyLab();
  writeFileSync(`${RESULTS}/connection-sync.json`, JSON.stringify(figures, null, 2));
});

describe("connection sync across a director failover", () => {
  test("with the group's connection sync, an established connection survives the Master's link going down", async () => {
    const seen = await failoverUnderConnection(true, "sync");
    figures.withSync = seen;
    assert.equal(seen.entriesOnD1.length, 1, `d1 carries the connection: ${seen.entriesOnD1.join("; ")}`);
    assert.equal(
      seen.entriesOnD2BeforeFailover.length,
      1,
      "d2's backup sync daemon received the connection before the failover",
    );
    assert.equal(seen.closed, undefined, "the connection was never closed");
    assert.ok(seen.echoesAfterTakeover >= 10, `${seen.echoesAfterTakeover} echoes after the takeover`);
    assert.ok(seen.inOrder, "every line echoed once, in order: nothing lost or reset");
  });

  test("control: without connection sync the same failover resets the connection", async () => {
    const seen = await failoverUnderConnection(false, "nosync");
    figures.withoutSync = seen;
    assert.equal(seen.entriesOnD2BeforeFailover.length, 0, "d2 knew nothing of the connection");
    // The client's stack sees d2's reset: ECONNRESET (or the close that follows it).
    assert.match(seen.closed ?? "", /^(ECONNRESET|close)$/, `the connection ended (${seen.closed})`);
    assert.equal(seen.echoesAfterTakeover, 0, "nothing came back through d2");
  });
});
