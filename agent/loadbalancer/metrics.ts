// The load balancer's Prometheus metrics, in the agent's registry (AgentMetrics.registry) next to
// the VRRP ones. Per-real-server health and weight and per-service quorum are read from the load
// balancer at scrape time, so removed services leave no stale series; counters are counted here.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { SchedulerStats } from "../health/scheduler.js";
import type { ReconcilerMetrics } from "../ipvs/reconciler.js";

export interface RealServerSample {
  readonly virtualService: string;
  /** "address:port". */
  readonly realServer: string;
  readonly healthy: boolean;
  /** Weight in the kernel's table; undefined when the server is not in it. */
  readonly weight: number | undefined;
}

export interface LoadBalancerMetricsSource {
  realServers(): Iterable<RealServerSample>;
  quorums(): Iterable<{ readonly virtualService: string; readonly up: boolean }>;
  scheduler(): SchedulerStats;
}

const EMPTY_SOURCE: LoadBalancerMetricsSource = {
  realServers: () => [],
  quorums: () => [],
  scheduler: () => ({ checks: 0, running: 0, waiting: 0, maxLagMs: 0 }),
};

export class LoadBalancerMetrics implements ReconcilerMetrics {
  private source: LoadBalancerMetricsSource = EMPTY_SOURCE;
  private readonly available: Gauge;
  private readonly operations: Counter<"kind" | "result">;
  private readonly drift: Counter<"virtual_service">;
  private readonly passes: Histogram<"pass">;
  private readonly checks: Counter<"virtual_service" | "result">;
  private readonly notifyFailures: Counter<"virtual_service">;

  constructor(registry: Registry) {
    const registers = [registry];
    const source = () => this.source;
    this.available = new Gauge({
      name: "kubelvs_ipvs_available",
      help: "1 when the kernel has IPVS and the agent programs it, 0 when it runs VRRP only",
      registers,
    });
    this.operations = new Counter({
      name: "kubelvs_ipvs_operations_total",
      help: "IPVS operations sent to the kernel, by kind and result",
      labelNames: ["kind", "result"],
      registers,
    });
    this.drift = new Counter({
      name: "kubelvs_ipvs_drift_repaired_total",
      help: "Changes made to kubelvs's IPVS services outside kubelvs and repaired",
      labelNames: ["virtual_service"],
      registers,
    });
    this.passes = new Histogram({
      name: "kubelvs_ipvs_reconcile_duration_seconds",
      help: "Duration of IPVS reconcile passes (full: read the table; incremental: changed services only)",
      labelNames: ["pass"],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    });
    this.checks = new Counter({
      name: "kubelvs_health_checks_total",
      help: "Health check attempts, by virtual service and result",
      labelNames: ["virtual_service", "result"],
      registers,
    });
    this.notifyFailures = new Counter({
      name: "kubelvs_realserver_notify_failures_total",
      help: "Real server and quorum notify commands that failed or timed out",
      labelNames: ["virtual_service"],
      registers,
    });
    new Gauge({
      name: "kubelvs_realserver_healthy",
      help: "1 when the real server passes its health check (or has none), 0 otherwise",
      labelNames: ["virtual_service", "real_server"],
      registers,
      collect() {
        this.reset();
        for (const s of source().realServers())
          this.set({ virtual_service: s.virtualService, real_server: s.realServer }, s.healthy ? 1 : 0);
      },
    });
    new Gauge({
      name: "kubelvs_realserver_weight",
      help: "The real server's weight in the kernel's IPVS table (absent when not in the table)",
      labelNames: ["virtual_service", "real_server"],
      registers,
      collect() {
        this.reset();
        for (const s of source().realServers())
          if (s.weight !== undefined)
            this.set({ virtual_service: s.virtualService, real_server: s.realServer }, s.weight);
      },
    });
    new Gauge({
      name: "kubelvs_virtual_service_quorum",
      help: "1 while the virtual service has its quorum, 0 while lost (sorry server in use when configured)",
      labelNames: ["virtual_service"],
      registers,
      collect() {
        this.reset();
        for (const q of source().quorums()) this.set({ virtual_service: q.virtualService }, q.up ? 1 : 0);
      },
    });
    new Gauge({
      name: "kubelvs_health_checks_scheduled",
      help: "Health checks the agent runs",
      registers,
      collect() {
        this.set(source().scheduler().checks);
      },
    });
    new Gauge({
      name: "kubelvs_health_check_max_lag_seconds",
      help: "Largest delay so far between a check's due time and its start (concurrency saturation)",
      registers,
      collect() {
        this.set(source().scheduler().maxLagMs / 1000);
      },
    });
  }

  setSource(source: LoadBalancerMetricsSource): void {
    this.source = source;
  }

  setIpvsAvailable(available: boolean): void {
    this.available.set(available ? 1 : 0);
  }

  operation(kind: string, ok: boolean): void {
    this.operations.inc({ kind, result: ok ? "ok" : "error" });
  }

  driftRepaired(virtualService: string, changes: number): void {
    this.drift.inc({ virtual_service: virtualService }, changes);
  }

  pass(kind: "full" | "incremental", seconds: number): void {
    this.passes.observe({ pass: kind }, seconds);
  }

  check(virtualService: string, healthy: boolean): void {
    this.checks.inc({ virtual_service: virtualService, result: healthy ? "healthy" : "unhealthy" });
  }

  notifyFailed(virtualService: string): void {
    this.notifyFailures.inc({ virtual_service: virtualService });
  }

  /** Forget a removed virtual service's counters. */
  removeVirtualService(virtualService: string): void {
    for (const result of ["healthy", "unhealthy"])
      this.checks.remove({ virtual_service: virtualService, result });
    this.notifyFailures.remove({ virtual_service: virtualService });
    this.drift.remove({ virtual_service: virtualService });
  }
}
