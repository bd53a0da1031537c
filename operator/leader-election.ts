// Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: a candidate takes the
// Lease when it is free or its holder has not renewed it for a lease duration (measured on this
// process's clock from when the holder's renewal was last seen changing, so clock skew between
// nodes does not matter), the leader renews every retry period and gives up leadership when it
// could not renew within the renew deadline. Every write carries the resourceVersion it read, so
// two candidates never both win. Stopping while leader releases the Lease for a fast handover.
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../core/log.js";
import { isAlreadyExists, isConflict, isNotFound, type KubeClient } from "./kube/client.js";
import { apiVersionOf, collectionPath, LEASES, objectPath, type ObjectMeta } from "./kube/resources.js";

export interface LeaderElectionOptions {
  client: KubeClient;
  log: Logger;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  onNewLeader?: (identity: string) => void;
}

export const DEFAULT_LEASE_TIMING = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: LeaseSpec;
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export class LeaderElector {
  private leader = false;
  private readonly stopController = new AbortController();
  private running: Promise<void> | undefined;
  /** The last lease record seen and when (local clock) it was first seen in that form. */
  private observed: { holder: string; renewTime: string; durationMs: number; at: number } | undefined;
  private lastLeader = "";

  constructor(private readonly options: LeaderElectionOptions) {
    if (options.renewDeadlineMs >= options.leaseDurationMs)
      throw new Error("leader election: the renew deadline must be shorter than the lease duration");
    if (options.retryPeriodMs >= options.renewDeadlineMs)
      throw new Error("leader election: the retry period must be shorter than the renew deadline");
  }

  get isLeader(): boolean {
    return this.leader;
  }

  get identity(): string {
    return this.options.identity;
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Stops campaigning; a leader releases the Lease so another candidate takes over at once. */
  async stop(): Promise<void> {
    this.stopController.abort();
    await this.running;
    if (this.leader) {
      await this.release();
      this.setLeader(false);
    }
  }

  private async run(): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs, log } = this.options;
    const signal = this.stopController.signal;
    // Armed at every renewal: fires when the renew deadline passes without another, even while a
    // renewal request is still hanging.
    let deadline: NodeJS.Timeout | undefined;
    while (!signal.aborted) {
      let held = false;
      try {
        held = await this.tryAcquireOrRenew();
      } catch (e) {
        log.warn("leader election: cannot reach the Lease", { lease: this.leaseName(), err: e });
      }
      if (held && !signal.aborted) {
        clearTimeout(deadline);
        deadline = setTimeout(() => {
          if (!this.leader) return;
          log.error("leader election: lease not renewed within the renew deadline; stepping down", {
            lease: this.leaseName(),
            renewDeadlineMs,
          });
          this.setLeader(false);
        }, renewDeadlineMs);
        if (!this.leader) this.setLeader(true);
      }
      try {
        // client-go's JitterUntil: followers spread their attempts; the leader renews on time.
        const jitter = this.leader ? 0 : Math.random() * retryPeriodMs * 0.2;
        await sleep(retryPeriodMs + jitter, undefined, { signal });
      } catch {
        // stopped
      }
    }
    clearTimeout(deadline);
  }

  private setLeader(leader: boolean): void {
    this.leader = leader;
    const { log, identity } = this.options;
    if (leader) {
      log.info("leader election: became leader", { lease: this.leaseName(), identity });
      this.options.onStartedLeading();
    } else {
      log.info("leader election: stopped leading", { lease: this.leaseName(), identity });
      this.options.onStoppedLeading();
    }
  }

  /** A Lease request that hangs must not outlast the renew deadline: the leader has to notice in time. */
  private timeout(): { timeoutMs: number } {
    return { timeoutMs: this.options.renewDeadlineMs };
  }

  private leaseName(): string {
    return `${this.options.namespace}/${this.options.name}`;
  }

  private path(): string {
    return objectPath(LEASES, this.options.name, this.options.namespace);
  }

  /** True when this candidate holds the Lease after the attempt. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, identity, namespace, name, leaseDurationMs } = this.options;
    const now = new Date();
    const durationSeconds = Math.max(1, Math.round(leaseDurationMs / 1000));
    let lease: Lease;
    try {
      lease = await client.request<Lease>("GET", this.path(), this.timeout());
    } catch (e) {
      if (!isNotFound(e)) throw e;
      try {
        await client.request("POST", collectionPath(LEASES, namespace), {
          ...this.timeout(),
          body: {
            apiVersion: apiVersionOf(LEASES),
            kind: "Lease",
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: durationSeconds,
              acquireTime: microTime(now),
              renewTime: microTime(now),
              leaseTransitions: 0,
            },
          },
        });
        this.observe(identity, microTime(now), durationSeconds * 1000);
        return true;
      } catch (createError) {
        if (isAlreadyExists(createError)) return false;
        throw createError;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? "";
    this.observe(holder, spec.renewTime ?? "", (spec.leaseDurationSeconds ?? durationSeconds) * 1000);
    const observed = this.observed!;
    if (holder !== "" && holder !== identity && Date.now() < observed.at + observed.durationMs) return false;

    const takingOver = holder !== identity;
    const updated: Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: microTime(now),
        acquireTime: takingOver ? microTime(now) : (spec.acquireTime ?? microTime(now)),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver && holder !== "" ? 1 : 0),
      },
    };
    try {
      await client.request("PUT", this.path(), { ...this.timeout(), body: updated });
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
    this.observe(identity, updated.spec!.renewTime!, durationSeconds * 1000);
    return true;
  }

  private observe(holder: string, renewTime: string, durationMs: number): void {
    const o = this.observed;
    if (o === undefined || o.holder !== holder || o.renewTime !== renewTime || o.durationMs !== durationMs)
      this.observed = { holder, renewTime, durationMs, at: Date.now() };
    if (holder !== this.lastLeader) {
      this.lastLeader = holder;
      if (holder !== "") this.options.onNewLeader?.(holder);
    }
  }

  /** Gives the Lease up: an empty holder lets the next candidate take it without waiting. */
  private async release(): Promise<void> {
    const { client, identity, log } = this.options;
    try {
      const lease = await client.request<Lease>("GET", this.path(), this.timeout());
      if (lease.spec?.holderIdentity !== identity) return;
      await client.request("PUT", this.path(), {
        ...this.timeout(),
        body: {
          ...lease,
          spec: {
            ...lease.spec,
            holderIdentity: "",
            leaseDurationSeconds: 1,
            renewTime: microTime(new Date()),
          },
        },
      });
      log.info("leader election: lease released", { lease: this.leaseName() });
    } catch (e) {
      log.warn("leader election: could not release the lease; it expires on its own", {
        lease: this.leaseName(),
        err: e,
      });
    }
  }
}
