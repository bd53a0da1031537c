// kubelvs status: what each running agent instance says about its groups (keepalived -S info).
import { readdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { controlRequest } from "../agent/process/control-socket.js";
import { DEFAULT_RUN_DIR, instancePaths } from "../agent/process/instance.js";
import type { AgentStatus } from "../agent/runtime/agent.js";

const HELP = `usage: kubelvs status [--instance NAME] [--run-dir DIR] [--json]

Asks running agent instances (all of them, or NAME) for each VRRP group's state, priority, Master
and packet counters.
`;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]!))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

export function formatStatus(s: AgentStatus): string {
  let out = `instance ${s.instance}: pid ${s.pid}, running since ${s.startedAt}\n`;
  const rows = [
    [
      "GROUP",
      "STATE",
      "PRIORITY",
      "VRID",
      "INTERFACE",
      "ADDRESS",
      "MASTER",
      "VIPS",
      "SENT",
      "RECEIVED",
      "DROPPED",
      "TRANSITIONS",
    ],
  ];
  for (const g of s.groups) {
    rows.push([
      g.name,
      g.state,
      g.priority === g.basePriority ? String(g.priority) : `${g.priority} (base ${g.basePriority})`,
      String(g.vrid),
      g.interface,
      g.address,
      g.masterAddress ?? "-",
      g.virtualIPs.join(","),
      String(g.advertsSent),
      String(g.advertsReceived),
      String(g.packetsDropped),
      String(g.transitions),
    ]);
  }
  out += table(rows);
  for (const g of s.groups) {
    const faults = Object.entries(g.faults);
    if (faults.length > 0) out += `  ${g.name} fault: ${faults.map(([k, v]) => `${k}: ${v}`).join("; ")}\n`;
    const drops = Object.entries(g.drops);
    if (drops.length > 0) out += `  ${g.name} drops: ${drops.map(([k, v]) => `${k}=${v}`).join(" ")}\n`;
  }
  for (const f of s.failedGroups) out += `  ${f.name} NOT RUNNING: ${f.error}\n`;
  if (s.ipvs && !s.ipvs.available)
    out += `IPVS: not available (${s.ipvs.message ?? "unknown reason"}): VRRP only\n`;
  const services = s.virtualServices ?? [];
  if (services.length > 0) {
    const vsRows = [["VIRTUAL SERVICE", "ACTIVE", "HEALTHY", "REAL SERVERS", "MESSAGE"]];
    for (const v of services) {
      const servers = v.realServers ?? [];
      vsRows.push([
        `${v.namespace}/${v.name}`,
        v.active ? "yes" : "no",
        `${servers.filter((r) => r.healthy).length}/${servers.length}`,
        servers
          .map((r) => `${r.address}:${r.port}${r.healthy ? "" : "(down)"} w${r.weight ?? "-"}`)
          .join(" "),
        v.message ?? "",
      ]);
    }
    out += table(vsRows);
  }
  if (s.realServer) {
    // The node as a DR/TUN real server: the VIPs it accepts as local (ARP for them suppressed).
    const prepared = s.realServer.prepared.length > 0 ? s.realServer.prepared.join(",") : "none";
    out += `real server: VIPs prepared ${prepared}${s.realServer.message ? `; ${s.realServer.message}` : ""}\n`;
  }
  return out;
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      instance: { type: "string" },
      "run-dir": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const runDir = values["run-dir"] ?? DEFAULT_RUN_DIR;
  let instances: string[];
  if (values.instance !== undefined) {
    instances = [values.instance];
  } else {
    try {
      instances = readdirSync(runDir)
        .filter((f) => f.endsWith(".sock"))
        .map((f) => f.slice(0, -5))
        .sort();
    } catch {
      instances = [];
    }
    if (instances.length === 0) {
      process.stderr.write(`kubelvs status: no agent instance runs (no control socket in ${runDir})\n`);
      return 1;
    }
  }
  let failed = 0;
  const all: AgentStatus[] = [];
  for (const name of instances) {
    try {
      all.push(
        (await controlRequest(instancePaths(name, runDir).controlSocket, {
          command: "status",
        })) as AgentStatus,
      );
    } catch (e) {
      process.stderr.write(`kubelvs status: instance ${name}: ${(e as Error).message}\n`);
      failed++;
    }
  }
  process.stdout.write(values.json ? JSON.stringify(all, null, 2) + "\n" : all.map(formatStatus).join("\n"));
  return failed > 0 ? 1 : 0;
}
