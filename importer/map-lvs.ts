// virtual_server (ip port | fwmark | group) with its real_servers and checkers → VirtualService
// specs. keepalived's inheritance is applied on the way: options set on the virtual server are
// the defaults of its real servers, whose options are the defaults of their checkers.
import type { SourceLocation, Word } from "./ast.js";
import type {
  CheckerBlock,
  GroupMember,
  RealServerBlock,
  UrlValues,
  VirtualServerBlock,
  VirtualServerValues,
} from "./catalogue.js";
import type { HealthCheck, RealServer, VirtualServiceSpec } from "../crds/schema/virtual-service.js";
import { type DiagnosticSink, formatLocation } from "./diagnostics.js";
import { firewallMarkServiceName, serviceName } from "./names.js";
import type { Located } from "./read-block.js";
import type { KeepalivedConfig } from "./read-config.js";
import type { ForwardingMethod, ScriptCommand } from "./value-forms.js";
import type { IPAddress } from "./values.js";

export interface ImportedService {
  name: string;
  loc: SourceLocation;
  /** What the service was declared as, for messages ("virtual_server 198.51.100.1 80"). */
  title: string;
  spec: VirtualServiceSpec;
}

const DEFAULT_DELAY_LOOP_MILLIS = 60_000;
const DEFAULT_CONNECT_TIMEOUT_MILLIS = 5000;

type Forwarding = NonNullable<VirtualServiceSpec["forwarding"]>;

function forwardingOf(method: ForwardingMethod): Forwarding {
  const forwarding: Forwarding = { method: method.method };
  if (method.method === "TUN" && (method.tunnelType !== undefined || method.checksum !== undefined)) {
    const tunnel: NonNullable<Forwarding["tunnel"]> = {};
    if (method.tunnelType !== undefined)
      tunnel.type = method.tunnelType === "ipip" ? "IPIP" : method.tunnelType === "gue" ? "GUE" : "GRE";
    if (method.tunnelPort !== undefined) tunnel.port = method.tunnelPort;
    if (method.checksum !== undefined) {
      tunnel.checksum =
        method.checksum === "nocsum" ? "None" : method.checksum === "csum" ? "Checksum" : "RemoteChecksum";
    }
    forwarding.tunnel = tunnel;
  }
  return forwarding;
}

function commandOf(c: Located<ScriptCommand>, what: string, sink: DiagnosticSink): string[] {
  if (c.value.user !== undefined) {
    sink.warning(
      c.value.user.loc,
      `${what}: the user "${c.value.user.text}" is ignored: kubelvs runs commands in the agent's context`,
    );
  }
  return c.value.argv;
}

/** keepalived's UDP_CHECK hex format ("Ab12f 3 456": pairs from the left, a lone digit is 0X) → hex. */
export function normaliseHex(text: string): string | undefined {
  let out = "";
  for (const group of text.split(/\s+/).filter((g) => g !== "")) {
    if (!/^[0-9a-fA-F]+$/.test(group)) return undefined;
    for (let i = 0; i < group.length; i += 2)
      out += group.length - i === 1 ? `0${group[i]}` : group.slice(i, i + 2);
  }
  return out.toLowerCase();
}

/** Timing options that cascade virtual server → real server → checker. */
interface Timing {
  delayLoop?: number;
  connectTimeout?: number;
  retry?: Located<number>;
  delayBeforeRetry?: number;
  warmup?: number;
  virtualhost?: string;
}

function timingOf(values: {
  delay_loop?: Located<number>;
  connect_timeout?: Located<number>;
  retry?: Located<number>;
  nb_get_retry?: Located<number>;
  delay_before_retry?: Located<number>;
  warmup?: Located<number>;
  virtualhost?: Located<string>;
}): Timing {
  const t: Timing = {};
  if (values.delay_loop) t.delayLoop = values.delay_loop.value;
  if (values.connect_timeout) t.connectTimeout = values.connect_timeout.value;
  if (values.retry ?? values.nb_get_retry) t.retry = (values.retry ?? values.nb_get_retry)!;
  if (values.delay_before_retry) t.delayBeforeRetry = values.delay_before_retry.value;
  if (values.warmup) t.warmup = values.warmup.value;
  if (values.virtualhost) t.virtualhost = values.virtualhost.value;
  return t;
}

function cascade(...levels: Timing[]): Timing {
  const out: Timing = {};
  for (const level of levels) {
    for (const [k, v] of Object.entries(level)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

const CHECK_TYPE: Record<CheckerBlock["type"], HealthCheck["type"]> = {
  TCP_CHECK: "TCP",
  HTTP_GET: "HTTP",
  SSL_GET: "HTTPS",
  MISC_CHECK: "Exec",
  UDP_CHECK: "UDP",
  DNS_CHECK: "DNS",
};

function httpPaths(
  type: string,
  urls: Located<UrlValues>[],
  sink: DiagnosticSink,
): NonNullable<HealthCheck["http"]>["paths"] | undefined {
  const paths: NonNullable<HealthCheck["http"]>["paths"] = [];
  for (const url of urls) {
    const u = url.value;
    if (u.path === undefined) {
      sink.error(url.loc, `${type} url needs a path (e.g. path /healthz)`);
      return undefined;
    }
    const path: (typeof paths)[number] = { path: u.path.value };
    if (u.status_code !== undefined) {
      const codes = u.status_code.value.codes;
      const isDefault = codes.length === 100 && codes[0] === 200 && codes[99] === 299;
      if (!isDefault) {
        if (codes.length > 32) {
          sink.error(
            u.status_code.loc,
            `status_code accepts ${codes.length} codes; kubelvs lists at most 32 status codes per path (the default is any 2xx)`,
          );
          return undefined;
        }
        path.statusCodes = codes;
      }
    }
    if (u.digest !== undefined) path.digest = u.digest.value;
    if (u.regex !== undefined) {
      if (u.regex_no_match !== undefined) {
        sink.warning(
          u.regex_no_match.loc,
          `regex_no_match (fail when the body matches) has no kubelvs equivalent; the regex is dropped rather than inverted`,
        );
      } else {
        try {
          new RegExp(u.regex.value);
          path.bodyRegex = u.regex.value;
        } catch (e) {
          sink.error(u.regex.statement.args[0]!.loc, `regex: ${(e as Error).message}`);
          return undefined;
        }
      }
    }
    paths.push(path);
  }
  return paths;
}

function healthCheck(
  checker: Located<CheckerBlock>,
  inherited: Timing,
  serverPort: number,
  sink: DiagnosticSink,
): HealthCheck | undefined {
  const { type, values } = checker.value;
  const v = values as Partial<Record<string, Located<unknown>>> & typeof values;
  const t = cascade(inherited, timingOf(v));
  const check: HealthCheck = { type: CHECK_TYPE[type] };
  const delayLoop = t.delayLoop ?? DEFAULT_DELAY_LOOP_MILLIS;
  check.intervalMillis = delayLoop;
  const misc = type === "MISC_CHECK" ? (v as { misc_timeout?: Located<number> }).misc_timeout : undefined;
  check.connectTimeoutMillis =
    misc?.value ?? (type === "MISC_CHECK" ? delayLoop : (t.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_MILLIS));
  const defaultRetry = type === "DNS_CHECK" ? 3 : type === "MISC_CHECK" ? 0 : 1;
  check.retries = t.retry?.value ?? defaultRetry;
  const defaultDelay =
    type === "HTTP_GET" || type === "SSL_GET" ? 3000 : type === "DNS_CHECK" ? delayLoop : 1000;
  check.retryDelayMillis = t.delayBeforeRetry ?? defaultDelay;
  if (t.warmup !== undefined) check.warmupMillis = t.warmup;
  const connectPort = (v as { connect_port?: Located<number> }).connect_port;
  if (connectPort !== undefined && connectPort.value !== serverPort) check.port = connectPort.value;
  const bindto = (v as { bindto?: Located<IPAddress> }).bindto;
  if (bindto !== undefined) check.sourceAddress = bindto.value.text;

  if (type === "HTTP_GET" || type === "SSL_GET") {
    const hv = values as {
      url?: Located<UrlValues>[];
      enable_sni?: Located<true>;
      sni_name?: Located<string>;
    };
    const urls = hv.url ?? [];
    if (urls.length === 0) {
      sink.error(checker.loc, `${type} needs at least one url { path ... } to fetch`);
      return undefined;
    }
    const paths = httpPaths(type, urls, sink);
    if (paths === undefined) return undefined;
    const http: NonNullable<HealthCheck["http"]> = { paths };
    const urlHosts = urls.map((u) => u.value.virtualhost).filter((h) => h !== undefined);
    const host = urlHosts[0]?.value ?? t.virtualhost;
    if (
      urlHosts.some((h) => h.value !== urlHosts[0]!.value) ||
      (urlHosts.length > 0 && urlHosts.length < urls.length && t.virtualhost !== urlHosts[0]!.value)
    ) {
      sink.warning(
        urlHosts[0]!.loc,
        `${type}: kubelvs sends one Host header per check; "${host}" is used for every url`,
      );
    }
    if (host !== undefined) http.virtualHost = host;
    if (type === "SSL_GET" && hv.enable_sni !== undefined) {
      const sni = hv.sni_name?.value ?? host;
      if (sni !== undefined && sni !== host) http.serverName = sni;
    }
    check.http = http;
  } else if (type === "MISC_CHECK") {
    const mv = values as { misc_path?: Located<ScriptCommand>; misc_dynamic?: Located<true> };
    if (mv.misc_path === undefined) {
      sink.error(checker.loc, `MISC_CHECK needs misc_path (the command to run)`);
      return undefined;
    }
    check.exec = { command: commandOf(mv.misc_path, "MISC_CHECK misc_path", sink) };
    if (mv.misc_dynamic !== undefined) check.exec.dynamicWeight = true;
  } else if (type === "UDP_CHECK") {
    const uv = values as { payload?: Located<string>; require_reply?: Located<string> };
    const udp: NonNullable<HealthCheck["udp"]> = {};
    if (uv.payload !== undefined) {
      const hex = normaliseHex(uv.payload.value);
      if (hex === undefined) {
        sink.error(uv.payload.statement.args[0]!.loc, `payload: "${uv.payload.value}" is not hexadecimal`);
        return undefined;
      }
      udp.payload = hex;
    }
    if (uv.require_reply !== undefined) {
      udp.requireReply = true;
      if (uv.require_reply.value !== "") {
        sink.warning(
          uv.require_reply.loc,
          `require_reply: kubelvs requires a reply but does not compare it with "${uv.require_reply.value}"`,
        );
      }
    }
    if (Object.keys(udp).length > 0) check.udp = udp;
  } else if (type === "DNS_CHECK") {
    const dv = values as {
      type?: Located<"A" | "NS" | "CNAME" | "SOA" | "MX" | "TXT" | "AAAA">;
      name?: Located<string>;
    };
    check.dns = {};
    if (dv.type !== undefined) check.dns.type = dv.type.value;
    if (dv.name !== undefined) check.dns.name = dv.name.value;
  }
  if (checker.value.empty) {
    sink.warning(
      checker.loc,
      `${type} sets no options: keepalived runs it with its defaults and so does kubelvs (${describeDefaults(check, serverPort)})`,
    );
  }
  return check;
}

function describeDefaults(check: HealthCheck, port: number): string {
  return `port ${check.port ?? port}, every ${(check.intervalMillis ?? 0) / 1000} s, timeout ${(check.connectTimeoutMillis ?? 0) / 1000} s, ${check.retries} ${check.retries === 1 ? "retry" : "retries"}, ${(check.retryDelayMillis ?? 0) / 1000} s between retries`;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

interface ServiceIdentity {
  address?: IPAddress;
  port?: number;
  firewallMark?: number;
  family?: "IPv4" | "IPv6";
  loc: SourceLocation;
  title: string;
}

function identities(
  block: Located<VirtualServerBlock>,
  config: KeepalivedConfig,
  sink: DiagnosticSink,
): ServiceIdentity[] {
  const key = block.value.key;
  const words = key.words.map((w: Word) => w.text).join(" ");
  const title = `virtual_server ${words}`;
  if (key.kind === "address") return [{ address: key.address, port: key.port, loc: block.loc, title }];
  if (key.kind === "fwmark") {
    const ipFamily = block.value.values.ip_family?.value;
    return [
      {
        firewallMark: key.mark,
        family: ipFamily === "inet6" ? "IPv6" : ipFamily === "inet" ? "IPv4" : undefined,
        loc: block.loc,
        title,
      },
    ];
  }
  const group = config.virtualServerGroups.get(key.name.text);
  if (group === undefined) {
    sink.error(key.name.loc, `${title}: no virtual_server_group "${key.name.text}" is defined`);
    return [];
  }
  const out: ServiceIdentity[] = [];
  for (const member of group.members) {
    const m: GroupMember = member.value;
    if (m.kind === "fwmark") {
      out.push({ firewallMark: m.mark, loc: member.loc, title: `${title} (fwmark ${m.mark})` });
    } else {
      for (const address of m.addresses) {
        out.push({
          address,
          port: m.port,
          loc: member.loc,
          title: `${title} (${address.text}${m.port === undefined ? "" : ` ${m.port}`})`,
        });
      }
    }
  }
  if (out.length === 0) sink.error(group.name.loc, `virtual_server_group ${group.name.text} has no members`);
  return out;
}

export function mapVirtualServers(config: KeepalivedConfig, sink: DiagnosticSink): ImportedService[] {
  const services: ImportedService[] = [];
  const byName = new Map<string, ImportedService>();
  for (const block of config.virtualServers) {
    for (const identity of identities(block, config, sink)) {
      const realServerLines =
        block.statement.block?.statements.filter((st) => st.keyword.text === "real_server").length ?? 0;
      const service = mapVirtualServer(block.value.values, identity, realServerLines, sink);
      if (service === undefined) continue;
      const first = byName.get(service.name);
      if (first !== undefined) {
        sink.error(
          identity.loc,
          `${identity.title} is the same IPVS service as ${first.title} (${formatLocation(first.loc)})`,
        );
        continue;
      }
      byName.set(service.name, service);
      services.push(service);
    }
  }
  return services;
}

function mapVirtualServer(
  v: VirtualServerValues,
  id: ServiceIdentity,
  realServerLines: number,
  sink: DiagnosticSink,
): ImportedService | undefined {
  const errorsBefore = sink.errors.length;
  const protocol = v.protocol?.value ?? "TCP";
  const spec: VirtualServiceSpec = { realServers: [] };
  let virtualPort = 0;
  let name: string;
  if (id.address !== undefined) {
    spec.virtualIP = id.address.text;
    if (id.port === undefined && v.persistence_timeout === undefined) {
      sink.error(
        id.loc,
        `${id.title}: a virtual server without a port must be persistent (persistence_timeout); give the port`,
      );
    }
    virtualPort = id.port ?? 0;
    spec.port = virtualPort;
    spec.protocol = protocol;
    name = serviceName(id.address, virtualPort, protocol);
  } else {
    spec.firewallMark = id.firewallMark!;
    if (id.family !== undefined) spec.addressFamily = id.family;
    if (v.protocol !== undefined)
      sink.warning(
        v.protocol.loc,
        `${id.title}: protocol is ignored for a firewall-mark service (as keepalived does)`,
      );
    name = firewallMarkServiceName(id.firewallMark!, id.family);
  }

  const scheduler = (v.lvs_sched ?? v.lb_algo)?.value ?? "wlc";
  if (scheduler === "twos") {
    sink.error(
      (v.lvs_sched ?? v.lb_algo)!.statement.args[0]!.loc,
      `${id.title}: the "twos" scheduler is not supported by kubelvs (one of rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh)`,
    );
    return undefined;
  }
  spec.scheduler = scheduler;
  const fallback = v["sh-fallback"] ?? v["mh-fallback"] ?? v["flag-1"];
  const hashPort = v["sh-port"] ?? v["mh-port"] ?? v["flag-2"];
  if (fallback !== undefined || hashPort !== undefined) {
    if (scheduler === "sh" || scheduler === "mh") {
      spec.schedulerFlags = {};
      if (fallback !== undefined) spec.schedulerFlags.fallback = true;
      if (hashPort !== undefined) spec.schedulerFlags.port = true;
    } else {
      sink.warning(
        (fallback ?? hashPort)!.loc,
        `${id.title}: scheduler flags apply to sh and mh only; ignored for ${scheduler}`,
      );
    }
  }
  const method = (v.lvs_method ?? v.lb_kind)?.value ?? { method: "NAT" as const };
  spec.forwarding = forwardingOf(method);
  if (v.persistence_timeout !== undefined) {
    spec.persistence = { timeoutSeconds: v.persistence_timeout.value };
    if (v.persistence_granularity !== undefined) {
      const max = id.address?.family === 6 || id.family === "IPv6" ? 128 : 32;
      if (v.persistence_granularity.value > max) {
        sink.error(
          v.persistence_granularity.statement.args[0]!.loc,
          `${id.title}: persistence_granularity /${v.persistence_granularity.value} is longer than an address (/${max})`,
        );
      } else spec.persistence.granularityPrefixLength = v.persistence_granularity.value;
    }
    if (v.persistence_engine !== undefined) spec.persistence.engine = v.persistence_engine.value;
  } else if (v.persistence_granularity !== undefined || v.persistence_engine !== undefined) {
    sink.warning(
      (v.persistence_granularity ?? v.persistence_engine)!.loc,
      `${id.title}: persistence options without persistence_timeout are ignored (as keepalived does)`,
    );
  }
  if (v.ops !== undefined) {
    if (protocol === "UDP" || spec.firewallMark !== undefined) spec.onePacketScheduling = true;
    else
      sink.warning(
        v.ops.loc,
        `${id.title}: ops (one-packet scheduling) applies to UDP services only; ignored`,
      );
  }
  if (v.alpha?.value === true) spec.initialState = "Unhealthy";
  const inhibit = v.inhibit_on_failure?.value === true;
  if (inhibit) spec.failureAction = "Inhibit";

  if (v.sorry_server !== undefined) {
    const sorry: NonNullable<VirtualServiceSpec["sorryServer"]> = {
      address: v.sorry_server.value.address.text,
    };
    const p = v.sorry_server.value.port;
    if (p !== undefined && p !== 0 && p !== virtualPort)
      sink.warning(v.sorry_server.loc, `${id.title}: sorry_server port ${p} differs from the virtual port`);
    if (p !== undefined && p !== 0) sorry.port = p;
    if (v.sorry_server_lvs_method !== undefined)
      sorry.forwarding = forwardingOf(v.sorry_server_lvs_method.value);
    if (v.sorry_server_inhibit !== undefined) sorry.inhibit = true;
    spec.sorryServer = sorry;
  } else if (v.sorry_server_inhibit !== undefined || v.sorry_server_lvs_method !== undefined) {
    sink.warning(
      (v.sorry_server_inhibit ?? v.sorry_server_lvs_method)!.loc,
      `${id.title}: sorry_server options without a sorry_server are ignored`,
    );
  }

  if (
    v.quorum !== undefined ||
    v.hysteresis !== undefined ||
    v.quorum_up !== undefined ||
    v.quorum_down !== undefined
  ) {
    const quorum: NonNullable<VirtualServiceSpec["quorum"]> = {};
    if (v.quorum !== undefined) quorum.minimumWeight = v.quorum.value;
    if (v.hysteresis !== undefined) {
      if (v.hysteresis.value >= (v.quorum?.value ?? 1)) {
        sink.error(
          v.hysteresis.statement.args[0]!.loc,
          `${id.title}: hysteresis ${v.hysteresis.value} must be smaller than the quorum (${v.quorum?.value ?? 1})`,
        );
      } else quorum.hysteresis = v.hysteresis.value;
    }
    if (v.quorum_up !== undefined) quorum.up = commandOf(v.quorum_up, "quorum_up", sink);
    if (v.quorum_down !== undefined) quorum.down = commandOf(v.quorum_down, "quorum_down", sink);
    spec.quorum = quorum;
  }

  const serviceTiming = timingOf(v);
  const realServers = v.real_server ?? [];
  if (realServerLines === 0) {
    sink.warning(
      id.loc,
      `${id.title} has no real_server${spec.sorryServer ? "; only the sorry server will take traffic" : ": the service accepts connections but has nowhere to send them"}`,
    );
  }
  const checks: (HealthCheck | undefined)[] = [];
  const seen = new Map<string, SourceLocation>();
  for (const rs of realServers) {
    const mapped = mapRealServer(rs, spec, virtualPort, method, inhibit, serviceTiming, id, sink);
    if (mapped === undefined) continue;
    const key = `${mapped.server.address}:${mapped.server.port}`;
    const first = seen.get(key);
    if (first !== undefined) {
      sink.error(
        rs.loc,
        `${id.title}: real_server ${key} is listed twice (first at ${formatLocation(first)})`,
      );
      continue;
    }
    seen.set(key, rs.loc);
    spec.realServers.push(mapped.server);
    checks.push(mapped.check);
  }
  // One check shared by every real server becomes the service's default check.
  if (checks.length > 0 && checks[0] !== undefined && checks.every((c) => sameJson(c, checks[0]))) {
    spec.healthCheck = checks[0];
  } else {
    spec.realServers.forEach((server, i) => {
      const check = checks[i];
      if (check !== undefined) server.healthCheck = check;
    });
  }
  if (sink.errors.length > errorsBefore) return undefined;
  return { name, loc: id.loc, title: id.title, spec };
}

function mapRealServer(
  rs: Located<RealServerBlock>,
  service: VirtualServiceSpec,
  virtualPort: number,
  serviceMethod: ForwardingMethod,
  serviceInhibit: boolean,
  serviceTiming: Timing,
  id: ServiceIdentity,
  sink: DiagnosticSink,
): { server: RealServer; check?: HealthCheck } | undefined {
  const v = rs.value.values;
  const title = `real_server ${rs.value.address.text}`;
  const family = id.address?.family;
  const method = (v.lvs_method ?? v.lb_kind)?.value ?? serviceMethod;
  if (family !== undefined && rs.value.address.family !== family && method.method !== "TUN") {
    sink.error(
      rs.statement.args[0]!.loc,
      `${id.title}: ${title} is IPv${rs.value.address.family} but the virtual server is IPv${family}; only tunnelled real servers may differ`,
    );
    return undefined;
  }
  let port = rs.value.port ?? virtualPort;
  if (method.method !== "NAT" && service.port !== undefined && port !== service.port) {
    sink.warning(
      rs.statement.args[1]?.loc ?? rs.loc,
      `${id.title}: ${title} port ${port} cannot differ from the virtual port with ${method.method} forwarding (IPVS does not rewrite ports); the virtual port ${service.port} is used`,
    );
    port = service.port;
  }
  const server: RealServer = { address: rs.value.address.text, port };
  server.weight = v.weight?.value ?? 1;
  if (v.uthreshold !== undefined) server.upperThreshold = v.uthreshold.value;
  if (v.lthreshold !== undefined) server.lowerThreshold = v.lthreshold.value;
  if ((v.lvs_method ?? v.lb_kind) !== undefined && !sameJson(forwardingOf(method), service.forwarding)) {
    server.forwarding = forwardingOf(method);
  }
  if (v.inhibit_on_failure !== undefined && v.inhibit_on_failure.value !== serviceInhibit) {
    server.failureAction = v.inhibit_on_failure.value ? "Inhibit" : "Remove";
  }
  if (v.notify_up !== undefined || v.notify_down !== undefined) {
    server.notify = {};
    if (v.notify_up !== undefined) server.notify.up = commandOf(v.notify_up, `${title} notify_up`, sink);
    if (v.notify_down !== undefined)
      server.notify.down = commandOf(v.notify_down, `${title} notify_down`, sink);
  }
  const checkers = [
    ...(v.TCP_CHECK ?? []),
    ...(v.HTTP_GET ?? []),
    ...(v.SSL_GET ?? []),
    ...(v.MISC_CHECK ?? []),
    ...(v.UDP_CHECK ?? []),
    ...(v.DNS_CHECK ?? []),
  ].sort((a, b) => a.loc.line - b.loc.line || a.loc.column - b.loc.column);
  const timing = cascade(serviceTiming, timingOf(v));
  let check: HealthCheck | undefined;
  checkers.forEach((checker, i) => {
    if (i === 0) {
      check = healthCheck(checker, timing, port, sink);
      return;
    }
    sink.warning(
      checker.loc,
      `${title}: kubelvs runs one health check per real server; this ${checker.value.type} is dropped (the ${checkers[0]!.value.type} at ${formatLocation(checkers[0]!.loc)} is kept)`,
    );
  });
  return check === undefined ? { server } : { server, check };
}
