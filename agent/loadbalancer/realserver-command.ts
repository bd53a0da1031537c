// kubelvs realserver: prepares this host as a real server of DR or TUN virtual services (VIP on lo or
// the IPIP device, ARP and reverse-path settings). Run it on each real server, as root, e.g. from its
// boot configuration or a privileged init container in the host network namespace.
import { parseArgs } from "node:util";
import { applyRealServerSetup, describeStep, planRealServerSetup } from "./realserver-setup.js";

const HELP = `usage: kubelvs realserver --vip ADDRESS [--vip ADDRESS ...] [--mode dr|tun] [--remove] [--dry-run]

Prepares this Linux host as a real server of IPVS virtual services that forward by direct routing
(DR, default) or tunnelling (TUN): the VIPs become local addresses (on lo for DR, on tunl0/ip6tnl0
for TUN) without this host ever answering ARP for them (net.ipv4.conf.all.arp_ignore=1,
arp_announce=2), and TUN packets pass reverse-path filtering. Idempotent; --remove takes the VIPs
away again. See docs/dr-tun.md.

  --vip ADDRESS   a virtual IP of the DR/TUN services this host serves (IPv4 or IPv6; repeatable)
  --mode MODE     dr (default) or tun
  --remove        remove the VIPs (sysctls are left as they are)
  --dry-run       print the steps instead of running them
`;

export async function run(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        vip: { type: "string", multiple: true },
        mode: { type: "string" },
        remove: { type: "boolean" },
        "dry-run": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    process.stderr.write(`kubelvs realserver: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const mode = values.mode ?? "dr";
  let steps;
  try {
    if (mode !== "dr" && mode !== "tun") throw new TypeError(`--mode ${mode}: use dr or tun`);
    steps = planRealServerSetup({
      vips: values.vip ?? [],
      mode,
      remove: values.remove === true,
    });
  } catch (error) {
    process.stderr.write(`kubelvs realserver: ${(error as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values["dry-run"] === true) {
    process.stdout.write(steps.map(describeStep).join("\n") + "\n");
    return 0;
  }
  try {
    applyRealServerSetup(steps);
  } catch (error) {
    process.stderr.write(`kubelvs realserver: ${(error as Error).message}\n`);
    return 1;
  }
  process.stdout.write(
    `${values.remove === true ? "removed" : "prepared"}: ${(values.vip ?? []).join(", ")} (${mode})\n`,
  );
  return 0;
}
