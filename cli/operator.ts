// kubelvs operator: renders VrrpGroups and VirtualServices into per-node NodeStates, aggregates the
// agents' reports into status, with leader election so several replicas can run.
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { createLogger, type LogLevel } from "../core/log.js";
import { KubeClient, loadKubeConfig } from "../operator/kube/client.js";
import { serveOperatorEndpoints, type OperatorEndpoints } from "../operator/http-endpoints.js";
import { checkInstanceName, defaultLeaseName } from "../operator/instance.js";
import { DEFAULT_LEADER_ELECTION, Operator } from "../operator/operator.js";

const HELP = `usage: kubelvs operator [options]

Runs the kubelvs operator: writes each node's NodeState from the VrrpGroups and VirtualServices,
reports conflicts as conditions and Events, and aggregates the agents' reports into status.

  --kubeconfig FILE                  kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --instance NAME                    serve the VrrpGroups labelled kubelvs.io/instance=NAME (and the
                                     VirtualServices attached to them), with NodeStates NAME.<node>;
                                     default: the groups without that label, NodeStates <node>
  --metrics-address HOST:PORT        serve /metrics, /healthz and /readyz (default :8080; "0" disables)
  --leader-election-namespace NS     namespace of the leader Lease (default: $POD_NAMESPACE or kubelvs-system)
  --lease-name NAME                  name of the leader Lease (default ${DEFAULT_LEADER_ELECTION.name}, or
                                     ${DEFAULT_LEADER_ELECTION.name}-NAME with --instance NAME)
  --identity ID                      this replica's name in the Lease (default: $POD_NAME or hostname_pid)
  --lease-duration SECONDS           how long a Lease not renewed stays taken (default ${DEFAULT_LEADER_ELECTION.leaseDurationMs / 1000})
  --renew-deadline SECONDS           a leader that cannot renew for this long steps down (default ${DEFAULT_LEADER_ELECTION.renewDeadlineMs / 1000})
  --retry-period SECONDS             time between attempts to take or renew the Lease (default ${DEFAULT_LEADER_ELECTION.retryPeriodMs / 1000})
  --resync-period SECONDS            full re-check of everything (default 600)
  --workers N                        concurrent reconciles (default 8)
  --log-level LEVEL                  debug, info (default), warn or error

SIGTERM and SIGINT release the Lease (another replica takes over at once) and exit.
`;

interface OperatorCliOptions {
  kubeconfig?: string;
  instance: string;
  metricsAddress?: string;
  namespace: string;
  leaseName: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  resyncPeriodMs: number;
  workers: number;
  logLevel: LogLevel;
}

function seconds(name: string, text: string | undefined, fallbackMs: number): number {
  if (text === undefined) return fallbackMs;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--${name} ${text}: expected a positive number of seconds`);
  return Math.round(value * 1000);
}

function parse(args: string[]): OperatorCliOptions | "help" {
  const { values } = parseArgs({
    args,
    options: {
      kubeconfig: { type: "string" },
      instance: { type: "string" },
      "metrics-address": { type: "string" },
      "leader-election-namespace": { type: "string" },
      "lease-name": { type: "string" },
      identity: { type: "string" },
      "lease-duration": { type: "string" },
      "renew-deadline": { type: "string" },
      "retry-period": { type: "string" },
      "resync-period": { type: "string" },
      workers: { type: "string" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) return "help";
  const level = (values["log-level"] ?? "info") as LogLevel;
  if (!["debug", "info", "warn", "error"].includes(level))
    throw new Error(`--log-level ${level}: use debug, info, warn or error`);
  const workers = Number(values.workers ?? 8);
  if (!Number.isInteger(workers) || workers < 1)
    throw new Error(`--workers ${values.workers}: expected an integer ≥ 1`);
  const metricsAddress = values["metrics-address"] ?? ":8080";
  const instance = checkInstanceName(values.instance ?? "");
  return {
    ...(values.kubeconfig === undefined ? {} : { kubeconfig: values.kubeconfig }),
    instance,
    ...(metricsAddress === "0" ? {} : { metricsAddress }),
    namespace: values["leader-election-namespace"] ?? process.env.POD_NAMESPACE ?? "kubelvs-system",
    leaseName: values["lease-name"] ?? defaultLeaseName(instance),
    identity: values.identity ?? process.env.POD_NAME ?? `${hostname()}_${process.pid}`,
    leaseDurationMs: seconds(
      "lease-duration",
      values["lease-duration"],
      DEFAULT_LEADER_ELECTION.leaseDurationMs,
    ),
    renewDeadlineMs: seconds(
      "renew-deadline",
      values["renew-deadline"],
      DEFAULT_LEADER_ELECTION.renewDeadlineMs,
    ),
    retryPeriodMs: seconds("retry-period", values["retry-period"], DEFAULT_LEADER_ELECTION.retryPeriodMs),
    resyncPeriodMs: seconds("resync-period", values["resync-period"], 600_000),
    workers,
    logLevel: level,
  };
}

export async function run(args: string[]): Promise<number> {
  let options: OperatorCliOptions;
  try {
    const parsed = parse(args);
    if (parsed === "help") {
      process.stdout.write(HELP);
      return 0;
    }
    options = parsed;
  } catch (e) {
    process.stderr.write(`kubelvs operator: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const log = createLogger({ level: options.logLevel, fields: { identity: options.identity } });
  let operator: Operator;
  let endpoints: OperatorEndpoints | undefined;
  try {
    const client = new KubeClient(loadKubeConfig(options.kubeconfig), "kubelvs-operator");
    operator = new Operator({
      client,
      log,
      instance: options.instance,
      identity: options.identity,
      leaderElection: {
        namespace: options.namespace,
        name: options.leaseName,
        leaseDurationMs: options.leaseDurationMs,
        renewDeadlineMs: options.renewDeadlineMs,
        retryPeriodMs: options.retryPeriodMs,
      },
      resyncPeriodMs: options.resyncPeriodMs,
      workers: options.workers,
    });
    if (options.metricsAddress !== undefined) {
      const running = operator;
      endpoints = await serveOperatorEndpoints(options.metricsAddress, {
        metrics: () => running.metrics.text(),
        ready: () => running.ready(),
      });
    }
  } catch (e) {
    process.stderr.write(`kubelvs operator: ${(e as Error).message}\n`);
    return 1;
  }
  operator.start();
  log.info("operator started", {
    lease: `${options.namespace}/${options.leaseName}`,
    ...(endpoints ? { endpoints: `${endpoints.address}:${endpoints.port}` } : {}),
  });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log.info("stopping: releasing the Lease", { signal });
      void operator
        .stop()
        .then(() => endpoints?.close())
        .then(
          () => {
            log.info("stopped");
            resolve(0);
          },
          (e: unknown) => {
            log.error("stopping failed", { err: e });
            resolve(1);
          },
        );
    };
    process.on("SIGTERM", shutdown);
    process.on("SIGINT", shutdown);
  });
}
