// The operator's HTTP endpoints: /metrics (Prometheus), /healthz (the process serves), /readyz
// (every informer cache has synced, so a restarted operator is not "ready" on an empty cache).
import {
  checkEndpoint,
  metricsEndpoint,
  serveHttpEndpoints,
  type HttpEndpoints,
} from "../core/http-endpoints.js";

export type OperatorEndpoints = HttpEndpoints;

export function serveOperatorEndpoints(
  listen: string,
  handlers: { metrics: () => Promise<string>; ready: () => { ok: boolean; detail: string } },
): Promise<OperatorEndpoints> {
  return serveHttpEndpoints(listen, {
    "/metrics": metricsEndpoint(handlers.metrics),
    "/healthz": checkEndpoint(() => ({ ok: true })),
    "/readyz": checkEndpoint(handlers.ready),
  });
}
