// keepalived.conf for one lab node, written from a plain description of its VRRP instances, so
// lab tests and the failover benchmark can put real keepalived 2.2.7 daemons next to kubelvs agents.
// Pure: the daemon module writes the text to a file.

export interface KeepalivedVirtualIP {
  address: string;
  prefixLength: number;
}

export interface KeepalivedInstance {
  /** vrrp_instance name (the name in keepalived's log lines: "(NAME) Entering MASTER STATE"). */
  name: string;
  interface: string;
  vrid: number;
  version: 2 | 3;
  priority: number;
  /** Advert interval; version 2 carries whole seconds, version 3 centiseconds. */
  advertIntervalMs: number;
  virtualIPs: readonly KeepalivedVirtualIP[];
  /** Unicast mode: the peers' addresses (absent or empty: multicast). */
  unicastPeers?: readonly string[];
  /** Source of unicast adverts (keepalived's default is the interface's primary address). */
  unicastSource?: string;
  /** Version 2 simple password (auth_type PASS), at most 8 bytes. */
  authPassword?: string;
  /** false = nopreempt (keepalived then wants "state BACKUP", which is what is written anyway). */
  preempt?: boolean;
  /** keepalived's "state" start-up hint; default BACKUP, so the election alone decides. */
  initialState?: "MASTER" | "BACKUP";
}

export interface KeepalivedConfig {
  /** global_defs router_id (shows in keepalived's notifications; the node name is a good choice). */
  routerId: string;
  instances: readonly KeepalivedInstance[];
}

/** keepalived's advert_int in seconds, checked against what the VRRP version can carry. */
export function advertIntervalSeconds(
  instance: Pick<KeepalivedInstance, "name" | "version" | "advertIntervalMs">,
): string {
  const { name, version, advertIntervalMs: ms } = instance;
  if (version === 2 && (ms % 1000 !== 0 || ms < 1000 || ms > 255_000))
    throw new RangeError(
      `keepalived instance ${name}: version 2 advert interval ${ms} ms is not whole seconds 1-255`,
    );
  if (version === 3 && (ms % 10 !== 0 || ms < 10 || ms > 40_950))
    throw new RangeError(
      `keepalived instance ${name}: version 3 advert interval ${ms} ms is not centiseconds 10-40950`,
    );
  return String(ms / 1000);
}

function instanceBlock(instance: KeepalivedInstance): string[] {
  const { name } = instance;
  if (!/^[A-Za-z0-9_.-]+$/.test(name))
    throw new Error(`keepalived instance name ${JSON.stringify(name)}: use letters, digits, _ . -`);
  if (instance.authPassword !== undefined) {
    if (instance.version !== 2)
      throw new Error(`keepalived instance ${name}: authentication exists only in version 2`);
    if (!/^[\x21-\x7e]{1,8}$/.test(instance.authPassword))
      throw new Error(
        `keepalived instance ${name}: auth_pass must be 1-8 printable characters without spaces`,
      );
  }
  const lines = [
    `vrrp_instance ${name} {`,
    `  state ${instance.initialState ?? "BACKUP"}`,
    `  interface ${instance.interface}`,
    `  virtual_router_id ${instance.vrid}`,
    `  version ${instance.version}`,
    `  priority ${instance.priority}`,
    `  advert_int ${advertIntervalSeconds(instance)}`,
  ];
  if (instance.preempt === false) lines.push("  nopreempt");
  if (instance.authPassword !== undefined) {
    lines.push("  authentication {", "    auth_type PASS", `    auth_pass ${instance.authPassword}`, "  }");
  }
  if (instance.unicastSource !== undefined) lines.push(`  unicast_src_ip ${instance.unicastSource}`);
  if (instance.unicastPeers !== undefined && instance.unicastPeers.length > 0) {
    lines.push("  unicast_peer {", ...instance.unicastPeers.map((p) => `    ${p}`), "  }");
  }
  lines.push(
    "  virtual_ipaddress {",
    ...instance.virtualIPs.map((v) => `    ${v.address}/${v.prefixLength}`),
    "  }",
    "}",
  );
  return lines;
}

export function renderKeepalivedConf(config: KeepalivedConfig): string {
  return [
    "# written by kubelvs e2e/keepalived for a lab node",
    "global_defs {",
    `  router_id ${config.routerId}`,
    "}",
    ...config.instances.flatMap((i) => ["", ...instanceBlock(i)]),
    "",
  ].join("\n");
}
