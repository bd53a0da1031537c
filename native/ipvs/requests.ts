// Every IPVS request as (command, attributes, description), and the decoders for the top-level
// attributes of every reply. Pure: no socket, so all of it is unit-tested without root.
import { AttributeSet, encodeAttributes } from "../netlink/attributes.js";
import {
  COMMAND_ATTRIBUTE_NAMES,
  IPVS_CMD_ATTR_DAEMON,
  IPVS_CMD_ATTR_DEST,
  IPVS_CMD_ATTR_SERVICE,
  IPVS_CMD_DEL_DAEMON,
  IPVS_CMD_DEL_DEST,
  IPVS_CMD_DEL_SERVICE,
  IPVS_CMD_FLUSH,
  IPVS_CMD_GET_CONFIG,
  IPVS_CMD_GET_DAEMON,
  IPVS_CMD_GET_DEST,
  IPVS_CMD_GET_INFO,
  IPVS_CMD_GET_SERVICE,
  IPVS_CMD_NEW_DAEMON,
  IPVS_CMD_NEW_DEST,
  IPVS_CMD_NEW_SERVICE,
  IPVS_CMD_SET_CONFIG,
  IPVS_CMD_SET_DEST,
  IPVS_CMD_SET_SERVICE,
  IPVS_CMD_ZERO,
  IPVS_DAEMON_ATTR_STATE,
} from "./constants.js";
import { decodeSyncDaemon, syncStateNumber, writeSyncDaemon, writeTimeouts } from "./config-codec.js";
import { decodeDestination, writeDestination, writeDestinationKey } from "./destination-codec.js";
import {
  describeDestination,
  describeService,
  type IpFamily,
  type IpvsDestination,
  type IpvsDestinationState,
  type IpvsService,
  type IpvsServiceState,
  type IpvsTimeouts,
  type ServiceKey,
  type SyncDaemon,
  type SyncDaemonState,
} from "./model.js";
import { decodeService, writeService, writeServiceKey } from "./service-codec.js";
import { NetlinkDecodeError } from "../netlink/errors.js";

/** One IPVS generic netlink request, ready for the connection to frame and send. */
export interface IpvsRequest {
  readonly command: number;
  /** Top-level attributes (after the genl header). */
  readonly attributes: Buffer;
  /** For errors: "add destination 203.0.113.11:80 to TCP 198.51.100.254:80". */
  readonly description: string;
}

/** A change to the IPVS tables; `apply()` sends many of them at once. */
export type IpvsOperation =
  | { readonly kind: "add-service"; readonly service: IpvsService }
  | { readonly kind: "edit-service"; readonly service: IpvsService }
  | { readonly kind: "delete-service"; readonly service: ServiceKey }
  | { readonly kind: "add-destination"; readonly service: ServiceKey; readonly destination: IpvsDestination }
  | { readonly kind: "edit-destination"; readonly service: ServiceKey; readonly destination: IpvsDestination }
  | {
      readonly kind: "delete-destination";
      readonly service: ServiceKey;
      readonly destination: Pick<IpvsDestination, "address" | "port">;
    };

/** "add destination 203.0.113.11:80 to TCP 198.51.100.254:80", "delete service FWM 7", ... */
export function describeOperation(operation: IpvsOperation): string {
  switch (operation.kind) {
    case "add-service":
      return `add service ${describeService(operation.service.key)}`;
    case "edit-service":
      return `edit service ${describeService(operation.service.key)}`;
    case "delete-service":
      return `delete service ${describeService(operation.service)}`;
    case "add-destination":
      return `add destination ${describeDestination(operation.destination)} to ${describeService(operation.service)}`;
    case "edit-destination":
      return `edit destination ${describeDestination(operation.destination)} of ${describeService(operation.service)}`;
    case "delete-destination":
      return `delete destination ${describeDestination(operation.destination)} from ${describeService(operation.service)}`;
  }
}

/** The request that performs one operation. Throws IpvsValidationError for unencodable values. */
export function operationRequest(operation: IpvsOperation): IpvsRequest {
  const description = describeOperation(operation);
  switch (operation.kind) {
    case "add-service":
    case "edit-service": {
      const { service } = operation;
      return {
        command: operation.kind === "add-service" ? IPVS_CMD_NEW_SERVICE : IPVS_CMD_SET_SERVICE,
        attributes: encodeAttributes((w) => w.nested(IPVS_CMD_ATTR_SERVICE, (s) => writeService(s, service))),
        description,
      };
    }
    case "delete-service": {
      const key = operation.service;
      return {
        command: IPVS_CMD_DEL_SERVICE,
        attributes: encodeAttributes((w) => w.nested(IPVS_CMD_ATTR_SERVICE, (s) => writeServiceKey(s, key))),
        description,
      };
    }
    case "add-destination":
    case "edit-destination": {
      const { service, destination } = operation;
      return {
        command: operation.kind === "add-destination" ? IPVS_CMD_NEW_DEST : IPVS_CMD_SET_DEST,
        attributes: encodeAttributes((w) =>
          w
            .nested(IPVS_CMD_ATTR_SERVICE, (s) => writeServiceKey(s, service))
            .nested(IPVS_CMD_ATTR_DEST, (d) => writeDestination(d, destination)),
        ),
        description,
      };
    }
    case "delete-destination": {
      const { service, destination } = operation;
      return {
        command: IPVS_CMD_DEL_DEST,
        attributes: encodeAttributes((w) =>
          w
            .nested(IPVS_CMD_ATTR_SERVICE, (s) => writeServiceKey(s, service))
            .nested(IPVS_CMD_ATTR_DEST, (d) => writeDestinationKey(d, destination)),
        ),
        description,
      };
    }
  }
}

const empty = Buffer.alloc(0);

/** GET_SERVICE as a dump: every service of the network namespace. */
export const listServicesRequest = (): IpvsRequest => ({
  command: IPVS_CMD_GET_SERVICE,
  attributes: empty,
  description: "list IPVS services",
});

/** GET_SERVICE for one service (not a dump: the kernel answers ESRCH when it does not exist). */
export const getServiceRequest = (key: ServiceKey): IpvsRequest => ({
  command: IPVS_CMD_GET_SERVICE,
  attributes: encodeAttributes((w) => w.nested(IPVS_CMD_ATTR_SERVICE, (s) => writeServiceKey(s, key))),
  description: `get service ${describeService(key)}`,
});

/** GET_DEST dump of one service's destinations. */
export const listDestinationsRequest = (key: ServiceKey): IpvsRequest => ({
  command: IPVS_CMD_GET_DEST,
  attributes: encodeAttributes((w) => w.nested(IPVS_CMD_ATTR_SERVICE, (s) => writeServiceKey(s, key))),
  description: `list destinations of ${describeService(key)}`,
});

export const setTimeoutsRequest = (timeouts: Partial<IpvsTimeouts>): IpvsRequest => ({
  command: IPVS_CMD_SET_CONFIG,
  attributes: encodeAttributes((w) => writeTimeouts(w, timeouts)),
  description: `set IPVS timeouts ${JSON.stringify(timeouts)}`,
});

export const getTimeoutsRequest = (): IpvsRequest => ({
  command: IPVS_CMD_GET_CONFIG,
  attributes: empty,
  description: "get IPVS timeouts",
});

export const startSyncDaemonRequest = (daemon: SyncDaemon): IpvsRequest => ({
  command: IPVS_CMD_NEW_DAEMON,
  attributes: encodeAttributes((w) => w.nested(IPVS_CMD_ATTR_DAEMON, (d) => writeSyncDaemon(d, daemon))),
  description: `start ${daemon.state} sync daemon on ${daemon.interface} (sync id ${daemon.syncId})`,
});

export const stopSyncDaemonRequest = (state: SyncDaemonState): IpvsRequest => ({
  command: IPVS_CMD_DEL_DAEMON,
  attributes: encodeAttributes((w) =>
    w.nested(IPVS_CMD_ATTR_DAEMON, (d) => d.u32(IPVS_DAEMON_ATTR_STATE, syncStateNumber(state))),
  ),
  description: `stop ${state} sync daemon`,
});

/** GET_DAEMON dump: one message per running daemon (master and/or backup). */
export const listSyncDaemonsRequest = (): IpvsRequest => ({
  command: IPVS_CMD_GET_DAEMON,
  attributes: empty,
  description: "list IPVS sync daemons",
});

export const getInfoRequest = (): IpvsRequest => ({
  command: IPVS_CMD_GET_INFO,
  attributes: empty,
  description: "get IPVS info",
});

/** ZERO: the counters of one service, or of everything when no service is given. */
export const zeroRequest = (key?: ServiceKey): IpvsRequest => ({
  command: IPVS_CMD_ZERO,
  attributes:
    key === undefined
      ? empty
      : encodeAttributes((w) => w.nested(IPVS_CMD_ATTR_SERVICE, (s) => writeServiceKey(s, key))),
  description: key === undefined ? "zero all IPVS counters" : `zero counters of ${describeService(key)}`,
});

/** FLUSH: removes every service. Part of the API for completeness; the product never flushes. */
export const flushRequest = (): IpvsRequest => ({
  command: IPVS_CMD_FLUSH,
  attributes: empty,
  description: "flush all IPVS services",
});

function topLevel(attributes: Buffer, what: string): AttributeSet {
  return new AttributeSet(attributes, `IPVS ${what} reply attributes`, COMMAND_ATTRIBUTE_NAMES);
}

/** Decodes one NEW_SERVICE message (reply to GET_SERVICE, or one part of its dump). */
export function decodeServiceReply(attributes: Buffer): IpvsServiceState {
  return decodeService(
    topLevel(attributes, "service").required(IPVS_CMD_ATTR_SERVICE, (s, t) => s.binary(t)),
  );
}

/** Decodes one NEW_DEST message of a GET_DEST dump. */
export function decodeDestinationReply(attributes: Buffer, serviceFamily: IpFamily): IpvsDestinationState {
  return decodeDestination(
    topLevel(attributes, "destination").required(IPVS_CMD_ATTR_DEST, (s, t) => s.binary(t)),
    serviceFamily,
  );
}

/** Decodes one NEW_DAEMON message of a GET_DAEMON dump. */
export function decodeSyncDaemonReply(attributes: Buffer): SyncDaemon {
  const nest = topLevel(attributes, "daemon").binary(IPVS_CMD_ATTR_DAEMON);
  if (nest === undefined)
    throw new NetlinkDecodeError("IPVS daemon reply attributes", 0, "IPVS_CMD_ATTR_DAEMON is missing");
  return decodeSyncDaemon(nest);
}
