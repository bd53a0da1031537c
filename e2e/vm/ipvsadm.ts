// Reads the IPVS tables the way an operator would, through ipvsadm's text output, into the same
// model types IpvsClient returns, so the VM tests can compare the two with deepEqual. Each part
// comes from the listing that shows it (ipvsadm 1.31):
//   ipvsadm -Sn                     services (scheduler, flags, persistence, engine) and
//                                   destinations (method, weight, tunnel type/port/checksum)
//   ipvsadm -Ln --tun-info          the forwarding method by name (-Sn prints Local as -g)
//   ipvsadm -Ln --thresholds        upper and lower thresholds (-Sn omits them)
//   ipvsadm -Ln --persistent-conn   persistent, active and inactive connection counts
//   ipvsadm -Ln --stats --exact     64-bit counters
import type {
  ForwardingMethod,
  IpvsDestinationState,
  IpvsProtocol,
  IpvsServiceState,
  IpvsStats,
  IpvsTimeouts,
  ServiceFlags,
  ServiceKey,
  SyncDaemon,
  TunnelChecksum,
  TunnelType,
} from "../../native/ipvs/model.js";
import { serviceKeyId, ZERO_STATS } from "../../native/ipvs/model.js";

export class IpvsadmParseError extends Error {
  constructor(listing: string, line: string, problem: string) {
    super(`ipvsadm ${listing}: ${problem}: '${line}'`);
    this.name = "IpvsadmParseError";
  }
}

/** "198.51.100.1:80" or "[2001:db8::1]:80" → address and port. */
export function parseEndpoint(text: string, listing: string): { address: string; port: number } {
  const match = /^\[([0-9a-f:.]+)\]:(\d+)$/i.exec(text) ?? /^([0-9.]+):(\d+)$/.exec(text);
  if (!match) throw new IpvsadmParseError(listing, text, "not an address:port");
  return { address: match[1]!, port: Number(match[2]) };
}

export interface SavedService {
  readonly service: Omit<IpvsServiceState, "stats">;
  readonly destinations: {
    readonly address: string;
    readonly port: number;
    /** -m masq, -g route (or local), -i tunnel, (null) bypass */
    readonly method: "masq" | "route" | "tunnel" | "bypass";
    readonly weight: number;
    readonly tunnel?: { type: TunnelType; port: number; checksum: TunnelChecksum };
  }[];
}

const SERVICE_OPTIONS: Record<string, IpvsProtocol | "fwmark"> = {
  "-t": "tcp",
  "-u": "udp",
  "--sctp-service": "sctp",
  "-f": "fwmark",
};

function schedulerFlags(list: string): Pick<ServiceFlags, "sched1" | "sched2" | "sched3"> {
  const names = new Set(list.split(","));
  return {
    sched1: names.has("flag-1") || names.has("sh-fallback") || names.has("mh-fallback"),
    sched2: names.has("flag-2") || names.has("sh-port") || names.has("mh-port"),
    sched3: names.has("flag-3"),
  };
}

/** Parses `ipvsadm -Sn` (the save format: one -A line per service, one -a line per destination). */
export function parseIpvsadmSave(text: string): SavedService[] {
  const listing = "-Sn";
  const services: SavedService[] = [];
  for (const line of text.split("\n").filter((l) => l.trim() !== "")) {
    const words = line.trim().split(/\s+/);
    const option = (name: string): string | undefined => {
      const index = words.indexOf(name);
      return index >= 0 ? words[index + 1] : undefined;
    };
    const kindOption = Object.keys(SERVICE_OPTIONS).find((name) => words.includes(name));
    if (kindOption === undefined) throw new IpvsadmParseError(listing, line, "no service option");
    const kind = SERVICE_OPTIONS[kindOption]!;
    const target = option(kindOption)!;
    const ipv6 = words.includes("-6");
    const key: ServiceKey =
      kind === "fwmark"
        ? { kind: "fwmark", family: ipv6 ? 6 : 4, fwmark: Number(target) }
        : { kind: "address", protocol: kind, ...parseEndpoint(target, listing) };
    const family = key.kind === "fwmark" ? key.family : key.address.includes(":") ? 6 : 4;
    if (words[0] === "-A") {
      const persistence = option("-p");
      const mask = option("-M");
      const engine = option("--pe");
      services.push({
        service: {
          key,
          scheduler: option("-s") ?? "wlc",
          flags: {
            persistent: persistence !== undefined,
            onePacket: words.includes("-o"),
            ...schedulerFlags(option("-b") ?? ""),
          },
          timeout: persistence === undefined ? 0 : Number(persistence),
          netmask:
            mask === undefined
              ? family === 4
                ? "255.255.255.255"
                : 128
              : family === 4
                ? mask
                : Number(mask),
          ...(engine !== undefined ? { persistenceEngine: engine } : {}),
        },
        destinations: [],
      });
    } else if (words[0] === "-a") {
      const owner = services.find((s) => serviceKeyId(s.service.key) === serviceKeyId(key));
      if (owner === undefined) throw new IpvsadmParseError(listing, line, "destination before its service");
      const method = words.includes("-m")
        ? "masq"
        : words.includes("-i")
          ? "tunnel"
          : words.includes("-g")
            ? "route"
            : words.includes("(null)")
              ? "bypass"
              : undefined;
      if (method === undefined) throw new IpvsadmParseError(listing, line, "no forwarding method");
      const tunnelType = option("--tun-type") as TunnelType | undefined;
      const checksum: TunnelChecksum = words.includes("--tun-csum")
        ? "csum"
        : words.includes("--tun-remcsum")
          ? "remcsum"
          : "nocsum";
      owner.destinations.push({
        ...parseEndpoint(option("-r")!, listing),
        method,
        weight: Number(option("-w") ?? 1),
        ...(tunnelType !== undefined
          ? { tunnel: { type: tunnelType, port: Number(option("--tun-port") ?? 0), checksum } }
          : {}),
      });
    } else {
      throw new IpvsadmParseError(listing, line, "neither -A nor -a");
    }
  }
  return services;
}

export interface ListedService {
  /** "TCP 198.51.100.1:80", "FWM 7" or "FWM 7 IPv6": ipvsadm's own naming, with the protocol word. */
  readonly key: ServiceKey;
  /** Words after the service's address on its line (scheduler and flags, or numbers). */
  readonly columns: string[];
  readonly destinations: { address: string; port: number; columns: string[] }[];
}

/** Parses any `ipvsadm -Ln ...` table: service lines and their "  -> address:port ..." rows. */
export function parseIpvsadmList(text: string, listing: string): ListedService[] {
  const services: ListedService[] = [];
  for (const line of text.split("\n")) {
    if (
      line.trim() === "" ||
      line.startsWith("IP Virtual Server") ||
      line.startsWith("Prot ") ||
      line.startsWith("  -> RemoteAddress")
    )
      continue;
    const destination = /^ {2}-> (\S+)\s*(.*)$/.exec(line);
    if (destination) {
      const owner = services.at(-1);
      if (owner === undefined) throw new IpvsadmParseError(listing, line, "destination before any service");
      owner.destinations.push({
        ...parseEndpoint(destination[1]!, listing),
        columns: destination[2]!.trim().split(/\s+/).filter(Boolean),
      });
      continue;
    }
    const service = /^(TCP|UDP|SCTP|FWM)\s+(\S+)\s*(.*)$/.exec(line);
    if (!service) throw new IpvsadmParseError(listing, line, "neither a service nor a destination line");
    let columns = service[3]!.trim().split(/\s+/).filter(Boolean);
    let key: ServiceKey;
    if (service[1] === "FWM") {
      const ipv6 = columns[0] === "IPv6";
      if (ipv6) columns = columns.slice(1);
      key = { kind: "fwmark", family: ipv6 ? 6 : 4, fwmark: Number(service[2]) };
    } else {
      key = {
        kind: "address",
        protocol: service[1]!.toLowerCase() as IpvsProtocol,
        ...parseEndpoint(service[2]!, listing),
      };
    }
    services.push({ key, columns, destinations: [] });
  }
  return services;
}

const FORWARD_NAMES: Record<string, ForwardingMethod> = {
  Masq: "masq",
  Route: "route",
  Tunnel: "tunnel",
  Local: "local",
  "(null)": "bypass",
  Bypass: "bypass",
};

/** The five counters of `ipvsadm -Ln --stats --exact` columns (rates are not in this listing). */
function statsFromColumns(columns: string[], listing: string): IpvsStats {
  const numbers = columns.slice(0, 5).map((c) => BigInt(c));
  if (numbers.length !== 5) throw new IpvsadmParseError(listing, columns.join(" "), "expected 5 counters");
  const [connections, inPackets, outPackets, inBytes, outBytes] = numbers as [
    bigint,
    bigint,
    bigint,
    bigint,
    bigint,
  ];
  return { ...ZERO_STATS, connections, inPackets, outPackets, inBytes, outBytes };
}

export interface IpvsadmListings {
  save: string;
  tunnelInfo: string;
  thresholds: string;
  persistentConnections: string;
  stats: string;
}

export interface IpvsadmView {
  service: IpvsServiceState;
  destinations: IpvsDestinationState[];
}

/**
 * Joins the listings into services and destinations in the client's model. Rates are not shown
 * by these listings and come back as 0; compare them separately if needed.
 */
export function combineIpvsadmListings(listings: IpvsadmListings): IpvsadmView[] {
  const saved = parseIpvsadmSave(listings.save);
  const index = (text: string, listing: string) =>
    new Map(parseIpvsadmList(text, listing).map((service) => [serviceKeyId(service.key), service]));
  const tunnelInfo = index(listings.tunnelInfo, "-Ln --tun-info");
  const thresholds = index(listings.thresholds, "-Ln --thresholds");
  const connections = index(listings.persistentConnections, "-Ln --persistent-conn");
  const stats = index(listings.stats, "-Ln --stats --exact");
  return saved.map(({ service, destinations }) => {
    const id = serviceKeyId(service.key);
    const row = (
      table: Map<string, ListedService>,
      listing: string,
      address: string,
      port: number,
    ): string[] => {
      const found = table.get(id)?.destinations.find((d) => d.address === address && d.port === port);
      if (found === undefined)
        throw new IpvsadmParseError(listing, `${id} ${address}:${port}`, "destination missing");
      return found.columns;
    };
    const serviceStats = stats.get(id);
    if (serviceStats === undefined) throw new IpvsadmParseError("-Ln --stats", id, "service missing");
    return {
      service: { ...service, stats: statsFromColumns(serviceStats.columns, "-Ln --stats --exact") },
      destinations: destinations.map((destination) => {
        const { address, port } = destination;
        const forward = row(tunnelInfo, "-Ln --tun-info", address, port)[0]!;
        const forwarding = FORWARD_NAMES[forward];
        if (forwarding === undefined)
          throw new IpvsadmParseError("-Ln --tun-info", forward, "unknown forwarding method");
        const [upper, lower] = row(thresholds, "-Ln --thresholds", address, port);
        const [, persistent, active, inactive] = row(connections, "-Ln --persistent-conn", address, port);
        return {
          address,
          port,
          forwarding,
          weight: destination.weight,
          upperThreshold: Number(upper),
          lowerThreshold: Number(lower),
          ...(forwarding === "tunnel"
            ? {
                tunnel: destination.tunnel ?? { type: "ipip" as const, port: 0, checksum: "nocsum" as const },
              }
            : {}),
          activeConnections: Number(active),
          inactiveConnections: Number(inactive),
          persistentConnections: Number(persistent),
          stats: statsFromColumns(row(stats, "-Ln --stats --exact", address, port), "-Ln --stats --exact"),
        };
      }),
    };
  });
}

/** The ipvsadm argument lists behind each listing, in IpvsadmListings order. */
export const IPVSADM_LISTINGS: Record<keyof IpvsadmListings, string[]> = {
  save: ["-Sn"],
  tunnelInfo: ["-Ln", "--tun-info"],
  thresholds: ["-Ln", "--thresholds"],
  persistentConnections: ["-Ln", "--persistent-conn"],
  stats: ["-Ln", "--stats", "--exact"],
};

/** Parses `ipvsadm -L --timeout`: "Timeout (tcp tcpfin udp): 900 120 300". */
export function parseIpvsadmTimeouts(text: string): IpvsTimeouts {
  const match = /Timeout \(tcp tcpfin udp\): (\d+) (\d+) (\d+)/.exec(text);
  if (!match) throw new IpvsadmParseError("-L --timeout", text.trim(), "no timeout line");
  return { tcp: Number(match[1]), tcpFin: Number(match[2]), udp: Number(match[3]) };
}

/**
 * Parses `ipvsadm -L --daemon`: one line per daemon, e.g.
 * "master sync daemon (mcast=eth0, syncid=5, maxlen=1400, group=239.1.2.3, port=8849, ttl=2)".
 */
export function parseIpvsadmDaemons(text: string): SyncDaemon[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const match = /^(master|backup) sync daemon \((.*)\)$/.exec(line.trim());
      if (!match) throw new IpvsadmParseError("-L --daemon", line, "not a daemon line");
      const fields = new Map(
        match[2]!.split(", ").map((pair) => {
          const [name, value] = pair.split("=");
          return [name!, value!];
        }),
      );
      const number = (name: string): number | undefined =>
        fields.has(name) ? Number(fields.get(name)) : undefined;
      const maxLength = number("maxlen");
      const port = number("port");
      const ttl = number("ttl");
      const group = fields.get("group");
      return {
        state: match[1] as SyncDaemon["state"],
        interface: fields.get("mcast") ?? "",
        syncId: number("syncid") ?? 0,
        ...(maxLength !== undefined ? { maxLength } : {}),
        ...(group !== undefined ? { group } : {}),
        ...(port !== undefined ? { port } : {}),
        ...(ttl !== undefined ? { ttl } : {}),
      };
    });
}
