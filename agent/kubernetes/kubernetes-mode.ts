// The agent's Kubernetes mode: watch this node's NodeState (and nothing else), apply its spec with
// the same engine as standalone mode whenever the spec changes, and report the agent's state into
// the NodeState's status. With several kubelvs instances in the cluster, each node has one
// NodeState per instance (operator/instance.ts); the agent follows its instance's only, by name and
// by label, so a node whose name happens to look like another instance's NodeState name never
// reads or reports into that one.
//
// The data plane never depends on the API server: when it is unreachable the watch retries with
// backoff while VRRP runs on with the last spec; when it returns, the watch re-lists and a changed
// spec is applied, an unchanged one is not. Reports are coalesced (at most one write per
// minReportIntervalMs), sent at once after a transition, and otherwise every heartbeatMs.
import { existsSync, readFileSync } from "node:fs";
import type { NodeStateSpec } from "../../crds/schema/node-state.js";
import { contentHash } from "../../core/render/content-hash.js";
import type { Logger } from "../../core/log.js";
import { CONTENT_HASH_ANNOTATION } from "../../operator/cluster-objects.js";
import {
  UNNAMED_INSTANCE,
  checkInstanceName,
  nodeStateName,
  nodeStateSelector,
} from "../../operator/instance.js";
import { KubeClient, inClusterKubeConfig, isNotFound, loadKubeConfig } from "../../operator/kube/client.js";
import { Informer, withoutManagedFields } from "../../operator/kube/informer.js";
import { NODE_STATES, statusPath, type KubeObject } from "../../operator/kube/resources.js";
import type { AgentStatus } from "../runtime/agent.js";
import { ReportScheduler } from "./report-scheduler.js";
import { nodeStateStatus, significantFingerprint } from "./status-report.js";

/** What Kubernetes mode needs of the agent (the runtime's Agent has it). */
export interface ManagedAgent {
  apply(spec: NodeStateSpec): Promise<void>;
  status(): AgentStatus;
}

export interface KubernetesModeOptions {
  agent: ManagedAgent;
  nodeName: string;
  /** The kubelvs instance whose NodeState to follow; default the unnamed one (NodeState = node name). */
  instance?: string;
  log: Logger;
  /** A kubeconfig file; without it, the in-cluster service account when running in a Pod, else the default search. */
  kubeconfig?: string;
  /** A ready client instead of a kubeconfig (tests). */
  client?: KubeClient;
  agentVersion?: string;
  minReportIntervalMs?: number;
  heartbeatMs?: number;
  /** How often the agent's state is checked for changes worth an immediate report (priority, Master). */
  changeCheckIntervalMs?: number;
  /** A watch receiving nothing (not even a bookmark) this long is presumed dead and reopened. */
  watchIdleTimeoutMs?: number;
}

export interface KubernetesModeHandle {
  /** Report now: wire it to the Agent's onTransition. */
  notifyTransition(): void;
  /** Resolves once the NodeState has been listed the first time (and its spec applied, if any). */
  readonly synced: Promise<void>;
  /** The content hash of the spec last applied. */
  appliedContentHash(): string | undefined;
  /** Stops watching, writes a last report (within 2 s) and stops reporting. The agent keeps running. */
  stop(): Promise<void>;
}

interface NodeStateObject extends KubeObject {
  spec?: NodeStateSpec;
}

const EMPTY_SPEC: NodeStateSpec = { vrrpGroups: [] };
const FINAL_REPORT_TIMEOUT_MS = 2000;

/** The client for the agent: a kubeconfig file, the in-cluster service account, or the default search. */
export function agentKubeClient(kubeconfig: string | undefined): KubeClient {
  const config =
    kubeconfig === undefined && process.env.KUBERNETES_SERVICE_HOST
      ? inClusterKubeConfig()
      : loadKubeConfig(kubeconfig);
  return new KubeClient(config, "kubelvs-agent");
}

function packageVersion(): string {
  for (const up of ["../../package.json", "../../../package.json"]) {
    const file = new URL(up, import.meta.url);
    if (!existsSync(file)) continue;
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
    if (parsed.name === "kubelvs" && parsed.version) return parsed.version;
  }
  return "unknown";
}

export async function runKubernetesMode(options: KubernetesModeOptions): Promise<KubernetesModeHandle> {
  const { agent, nodeName } = options;
  const instance = checkInstanceName(options.instance ?? UNNAMED_INSTANCE);
  const nodeState = nodeStateName(instance, nodeName);
  const log = options.log.child({ component: "kubernetes", node: nodeName, nodeState });
  const client = options.client ?? agentKubeClient(options.kubeconfig);
  const agentVersion = options.agentVersion ?? packageVersion();

  let appliedSpec: NodeStateSpec | undefined;
  let appliedHash: string | undefined;
  let observedContentHash: string | undefined;
  let nodeStateExists = false;
  /** Applies run one at a time; a spec arriving meanwhile waits, and only the newest one runs. */
  let applying: Promise<void> = Promise.resolve();
  let wanted: { spec: NodeStateSpec; hash: string; annotated: string | undefined } | undefined;

  const reporter = new ReportScheduler({
    minIntervalMs: options.minReportIntervalMs ?? 200,
    heartbeatMs: options.heartbeatMs ?? 30_000,
    onError: (e, retryInMs) => log.warn("status report failed; retrying", { err: e, retryInMs }),
    write: async () => {
      if (!nodeStateExists) return;
      const status = nodeStateStatus({
        agent: agent.status(),
        spec: appliedSpec,
        observedContentHash,
        agentVersion,
        now: new Date(),
      });
      try {
        await client.mergePatch(statusPath(NODE_STATES, nodeState), { status });
      } catch (e) {
        // Deleted since: nothing to report into until it comes back (its add triggers a report).
        if (isNotFound(e)) nodeStateExists = false;
        else throw e;
      }
    },
  });

  const applyLatest = (): Promise<void> =>
    (applying = applying.then(async () => {
      const next = wanted;
      wanted = undefined;
      if (next === undefined || next.hash === appliedHash) return;
      log.info("applying the NodeState spec", {
        contentHash: next.annotated ?? next.hash,
        groups: next.spec.vrrpGroups.length,
        services: next.spec.virtualServices?.length ?? 0,
      });
      try {
        await agent.apply(next.spec);
        appliedSpec = next.spec;
        appliedHash = next.hash;
        observedContentHash = next.annotated ?? next.hash;
      } catch (e) {
        log.error("applying the NodeState spec failed; the previous state keeps running", { err: e });
      }
      reporter.request();
    }));

  const onNodeState = (object: NodeStateObject | undefined): void => {
    nodeStateExists = object !== undefined;
    const spec = object?.spec ?? EMPTY_SPEC;
    const hash = contentHash(spec);
    if (object === undefined) log.warn("the NodeState is gone; running no groups", {});
    wanted = { spec, hash, annotated: object?.metadata.annotations?.[CONTENT_HASH_ANNOTATION] };
    void applyLatest();
    reporter.request();
  };

  const informer = new Informer<NodeStateObject>({
    client,
    resource: NODE_STATES,
    fieldSelector: `metadata.name=${nodeState}`,
    labelSelector: nodeStateSelector(instance),
    transform: withoutManagedFields,
    log,
    ...(options.watchIdleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.watchIdleTimeoutMs }),
  });
  informer.addHandlers({
    onAdd: (o) => onNodeState(o),
    // Status-only updates (the agent's own reports among them) leave the spec hash unchanged.
    onUpdate: (_old, o) => {
      if (contentHash(o.spec ?? EMPTY_SPEC) !== (wanted?.hash ?? appliedHash)) onNodeState(o);
    },
    onDelete: () => onNodeState(undefined),
  });
  informer.start();
  const synced = informer.waitForSync().then(() => applying);

  let lastFingerprint = significantFingerprint(agent.status());
  const changeCheck = setInterval(() => {
    const fingerprint = significantFingerprint(agent.status());
    if (fingerprint === lastFingerprint) return;
    lastFingerprint = fingerprint;
    reporter.request();
  }, options.changeCheckIntervalMs ?? 1000);
  changeCheck.unref();
  reporter.start();

  let stopping: Promise<void> | undefined;
  return {
    notifyTransition: () => reporter.request(),
    synced,
    appliedContentHash: () => appliedHash,
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(changeCheck);
        await informer.stop();
        await applying;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          reporter.flush().catch(() => undefined),
          new Promise((resolve) => (timer = setTimeout(resolve, FINAL_REPORT_TIMEOUT_MS))),
        ]);
        clearTimeout(timer);
        await reporter.stop();
      })()),
  };
}
