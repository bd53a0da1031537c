// The keyword catalogue: every keepalived.conf keyword the importer understands, per block, with
// its value form (see keepalived.conf(5)). Keywords marked `unmapped` are keepalived features
// kubelvs does not have: they are checked and reported as ignored, with the reason. Anything not
// listed is reported as an unknown keyword. Nothing is dropped silently.
import type { Word } from "./ast.js";
import {
  type BlockSpec,
  type Catalogue,
  type ReadContext,
  anything,
  many,
  one,
  unmapped,
} from "./read-block.js";
import {
  block,
  bool,
  choice,
  command,
  flag,
  forwarding,
  integer,
  ip,
  ipWord,
  list,
  type Named,
  named,
  nameEntry,
  netmask,
  peerEntry,
  port,
  serverAddress,
  text,
  timer,
  trackedEntry,
  virtualAddressEntry,
  word,
} from "./value-forms.js";
import { type IPAddress, expandIPv4Range, parseIP, parseInteger } from "./values.js";
import type { BlockValues, Parser } from "./read-block.js";
import { checked, needBlock, readBlock } from "./read-block.js";

export type { Named };

// Reasons shared by several keywords.
const NO_EMAIL = "kubelvs sends no e-mail; state changes are Kubernetes events and status conditions";
const NO_SNMP = "kubelvs has no SNMP agent; the agent exports Prometheus metrics";
const NO_DBUS = "kubelvs has no D-Bus interface; state is in the objects' status";
const DAEMON_TUNING = "tuning of keepalived's own processes; the kubelvs agent is tuned through its Pod spec";
const REALTIME =
  "the kubelvs agent's event loop runs SCHED_FIFO by default: kubelvs agent --realtime-priority N (chart: agent.realtimePriority)";
const FIFO = "kubelvs has no notify FIFOs; use notify commands or watch the objects' status";
const COMMAND_USER = "commands run in the kubelvs agent's context";
const FIREWALL = "kubelvs does not manage iptables/nftables";
const VMAC =
  "kubelvs does not create VRRP virtual MAC (macvlan/ipvlan) interfaces; VIPs go on the interface itself";
const OTHER_TRACKERS = "kubelvs tracks interfaces and scripts only (spec.track)";
const NO_BFD = "kubelvs has no BFD";
const ROUTES = "kubelvs moves addresses only, not routes or rules";

// ---- global_defs -----------------------------------------------------------------------------

export interface LvsSyncDaemon {
  interface: Word;
  instance?: Word;
  syncId?: number;
  maxlen?: number;
  otherOptions: Word[];
}

const lvsSyncDaemon: Parser<LvsSyncDaemon> = (s, ctx) => {
  const [ifname, ...rest] = s.args;
  if (ifname === undefined) {
    ctx.sink.error(
      s.keyword.loc,
      `lvs_sync_daemon needs an interface: lvs_sync_daemon IF [inst VRRP_INSTANCE] [id N] [maxlen N]`,
    );
    return undefined;
  }
  const result: LvsSyncDaemon = { interface: ifname, otherOptions: [] };
  for (let i = 0; i < rest.length; i++) {
    const option = rest[i]!;
    const value = rest[i + 1];
    const needValue = (): Word | undefined => {
      if (value === undefined) ctx.sink.error(option.loc, `lvs_sync_daemon: "${option.text}" needs a value`);
      return value;
    };
    switch (option.text) {
      case "inst": {
        const v = needValue();
        if (v === undefined) return undefined;
        result.instance = v;
        i++;
        break;
      }
      case "id": {
        const v = needValue();
        const n =
          v === undefined ? undefined : checked(v, ctx, "lvs_sync_daemon id", parseInteger(v.text, 0, 255));
        if (n === undefined) return undefined;
        result.syncId = n;
        i++;
        break;
      }
      case "maxlen": {
        const v = needValue();
        const n =
          v === undefined
            ? undefined
            : checked(v, ctx, "lvs_sync_daemon maxlen", parseInteger(v.text, 1, 65507));
        if (n === undefined) return undefined;
        result.maxlen = n;
        i++;
        break;
      }
      case "port":
      case "ttl":
      case "group":
        if (needValue() === undefined) return undefined;
        result.otherOptions.push(option);
        i++;
        break;
      default:
        if (i === 0 && result.instance === undefined) result.instance = option;
        else {
          ctx.sink.error(option.loc, `lvs_sync_daemon: unexpected "${option.text}"`);
          return undefined;
        }
    }
  }
  return result;
};

export const GLOBAL_DEFS = {
  name: "global_defs",
  keywords: {
    router_id: one(text),
    lvs_id: one(text),
    vrrp_version: one(integer(2, 3)),
    vrrp_garp_master_repeat: one(integer(1, 255)),
    vrrp_garp_master_delay: one(timer(0, 3600)),
    vrrp_garp_master_refresh: one(timer(0, 86400)),
    vrrp_garp_master_refresh_repeat: one(integer(1, 255)),
    vrrp_garp_interval: one(timer(0, 10)),
    vrrp_gna_interval: one(timer(0, 10)),
    vrrp_min_garp: one(bool),
    v3_checksum_as_v2: one(bool),
    lvs_sync_daemon: one(lvsSyncDaemon),
    vrrp_strict: one(flag),
    vrrp_check_unicast_src: one(flag),
    vrrp_garp_lower_prio_repeat: unmapped(
      "kubelvs does not repeat gratuitous ARPs on lower-priority adverts",
      anything,
    ),
    vrrp_garp_lower_prio_delay: unmapped(
      "kubelvs does not repeat gratuitous ARPs on lower-priority adverts",
      anything,
    ),
    vrrp_garp_extra_if: unmapped(VMAC, anything),
    vrrp_lower_prio_no_advert: unmapped("kubelvs follows RFC 9568 here", anything),
    vrrp_higher_prio_send_advert: unmapped("kubelvs follows the RFC here", anything),
    vrrp_down_timer_adverts: unmapped(
      "kubelvs uses the RFC master-down timer (3 intervals + skew)",
      anything,
    ),
    vrrp_mcast_group4: unmapped("kubelvs uses the IANA VRRP group 224.0.0.18", anything),
    vrrp_mcast_group6: unmapped("kubelvs uses the IANA VRRP group ff02::12", anything),
    vrrp_skip_check_adv_addr: unmapped("kubelvs always checks advertised addresses", anything),
    vrrp_iptables: unmapped(FIREWALL, anything),
    vrrp_ipsets: unmapped(FIREWALL, anything),
    nftables: unmapped(FIREWALL, anything),
    nftables_priority: unmapped(FIREWALL, anything),
    nftables_counters: unmapped(FIREWALL, anything),
    nftables_ifindex: unmapped(FIREWALL, anything),
    nftables_ipvs: unmapped(FIREWALL, anything),
    vrrp_notify_priority_changes: unmapped(FIFO, anything),
    vrrp_startup_delay: unmapped("the agent starts VRRP when its Pod is ready", anything),
    vrrp_delay_after_boot: unmapped("the agent starts VRRP when its Pod is ready", anything),
    notification_email: unmapped(NO_EMAIL, anything),
    notification_email_from: unmapped(NO_EMAIL, anything),
    smtp_server: unmapped(NO_EMAIL, anything),
    smtp_helo_name: unmapped(NO_EMAIL, anything),
    smtp_connect_timeout: unmapped(NO_EMAIL, anything),
    smtp_alert: unmapped(NO_EMAIL, anything),
    smtp_alert_vrrp: unmapped(NO_EMAIL, anything),
    smtp_alert_checker: unmapped(NO_EMAIL, anything),
    no_email_faults: unmapped(NO_EMAIL, anything),
    no_checker_emails: unmapped(NO_EMAIL, anything),
    enable_traps: unmapped(NO_SNMP, anything),
    snmp_socket: unmapped(NO_SNMP, anything),
    enable_snmp_vrrp: unmapped(NO_SNMP, anything),
    enable_snmp_checker: unmapped(NO_SNMP, anything),
    enable_snmp_rfc: unmapped(NO_SNMP, anything),
    enable_snmp_rfcv2: unmapped(NO_SNMP, anything),
    enable_snmp_rfcv3: unmapped(NO_SNMP, anything),
    enable_snmp_keepalived: unmapped(NO_SNMP, anything),
    enable_dbus: unmapped(NO_DBUS, anything),
    dbus_service_name: unmapped(NO_DBUS, anything),
    script_user: unmapped(COMMAND_USER, anything),
    enable_script_security: unmapped(COMMAND_USER, anything),
    notify_fifo: unmapped(FIFO, anything),
    notify_fifo_script: unmapped(FIFO, anything),
    vrrp_notify_fifo: unmapped(FIFO, anything),
    vrrp_notify_fifo_script: unmapped(FIFO, anything),
    lvs_notify_fifo: unmapped(FIFO, anything),
    lvs_notify_fifo_script: unmapped(FIFO, anything),
    lvs_timeouts: unmapped(
      "IPVS connection timeouts are a node setting outside kubelvs (ipvsadm --set)",
      anything,
    ),
    lvs_flush: unmapped("the kubelvs agent reconciles the whole IPVS table itself", anything),
    lvs_flush_on_stop: unmapped("the kubelvs agent reconciles the whole IPVS table itself", anything),
    default_interface: unmapped("every kubelvs address names its group's interface or a device", anything),
    dynamic_interfaces: unmapped("the kubelvs agent follows interfaces appearing and disappearing", anything),
    checker_log_all_failures: unmapped("check results are in the VirtualService status", anything),
    rs_init_notifies: unmapped("kubelvs runs notify commands on state changes only", anything),
    log_unknown_vrids: unmapped("the agent counts unknown VRIDs in its metrics", anything),
    vmac_prefix: unmapped(VMAC, anything),
    vmac_addr_prefix: unmapped(VMAC, anything),
    net_namespace: unmapped(DAEMON_TUNING, anything),
    net_namespace_ipvs: unmapped(DAEMON_TUNING, anything),
    instance: unmapped(DAEMON_TUNING, anything),
    use_pid_dir: unmapped(DAEMON_TUNING, anything),
    linkbeat_use_polling: unmapped(DAEMON_TUNING, anything),
    child_wait_time: unmapped(DAEMON_TUNING, anything),
    process_names: unmapped(DAEMON_TUNING, anything),
    process_name: unmapped(DAEMON_TUNING, anything),
    vrrp_process_name: unmapped(DAEMON_TUNING, anything),
    checker_process_name: unmapped(DAEMON_TUNING, anything),
    vrrp_priority: unmapped(REALTIME, anything),
    checker_priority: unmapped(DAEMON_TUNING, anything),
    vrrp_no_swap: unmapped(DAEMON_TUNING, anything),
    checker_no_swap: unmapped(DAEMON_TUNING, anything),
    vrrp_cpu_affinity: unmapped(DAEMON_TUNING, anything),
    checker_cpu_affinity: unmapped(DAEMON_TUNING, anything),
    vrrp_rt_priority: unmapped(REALTIME, anything),
    checker_rt_priority: unmapped(DAEMON_TUNING, anything),
    vrrp_rlimit_rttime: unmapped(REALTIME, anything),
    checker_rlimit_rttime: unmapped(DAEMON_TUNING, anything),
    max_auto_priority: unmapped(DAEMON_TUNING, anything),
    min_auto_priority_delay: unmapped(DAEMON_TUNING, anything),
    vrrp_netlink_cmd_rcv_bufs: unmapped(DAEMON_TUNING, anything),
    vrrp_netlink_monitor_rcv_bufs: unmapped(DAEMON_TUNING, anything),
    lvs_netlink_cmd_rcv_bufs: unmapped(DAEMON_TUNING, anything),
    lvs_netlink_monitor_rcv_bufs: unmapped(DAEMON_TUNING, anything),
    vrrp_rx_bufs_policy: unmapped(DAEMON_TUNING, anything),
    vrrp_rx_bufs_multiplier: unmapped(DAEMON_TUNING, anything),
    umask: unmapped(DAEMON_TUNING, anything),
    tmp_config_directory: unmapped(DAEMON_TUNING, anything),
    config_save_dir: unmapped(DAEMON_TUNING, anything),
    reload_check_config: unmapped(DAEMON_TUNING, anything),
    reload_time_file: unmapped(DAEMON_TUNING, anything),
    reload_repeat: unmapped(DAEMON_TUNING, anything),
    reload_file: unmapped(DAEMON_TUNING, anything),
    include_check: unmapped("the importer treats every missing include as an error", anything),
    data_use_instance: unmapped(DAEMON_TUNING, anything),
    state_file_location: unmapped(DAEMON_TUNING, anything),
    stats_file_location: unmapped(DAEMON_TUNING, anything),
    json_file_location: unmapped(DAEMON_TUNING, anything),
    json_version: unmapped(DAEMON_TUNING, anything),
    random_seed: unmapped(DAEMON_TUNING, anything),
    startup_script: unmapped("node set-up belongs in the node's provisioning or an init container", anything),
    startup_script_timeout: unmapped(
      "node set-up belongs in the node's provisioning or an init container",
      anything,
    ),
    shutdown_script: unmapped(
      "node set-up belongs in the node's provisioning or an init container",
      anything,
    ),
    shutdown_script_timeout: unmapped(
      "node set-up belongs in the node's provisioning or an init container",
      anything,
    ),
  },
  mistakes: {
    vrrp_port:
      "keepalived has no vrrp_port: VRRP is IP protocol 112, not a UDP/TCP port, so there is no port to change. " +
      "Several VRRP instances on one network are told apart by their virtual_router_id (and interface); " +
      "in kubelvs each instance is its own VrrpGroup with its own VRID, so nothing is needed here",
  },
} satisfies BlockSpec<Catalogue>;

// ---- vrrp_script -------------------------------------------------------------------------------

const weightWithReverse = (min: number, max: number): Parser<{ weight: number; reverse?: Word }> => {
  const n = integer(min, max);
  return (s, ctx) => {
    const reverse = s.args[1];
    if (reverse !== undefined && reverse.text !== "reverse" && reverse.text !== "noreverse") {
      ctx.sink.error(
        reverse.loc,
        `${s.keyword.text}: expected "reverse" after the weight, found "${reverse.text}"`,
      );
      return undefined;
    }
    const weight = n({ ...s, args: s.args.slice(0, 1) }, ctx);
    if (weight === undefined) return undefined;
    return reverse?.text === "reverse" ? { weight, reverse } : { weight };
  };
};

export const VRRP_SCRIPT = {
  name: "vrrp_script",
  keywords: {
    script: one(command),
    interval: one(timer(0.001, 3600)),
    timeout: one(timer(0.001, 3600)),
    weight: one(weightWithReverse(-253, 253)),
    rise: one(integer(1, 100)),
    fall: one(integer(1, 100)),
    user: unmapped(COMMAND_USER, anything),
    init_fail: unmapped("kubelvs treats a script as failed until it has succeeded `rise` times", anything),
  },
} satisfies BlockSpec<Catalogue>;

// ---- vrrp_sync_group ---------------------------------------------------------------------------

export const VRRP_SYNC_GROUP = {
  name: "vrrp_sync_group",
  keywords: {
    group: one(list(nameEntry, "vrrp_sync_group group")),
    track_interface: one(list(trackedEntry(-253, 253), "track_interface")),
    track_script: one(list(trackedEntry(-253, 253), "track_script")),
    track_file: unmapped(OTHER_TRACKERS, anything),
    track_process: unmapped(OTHER_TRACKERS, anything),
    track_bfd: unmapped(NO_BFD, anything),
    notify_master: unmapped("kubelvs has no sync-group notify; set notify on each member group", anything),
    notify_backup: unmapped("kubelvs has no sync-group notify; set notify on each member group", anything),
    notify_fault: unmapped("kubelvs has no sync-group notify; set notify on each member group", anything),
    notify_stop: unmapped("kubelvs has no sync-group notify; set notify on each member group", anything),
    notify_deleted: unmapped("kubelvs has no sync-group notify; set notify on each member group", anything),
    notify: unmapped("kubelvs has no sync-group notify; set notify on each member group", anything),
    notify_priority_changes: unmapped(FIFO, anything),
    smtp_alert: unmapped(NO_EMAIL, anything),
    global_tracking: unmapped(
      "deprecated in keepalived; tracking of the sync group is copied to its members",
      anything,
    ),
    sync_group_tracking_weight: unmapped("tracking weights of members are kept as they are", anything),
  },
} satisfies BlockSpec<Catalogue>;

// ---- vrrp_instance -----------------------------------------------------------------------------

const AUTHENTICATION = {
  name: "authentication",
  keywords: {
    auth_type: one(choice(["PASS", "AH"] as const)),
    auth_pass: one(word),
  },
} satisfies BlockSpec<Catalogue>;

/** priority 1-255 with a precise message for 0, which RFC 5798 reserves for a Master resigning. */
const priority: Parser<number> = (s, ctx) => {
  const value = integer(-Infinity, Infinity)(s, ctx);
  if (value === undefined) return undefined;
  if (value === 0) {
    ctx.sink.error(
      s.args[0]!.loc,
      "priority 0 is reserved: a Master sends it to resign (RFC 5798 5.2.4); use 1-254, or 255 for the address owner",
    );
    return undefined;
  }
  if (value < 1 || value > 255) {
    ctx.sink.error(
      s.args[0]!.loc,
      `priority: ${value} is out of range (1-254, or 255 for the address owner)`,
    );
    return undefined;
  }
  return value;
};

const virtualRouterId: Parser<number> = (s, ctx) => {
  const value = integer(-Infinity, Infinity)(s, ctx);
  if (value === undefined) return undefined;
  if (value < 1 || value > 255) {
    ctx.sink.error(
      s.args[0]!.loc,
      `virtual_router_id: ${value} is out of range (1-255; it is one byte of the VRRP header and of the virtual MAC)`,
    );
    return undefined;
  }
  return value;
};

export const VRRP_INSTANCE = {
  name: "vrrp_instance",
  keywords: {
    state: one(choice(["MASTER", "BACKUP"] as const)),
    interface: one(word),
    virtual_router_id: one(virtualRouterId),
    priority: one(priority),
    advert_int: one(timer(0.01, 255)),
    version: one(integer(2, 3)),
    nopreempt: one(flag),
    preempt: one(flag),
    preempt_delay: one(timer(0, 1000)),
    accept: one(flag),
    no_accept: one(flag),
    virtual_ipaddress: one(list(virtualAddressEntry, "virtual_ipaddress")),
    virtual_ipaddress_excluded: one(list(virtualAddressEntry, "virtual_ipaddress_excluded")),
    unicast_src_ip: one(ip),
    unicast_peer: one(list(peerEntry, "unicast_peer")),
    authentication: one(block(AUTHENTICATION)),
    track_interface: one(list(trackedEntry(-253, 253), "track_interface")),
    track_script: one(list(trackedEntry(-253, 253), "track_script")),
    garp_master_delay: one(timer(0, 3600)),
    garp_master_repeat: one(integer(1, 255)),
    garp_master_refresh: one(timer(0, 86400)),
    garp_master_refresh_repeat: one(integer(1, 255)),
    notify_master: one(command),
    notify_backup: one(command),
    notify_fault: one(command),
    notify_stop: one(command),
    notify: one(command),
    v3_checksum_as_v2: one(bool),
    strict_mode: one(bool),
    check_unicast_src: one(flag),
    garp_lower_prio_delay: unmapped(
      "kubelvs does not repeat gratuitous ARPs on lower-priority adverts",
      anything,
    ),
    garp_lower_prio_repeat: unmapped(
      "kubelvs does not repeat gratuitous ARPs on lower-priority adverts",
      anything,
    ),
    garp_extra_if: unmapped(VMAC, anything),
    use_vmac: unmapped(VMAC, anything),
    vmac_xmit_base: unmapped(VMAC, anything),
    use_vmac_addr: unmapped(VMAC, anything),
    use_ipvlan: unmapped(VMAC, anything),
    native_ipv6: unmapped("deprecated in keepalived: the addresses decide the family", anything),
    dont_track_primary: unmapped("the kubelvs agent always tracks the group's interface", anything),
    mcast_src_ip: unmapped("adverts leave from the node's primary address on the interface", anything),
    mcast_dst_ip: unmapped("kubelvs uses the IANA VRRP multicast groups", anything),
    track_src_ip: unmapped("adverts leave from the node's primary address on the interface", anything),
    unicast_fault_no_peer: unmapped(
      "a kubelvs group in unicast mode with no peer reports it in status",
      anything,
    ),
    unicast_ttl: unmapped("kubelvs sends adverts with TTL 255 as the RFC requires", anything),
    old_unicast_checksum: unmapped("pre-1.3.6 keepalived checksum bug compatibility", anything),
    down_timer_adverts: unmapped("kubelvs uses the RFC master-down timer (3 intervals + skew)", anything),
    timer_expired_backup: unmapped("kubelvs follows the RFC state machine", anything),
    lower_prio_no_advert: unmapped("kubelvs follows RFC 9568 here", anything),
    higher_prio_send_advert: unmapped("kubelvs follows the RFC here", anything),
    virtual_routes: unmapped(ROUTES, anything),
    virtual_rules: unmapped(ROUTES, anything),
    no_virtual_ipaddress: unmapped("a VrrpGroup always carries addresses", anything),
    promote_secondaries: unmapped("a node setting (net.ipv4.conf.IF.promote_secondaries)", anything),
    skip_check_adv_addr: unmapped("kubelvs always checks advertised addresses", anything),
    debug: unmapped("not implemented in keepalived either", anything),
    notify_master_rx_lower_pri: unmapped("kubelvs notifies on state changes only", anything),
    notify_deleted: unmapped("kubelvs notifies on state changes only", anything),
    notify_priority_changes: unmapped(FIFO, anything),
    smtp_alert: unmapped(NO_EMAIL, anything),
    kernel_rx_buf_size: unmapped(DAEMON_TUNING, anything),
    linkbeat_use_polling: unmapped(DAEMON_TUNING, anything),
    track_file: unmapped(OTHER_TRACKERS, anything),
    track_process: unmapped(OTHER_TRACKERS, anything),
    track_bfd: unmapped(NO_BFD, anything),
    vrf: unmapped("kubelvs runs VRRP in the node's main routing table", anything),
    auth_hmac: unmapped("kubelvs supports only the VRRPv2 simple password", anything),
    lvs_sync_daemon_interface: unmapped("obsolete: use lvs_sync_daemon in global_defs", anything),
  },
} satisfies BlockSpec<Catalogue>;

// ---- checkers, real_server, virtual_server ------------------------------------------------------

/** `status_code 200 301-302 ...` as a list of codes (ranges expanded). */
const statusCodes: Parser<{ codes: number[]; words: Word[] }> = (s, ctx) => {
  if (s.args.length === 0) {
    ctx.sink.error(s.keyword.loc, "status_code needs at least one code or range (e.g. 200 or 200-299)");
    return undefined;
  }
  const codes = new Set<number>();
  for (const w of s.args) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(w.text);
    const low = m ? Number(m[1]) : NaN;
    const high = m?.[2] !== undefined ? Number(m[2]) : low;
    if (!m || low < 100 || high > 599 || high < low) {
      ctx.sink.error(w.loc, `status_code: "${w.text}" is not an HTTP status code or range (100-599)`);
      return undefined;
    }
    for (let c = low; c <= high; c++) codes.add(c);
  }
  return { codes: [...codes].sort((a, b) => a - b), words: s.args };
};

const digest: Parser<string> = (s, ctx) => {
  const value = word(s, ctx);
  if (value === undefined) return undefined;
  if (!/^[0-9a-fA-F]{32}$/.test(value)) {
    ctx.sink.error(
      s.args[0]!.loc,
      `digest: "${value}" is not an MD5 digest (32 hex digits, as genhash prints)`,
    );
    return undefined;
  }
  return value.toLowerCase();
};

const urlPath: Parser<string> = (s, ctx) => {
  const value = word(s, ctx);
  if (value !== undefined && !value.startsWith("/")) {
    ctx.sink.error(s.args[0]!.loc, `path: "${value}" must start with "/"`);
    return undefined;
  }
  return value;
};

const URL = {
  name: "url",
  keywords: {
    path: one(urlPath),
    digest: one(digest),
    status_code: one(statusCodes),
    regex: one(text),
    virtualhost: one(text),
    regex_no_match: one(flag),
    regex_options: unmapped(
      "kubelvs matches with JavaScript regular expressions, without PCRE options",
      anything,
    ),
    regex_stack: unmapped(
      "kubelvs matches with JavaScript regular expressions, without PCRE options",
      anything,
    ),
    regex_min_offset: unmapped("kubelvs matches the regular expression against the whole body", anything),
    regex_max_offset: unmapped("kubelvs matches the regular expression against the whole body", anything),
    tls_compliant: unmapped("kubelvs always closes TLS connections properly", anything),
  },
} satisfies BlockSpec<Catalogue>;

/** Options every checker has (keepalived.conf(5) "CHECKER_TYPE"). */
const CHECKER_COMMON = {
  connect_port: one(port),
  connect_timeout: one(timer(0.001, 600)),
  retry: one(integer(0, 100)),
  nb_get_retry: one(integer(0, 100)),
  delay_before_retry: one(timer(0, 600)),
  warmup: one(timer(0, 600)),
  delay_loop: one(timer(0.1, 86400)),
  bindto: one(ip),
  alpha: unmapped("kubelvs sets the initial state per service (virtual_server alpha)", anything),
  connect_ip: unmapped("kubelvs checks the real server's own address", anything),
  bind_if: unmapped("checks leave through the route to the real server", anything),
  bind_port: unmapped("checks use an ephemeral source port", anything),
  fwmark: unmapped("kubelvs does not mark check traffic", anything),
  log_all_failures: unmapped("check results are in the VirtualService status", anything),
};

const HTTP_CHECK_KEYWORDS = {
  ...CHECKER_COMMON,
  url: many(block(URL)),
  virtualhost: one(text),
  http_protocol: unmapped("kubelvs sends HTTP/1.1 requests with Connection: close", anything),
  fast_recovery: unmapped("kubelvs checks all paths on every round", anything),
};

export const CHECKERS = {
  TCP_CHECK: { name: "TCP_CHECK", keywords: { ...CHECKER_COMMON } },
  HTTP_GET: { name: "HTTP_GET", keywords: HTTP_CHECK_KEYWORDS },
  SSL_GET: {
    name: "SSL_GET",
    keywords: {
      ...HTTP_CHECK_KEYWORDS,
      enable_sni: one(flag),
      sni_name: one(word),
      tls_compliant: unmapped("kubelvs always closes TLS connections properly", anything),
    },
  },
  MISC_CHECK: {
    name: "MISC_CHECK",
    keywords: {
      ...CHECKER_COMMON,
      misc_path: one(command),
      misc_timeout: one(timer(0.001, 3600)),
      misc_dynamic: one(flag),
      user: unmapped(COMMAND_USER, anything),
    },
  },
  UDP_CHECK: {
    name: "UDP_CHECK",
    keywords: {
      ...CHECKER_COMMON,
      payload: one(text),
      require_reply: one((s) => (s.args.length === 0 ? "" : s.args.map((a) => a.text).join(""))),
      min_reply_length: unmapped("kubelvs checks the reply content, not its length", anything),
      max_reply_length: unmapped("kubelvs checks the reply content, not its length", anything),
    },
  },
  DNS_CHECK: {
    name: "DNS_CHECK",
    keywords: {
      ...CHECKER_COMMON,
      type: one(choice(["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"] as const)),
      name: one(word),
    },
  },
} satisfies Record<string, BlockSpec<Catalogue>>;

export type CheckerType = keyof typeof CHECKERS;
export type CheckerValues = BlockValues<(typeof CHECKERS)[CheckerType]["keywords"]>;

export interface CheckerBlock {
  type: CheckerType;
  values: CheckerValues;
  /** True when the block had only placeholders or nothing at all: keepalived's defaults apply. */
  empty: boolean;
}

function checker(type: CheckerType): Parser<CheckerBlock> {
  return (s, ctx) => {
    if (!needBlock(s, ctx)) return undefined;
    const spec: BlockSpec<Catalogue> = CHECKERS[type];
    const values = readBlock(
      spec as typeof CHECKERS.TCP_CHECK,
      s.block!.statements,
      ctx.sink,
    ) as CheckerValues;
    return { type, values, empty: Object.keys(values).length === 0 };
  };
}

const NO_CHECK_TYPE = (what: string) =>
  `kubelvs has no ${what} health check; the real server gets no check from this block`;

const COMMON_SERVER_TIMING = {
  connect_timeout: one(timer(0.001, 600)),
  retry: one(integer(0, 100)),
  delay_before_retry: one(timer(0, 600)),
  warmup: one(timer(0, 600)),
  delay_loop: one(timer(0.1, 86400)),
  virtualhost: one(text),
};

export const REAL_SERVER = {
  name: "real_server",
  keywords: {
    ...COMMON_SERVER_TIMING,
    weight: one(integer(0, 65535)),
    lvs_method: one(forwarding),
    lb_kind: one(forwarding),
    uthreshold: one(integer(0, 4294967295)),
    lthreshold: one(integer(0, 4294967295)),
    inhibit_on_failure: one(bool),
    notify_up: one(command),
    notify_down: one(command),
    TCP_CHECK: many(checker("TCP_CHECK")),
    HTTP_GET: many(checker("HTTP_GET")),
    SSL_GET: many(checker("SSL_GET")),
    MISC_CHECK: many(checker("MISC_CHECK")),
    UDP_CHECK: many(checker("UDP_CHECK")),
    DNS_CHECK: many(checker("DNS_CHECK")),
    alpha: unmapped("kubelvs sets the initial state per service (virtual_server alpha)", anything),
    SMTP_CHECK: unmapped(NO_CHECK_TYPE("SMTP"), anything),
    PING_CHECK: unmapped(NO_CHECK_TYPE("ICMP"), anything),
    BFD_CHECK: unmapped(NO_CHECK_TYPE("BFD"), anything),
    FILE_CHECK: unmapped(NO_CHECK_TYPE("file"), anything),
    smtp_alert: unmapped(NO_EMAIL, anything),
    snmp_name: unmapped(NO_SNMP, anything),
  },
} satisfies BlockSpec<Catalogue>;

export type RealServerValues = BlockValues<typeof REAL_SERVER.keywords>;

export interface RealServerBlock {
  address: IPAddress;
  port?: number;
  values: RealServerValues;
}

/** `real_server IP [PORT] { ... }`; the block may be left out for a server with no options. */
const realServer: Parser<RealServerBlock> = (s, ctx) => {
  const address = serverAddress(s, ctx, "real_server");
  if (address === undefined) return undefined;
  return { ...address, values: readBlock(REAL_SERVER, s.block?.statements ?? [], ctx.sink) };
};

const sorryServer: Parser<{ address: IPAddress; port?: number }> = (s, ctx) =>
  serverAddress(s, ctx, "sorry_server");

const persistenceTimeout: Parser<number> = (s, ctx) =>
  s.args.length === 0 ? 360 : integer(1, 2678400)(s, ctx);

export const SCHEDULER_NAMES = [
  "rr",
  "wrr",
  "lc",
  "wlc",
  "lblc",
  "lblcr",
  "dh",
  "sh",
  "sed",
  "nq",
  "fo",
  "ovf",
  "mh",
  "twos",
] as const;

export const VIRTUAL_SERVER = {
  name: "virtual_server",
  keywords: {
    ...COMMON_SERVER_TIMING,
    lb_algo: one(choice(SCHEDULER_NAMES)),
    lvs_sched: one(choice(SCHEDULER_NAMES)),
    lb_kind: one(forwarding),
    lvs_method: one(forwarding),
    protocol: one(choice(["TCP", "UDP", "SCTP"] as const)),
    persistence_timeout: one(persistenceTimeout),
    persistence_granularity: one(netmask),
    persistence_engine: one(choice(["sip"] as const)),
    ops: one(flag),
    "sh-port": one(flag),
    "sh-fallback": one(flag),
    "mh-port": one(flag),
    "mh-fallback": one(flag),
    "flag-1": one(flag),
    "flag-2": one(flag),
    "flag-3": unmapped("no kernel scheduler uses flag-3", anything),
    sorry_server: one(sorryServer),
    sorry_server_inhibit: one(flag),
    sorry_server_lvs_method: one(forwarding),
    quorum: one(integer(1, 4294967295)),
    hysteresis: one(integer(0, 4294967295)),
    quorum_up: one(command),
    quorum_down: one(command),
    alpha: one(bool),
    inhibit_on_failure: one(bool),
    ip_family: one(choice(["inet", "inet6"] as const)),
    real_server: many(realServer),
    omega: unmapped("kubelvs does not run quorum and notify_down commands on shutdown", anything),
    ha_suspend: unmapped("a kubelvs VirtualService is active only where its VIP is", anything),
    smtp_alert: unmapped(NO_EMAIL, anything),
    snmp_name: unmapped(NO_SNMP, anything),
    nat_mask: unmapped("obsolete in keepalived", anything),
    delay_loop_sec: unmapped("obsolete in keepalived", anything),
  },
} satisfies BlockSpec<Catalogue>;

export type VirtualServerValues = BlockValues<typeof VIRTUAL_SERVER.keywords>;

export type VirtualServerKey =
  | { kind: "address"; address: IPAddress; port?: number; words: Word[] }
  | { kind: "fwmark"; mark: number; words: Word[] }
  | { kind: "group"; name: Word; words: Word[] };

export interface VirtualServerBlock {
  key: VirtualServerKey;
  values: VirtualServerValues;
}

const virtualServer: Parser<VirtualServerBlock> = (s, ctx) => {
  if (!needBlock(s, ctx)) return undefined;
  const [first, second, ...rest] = s.args;
  const usage = "virtual_server needs <IPADDR> [<PORT>], fwmark <INTEGER> or group <NAME> before its {";
  if (first === undefined || rest.length > 0) {
    ctx.sink.error((rest[0] ?? s.keyword).loc, usage);
    return undefined;
  }
  let key: VirtualServerKey;
  if (first.text === "fwmark" || first.text === "group") {
    if (second === undefined) {
      ctx.sink.error(first.loc, usage);
      return undefined;
    }
    if (first.text === "group") key = { kind: "group", name: second, words: s.args };
    else {
      const mark = checked(second, ctx, "virtual_server fwmark", parseInteger(second.text, 1, 4294967295));
      if (mark === undefined) return undefined;
      key = { kind: "fwmark", mark, words: s.args };
    }
  } else {
    const address = ipWord(first, ctx, "virtual_server");
    if (address === undefined) return undefined;
    let p: number | undefined;
    if (second !== undefined) {
      p = checked(second, ctx, "virtual_server port", parseInteger(second.text, 0, 65535));
      if (p === undefined) return undefined;
    }
    key =
      p === undefined
        ? { kind: "address", address, words: s.args }
        : { kind: "address", address, port: p, words: s.args };
  }
  return { key, values: readBlock(VIRTUAL_SERVER, s.block!.statements, ctx.sink) };
};

// ---- virtual_server_group ----------------------------------------------------------------------

export type GroupMember =
  | { kind: "address"; addresses: IPAddress[]; port?: number }
  | { kind: "fwmark"; mark: number; family?: "inet" | "inet6" };

/** Lines of a virtual_server_group: `<IPADDR|RANGE> [<PORT>]` or `fwmark <INTEGER> [inet|inet6]`. */
const groupMemberEntry = (words: Word[], ctx: ReadContext): GroupMember | undefined => {
  const [first, second, ...rest] = words;
  if (rest.length > 0) {
    ctx.sink.error(rest[0]!.loc, `virtual_server_group: unexpected "${rest[0]!.text}"`);
    return undefined;
  }
  if (first!.text === "fwmark") {
    if (second === undefined) {
      ctx.sink.error(first!.loc, "virtual_server_group: fwmark needs a number");
      return undefined;
    }
    const mark = checked(second, ctx, "fwmark", parseInteger(second.text, 1, 4294967295));
    return mark === undefined ? undefined : { kind: "fwmark", mark };
  }
  let addresses: IPAddress[];
  const single = parseIP(first!.text);
  if (single !== undefined) addresses = [single];
  else {
    const range = checked(first!, ctx, "virtual_server_group", expandIPv4Range(first!.text, 256));
    if (range === undefined) return undefined;
    addresses = range.map((a) => ({ family: 4, text: a }));
  }
  if (second === undefined) return { kind: "address", addresses };
  const p = checked(second, ctx, "virtual_server_group port", parseInteger(second.text, 0, 65535));
  return p === undefined ? undefined : { kind: "address", addresses, port: p };
};

// ---- top level -----------------------------------------------------------------------------

const NOT_FOR_KUBELVS = (what: string) => `${what} are not part of kubelvs`;

export const TOP_LEVEL = {
  name: "the top level",
  keywords: {
    global_defs: many(block(GLOBAL_DEFS)),
    vrrp_script: many(named(VRRP_SCRIPT)),
    vrrp_sync_group: many(named(VRRP_SYNC_GROUP)),
    vrrp_instance: many(named(VRRP_INSTANCE)),
    virtual_server_group: many((s, ctx) => {
      const members = list(groupMemberEntry, "virtual_server_group")({ ...s, args: [] }, ctx);
      if (members === undefined) return undefined;
      if (s.args.length !== 1) {
        ctx.sink.error((s.args[1] ?? s.keyword).loc, "virtual_server_group needs one name before its {");
        return undefined;
      }
      return { name: s.args[0]!, members, statement: s };
    }),
    virtual_server: many(virtualServer),
    static_ipaddress: unmapped(NOT_FOR_KUBELVS("static addresses (they never move)"), anything),
    static_routes: unmapped(NOT_FOR_KUBELVS("static routes"), anything),
    static_rules: unmapped(NOT_FOR_KUBELVS("static rules"), anything),
    linkbeat_interfaces: unmapped(DAEMON_TUNING, anything),
    interface_up_down_delays: unmapped("kubelvs reacts to link changes at once", anything),
    track_group: unmapped(NOT_FOR_KUBELVS("static track groups"), anything),
    track_file: unmapped(OTHER_TRACKERS, anything),
    vrrp_track_file: unmapped(OTHER_TRACKERS, anything),
    vrrp_track_process: unmapped(OTHER_TRACKERS, anything),
    bfd_instance: unmapped(NO_BFD, anything),
    garp_group: unmapped(
      "kubelvs paces gratuitous ARPs per group (spec.gratuitousARP.intervalMillis)",
      anything,
    ),
    SSL: unmapped("kubelvs HTTPS checks present no client certificate", anything),
    net_namespace: unmapped(DAEMON_TUNING, anything),
    net_namespace_ipvs: unmapped(DAEMON_TUNING, anything),
    namespace_with_ipsets: unmapped(DAEMON_TUNING, anything),
    instance: unmapped(DAEMON_TUNING, anything),
    use_pid_dir: unmapped(DAEMON_TUNING, anything),
    linkbeat_use_polling: unmapped(DAEMON_TUNING, anything),
    child_wait_time: unmapped(DAEMON_TUNING, anything),
  },
  mistakes: {
    vrrp_port: GLOBAL_DEFS.mistakes.vrrp_port,
  },
} satisfies BlockSpec<Catalogue>;

export type TopLevelValues = BlockValues<typeof TOP_LEVEL.keywords>;
export type InstanceValues = BlockValues<typeof VRRP_INSTANCE.keywords>;
export type ScriptValues = BlockValues<typeof VRRP_SCRIPT.keywords>;
export type SyncGroupValues = BlockValues<typeof VRRP_SYNC_GROUP.keywords>;
export type GlobalValues = BlockValues<typeof GLOBAL_DEFS.keywords>;
export type UrlValues = BlockValues<typeof URL.keywords>;
