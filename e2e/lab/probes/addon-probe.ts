// Runs one addon operation inside the network namespace it is started in (by the lab, through
// `ip netns exec`), and reports on stdout as JSON lines, so lab tests can drive the real kernel
// edge in several namespaces at once.
//
//   addon-probe.js <command> '<json arguments>'
//     lookup          {ifname}                                   → {link}
//     list-addresses  {ifname}                                   → {addresses}
//     add-address     {ifname, address, prefixLength, label?, flags?}  → {ok}
//     remove-address  {ifname, address, prefixLength}            → {ok}
//     announce        {ifname, address}                          → {ok, mac}   (gratuitous ARP / unsolicited NA)
//     vrrp-send       {family, ifname, source?, destination?, ttl?, payloadHex}  → {ok, source}
//     vrrp-listen     {family, ifname}                           → {ready, ifindex}, then {advert} per packet, until killed
//     watch           {}                                         → {ready}, then {event} per notification, until killed
// Failures print {ok: false, error: {name, code, message}} and exit 1.
import { NativeSystemError } from "../../../native/addon.js";
import { createKernelEdge, type KernelEdge, type Link } from "../../../native/kernel.js";
import { NetlinkError } from "../../../native/netlink/errors.js";
import type { AddressFlagName } from "../../../native/rtnetlink/constants.js";

interface Arguments {
  ifname?: string;
  address?: string;
  prefixLength?: number;
  label?: string;
  flags?: AddressFlagName[];
  family?: 4 | 6;
  source?: string;
  destination?: string;
  ttl?: number;
  payloadHex?: string;
}

const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};

async function linkOf(kernel: KernelEdge, ifname: string | undefined): Promise<Link> {
  if (!ifname) throw new Error("ifname is required");
  const link = await kernel.links.lookup(ifname);
  if (!link) throw new Error(`no interface '${ifname}' in this namespace`);
  return link;
}

/** The source a VRRP router uses: its primary IPv4 address, or its IPv6 link-local address. */
async function defaultSource(kernel: KernelEdge, family: 4 | 6, ifindex: number): Promise<string> {
  const addresses = await kernel.addresses.list({ family, ifindex });
  const chosen =
    family === 4
      ? addresses.find((a) => !a.flagNames.includes("secondary"))
      : addresses.find((a) => a.address.startsWith("fe80:"));
  if (!chosen) throw new Error(`no IPv${family} source address on ifindex ${ifindex}`);
  return chosen.address;
}

async function main(): Promise<void> {
  const [command, json] = process.argv.slice(2);
  const args = JSON.parse(json ?? "{}") as Arguments;
  const kernel = createKernelEdge();
  switch (command) {
    case "lookup":
      print({ link: await linkOf(kernel, args.ifname) });
      break;
    case "list-addresses": {
      const link = await linkOf(kernel, args.ifname);
      print({ addresses: await kernel.addresses.list({ ifindex: link.index }) });
      break;
    }
    case "add-address": {
      const link = await linkOf(kernel, args.ifname);
      await kernel.addresses.add({
        ifindex: link.index,
        address: args.address!,
        prefixLength: args.prefixLength!,
        ...(args.label !== undefined ? { label: args.label } : {}),
        ...(args.flags !== undefined ? { flags: args.flags } : {}),
      });
      print({ ok: true });
      break;
    }
    case "remove-address": {
      const link = await linkOf(kernel, args.ifname);
      await kernel.addresses.remove({
        ifindex: link.index,
        address: args.address!,
        prefixLength: args.prefixLength!,
      });
      print({ ok: true });
      break;
    }
    case "announce": {
      const link = await linkOf(kernel, args.ifname);
      kernel.neighbors.announce({ ifindex: link.index, address: args.address!, mac: link.mac! });
      print({ ok: true, mac: link.mac });
      break;
    }
    case "vrrp-send": {
      const family = args.family ?? 4;
      const link = await linkOf(kernel, args.ifname);
      const source = args.source ?? (await defaultSource(kernel, family, link.index));
      const transport = kernel.openVrrpTransport(family, {
        onAdvert: () => undefined,
        onError: () => undefined,
      });
      try {
        transport.send(Buffer.from(args.payloadHex ?? "", "hex"), {
          ifindex: link.index,
          source,
          ...(args.destination !== undefined ? { destination: args.destination } : {}),
          ...(args.ttl !== undefined ? { ttl: args.ttl } : {}),
        });
      } finally {
        transport.close();
      }
      print({ ok: true, source });
      break;
    }
    case "vrrp-listen": {
      const family = args.family ?? 4;
      const link = await linkOf(kernel, args.ifname);
      const transport = kernel.openVrrpTransport(family, {
        onAdvert: (payload, meta) => print({ advert: { payloadHex: payload.toString("hex"), ...meta } }),
        onError: (error) => print({ receiveError: { code: error.code, message: error.message } }),
      });
      transport.join(link.index);
      print({ ready: true, ifindex: link.index });
      return; // keeps running: the started socket holds the event loop until the lab kills us
    }
    case "watch": {
      kernel.addresses.watch({
        onAddress: (action, address) => print({ event: { kind: "address", action, address } }),
        onResync: (reason) => print({ resync: reason.message }),
        onError: (error) => print({ watchError: error.message }),
      });
      kernel.links.watch({
        onLink: (action, link) => print({ event: { kind: "link", action, link } }),
        onResync: (reason) => print({ resync: reason.message }),
        onError: (error) => print({ watchError: error.message }),
      });
      print({ ready: true });
      return;
    }
    default:
      throw new Error(`unknown command '${command}'`);
  }
  kernel.close();
}

main().catch((error: unknown) => {
  const known = error instanceof NetlinkError || error instanceof NativeSystemError;
  const e = error as Error & { code?: string };
  print({ ok: false, error: { name: e.name, code: known ? e.code : undefined, message: e.message } });
  // Sockets opened before the failure would keep the process alive; a probe that failed is done.
  process.exit(1);
});
