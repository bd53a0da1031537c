// TCP check (keepalived TCP_CHECK): healthy when a connection is established within the timeout.
// The connection is closed at once.
import { connect } from "node:net";
import { endpoint, errorText, type Probe, type ProbeResult } from "./probe.js";

export const tcpProbe: Probe = (target, signal) =>
  new Promise<ProbeResult>((resolve) => {
    const started = performance.now();
    const socket = connect({
      host: target.address,
      port: target.port,
      ...(target.sourceAddress !== undefined ? { localAddress: target.sourceAddress } : {}),
      noDelay: true,
    });
    const finish = (result: ProbeResult) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", abort);
      socket.destroy();
      resolve(result);
    };
    const abort = () => finish({ healthy: false, message: `connect ${endpoint(target)}: aborted` });
    const timer = setTimeout(
      () =>
        finish({
          healthy: false,
          message: `connect ${endpoint(target)}: timeout after ${target.timeoutMs} ms`,
        }),
      target.timeoutMs,
    );
    signal.addEventListener("abort", abort, { once: true });
    socket.once("connect", () =>
      finish({
        healthy: true,
        message: `connect ${endpoint(target)}: connected in ${(performance.now() - started).toFixed(1)} ms`,
      }),
    );
    socket.once("error", (error) =>
      finish({ healthy: false, message: `connect ${endpoint(target)}: ${errorText(error)}` }),
    );
  });
