// IpvsClient: the IpvsControl kernel edge over generic netlink (family "IPVS").
import { GenlFamilyClient, GenlFamilyNotFoundError, resolveFamily } from "../genl/family.js";
import type { GenlFamily, GenlMessage } from "../genl/header.js";
import { NETLINK_GENERIC } from "../netlink/constants.js";
import { NetlinkConnection, type NetlinkConnectionOptions } from "../netlink/connection.js";
import { NetlinkDecodeError, NetlinkError } from "../netlink/errors.js";
import { decodeInfo, decodeTimeouts } from "./config-codec.js";
import { IPVS_GENL_NAME, IPVS_GENL_VERSION } from "./constants.js";
import type { IpvsControl, IpvsOperationResult } from "./control.js";
import { IpvsOperationError, IpvsUnavailableError } from "./errors.js";
import {
  serviceFamily,
  type IpvsDestination,
  type IpvsDestinationState,
  type IpvsInfo,
  type IpvsService,
  type IpvsServiceState,
  type IpvsTimeouts,
  type ServiceKey,
  type SyncDaemon,
  type SyncDaemonState,
} from "./model.js";
import {
  decodeDestinationReply,
  decodeServiceReply,
  decodeSyncDaemonReply,
  describeOperation,
  flushRequest,
  getInfoRequest,
  getServiceRequest,
  getTimeoutsRequest,
  listDestinationsRequest,
  listServicesRequest,
  listSyncDaemonsRequest,
  operationRequest,
  setTimeoutsRequest,
  startSyncDaemonRequest,
  stopSyncDaemonRequest,
  zeroRequest,
  type IpvsOperation,
  type IpvsRequest,
} from "./requests.js";

const ESRCH = 3;

export class IpvsClient implements IpvsControl {
  /**
   * Opens a generic netlink socket in the current network namespace and resolves the IPVS
   * family. Rejects with IpvsUnavailableError when the kernel has no IPVS.
   */
  static async open(options: NetlinkConnectionOptions = {}): Promise<IpvsClient> {
    const connection = NetlinkConnection.open(NETLINK_GENERIC, options);
    try {
      return await IpvsClient.over(connection);
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  /** An IpvsClient on an existing connection (which it then owns and closes). */
  static async over(connection: NetlinkConnection): Promise<IpvsClient> {
    try {
      const family = await resolveFamily(connection, IPVS_GENL_NAME);
      return new IpvsClient(new GenlFamilyClient(connection, family, IPVS_GENL_VERSION));
    } catch (error) {
      if (error instanceof GenlFamilyNotFoundError) throw new IpvsUnavailableError(error);
      throw error;
    }
  }

  private constructor(private readonly genl: GenlFamilyClient) {}

  /** The IPVS family as nlctrl resolved it (its id is this boot's message type for IPVS). */
  get family(): GenlFamily {
    return this.genl.family;
  }

  async info(): Promise<IpvsInfo> {
    return decodeInfo(this.single(await this.send(getInfoRequest()), "get IPVS info").attributes);
  }

  async listServices(): Promise<IpvsServiceState[]> {
    const replies = await this.genl.dump(listServicesRequest());
    return replies.map((reply) => decodeServiceReply(reply.attributes));
  }

  async getService(key: ServiceKey): Promise<IpvsServiceState | undefined> {
    const request = getServiceRequest(key);
    try {
      return decodeServiceReply(this.single(await this.send(request), request.description).attributes);
    } catch (error) {
      if (error instanceof NetlinkError && error.errno === ESRCH) return undefined;
      throw error;
    }
  }

  async listDestinations(service: ServiceKey): Promise<IpvsDestinationState[]> {
    const family = serviceFamily(service);
    const replies = await this.genl.dump(listDestinationsRequest(service));
    return replies.map((reply) => decodeDestinationReply(reply.attributes, family));
  }

  addService(service: IpvsService): Promise<void> {
    return this.applyOne({ kind: "add-service", service });
  }

  editService(service: IpvsService): Promise<void> {
    return this.applyOne({ kind: "edit-service", service });
  }

  deleteService(key: ServiceKey): Promise<void> {
    return this.applyOne({ kind: "delete-service", service: key });
  }

  addDestination(service: ServiceKey, destination: IpvsDestination): Promise<void> {
    return this.applyOne({ kind: "add-destination", service, destination });
  }

  editDestination(service: ServiceKey, destination: IpvsDestination): Promise<void> {
    return this.applyOne({ kind: "edit-destination", service, destination });
  }

  deleteDestination(
    service: ServiceKey,
    destination: Pick<IpvsDestination, "address" | "port">,
  ): Promise<void> {
    return this.applyOne({ kind: "delete-destination", service, destination });
  }

  async apply(operations: readonly IpvsOperation[]): Promise<IpvsOperationResult[]> {
    // Operations that cannot even be encoded fail on their own; the rest go to the kernel together.
    const encoded: { index: number; request: IpvsRequest }[] = [];
    const results: (IpvsOperationResult | undefined)[] = operations.map((operation, index) => {
      try {
        encoded.push({ index, request: operationRequest(operation) });
        return undefined;
      } catch (error) {
        return {
          operation,
          ok: false,
          error: new IpvsOperationError(operation, describeOperation(operation), error as Error),
        };
      }
    });
    const sent = await this.genl.batch(encoded.map(({ request }) => request));
    sent.forEach((result, position) => {
      const { index, request } = encoded[position]!;
      const operation = operations[index]!;
      results[index] = result.ok
        ? { operation, ok: true }
        : {
            operation,
            ok: false,
            error: new IpvsOperationError(operation, request.description, result.error),
          };
    });
    return results.map((result) => result!);
  }

  async getTimeouts(): Promise<IpvsTimeouts> {
    return decodeTimeouts(this.single(await this.send(getTimeoutsRequest()), "get IPVS timeouts").attributes);
  }

  async setTimeouts(timeouts: Partial<IpvsTimeouts>): Promise<void> {
    await this.send(setTimeoutsRequest(timeouts));
  }

  async listSyncDaemons(): Promise<SyncDaemon[]> {
    const replies = await this.genl.dump(listSyncDaemonsRequest());
    return replies.map((reply) => decodeSyncDaemonReply(reply.attributes));
  }

  async startSyncDaemon(daemon: SyncDaemon): Promise<void> {
    await this.send(startSyncDaemonRequest(daemon));
  }

  async stopSyncDaemon(state: SyncDaemonState): Promise<void> {
    await this.send(stopSyncDaemonRequest(state));
  }

  async zero(service?: ServiceKey): Promise<void> {
    await this.send(zeroRequest(service));
  }

  async flush(): Promise<void> {
    await this.send(flushRequest());
  }

  close(): void {
    this.genl.connection.close();
  }

  private send(request: IpvsRequest): Promise<GenlMessage[]> {
    return this.genl.request(request);
  }

  private async applyOne(operation: IpvsOperation): Promise<void> {
    const [result] = await this.apply([operation]);
    if (result !== undefined && !result.ok) throw result.error;
  }

  private single(replies: GenlMessage[], description: string): GenlMessage {
    const [reply] = replies;
    if (reply === undefined)
      throw new NetlinkDecodeError(
        `IPVS reply to ${description}`,
        0,
        "the kernel acknowledged without a reply message",
      );
    return reply;
  }
}
