// The agents' reports (NodeState.status) indexed by group and by service, kept current from the
// NodeState informer, and what changed in each report: a status update on one node touches only
// the groups and services whose entries changed, not all of them.
import type { NodeStateStatus, NodeVirtualServiceStatus } from "../crds/schema/node-state.js";
import { canonicalJSON } from "../core/render/content-hash.js";
import type { GroupReport } from "./status-aggregation.js";

export interface ReportChange {
  groups: Set<string>;
  /** Services as "namespace/name". */
  services: Set<string>;
}

function serviceKey(s: { namespace: string; name: string }): string {
  return `${s.namespace}/${s.name}`;
}

export class ReportIndex {
  private readonly byGroup = new Map<string, Map<string, GroupReport>>();
  private readonly byNode = new Map<string, NodeStateStatus>();

  constructor(
    private readonly staleAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Replaces a node's report (undefined: the NodeState is gone) and says what it changed. */
  update(node: string, status: NodeStateStatus | undefined): ReportChange {
    const previous = this.byNode.get(node);
    const change: ReportChange = { groups: new Set(), services: new Set() };
    // A report that was stale and is fresh again (or the reverse) changes every group it names.
    const wasFresh = this.fresh(previous);
    const isFresh = this.fresh(status);

    const oldGroups = new Map((previous?.vrrpGroups ?? []).map((g) => [g.name, g]));
    const newGroups = new Map((status?.vrrpGroups ?? []).map((g) => [g.name, g]));
    for (const name of new Set([...oldGroups.keys(), ...newGroups.keys()])) {
      const before = oldGroups.get(name);
      const after = newGroups.get(name);
      if (wasFresh !== isFresh || canonicalJSON(before) !== canonicalJSON(after)) change.groups.add(name);
      const reports = this.byGroup.get(name) ?? new Map<string, GroupReport>();
      if (after === undefined) reports.delete(node);
      else reports.set(node, { node, group: after, reportTime: status?.lastReportTime });
      if (reports.size === 0) this.byGroup.delete(name);
      else this.byGroup.set(name, reports);
    }

    const oldServices = new Map((previous?.virtualServices ?? []).map((s) => [serviceKey(s), s]));
    const newServices = new Map((status?.virtualServices ?? []).map((s) => [serviceKey(s), s]));
    for (const key of new Set([...oldServices.keys(), ...newServices.keys()])) {
      if (canonicalJSON(oldServices.get(key)) !== canonicalJSON(newServices.get(key)))
        change.services.add(key);
    }

    if (status === undefined) this.byNode.delete(node);
    else this.byNode.set(node, status);
    return change;
  }

  groupReports(group: string): GroupReport[] {
    return [...(this.byGroup.get(group)?.values() ?? [])];
  }

  serviceReport(node: string, namespace: string, name: string): NodeVirtualServiceStatus | undefined {
    return this.byNode.get(node)?.virtualServices?.find((s) => s.namespace === namespace && s.name === name);
  }

  private fresh(status: NodeStateStatus | undefined): boolean {
    const at = status?.lastReportTime === undefined ? Number.NaN : Date.parse(status.lastReportTime);
    return Number.isFinite(at) && this.now() - at < this.staleAfterMs;
  }
}
