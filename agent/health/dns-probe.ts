// DNS check (keepalived DNS_CHECK): a query over UDP; healthy when the response carries RCODE 0.
import { randomInt } from "node:crypto";
import type { HealthCheck } from "../../crds/schema/virtual-service.js";
import { endpoint, type Probe } from "./probe.js";
import { encodeDnsQuery, rcodeName, readDnsAnswer } from "./dns-message.js";
import { exchange } from "./udp-probe.js";

export function dnsProbe(check: HealthCheck["dns"]): Probe {
  const name = check?.name ?? ".";
  const type = check?.type ?? "SOA";
  return (target, signal) => {
    const id = randomInt(0x10000);
    const what = `dns ${type} ${name} @${endpoint(target)}`;
    return exchange(
      target,
      encodeDnsQuery(id, name, type),
      signal,
      (reply) => {
        if (reply === undefined)
          return { healthy: false, message: `${what}: no response within ${target.timeoutMs} ms` };
        const answer = readDnsAnswer(id, reply);
        if (answer.kind === "ignore") return undefined;
        return answer.rcode === 0
          ? { healthy: true, message: `${what}: NOERROR, ${answer.answers} answers` }
          : { healthy: false, message: `${what}: ${rcodeName(answer.rcode)}` };
      },
      what,
    );
  };
}
