// HTTP and HTTPS checks (keepalived HTTP_GET / SSL_GET): each path is fetched with GET and must
// answer an expected status (any 2xx by default), and, when configured, a body whose MD5 equals the
// digest and that matches the regular expression. HTTPS verifies the certificate only when asked
// (keepalived's SSL_GET does not). The whole request, every path included, has one time limit.
import { createHash } from "node:crypto";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import type { HTTPCheck, HTTPPath } from "../../crds/schema/virtual-service.js";
import { endpoint, errorText, type Probe, type ProbeResult, type ProbeTarget } from "./probe.js";

/** Bodies are read up to this size for digest and regex checks (keepalived reads the whole body). */
const MAX_BODY_BYTES = 1024 * 1024;

export function httpProbe(check: HTTPCheck, tls: boolean): Probe {
  // Compile once per configuration, not per attempt; an invalid expression fails every attempt clearly.
  const patterns = check.paths.map((p) => compile(p.bodyRegex));
  return async (target, signal) => {
    const deadline = AbortSignal.any([signal, AbortSignal.timeout(target.timeoutMs)]);
    const messages: string[] = [];
    for (const [index, path] of check.paths.entries()) {
      const result = await fetchPath(check, path, patterns[index], tls, target, deadline);
      if (!result.healthy) return result;
      messages.push(result.message);
    }
    return { healthy: true, message: messages.join("; ") };
  };
}

type Pattern = RegExp | { error: string } | undefined;

function compile(source: string | undefined): Pattern {
  if (source === undefined) return undefined;
  try {
    return new RegExp(source);
  } catch (error) {
    return { error: `invalid bodyRegex ${JSON.stringify(source)}: ${(error as Error).message}` };
  }
}

function expectedStatus(path: HTTPPath, status: number): boolean {
  return path.statusCodes === undefined || path.statusCodes.length === 0
    ? status >= 200 && status <= 299
    : path.statusCodes.includes(status);
}

function fetchPath(
  check: HTTPCheck,
  path: HTTPPath,
  pattern: Pattern,
  tls: boolean,
  target: ProbeTarget,
  signal: AbortSignal,
): Promise<ProbeResult> {
  const what = `GET ${tls ? "https" : "http"}://${endpoint(target)}${path.path}`;
  if (pattern !== undefined && !(pattern instanceof RegExp))
    return Promise.resolve({ healthy: false, message: `${what}: ${pattern.error}` });
  const needBody = path.digest !== undefined || pattern !== undefined;
  const sni = check.serverName ?? check.virtualHost;
  return new Promise<ProbeResult>((resolve) => {
    let settled = false;
    const finish = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      request.destroy();
      resolve(result);
    };
    const options = {
      host: target.address,
      port: target.port,
      path: path.path,
      method: "GET",
      headers: {
        host: check.virtualHost ?? endpoint(target),
        "user-agent": "kubelvs-healthcheck",
        connection: "close",
      },
      agent: false as const,
      signal,
      ...(target.sourceAddress !== undefined ? { localAddress: target.sourceAddress } : {}),
    };
    const onResponse = (response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      if (!expectedStatus(path, status)) {
        finish({
          healthy: false,
          message: `${what}: status ${status}, expected ${path.statusCodes?.join(",") ?? "2xx"}`,
        });
        return;
      }
      if (!needBody) {
        finish({ healthy: true, message: `${what}: ${status}` });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      });
      response.on("error", (error) => finish({ healthy: false, message: `${what}: ${errorText(error)}` }));
      response.on("end", () => {
        const body = Buffer.concat(chunks);
        if (path.digest !== undefined) {
          const digest = createHash("md5").update(body).digest("hex");
          if (digest !== path.digest) {
            finish({ healthy: false, message: `${what}: body digest ${digest}, expected ${path.digest}` });
            return;
          }
        }
        if (pattern instanceof RegExp && !pattern.test(body.toString("utf8"))) {
          finish({ healthy: false, message: `${what}: body does not match ${String(pattern)}` });
          return;
        }
        finish({ healthy: true, message: `${what}: ${status}, body checked` });
      });
    };
    const request = tls
      ? httpsRequest(
          {
            ...options,
            rejectUnauthorized: check.verifyCertificate === true,
            // SNI carries host names only (RFC 6066); an IP address is not sent.
            ...(sni !== undefined && isIP(sni) === 0 ? { servername: sni } : {}),
          },
          onResponse,
        )
      : httpRequest(options, onResponse);
    request.on("error", (error) => {
      const timedOut = signal.aborted && (signal.reason as Error | undefined)?.name === "TimeoutError";
      finish({
        healthy: false,
        message: `${what}: ${timedOut ? `timeout after ${target.timeoutMs} ms` : errorText(error)}`,
      });
    });
    request.end();
  });
}
