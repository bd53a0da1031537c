// VrrpGroup status: the render verdict (Accepted), each selected node's state and priority from the
// agents' reports, the single Master, nodes ready, and SplitBrain when two nodes report Master.
// An Event goes with every change of a condition, never with an unchanged one.
import type { VrrpGroupStatus } from "../crds/schema/vrrp-group.js";
import { conditionEvents } from "./conditions.js";
import type { VrrpGroupObject } from "./cluster-objects.js";
import type { EventRecorder } from "./events.js";
import type { Informer } from "./kube/informer.js";
import { VRRP_GROUPS } from "./kube/resources.js";
import type { OperatorMetrics } from "./metrics.js";
import { groupKey, type RenderController } from "./render-controller.js";
import type { ReportIndex } from "./report-index.js";
import { vrrpGroupStatus, type GroupStatusResult } from "./status-aggregation.js";
import type { StatusWriter } from "./status-writer.js";

export interface StatusReconcileResult {
  /** Recompute after this long (a report goes stale then). */
  recheckAfterMs?: number;
}

export class VrrpGroupController {
  constructor(
    private readonly groups: Informer<VrrpGroupObject>,
    private readonly renderer: RenderController,
    private readonly reports: ReportIndex,
    private readonly writer: StatusWriter<VrrpGroupStatus>,
    private readonly events: EventRecorder,
    private readonly metrics: OperatorMetrics,
    private readonly staleAfterMs: number,
  ) {}

  /** The group's status as computed now (also what VirtualServices read the Master from). */
  compute(name: string, existing: VrrpGroupStatus | undefined, now: Date): GroupStatusResult | undefined {
    const snapshot = this.renderer.snapshot;
    if (snapshot === undefined) return undefined;
    const key = groupKey(name);
    return vrrpGroupStatus({
      generation: snapshot.generations.get(key),
      problem: snapshot.problems.get(key),
      selectedNodes: snapshot.groupNodes.get(name) ?? [],
      reports: this.reports.groupReports(name),
      existing,
      now,
      staleAfterMs: this.staleAfterMs,
    });
  }

  async reconcile(name: string): Promise<StatusReconcileResult> {
    const group = this.groups.get(name);
    // Gone, or another instance's group: that instance's operator writes its status.
    if (group === undefined || !this.renderer.serves(groupKey(name))) {
      this.writer.forget({ name });
      return {};
    }
    const previous = this.writer.current(group.metadata, group.status);
    const result = this.compute(name, previous, new Date());
    if (result === undefined) return {};
    if (await this.writer.update(group.metadata, group.status, result.status)) {
      this.metrics.statusWritten("VrrpGroup");
      for (const event of conditionEvents(previous?.conditions, result.status.conditions ?? []))
        await this.events.record({ resource: VRRP_GROUPS, metadata: group.metadata }, event);
    }
    return result.recheckAfterMs === undefined ? {} : { recheckAfterMs: result.recheckAfterMs };
  }
}
