// The probe for a health check's type. None (and no check at all) means no probe: always healthy.
import type { HealthCheck } from "../../crds/schema/virtual-service.js";
import { dnsProbe } from "./dns-probe.js";
import { execProbe } from "./exec-probe.js";
import { httpProbe } from "./http-probe.js";
import type { Probe } from "./probe.js";
import { tcpProbe } from "./tcp-probe.js";
import { udpProbe } from "./udp-probe.js";

export function probeFor(check: HealthCheck): Probe | undefined {
  switch (check.type) {
    case "TCP":
      return tcpProbe;
    case "HTTP":
    case "HTTPS":
      if (check.http === undefined)
        throw new TypeError(`healthCheck.type ${check.type} needs healthCheck.http`);
      return httpProbe(check.http, check.type === "HTTPS");
    case "UDP":
      return udpProbe(check.udp);
    case "DNS":
      return dnsProbe(check.dns);
    case "Exec":
      if (check.exec === undefined) throw new TypeError("healthCheck.type Exec needs healthCheck.exec");
      return execProbe(check.exec.command, check.exec.dynamicWeight === true);
    case "None":
      return undefined;
  }
}
