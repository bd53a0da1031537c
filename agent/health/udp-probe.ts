// UDP check (keepalived UDP_CHECK): the payload is sent from a connected socket. With requireReply
// (or a replyRegex) the server must answer within the timeout (and the answer must match);
// otherwise it is healthy unless an ICMP port unreachable comes back (the kernel reports it on a
// connected socket as ECONNREFUSED).
import { createSocket, type Socket } from "node:dgram";
import type { HealthCheck } from "../../crds/schema/virtual-service.js";
import { endpoint, errorText, type Probe, type ProbeResult, type ProbeTarget } from "./probe.js";

export function udpProbe(check: HealthCheck["udp"]): Probe {
  const payload = Buffer.from(check?.payload ?? "", "hex");
  let pattern: RegExp | undefined;
  let patternError: string | undefined;
  try {
    pattern = check?.replyRegex === undefined ? undefined : new RegExp(check.replyRegex);
  } catch (error) {
    patternError = `invalid replyRegex ${JSON.stringify(check?.replyRegex)}: ${(error as Error).message}`;
  }
  const requireReply = check?.requireReply === true || pattern !== undefined;
  return (target, signal) => {
    const what = `udp ${endpoint(target)}`;
    if (patternError !== undefined)
      return Promise.resolve({ healthy: false, message: `${what}: ${patternError}` });
    return exchange(target, payload, signal, (reply) => {
      if (reply === undefined)
        return requireReply
          ? { healthy: false, message: `${what}: no reply within ${target.timeoutMs} ms` }
          : { healthy: true, message: `${what}: no port unreachable within ${target.timeoutMs} ms` };
      if (pattern !== undefined && !pattern.test(reply.toString("latin1")))
        return { healthy: false, message: `${what}: reply does not match ${String(pattern)}` };
      return { healthy: true, message: `${what}: ${reply.length}-byte reply` };
    });
  };
}

/**
 * Sends one datagram and waits for the first reply (accept returns undefined to keep waiting, for
 * DNS answers to other queries), an error, the timeout or the abort.
 */
export function exchange(
  target: ProbeTarget,
  payload: Buffer,
  signal: AbortSignal,
  judge: (reply: Buffer | undefined) => ProbeResult | undefined,
  what = `udp ${endpoint(target)}`,
): Promise<ProbeResult> {
  return new Promise<ProbeResult>((resolve) => {
    let socket: Socket | undefined;
    let settled = false;
    const finish = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", abort);
      socket?.close();
      resolve(result);
    };
    const abort = () => finish({ healthy: false, message: `${what}: aborted` });
    const timer = setTimeout(
      () => finish(judge(undefined) ?? { healthy: false, message: `${what}: no answer` }),
      target.timeoutMs,
    );
    signal.addEventListener("abort", abort, { once: true });
    try {
      socket = createSocket(target.address.includes(":") ? "udp6" : "udp4");
    } catch (error) {
      finish({ healthy: false, message: `${what}: ${errorText(error)}` });
      return;
    }
    socket.on("error", (error: NodeJS.ErrnoException) =>
      finish({
        healthy: false,
        message: `${what}: ${error.code === "ECONNREFUSED" ? "port unreachable" : errorText(error)}`,
      }),
    );
    socket.on("message", (message) => {
      const result = judge(message);
      if (result !== undefined) finish(result);
    });
    const connect = () =>
      socket.connect(target.port, target.address, () => {
        if (!settled) socket.send(payload);
      });
    if (target.sourceAddress !== undefined) socket.bind({ address: target.sourceAddress, port: 0 }, connect);
    else connect();
  });
}
