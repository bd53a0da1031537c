// The agent's HTTP endpoints on --metrics-address: /metrics (Prometheus) and /healthz.
import {
  checkEndpoint,
  metricsEndpoint,
  serveHttpEndpoints,
  type HttpEndpoints,
} from "../../core/http-endpoints.js";

export type { HttpEndpoints };

export function serveAgentEndpoints(
  listen: string,
  handlers: { metrics: () => Promise<string>; healthy: () => boolean },
): Promise<HttpEndpoints> {
  return serveHttpEndpoints(listen, {
    "/metrics": metricsEndpoint(handlers.metrics),
    "/healthz": checkEndpoint(() => ({ ok: handlers.healthy() })),
  });
}
