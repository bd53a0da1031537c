// VirtualService status: the endpoint, the carrying group and its Master, and the real servers'
// health as the Master's agent reports it; Accepted with the render verdict, with an Event when it
// changes.
import type { VirtualServiceStatus } from "../crds/schema/virtual-service.js";
import type { VirtualServiceObject } from "./cluster-objects.js";
import type { EventRecorder } from "./events.js";
import type { Informer } from "./kube/informer.js";
import { VIRTUAL_SERVICES } from "./kube/resources.js";
import type { OperatorMetrics } from "./metrics.js";
import { serviceKey, type RenderController } from "./render-controller.js";
import type { ReportIndex } from "./report-index.js";
import { virtualServiceStatus } from "./status-aggregation.js";
import type { StatusWriter } from "./status-writer.js";
import { conditionEvents } from "./conditions.js";
import type { StatusReconcileResult, VrrpGroupController } from "./vrrpgroup-controller.js";

export class VirtualServiceController {
  constructor(
    private readonly services: Informer<VirtualServiceObject>,
    private readonly renderer: RenderController,
    private readonly groups: VrrpGroupController,
    private readonly reports: ReportIndex,
    private readonly writer: StatusWriter<VirtualServiceStatus>,
    private readonly events: EventRecorder,
    private readonly metrics: OperatorMetrics,
  ) {}

  async reconcile(namespace: string, name: string): Promise<StatusReconcileResult> {
    const service = this.services.get(name, namespace);
    // Gone, or attached to another instance's group: that instance's operator writes its status.
    if (service === undefined || !this.renderer.serves(serviceKey(namespace, name))) {
      this.writer.forget({ name, namespace });
      return {};
    }
    const snapshot = this.renderer.snapshot;
    if (snapshot === undefined) return {};
    const key = serviceKey(namespace, name);
    const now = new Date();
    const vrrpGroup = snapshot.serviceGroups.get(`${namespace}/${name}`);
    const group = vrrpGroup === undefined ? undefined : this.groups.compute(vrrpGroup, undefined, now);
    const master = group?.status.master ?? "";
    const previous = this.writer.current(service.metadata, service.status);
    const status = virtualServiceStatus({
      spec: service.spec,
      generation: snapshot.generations.get(key),
      problem: snapshot.problems.get(key),
      vrrpGroup,
      master,
      masterReport: master === "" ? undefined : this.reports.serviceReport(master, namespace, name),
      realServerNodes: snapshot.realServerNodes.get(`${namespace}/${name}`),
      existing: previous,
      now,
    });
    if (await this.writer.update(service.metadata, service.status, status)) {
      this.metrics.statusWritten("VirtualService");
      for (const event of conditionEvents(previous?.conditions, status.conditions ?? []))
        await this.events.record({ resource: VIRTUAL_SERVICES, metadata: service.metadata }, event);
    }
    return group?.recheckAfterMs === undefined ? {} : { recheckAfterMs: group.recheckAfterMs };
  }
}
