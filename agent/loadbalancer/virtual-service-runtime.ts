// One VirtualService on this node at run time: its real servers' health (keepalived checker
// state), its quorum, and from those the service the kernel should hold. Pure (no I/O): the load
// balancer feeds it check results and acts on the events it returns.
//
// The table a VirtualService asks for, keepalived's rules:
// - a healthy real server is in the table with its configured weight (or the weight its Exec check
//   asked for); an unhealthy one is removed (failureAction Remove) or kept at weight 0 (Inhibit);
// - while the quorum is lost and a sorry server is configured, the sorry server takes the traffic
//   (weight 1) in place of the remaining healthy servers; otherwise it is absent (or at weight 0
//   with inhibit). Without a sorry server the quorum only runs its up/down commands.
import type { NodeVirtualService } from "../../crds/schema/node-state.js";
import type { HealthCheck, RealServer, VirtualServiceSpec } from "../../crds/schema/virtual-service.js";
import { serviceKeyId, type IpvsDestination, type IpvsService } from "../../native/ipvs/model.js";
import { CheckerState, type Verdict } from "../health/checker-state.js";
import { checkTiming, type CheckTiming, type Probe, type ProbeResult } from "../health/probe.js";
import { probeFor } from "../health/probes.js";
import { QuorumState, type QuorumChange } from "../health/quorum.js";
import {
  configuredWeight,
  desiredService,
  destinationId,
  drainTimeoutMsOf,
  ipvsServiceOf,
  realServerDestination,
  sorryServerDestination,
  type DesiredService,
} from "../ipvs/desired.js";

export interface RealServerRuntime {
  readonly server: RealServer;
  /** destinationId of the real server (canonical address/port). */
  readonly id: string;
  readonly address: string;
  /** The effective check (the server's own or the service's); undefined: always healthy. */
  readonly check: HealthCheck | undefined;
  readonly timing: CheckTiming | undefined;
  readonly probe: Probe | undefined;
  /** Undefined when there is no check. */
  readonly checker: CheckerState | undefined;
  /** What identifies the check: the same key across a reload keeps the checker's state. */
  readonly checkKey: string;
}

export interface CheckEvents {
  /** The server's health changed (or its first verdict when it started down): run notify up/down. */
  readonly notify?: Verdict;
  readonly quorum?: QuorumChange;
  /** The service's table changed. */
  readonly tableChanged: boolean;
  readonly nextDelayMs: number;
}

export class VirtualServiceRuntime {
  /** "namespace/name". */
  readonly id: string;
  readonly namespace: string;
  readonly name: string;
  readonly group: string;
  readonly spec: VirtualServiceSpec;
  readonly service: IpvsService;
  /** serviceKeyId of the IPVS service. */
  readonly serviceId: string;
  readonly realServers: ReadonlyMap<string, RealServerRuntime>;
  readonly quorum: QuorumState;
  /** The JSON of the entry this runtime was built from, to recognise an unchanged one cheaply. */
  readonly source: string;

  /**
   * Builds the runtime for an entry; `previous` (the same VirtualService before a reload) passes on
   * the state of every check whose target and settings did not change, and the quorum state.
   */
  constructor(entry: NodeVirtualService, source: string, previous?: VirtualServiceRuntime) {
    this.id = `${entry.namespace}/${entry.name}`;
    this.namespace = entry.namespace;
    this.name = entry.name;
    this.group = entry.vrrpGroup;
    this.spec = entry.spec;
    this.source = source;
    this.service = ipvsServiceOf(entry.spec);
    this.serviceId = serviceKeyId(this.service.key);
    const initiallyHealthy = entry.spec.initialState !== "Unhealthy";
    const servers = new Map<string, RealServerRuntime>();
    for (const server of entry.spec.realServers) {
      const destination = realServerDestination(entry.spec, server, 0);
      const id = destinationId(destination);
      const check = effectiveCheck(server, entry.spec);
      const checkKey = JSON.stringify([check, initiallyHealthy]);
      const kept = previous?.realServers.get(id);
      const timing = check === undefined ? undefined : checkTiming(check);
      servers.set(id, {
        server,
        id,
        address: destination.address,
        check,
        timing,
        probe: check === undefined ? undefined : probeFor(check),
        checker:
          kept !== undefined && kept.checkKey === checkKey
            ? kept.checker
            : timing === undefined
              ? undefined
              : new CheckerState(timing, initiallyHealthy),
        checkKey,
      });
    }
    this.realServers = servers;
    const { minimumWeight, hysteresis } = quorumSettings(entry.spec);
    if (previous !== undefined) {
      this.quorum = previous.quorum;
      this.quorum.configure(minimumWeight, hysteresis);
    } else {
      this.quorum = new QuorumState(minimumWeight, hysteresis, this.healthyWeight());
    }
  }

  healthy(server: RealServerRuntime): boolean {
    return server.checker?.healthy ?? true;
  }

  /** The weight a healthy server has in the table (dynamic weight when its check set one). */
  effectiveWeight(server: RealServerRuntime): number {
    return server.checker?.weight ?? configuredWeight(server.server);
  }

  /** Sum of the healthy servers' weights: what the quorum measures. */
  healthyWeight(): number {
    let sum = 0;
    for (const server of this.realServers.values())
      if (this.healthy(server)) sum += this.effectiveWeight(server);
    return sum;
  }

  /** True while the sorry server takes the traffic. */
  get sorryInUse(): boolean {
    return this.spec.sorryServer !== undefined && !this.quorum.up;
  }

  /** The service as the kernel should hold it now. */
  desired(): DesiredService {
    const destinations = new Map<string, IpvsDestination>();
    const sorry = this.sorryInUse;
    for (const server of this.realServers.values()) {
      const inhibit = (server.server.failureAction ?? this.spec.failureAction ?? "Remove") === "Inhibit";
      // A server out of the pool (unhealthy, or replaced by the sorry server) is removed, or kept at
      // weight 0 with Inhibit so its established connections finish.
      const inPool = this.healthy(server) && !sorry;
      if (!inPool && !inhibit) continue;
      const weight = inPool ? this.effectiveWeight(server) : 0;
      destinations.set(server.id, realServerDestination(this.spec, server.server, weight));
    }
    const sorryServer = sorryServerDestination(this.spec, sorry ? 1 : 0);
    if (sorryServer !== undefined) {
      const id = destinationId(sorryServer);
      if (sorry) destinations.set(id, sorryServer);
      else if (this.spec.sorryServer?.inhibit === true && !destinations.has(id))
        destinations.set(id, sorryServer);
    }
    return desiredService(this.id, this.service, destinations.values(), {
      drainTimeoutMs: drainTimeoutMsOf(this.spec),
    });
  }

  /** A check result for one real server: updates its health and the quorum; says what follows. */
  recordCheck(id: string, result: ProbeResult, at: Date = new Date()): CheckEvents {
    const server = this.realServers.get(id);
    if (server?.checker === undefined) throw new Error(`${this.id}: no checked real server ${id}`);
    const wasHealthy = server.checker.healthy;
    const outcome = server.checker.record(result, at);
    const healthChanged = wasHealthy !== server.checker.healthy;
    const quorum =
      healthChanged || outcome.weightChanged ? this.quorum.update(this.healthyWeight()) : undefined;
    return {
      ...(outcome.notify !== undefined ? { notify: outcome.notify } : {}),
      ...(quorum !== undefined ? { quorum } : {}),
      tableChanged: healthChanged || outcome.weightChanged || quorum !== undefined,
      nextDelayMs: outcome.nextDelayMs,
    };
  }

  /** After a reload: the quorum measured against the new settings and servers. */
  reevaluateQuorum(): QuorumChange | undefined {
    return this.quorum.update(this.healthyWeight());
  }

  /** "2/3 real servers healthy; quorum lost, sorry server 203.0.113.99:80 in use". */
  summary(): string {
    const total = this.realServers.size;
    let healthy = 0;
    for (const server of this.realServers.values()) if (this.healthy(server)) healthy++;
    const parts = [`${healthy}/${total} real servers healthy`];
    if (!this.quorum.up) {
      const sorry = sorryServerDestination(this.spec, 1);
      parts.push(
        sorry === undefined
          ? "quorum lost"
          : `quorum lost, sorry server ${sorry.address.includes(":") ? `[${sorry.address}]` : sorry.address}:${sorry.port} in use`,
      );
    }
    return parts.join("; ");
  }
}

/** The check of a real server: its own, else the service's; type None means none. */
function effectiveCheck(server: RealServer, spec: VirtualServiceSpec): HealthCheck | undefined {
  const check = server.healthCheck ?? spec.healthCheck;
  return check === undefined || check.type === "None" ? undefined : check;
}

function quorumSettings(spec: VirtualServiceSpec): { minimumWeight: number; hysteresis: number } {
  return { minimumWeight: spec.quorum?.minimumWeight ?? 1, hysteresis: spec.quorum?.hysteresis ?? 0 };
}
