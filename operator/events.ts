// Kubernetes Events (events.k8s.io/v1) about kubelvs objects: what `kubectl describe` and
// `kubectl events` show. Cluster-scoped objects get their Events in the "default" namespace, as
// client-go's recorder does. Failing to record an Event is logged, never fatal.
import { randomBytes } from "node:crypto";
import type { Logger } from "../core/log.js";
import type { EventToRecord } from "./conditions.js";
import type { KubeClient } from "./kube/client.js";
import { microTime } from "./leader-election.js";
import {
  apiVersionOf,
  collectionPath,
  EVENTS,
  type ObjectMeta,
  type ResourceType,
} from "./kube/resources.js";

export const REPORTING_CONTROLLER = "kubelvs.io/operator";

export interface EventSubject {
  resource: ResourceType;
  metadata: ObjectMeta;
}

export class EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly reportingInstance: string,
    private readonly log: Logger,
  ) {}

  async record(subject: EventSubject, event: EventToRecord): Promise<void> {
    const { resource, metadata } = subject;
    const namespace = metadata.namespace ?? "default";
    const now = new Date();
    const body = {
      apiVersion: apiVersionOf(EVENTS),
      kind: "Event",
      metadata: {
        name: `${metadata.name.slice(0, 230)}.${now.getTime().toString(16)}${randomBytes(3).toString("hex")}`,
        namespace,
      },
      eventTime: microTime(now),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.reportingInstance.slice(0, 128),
      action: event.action,
      reason: event.reason,
      type: event.type,
      note: event.note.slice(0, 1024),
      regarding: {
        apiVersion: apiVersionOf(resource),
        kind: resource.kind,
        name: metadata.name,
        ...(metadata.namespace === undefined ? {} : { namespace: metadata.namespace }),
        ...(metadata.uid === undefined ? {} : { uid: metadata.uid }),
        ...(metadata.resourceVersion === undefined ? {} : { resourceVersion: metadata.resourceVersion }),
      },
    };
    try {
      await this.client.create(collectionPath(EVENTS, namespace), body);
    } catch (e) {
      this.log.warn("could not record an Event", {
        object: `${resource.kind} ${metadata.namespace ? `${metadata.namespace}/` : ""}${metadata.name}`,
        reason: event.reason,
        err: e,
      });
    }
  }
}
