// Sync daemons, connection timeouts and general info <-> IPVS attributes.
//
// Daemon attributes: STATE, SYNC_ID (u32), SYNC_MAXLEN, MCAST_PORT (u16) and MCAST_TTL (u8) are
// host order; MCAST_GROUP is an in_addr (network order bytes), MCAST_GROUP6 an in6_addr.
import type { AttributeWriter } from "../netlink/attributes.js";
import { AttributeSet } from "../netlink/attributes.js";
import { NetlinkDecodeError } from "../netlink/errors.js";
import {
  COMMAND_ATTRIBUTE_NAMES,
  DAEMON_ATTRIBUTE_NAMES,
  IP_VS_IFNAME_MAXLEN,
  IP_VS_STATE_BACKUP,
  IP_VS_STATE_MASTER,
  IPVS_CMD_ATTR_TIMEOUT_TCP,
  IPVS_CMD_ATTR_TIMEOUT_TCP_FIN,
  IPVS_CMD_ATTR_TIMEOUT_UDP,
  IPVS_DAEMON_ATTR_MCAST_GROUP,
  IPVS_DAEMON_ATTR_MCAST_GROUP6,
  IPVS_DAEMON_ATTR_MCAST_IFN,
  IPVS_DAEMON_ATTR_MCAST_PORT,
  IPVS_DAEMON_ATTR_MCAST_TTL,
  IPVS_DAEMON_ATTR_STATE,
  IPVS_DAEMON_ATTR_SYNC_ID,
  IPVS_DAEMON_ATTR_SYNC_MAXLEN,
  IPVS_INFO_ATTR_CONN_TAB_SIZE,
  IPVS_INFO_ATTR_VERSION,
} from "./constants.js";
import { parseIp } from "../ip-address.js";
import { decodeAddress } from "./address.js";
import {
  IpvsValidationError,
  type IpvsInfo,
  type IpvsTimeouts,
  type SyncDaemon,
  type SyncDaemonState,
} from "./model.js";
import { checkInteger, checkKernelName, checkU32 } from "./validate.js";

export function syncStateNumber(state: SyncDaemonState): number {
  if (state === "master") return IP_VS_STATE_MASTER;
  if (state === "backup") return IP_VS_STATE_BACKUP;
  throw new IpvsValidationError("sync daemon", `state must be master or backup, not '${String(state)}'`);
}

/** Writes the contents of an IPVS_CMD_ATTR_DAEMON nest for NEW_DAEMON. */
export function writeSyncDaemon(writer: AttributeWriter, daemon: SyncDaemon): void {
  const what = `${daemon.state} sync daemon`;
  writer.u32(IPVS_DAEMON_ATTR_STATE, syncStateNumber(daemon.state));
  writer.string(
    IPVS_DAEMON_ATTR_MCAST_IFN,
    checkKernelName(daemon.interface, IP_VS_IFNAME_MAXLEN, `${what} interface`),
  );
  writer.u32(IPVS_DAEMON_ATTR_SYNC_ID, checkU32(daemon.syncId, `${what} sync id`));
  if (daemon.maxLength !== undefined) {
    writer.u16(
      IPVS_DAEMON_ATTR_SYNC_MAXLEN,
      checkInteger(daemon.maxLength, 0, 0xffff, `${what} maximum length`),
    );
  }
  if (daemon.group !== undefined) {
    const group = parseIp(daemon.group, `${what} multicast group`);
    writer.binary(group.length === 4 ? IPVS_DAEMON_ATTR_MCAST_GROUP : IPVS_DAEMON_ATTR_MCAST_GROUP6, group);
  }
  if (daemon.port !== undefined) {
    writer.u16(IPVS_DAEMON_ATTR_MCAST_PORT, checkInteger(daemon.port, 0, 0xffff, `${what} multicast port`));
  }
  if (daemon.ttl !== undefined) {
    writer.u8(IPVS_DAEMON_ATTR_MCAST_TTL, checkInteger(daemon.ttl, 0, 0xff, `${what} multicast TTL`));
  }
}

/** Decodes the contents of an IPVS_CMD_ATTR_DAEMON nest from a GET_DAEMON dump. */
export function decodeSyncDaemon(nest: Buffer): SyncDaemon {
  const context = "IPVS daemon attributes";
  const set = new AttributeSet(nest, context, DAEMON_ATTRIBUTE_NAMES);
  const stateValue = set.required(IPVS_DAEMON_ATTR_STATE, (s, t) => s.u32(t));
  let state: SyncDaemonState;
  if (stateValue === IP_VS_STATE_MASTER) state = "master";
  else if (stateValue === IP_VS_STATE_BACKUP) state = "backup";
  else
    throw new NetlinkDecodeError(
      context,
      0,
      `sync daemon state ${stateValue} is neither master (1) nor backup (2)`,
    );

  const group4 = set.binary(IPVS_DAEMON_ATTR_MCAST_GROUP);
  const group6 = set.binary(IPVS_DAEMON_ATTR_MCAST_GROUP6);
  let group: string | undefined;
  if (group6 !== undefined) {
    if (group6.length < 16)
      throw new NetlinkDecodeError(context, 0, `IPVS_DAEMON_ATTR_MCAST_GROUP6 has ${group6.length} bytes`);
    group = decodeAddress(6, group6);
  } else if (group4 !== undefined) {
    if (group4.length < 4)
      throw new NetlinkDecodeError(context, 0, `IPVS_DAEMON_ATTR_MCAST_GROUP has ${group4.length} bytes`);
    group = decodeAddress(4, group4);
  }
  const maxLength = set.u16(IPVS_DAEMON_ATTR_SYNC_MAXLEN);
  const port = set.u16(IPVS_DAEMON_ATTR_MCAST_PORT);
  const ttl = set.u8(IPVS_DAEMON_ATTR_MCAST_TTL);
  return {
    state,
    interface: set.required(IPVS_DAEMON_ATTR_MCAST_IFN, (s, t) => s.string(t)),
    syncId: set.required(IPVS_DAEMON_ATTR_SYNC_ID, (s, t) => s.u32(t)),
    ...(maxLength !== undefined ? { maxLength } : {}),
    ...(group !== undefined ? { group } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(ttl !== undefined ? { ttl } : {}),
  };
}

/** Top-level attributes of SET_CONFIG; a timeout of 0 (or absent) leaves that one unchanged. */
export function writeTimeouts(writer: AttributeWriter, timeouts: Partial<IpvsTimeouts>): void {
  if (timeouts.tcp !== undefined) writer.u32(IPVS_CMD_ATTR_TIMEOUT_TCP, checkTimeout(timeouts.tcp, "tcp"));
  if (timeouts.tcpFin !== undefined)
    writer.u32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, checkTimeout(timeouts.tcpFin, "tcpfin"));
  if (timeouts.udp !== undefined) writer.u32(IPVS_CMD_ATTR_TIMEOUT_UDP, checkTimeout(timeouts.udp, "udp"));
}

// The kernel multiplies by HZ into an int: larger values are rejected there with EINVAL.
const checkTimeout = (seconds: number, which: string): number =>
  checkInteger(seconds, 0, Math.floor(0x7fffffff / 1000), `${which} timeout`);

/** Decodes the top-level attributes of a GET_CONFIG reply. */
export function decodeTimeouts(attributes: Buffer): IpvsTimeouts {
  const set = new AttributeSet(attributes, "IPVS config attributes", COMMAND_ATTRIBUTE_NAMES);
  return {
    tcp: set.u32(IPVS_CMD_ATTR_TIMEOUT_TCP) ?? 0,
    tcpFin: set.u32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN) ?? 0,
    udp: set.u32(IPVS_CMD_ATTR_TIMEOUT_UDP) ?? 0,
  };
}

/** Decodes the top-level attributes of a GET_INFO reply. */
export function decodeInfo(attributes: Buffer): IpvsInfo {
  const set = new AttributeSet(attributes, "IPVS info attributes", {
    [IPVS_INFO_ATTR_VERSION]: "IPVS_INFO_ATTR_VERSION",
    [IPVS_INFO_ATTR_CONN_TAB_SIZE]: "IPVS_INFO_ATTR_CONN_TAB_SIZE",
  });
  const code = set.required(IPVS_INFO_ATTR_VERSION, (s, t) => s.u32(t));
  return {
    version: `${(code >>> 16) & 0xff}.${(code >>> 8) & 0xff}.${code & 0xff}`,
    connectionTableSize: set.required(IPVS_INFO_ATTR_CONN_TAB_SIZE, (s, t) => s.u32(t)),
  };
}
