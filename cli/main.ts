// kubelvs: one binary, many subcommands. Each subcommand lives in its own module and is loaded lazily,
// so `kubelvs import` does not pay for the agent's native addon and vice versa.
import { argv, exit, stderr } from "node:process";

type Command = { describe: string; load: () => Promise<{ run(args: string[]): Promise<number> }> };

const commands: Record<string, Command> = {
  agent: {
    describe: "run the node agent (VRRP, VIPs, IPVS) from its YAML, a keepalived.conf, or its NodeState",
    load: () => import("./agent.js"),
  },
  operator: {
    describe: "run the operator: render NodeStates, report conflicts, aggregate status (leader-elected)",
    load: () => import("./operator.js"),
  },
  status: {
    describe: "show each running agent instance's groups: state, priority, master, counters",
    load: () => import("./status.js"),
  },
  demo: {
    describe: "the local sandbox cluster demo (root): API server, operator, three agents, a failover",
    load: () => import("./demo.js"),
  },
  import: {
    describe:
      "convert keepalived.conf (one file, or one per node with --node) to VrrpGroups and VirtualServices",
    load: () => import("./import.js"),
  },
  realserver: {
    describe: "prepare this host as a real server of DR/TUN virtual services (VIP on lo/tunl0, ARP settings)",
    load: () => import("../agent/loadbalancer/realserver-command.js"),
  },
  validate: {
    describe: "check manifests offline against the CRD schemas and rules",
    load: () => import("./validate.js"),
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.describe}`);
  return `usage: kubelvs <command> [options]\n\ncommands:\n${lines.join("\n")}\n\nkubelvs <command> --help for a command's options\n`;
}

async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    stderr.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    stderr.write(`kubelvs: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const module = await command.load();
  return module.run(rest);
}

exit(await main(argv.slice(2)));
