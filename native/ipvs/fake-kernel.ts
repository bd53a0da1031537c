// An in-memory IPVS kernel behind a FakeNetlinkTransport: answers nlctrl's family lookup and every
// IPVS command with the kernel's wire format (16-byte addresses, STATS and STATS64 nests, flags
// with a full mask) and the kernel's errnos (EEXIST, ESRCH, ENOENT, ERANGE, EINVAL), as
// net/netfilter/ipvs/ip_vs_ctl.c in Linux 6.1 does. Tests of logic above IpvsControl run a real
// IpvsClient against it without root; the VM tests check it against the real kernel.
import {
  GENL_ID_CTRL,
  CTRL_ATTR_FAMILY_ID,
  CTRL_ATTR_FAMILY_NAME,
  CTRL_ATTR_HDRSIZE,
  CTRL_ATTR_MAXATTR,
  CTRL_ATTR_VERSION,
  CTRL_CMD_GETFAMILY,
  CTRL_CMD_NEWFAMILY,
} from "../genl/constants.js";
import { decodeGenlPayload, encodeGenlPayload } from "../genl/header.js";
import { AttributeSet, encodeAttributes, type AttributeWriter } from "../netlink/attributes.js";
import { NLM_F_ACK, NLM_F_DUMP } from "../netlink/constants.js";
import { NetlinkConnection } from "../netlink/connection.js";
import type { NetlinkMessage } from "../netlink/message.js";
import { ackFor, doneFor, FakeNetlinkTransport, replyTo } from "../testing/fake-netlink.js";
import { IpvsClient } from "./client.js";
import {
  COMMAND_ATTRIBUTE_NAMES,
  DAEMON_ATTRIBUTE_NAMES,
  DEST_ATTRIBUTE_NAMES,
  IP_VS_CONN_F_TUNNEL,
  IP_VS_CONN_F_TUNNEL_TYPE_GUE,
  IP_VS_SVC_F_HASHED,
  IPVS_CMD_ATTR_DAEMON,
  IPVS_CMD_ATTR_DEST,
  IPVS_CMD_ATTR_SERVICE,
  IPVS_CMD_ATTR_TIMEOUT_TCP,
  IPVS_CMD_ATTR_TIMEOUT_TCP_FIN,
  IPVS_CMD_ATTR_TIMEOUT_UDP,
  IPVS_CMD_DEL_DAEMON,
  IPVS_CMD_DEL_DEST,
  IPVS_CMD_DEL_SERVICE,
  IPVS_CMD_FLUSH,
  IPVS_CMD_GET_CONFIG,
  IPVS_CMD_GET_DAEMON,
  IPVS_CMD_GET_DEST,
  IPVS_CMD_GET_INFO,
  IPVS_CMD_GET_SERVICE,
  IPVS_CMD_NEW_DAEMON,
  IPVS_CMD_NEW_DEST,
  IPVS_CMD_NEW_SERVICE,
  IPVS_CMD_SET_CONFIG,
  IPVS_CMD_SET_DEST,
  IPVS_CMD_SET_INFO,
  IPVS_CMD_SET_SERVICE,
  IPVS_CMD_ZERO,
  IPVS_DAEMON_ATTR_STATE,
  IPVS_DEST_ATTR_ACTIVE_CONNS,
  IPVS_DEST_ATTR_ADDR,
  IPVS_DEST_ATTR_ADDR_FAMILY,
  IPVS_DEST_ATTR_FWD_METHOD,
  IPVS_DEST_ATTR_INACT_CONNS,
  IPVS_DEST_ATTR_L_THRESH,
  IPVS_DEST_ATTR_PERSIST_CONNS,
  IPVS_DEST_ATTR_PORT,
  IPVS_DEST_ATTR_STATS,
  IPVS_DEST_ATTR_STATS64,
  IPVS_DEST_ATTR_TUN_FLAGS,
  IPVS_DEST_ATTR_TUN_PORT,
  IPVS_DEST_ATTR_TUN_TYPE,
  IPVS_DEST_ATTR_U_THRESH,
  IPVS_DEST_ATTR_WEIGHT,
  IPVS_GENL_NAME,
  IPVS_GENL_VERSION,
  IPVS_INFO_ATTR_CONN_TAB_SIZE,
  IPVS_INFO_ATTR_VERSION,
  IPVS_STATS_ATTR_CONNS,
  IPVS_STATS_ATTR_CPS,
  IPVS_STATS_ATTR_INBPS,
  IPVS_STATS_ATTR_INBYTES,
  IPVS_STATS_ATTR_INPKTS,
  IPVS_STATS_ATTR_INPPS,
  IPVS_STATS_ATTR_OUTBPS,
  IPVS_STATS_ATTR_OUTBYTES,
  IPVS_STATS_ATTR_OUTPKTS,
  IPVS_STATS_ATTR_OUTPPS,
  IPVS_SVC_ATTR_FLAGS,
  IPVS_SVC_ATTR_NETMASK,
  IPVS_SVC_ATTR_PE_NAME,
  IPVS_SVC_ATTR_SCHED_NAME,
  IPVS_SVC_ATTR_STATS,
  IPVS_SVC_ATTR_STATS64,
  IPVS_SVC_ATTR_TIMEOUT,
  SERVICE_ATTRIBUTE_NAMES,
} from "./constants.js";
import { decodeSyncDaemon, writeSyncDaemon } from "./config-codec.js";
import {
  readDestinationKey,
  tunnelChecksumName,
  tunnelTypeName,
  forwardingName,
} from "./destination-codec.js";
import { ipFamilyOf, parseIp, type IpFamily } from "../ip-address.js";
import {
  destinationKeyId,
  SCHEDULERS,
  serviceFamily,
  serviceKeyId,
  ZERO_STATS,
  type IpvsDestinationState,
  type IpvsServiceState,
  type IpvsStats,
  type IpvsTimeouts,
  type ServiceKey,
  type SyncDaemon,
} from "./model.js";
import {
  decodeFlags,
  encodeFlags,
  familyNumber,
  readNetmask,
  readServiceKey,
  writeServiceKey,
} from "./service-codec.js";

const ENOENT = 2;
const ESRCH = 3;
const EEXIST = 17;
const EINVAL = 22;
const ERANGE = 34;
const EOPNOTSUPP = 95;

/** An errno the fake kernel answers with. */
class KernelError extends Error {
  constructor(readonly errno: number) {
    super(`errno ${errno}`);
  }
}

const PERSISTENCE_ENGINES = ["sip"];

interface FakeService {
  state: IpvsServiceState;
  /** The kernel's own flag bits (HASHED included), reported back with mask ~0. */
  flagBits: number;
  readonly destinations: Map<string, IpvsDestinationState>;
}

/** The kernel side of the IPVS generic netlink family, in memory. */
export class FakeIpvsKernel {
  /** The family id nlctrl reports (any id above GENL_ID_CTRL). */
  readonly familyId = 0x1c;
  /** When false, nlctrl answers ENOENT for "IPVS": the kernel has no ip_vs module. */
  available = true;
  /** Every IPVS command received, in order (for assertions on batching). */
  readonly commands: number[] = [];
  timeouts: IpvsTimeouts = { tcp: 900, tcpFin: 120, udp: 300 };
  private readonly services = new Map<string, FakeService>();
  private readonly daemons = new Map<string, SyncDaemon>();

  /** The FakeKernel function for FakeNetlinkTransport. */
  readonly handle = (request: NetlinkMessage): Buffer[] => {
    if (request.type === GENL_ID_CTRL) return this.nlctrl(request);
    if (request.type !== this.familyId) return [ackFor(request, EOPNOTSUPP)];
    const { command, attributes } = decodeGenlPayload(request.payload, "fake IPVS request");
    this.commands.push(command);
    try {
      const set = new AttributeSet(attributes, "IPVS request", COMMAND_ATTRIBUTE_NAMES);
      if ((request.flags & NLM_F_DUMP) === NLM_F_DUMP) {
        return [
          ...this.dump(command, set).map((payload) => replyTo(request, this.familyId, payload)),
          doneFor(request),
        ];
      }
      const reply = this.execute(command, set);
      const messages = reply === undefined ? [] : [replyTo(request, this.familyId, reply, 0)];
      return (request.flags & NLM_F_ACK) !== 0 ? [...messages, ackFor(request)] : messages;
    } catch (error) {
      const errno = error instanceof KernelError ? error.errno : EINVAL; // malformed input: the kernel's -EINVAL
      return [ackFor(request, errno)];
    }
  };

  /** An IpvsClient talking to this fake kernel (through the real connection and codec). */
  async client(): Promise<IpvsClient> {
    return IpvsClient.over(new NetlinkConnection(new FakeNetlinkTransport(this.handle)));
  }

  /** Sets a service's statistics, as traffic would. */
  setServiceStats(key: ServiceKey, stats: Partial<IpvsStats>): void {
    const service = this.find(key);
    if (service === undefined) throw new Error(`fake IPVS: no service ${serviceKeyId(key)}`);
    service.state = { ...service.state, stats: { ...service.state.stats, ...stats } };
  }

  /** Sets a destination's connection counts and statistics, as traffic would. */
  setDestinationCounters(
    key: ServiceKey,
    destination: { address: string; port: number },
    counters: Partial<
      Pick<IpvsDestinationState, "activeConnections" | "inactiveConnections" | "persistentConnections">
    > & {
      stats?: Partial<IpvsStats>;
    },
  ): void {
    const dest = this.find(key)?.destinations.get(destinationKeyId(destination));
    if (dest === undefined) throw new Error(`fake IPVS: no destination ${destinationKeyId(destination)}`);
    const { stats, ...counts } = counters;
    this.find(key)!.destinations.set(destinationKeyId(destination), {
      ...dest,
      ...counts,
      stats: { ...dest.stats, ...stats },
    });
  }

  private nlctrl(request: NetlinkMessage): Buffer[] {
    const { command, attributes } = decodeGenlPayload(request.payload, "fake nlctrl request");
    const name = new AttributeSet(attributes, "nlctrl request").string(CTRL_ATTR_FAMILY_NAME);
    if (command !== CTRL_CMD_GETFAMILY || name !== IPVS_GENL_NAME || !this.available)
      return [ackFor(request, ENOENT)];
    const family = encodeAttributes((w) =>
      w
        .u16(CTRL_ATTR_FAMILY_ID, this.familyId)
        .string(CTRL_ATTR_FAMILY_NAME, IPVS_GENL_NAME)
        .u32(CTRL_ATTR_VERSION, IPVS_GENL_VERSION)
        .u32(CTRL_ATTR_HDRSIZE, 0)
        .u32(CTRL_ATTR_MAXATTR, 6),
    );
    return [
      replyTo(
        request,
        GENL_ID_CTRL,
        encodeGenlPayload({ command: CTRL_CMD_NEWFAMILY, version: 2 }, family),
        0,
      ),
      ackFor(request),
    ];
  }

  private dump(command: number, set: AttributeSet): Buffer[] {
    const reply = (replyCommand: number, build: (w: AttributeWriter) => void): Buffer =>
      encodeGenlPayload({ command: replyCommand, version: IPVS_GENL_VERSION }, encodeAttributes(build));
    switch (command) {
      case IPVS_CMD_GET_SERVICE:
        return [...this.services.values()].map((service) =>
          reply(IPVS_CMD_NEW_SERVICE, (w) =>
            w.nested(IPVS_CMD_ATTR_SERVICE, (s) => this.writeServiceState(s, service)),
          ),
        );
      case IPVS_CMD_GET_DEST: {
        // Like the kernel: a service that does not exist dumps nothing rather than failing.
        const service = this.findFromRequest(set);
        return [...(service?.destinations.values() ?? [])].map((destination) =>
          reply(IPVS_CMD_NEW_DEST, (w) =>
            w.nested(IPVS_CMD_ATTR_DEST, (d) =>
              this.writeDestinationState(d, destination, serviceFamily(service!.state.key)),
            ),
          ),
        );
      }
      case IPVS_CMD_GET_DAEMON:
        return [...this.daemons.values()].map((daemon) =>
          reply(IPVS_CMD_NEW_DAEMON, (w) =>
            w.nested(IPVS_CMD_ATTR_DAEMON, (d) => writeSyncDaemon(d, daemon)),
          ),
        );
      default:
        throw new KernelError(EOPNOTSUPP);
    }
  }

  private execute(command: number, set: AttributeSet): Buffer | undefined {
    const reply = (replyCommand: number, build: (w: AttributeWriter) => void): Buffer =>
      encodeGenlPayload({ command: replyCommand, version: IPVS_GENL_VERSION }, encodeAttributes(build));
    switch (command) {
      case IPVS_CMD_NEW_SERVICE:
      case IPVS_CMD_SET_SERVICE:
        this.setService(command, set);
        return undefined;
      case IPVS_CMD_DEL_SERVICE:
        this.delete(this.requireService(set).state.key);
        return undefined;
      case IPVS_CMD_GET_SERVICE: {
        const service = this.requireService(set);
        return reply(IPVS_CMD_NEW_SERVICE, (w) =>
          w.nested(IPVS_CMD_ATTR_SERVICE, (s) => this.writeServiceState(s, service)),
        );
      }
      case IPVS_CMD_NEW_DEST:
      case IPVS_CMD_SET_DEST:
      case IPVS_CMD_DEL_DEST:
        this.changeDestination(command, set);
        return undefined;
      case IPVS_CMD_SET_CONFIG:
        this.timeouts = {
          tcp: set.u32(IPVS_CMD_ATTR_TIMEOUT_TCP) || this.timeouts.tcp,
          tcpFin: set.u32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN) || this.timeouts.tcpFin,
          udp: set.u32(IPVS_CMD_ATTR_TIMEOUT_UDP) || this.timeouts.udp,
        };
        return undefined;
      case IPVS_CMD_GET_CONFIG:
        return reply(IPVS_CMD_SET_CONFIG, (w) =>
          w
            .u32(IPVS_CMD_ATTR_TIMEOUT_TCP, this.timeouts.tcp)
            .u32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, this.timeouts.tcpFin)
            .u32(IPVS_CMD_ATTR_TIMEOUT_UDP, this.timeouts.udp),
        );
      case IPVS_CMD_GET_INFO:
        return reply(IPVS_CMD_SET_INFO, (w) =>
          w.u32(IPVS_INFO_ATTR_VERSION, 0x010201).u32(IPVS_INFO_ATTR_CONN_TAB_SIZE, 4096),
        );
      case IPVS_CMD_NEW_DAEMON: {
        const daemon = decodeSyncDaemon(this.required(set.binary(IPVS_CMD_ATTR_DAEMON)));
        if (this.daemons.has(daemon.state)) throw new KernelError(EEXIST);
        this.daemons.set(daemon.state, daemon);
        return undefined;
      }
      case IPVS_CMD_DEL_DAEMON: {
        const nest = new AttributeSet(
          this.required(set.binary(IPVS_CMD_ATTR_DAEMON)),
          "daemon",
          DAEMON_ATTRIBUTE_NAMES,
        );
        const state = nest.u32(IPVS_DAEMON_ATTR_STATE) === 1 ? "master" : "backup";
        if (!this.daemons.delete(state)) throw new KernelError(ESRCH);
        return undefined;
      }
      case IPVS_CMD_ZERO:
        for (const service of set.has(IPVS_CMD_ATTR_SERVICE)
          ? [this.requireService(set)]
          : this.services.values()) {
          service.state = { ...service.state, stats: ZERO_STATS };
          for (const [id, destination] of service.destinations)
            service.destinations.set(id, { ...destination, stats: ZERO_STATS });
        }
        return undefined;
      case IPVS_CMD_FLUSH:
        this.services.clear();
        return undefined;
      default:
        throw new KernelError(EOPNOTSUPP);
    }
  }

  private setService(command: number, set: AttributeSet): void {
    const nest = new AttributeSet(
      this.required(set.binary(IPVS_CMD_ATTR_SERVICE)),
      "service",
      SERVICE_ATTRIBUTE_NAMES,
    );
    const key = readServiceKey(nest);
    const existing = this.find(key);
    const scheduler = nest.string(IPVS_SVC_ATTR_SCHED_NAME);
    const flags = nest.binary(IPVS_SVC_ATTR_FLAGS);
    const timeout = nest.u32(IPVS_SVC_ATTR_TIMEOUT);
    if (
      scheduler === undefined ||
      flags === undefined ||
      flags.length < 8 ||
      timeout === undefined ||
      !nest.has(IPVS_SVC_ATTR_NETMASK)
    ) {
      throw new KernelError(EINVAL);
    }
    const netmask = readNetmask(nest, serviceFamily(key));
    if (command === IPVS_CMD_NEW_SERVICE && existing !== undefined) throw new KernelError(EEXIST);
    if (command === IPVS_CMD_SET_SERVICE && existing === undefined) throw new KernelError(ESRCH);
    if (!SCHEDULERS.includes(scheduler)) throw new KernelError(ENOENT);
    const engine = nest.string(IPVS_SVC_ATTR_PE_NAME);
    if (engine !== undefined && engine !== "" && !PERSISTENCE_ENGINES.includes(engine))
      throw new KernelError(ENOENT);
    if (typeof netmask === "number" && (netmask < 1 || netmask > 128)) throw new KernelError(EINVAL);
    const mask = flags.readUInt32LE(4);
    const flagBits =
      (((existing?.flagBits ?? 0) & ~mask) | (flags.readUInt32LE(0) & mask) | IP_VS_SVC_F_HASHED) >>> 0;
    const state: IpvsServiceState = {
      key,
      scheduler,
      flags: decodeFlags(flagBits),
      timeout,
      netmask,
      ...(engine !== undefined && engine !== "" ? { persistenceEngine: engine } : {}),
      stats: existing?.state.stats ?? ZERO_STATS,
    };
    if (existing !== undefined) {
      existing.state = state;
      existing.flagBits = flagBits;
    } else {
      this.services.set(serviceKeyId(key), { state, flagBits, destinations: new Map() });
    }
  }

  private changeDestination(command: number, set: AttributeSet): void {
    const service = this.requireService(set);
    const family = serviceFamily(service.state.key);
    const nest = new AttributeSet(
      this.required(set.binary(IPVS_CMD_ATTR_DEST)),
      "destination",
      DEST_ATTRIBUTE_NAMES,
    );
    const key = readDestinationKey(nest, family);
    const id = destinationKeyId(key);
    const existing = service.destinations.get(id);
    if (command === IPVS_CMD_DEL_DEST) {
      if (existing === undefined) throw new KernelError(ENOENT);
      service.destinations.delete(id);
      return;
    }
    const forwardingValue = nest.u32(IPVS_DEST_ATTR_FWD_METHOD);
    const weight = nest.s32(IPVS_DEST_ATTR_WEIGHT);
    const upper = nest.u32(IPVS_DEST_ATTR_U_THRESH);
    const lower = nest.u32(IPVS_DEST_ATTR_L_THRESH);
    if (forwardingValue === undefined || weight === undefined || upper === undefined || lower === undefined) {
      throw new KernelError(EINVAL);
    }
    const forwarding = forwardingName(forwardingValue & 7) ?? "masq";
    const destinationFamily = nest.u16(IPVS_DEST_ATTR_ADDR_FAMILY) === familyNumber(6) ? 6 : 4;
    if (destinationFamily !== family && (forwardingValue & 7) !== IP_VS_CONN_F_TUNNEL)
      throw new KernelError(EINVAL);
    if (weight < 0 || lower > upper) throw new KernelError(ERANGE);
    if (upper > 0x7fffffff) throw new KernelError(EINVAL);
    const tunnelType = nest.u8(IPVS_DEST_ATTR_TUN_TYPE) ?? 0;
    const tunnelPort = nest.u16be(IPVS_DEST_ATTR_TUN_PORT) ?? 0;
    if (tunnelType === IP_VS_CONN_F_TUNNEL_TYPE_GUE && tunnelPort === 0) throw new KernelError(EINVAL);
    if (command === IPVS_CMD_NEW_DEST && existing !== undefined) throw new KernelError(EEXIST);
    if (command === IPVS_CMD_SET_DEST && existing === undefined) throw new KernelError(ENOENT);
    service.destinations.set(id, {
      ...key,
      forwarding,
      weight,
      upperThreshold: upper,
      lowerThreshold: lower,
      ...(forwarding === "tunnel"
        ? {
            tunnel: {
              type: tunnelTypeName(tunnelType) ?? "ipip",
              port: tunnelPort,
              checksum: tunnelChecksumName(nest.u16(IPVS_DEST_ATTR_TUN_FLAGS) ?? 0) ?? "nocsum",
            },
          }
        : {}),
      activeConnections: existing?.activeConnections ?? 0,
      inactiveConnections: existing?.inactiveConnections ?? 0,
      persistentConnections: existing?.persistentConnections ?? 0,
      stats: existing?.stats ?? ZERO_STATS,
    });
  }

  private writeServiceState(writer: AttributeWriter, service: FakeService): void {
    const { state } = service;
    const family = serviceFamily(state.key);
    writeServiceKey(writer, state.key);
    writer.string(IPVS_SVC_ATTR_SCHED_NAME, state.scheduler);
    if (state.persistenceEngine !== undefined) writer.string(IPVS_SVC_ATTR_PE_NAME, state.persistenceEngine);
    const flags = Buffer.alloc(8);
    flags.writeUInt32LE(service.flagBits | encodeFlags(state.flags), 0);
    flags.writeUInt32LE(0xffffffff, 4);
    writer.binary(IPVS_SVC_ATTR_FLAGS, flags);
    writer.u32(IPVS_SVC_ATTR_TIMEOUT, state.timeout);
    if (family === 4) writer.binary(IPVS_SVC_ATTR_NETMASK, parseIp(String(state.netmask), "netmask"));
    else writer.u32(IPVS_SVC_ATTR_NETMASK, Number(state.netmask));
    writeStats(writer, IPVS_SVC_ATTR_STATS, IPVS_SVC_ATTR_STATS64, state.stats);
  }

  private writeDestinationState(
    writer: AttributeWriter,
    destination: IpvsDestinationState,
    serviceFamilyValue: IpFamily,
  ): void {
    const address = Buffer.alloc(16);
    address.set(parseIp(destination.address, "destination"));
    writer
      .binary(IPVS_DEST_ATTR_ADDR, address)
      .u16be(IPVS_DEST_ATTR_PORT, destination.port)
      .u32(IPVS_DEST_ATTR_FWD_METHOD, forwardingNumber(destination))
      .u32(IPVS_DEST_ATTR_WEIGHT, destination.weight)
      .u32(IPVS_DEST_ATTR_U_THRESH, destination.upperThreshold)
      .u32(IPVS_DEST_ATTR_L_THRESH, destination.lowerThreshold)
      .u32(IPVS_DEST_ATTR_ACTIVE_CONNS, destination.activeConnections)
      .u32(IPVS_DEST_ATTR_INACT_CONNS, destination.inactiveConnections)
      .u32(IPVS_DEST_ATTR_PERSIST_CONNS, destination.persistentConnections);
    writeStats(writer, IPVS_DEST_ATTR_STATS, IPVS_DEST_ATTR_STATS64, destination.stats);
    writer
      .u16(IPVS_DEST_ATTR_ADDR_FAMILY, familyNumber(ipFamilyOf(destination.address) ?? serviceFamilyValue))
      .u8(IPVS_DEST_ATTR_TUN_TYPE, ["ipip", "gue", "gre"].indexOf(destination.tunnel?.type ?? "ipip"))
      .u16be(IPVS_DEST_ATTR_TUN_PORT, destination.tunnel?.port ?? 0)
      .u16(
        IPVS_DEST_ATTR_TUN_FLAGS,
        ["nocsum", "csum", "remcsum"].indexOf(destination.tunnel?.checksum ?? "nocsum"),
      );
  }

  private find(key: ServiceKey): FakeService | undefined {
    return this.services.get(serviceKeyId(key));
  }

  private findFromRequest(set: AttributeSet): FakeService | undefined {
    const nest = this.required(set.binary(IPVS_CMD_ATTR_SERVICE));
    return this.find(readServiceKey(new AttributeSet(nest, "service", SERVICE_ATTRIBUTE_NAMES)));
  }

  private requireService(set: AttributeSet): FakeService {
    const service = this.findFromRequest(set);
    if (service === undefined) throw new KernelError(ESRCH);
    return service;
  }

  private delete(key: ServiceKey): void {
    this.services.delete(serviceKeyId(key));
  }

  private required(value: Buffer | undefined): Buffer {
    if (value === undefined) throw new KernelError(EINVAL);
    return value;
  }
}

const FORWARDING_NUMBERS = { masq: 0, local: 1, tunnel: 2, route: 3, bypass: 4 } as const;
const forwardingNumber = (destination: IpvsDestinationState): number =>
  FORWARDING_NUMBERS[destination.forwarding];

/** Both statistics nests, as the kernel sends them (STATS: u32 counters and rates, u64 bytes). */
export function writeStats(
  writer: AttributeWriter,
  stats32Type: number,
  stats64Type: number,
  stats: IpvsStats,
): void {
  const u32 = (value: bigint): number => Number(value & 0xffffffffn);
  writer.nested(stats32Type, (s) =>
    s
      .u32(IPVS_STATS_ATTR_CONNS, u32(stats.connections))
      .u32(IPVS_STATS_ATTR_INPKTS, u32(stats.inPackets))
      .u32(IPVS_STATS_ATTR_OUTPKTS, u32(stats.outPackets))
      .u64(IPVS_STATS_ATTR_INBYTES, stats.inBytes)
      .u64(IPVS_STATS_ATTR_OUTBYTES, stats.outBytes)
      .u32(IPVS_STATS_ATTR_CPS, u32(stats.connectionRate))
      .u32(IPVS_STATS_ATTR_INPPS, u32(stats.inPacketRate))
      .u32(IPVS_STATS_ATTR_OUTPPS, u32(stats.outPacketRate))
      .u32(IPVS_STATS_ATTR_INBPS, u32(stats.inByteRate))
      .u32(IPVS_STATS_ATTR_OUTBPS, u32(stats.outByteRate)),
  );
  writer.nested(stats64Type, (s) =>
    s
      .u64(IPVS_STATS_ATTR_CONNS, stats.connections)
      .u64(IPVS_STATS_ATTR_INPKTS, stats.inPackets)
      .u64(IPVS_STATS_ATTR_OUTPKTS, stats.outPackets)
      .u64(IPVS_STATS_ATTR_INBYTES, stats.inBytes)
      .u64(IPVS_STATS_ATTR_OUTBYTES, stats.outBytes)
      .u64(IPVS_STATS_ATTR_CPS, stats.connectionRate)
      .u64(IPVS_STATS_ATTR_INPPS, stats.inPacketRate)
      .u64(IPVS_STATS_ATTR_OUTPPS, stats.outPacketRate)
      .u64(IPVS_STATS_ATTR_INBPS, stats.inByteRate)
      .u64(IPVS_STATS_ATTR_OUTBPS, stats.outByteRate),
  );
}
