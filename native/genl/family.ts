// Talking to one generic netlink family over a NetlinkConnection: the family's id is resolved by
// name through nlctrl (ids are assigned when a module registers the family, per boot), then every
// request carries that id as its message type and a genl header with the command and version.
import type { BatchResult, NetlinkConnection } from "../netlink/connection.js";
import { NetlinkError } from "../netlink/errors.js";
import type { NetlinkMessage } from "../netlink/message.js";
import { CTRL_CMD_GETFAMILY, CTRL_VERSION, GENL_ID_CTRL } from "./constants.js";
import {
  decodeFamily,
  decodeGenlPayload,
  encodeGenlPayload,
  encodeGetFamilyAttributes,
  type GenlFamily,
  type GenlMessage,
} from "./header.js";

const ENOENT = 2;

/** nlctrl does not know the family: its module is not loaded (or does not exist in this kernel). */
export class GenlFamilyNotFoundError extends Error {
  readonly family: string;

  constructor(family: string, cause: Error) {
    super(`generic netlink family ${family} is not registered in this kernel (${cause.message})`, { cause });
    this.name = "GenlFamilyNotFoundError";
    this.family = family;
  }
}

/** Asks nlctrl for a family by name; GenlFamilyNotFoundError when the kernel has none. */
export async function resolveFamily(connection: NetlinkConnection, name: string): Promise<GenlFamily> {
  const description = `resolve generic netlink family ${name}`;
  let replies: NetlinkMessage[];
  try {
    replies = await connection.request({
      type: GENL_ID_CTRL,
      payload: encodeGenlPayload(
        { command: CTRL_CMD_GETFAMILY, version: CTRL_VERSION },
        encodeGetFamilyAttributes(name),
      ),
      description,
    });
  } catch (error) {
    if (error instanceof NetlinkError && error.errno === ENOENT)
      throw new GenlFamilyNotFoundError(name, error);
    throw error;
  }
  const reply = replies.find((message) => message.type === GENL_ID_CTRL);
  if (reply === undefined) {
    throw new NetlinkError({
      errno: ENOENT,
      request: description,
      kernelMessage: "nlctrl acknowledged without a family",
    });
  }
  return decodeFamily(decodeGenlPayload(reply.payload, "nlctrl reply").attributes);
}

export interface GenlRequest {
  readonly command: number;
  /** Top-level attributes after the genl header. */
  readonly attributes?: Uint8Array;
  /** Extra nlmsg flags (e.g. NLM_F_CREATE); most families, IPVS included, ignore them. */
  readonly flags?: number;
  /** What the request does, for errors. */
  readonly description: string;
}

export type GenlBatchResult =
  { readonly ok: true; readonly replies: GenlMessage[] } | { readonly ok: false; readonly error: Error };

/** Requests to one resolved family over a connection the caller owns. */
export class GenlFamilyClient {
  constructor(
    readonly connection: NetlinkConnection,
    readonly family: GenlFamily,
    /** The version written into every genl header; defaults to the family's own. */
    private readonly version = family.version,
  ) {}

  /** One request, acked; resolves with the family's reply messages, decoded. */
  async request(request: GenlRequest): Promise<GenlMessage[]> {
    return this.decodeReplies(await this.connection.request(this.toNetlink(request)), request.description);
  }

  /** One dump request; resolves with every message up to NLMSG_DONE, decoded (the connection runs dumps one at a time). */
  async dump(request: GenlRequest): Promise<GenlMessage[]> {
    return this.decodeReplies(await this.connection.dump(this.toNetlink(request)), request.description);
  }

  /** Many acked requests in as few sendmsg calls as possible; one result per request, in order. */
  async batch(requests: readonly GenlRequest[]): Promise<GenlBatchResult[]> {
    const results: BatchResult[] = await this.connection.batch(
      requests.map((request) => this.toNetlink(request)),
    );
    return results.map((result, index) => {
      if (!result.ok) return result;
      try {
        return { ok: true, replies: this.decodeReplies(result.replies, requests[index]!.description) };
      } catch (error) {
        return { ok: false, error: error as Error };
      }
    });
  }

  private toNetlink(request: GenlRequest) {
    return {
      type: this.family.id,
      ...(request.flags !== undefined ? { flags: request.flags } : {}),
      payload: encodeGenlPayload({ command: request.command, version: this.version }, request.attributes),
      description: request.description,
    };
  }

  private decodeReplies(messages: readonly NetlinkMessage[], description: string): GenlMessage[] {
    return messages
      .filter((message) => message.type === this.family.id)
      .map((message) =>
        decodeGenlPayload(
          message.payload,
          `${this.family.name} reply to ${description}`,
          this.family.headerSize,
        ),
      );
  }
}
