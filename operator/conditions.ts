// Status conditions (metav1.Condition) the way the API conventions want them: one per type,
// lastTransitionTime moves only when the status flips, and a condition that did not change is
// byte-for-byte the one already stored, so comparing old and new status detects "nothing to write".
import type { Condition } from "../crds/schema/common.js";
import type { Problem, RealServerNode } from "../core/render/render.js";

/** An Event to record about an object (see events.ts). */
export interface EventToRecord {
  type: "Normal" | "Warning";
  reason: string;
  /** What was being done: Render, Aggregate. */
  action: string;
  note: string;
}

export interface WantedCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
}

/** metav1.Time: RFC 3339 in whole seconds. */
export function kubeTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The condition to store: the existing one kept as is when nothing about it changed. */
export function buildCondition(
  wanted: WantedCondition,
  existing: readonly Condition[] | undefined,
  observedGeneration: number | undefined,
  now: Date,
): Condition {
  const previous = existing?.find((c) => c.type === wanted.type);
  const lastTransitionTime =
    previous !== undefined && previous.status === wanted.status ? previous.lastTransitionTime : kubeTime(now);
  return {
    type: wanted.type,
    status: wanted.status,
    ...(observedGeneration === undefined ? {} : { observedGeneration }),
    lastTransitionTime,
    reason: wanted.reason,
    message: wanted.message,
  };
}

/** Replaces the conditions of the given types, keeping others (set by someone else) in place. */
export function mergeConditions(
  existing: readonly Condition[] | undefined,
  updates: readonly Condition[],
): Condition[] {
  const byType = new Map((existing ?? []).map((c) => [c.type, c]));
  for (const c of updates) byType.set(c.type, c);
  return [...byType.values()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

/** Whether a condition changed in what a reader sees (status, reason or message). */
export function conditionChanged(previous: Condition | undefined, next: Condition): boolean {
  return (
    previous === undefined ||
    previous.status !== next.status ||
    previous.reason !== next.reason ||
    previous.message !== next.message
  );
}

export const ACCEPTED = "Accepted";
export const SPLIT_BRAIN = "SplitBrain";
/** On DR/TUN VirtualServices with real servers on cluster nodes: whether every such node is prepared. */
export const REAL_SERVER_NODES_PREPARED = "RealServerNodesPrepared";

/** Accepted=False with the renderer's reason when the object has a problem, Accepted=True otherwise. */
export function acceptedCondition(problem: Problem | undefined, kind: string): WantedCondition {
  if (problem !== undefined)
    return { type: ACCEPTED, status: "False", reason: problem.reason, message: problem.message };
  return { type: ACCEPTED, status: "True", reason: "Accepted", message: `the ${kind} is valid and rendered` };
}

/** SplitBrain=True naming the nodes when more than one reports Master. */
export function splitBrainCondition(masters: readonly string[]): WantedCondition {
  if (masters.length > 1)
    return {
      type: SPLIT_BRAIN,
      status: "True",
      reason: "MultipleMasters",
      message: `${masters.length} nodes report Master: ${masters.join(", ")}`,
    };
  return {
    type: SPLIT_BRAIN,
    status: "False",
    reason: masters.length === 1 ? "SingleMaster" : "NoMaster",
    message: masters.length === 1 ? `only ${masters[0]} reports Master` : "no node reports Master",
  };
}

/**
 * RealServerNodesPrepared for a service with DR/TUN real servers on cluster nodes: True when the
 * renderer gave each such node the VIP (its agent makes it local), False naming the directors it
 * left out and why. Undefined when no real server is a cluster node: the condition does not apply.
 */
export function realServerNodesCondition(
  found: readonly RealServerNode[] | undefined,
): WantedCondition | undefined {
  if (found === undefined || found.length === 0) return undefined;
  const excluded = found.filter((f) => f.excluded !== undefined);
  if (excluded.length > 0)
    return {
      type: REAL_SERVER_NODES_PREPARED,
      status: "False",
      reason: "DirectorIsRealServer",
      message: excluded.map((f) => f.excluded).join("; "),
    };
  return {
    type: REAL_SERVER_NODES_PREPARED,
    status: "True",
    reason: "Rendered",
    message: `VIP ${found[0]!.vip} is rendered for the real servers on cluster nodes (made local there, ARP for it suppressed): ${found.map((f) => `${f.node} (${f.address}, ${f.forwarding})`).join(", ")}; each node's NodeState status.realServer shows it applied`,
  };
}

/** Events for the Accepted, RealServerNodesPrepared and SplitBrain conditions that changed (none for a first True). */
export function conditionEvents(
  previous: readonly Condition[] | undefined,
  next: readonly Condition[],
): EventToRecord[] {
  const events: EventToRecord[] = [];
  for (const condition of next) {
    const before = previous?.find((c) => c.type === condition.type);
    if (!conditionChanged(before, condition)) continue;
    if (condition.type === ACCEPTED) {
      if (condition.status === "False")
        events.push({ type: "Warning", reason: condition.reason, action: "Render", note: condition.message });
      else if (before !== undefined)
        events.push({ type: "Normal", reason: "Accepted", action: "Render", note: condition.message });
    } else if (condition.type === REAL_SERVER_NODES_PREPARED) {
      if (condition.status === "False")
        events.push({ type: "Warning", reason: condition.reason, action: "Render", note: condition.message });
      else if (before?.status === "False")
        events.push({
          type: "Normal",
          reason: "RealServerNodesPrepared",
          action: "Render",
          note: condition.message,
        });
    } else if (condition.type === SPLIT_BRAIN) {
      if (condition.status === "True")
        events.push({ type: "Warning", reason: "SplitBrain", action: "Aggregate", note: condition.message });
      else if (before?.status === "True")
        events.push({
          type: "Normal",
          reason: "SplitBrainResolved",
          action: "Aggregate",
          note: condition.message,
        });
    }
  }
  return events;
}
