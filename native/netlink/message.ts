// struct nlmsghdr framing (u32 length, u16 type, u16 flags, u32 seq, u32 pid; then the payload,
// padded to 4 bytes) and the NLMSG_ERROR / NLMSG_DONE payloads every netlink family shares.
import { align4, AttributeSet } from "./attributes.js";
import {
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLMSG_HDRLEN,
  NLMSGERR_ATTR_MISS_TYPE,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
} from "./constants.js";
import { NetlinkDecodeError } from "./errors.js";

export interface NetlinkMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  readonly payload: Buffer;
}

export interface NetlinkMessageInit {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid?: number;
  readonly payload?: Uint8Array;
}

/** One message with its header, padded to a multiple of 4 bytes. */
export function encodeMessage(message: NetlinkMessageInit): Buffer {
  const payload = message.payload ?? Buffer.alloc(0);
  const length = NLMSG_HDRLEN + payload.length;
  if (length > 0xffffffff) throw new RangeError(`netlink message of ${length} bytes is too large`);
  const buffer = Buffer.alloc(align4(length));
  buffer.writeUInt32LE(length, 0);
  buffer.writeUInt16LE(message.type, 4);
  buffer.writeUInt16LE(message.flags, 6);
  buffer.writeUInt32LE(message.seq >>> 0, 8);
  buffer.writeUInt32LE((message.pid ?? 0) >>> 0, 12);
  buffer.set(payload, NLMSG_HDRLEN);
  return buffer;
}

/** Splits one datagram into its messages. Payloads share memory with the datagram. */
export function decodeMessages(datagram: Buffer): NetlinkMessage[] {
  const messages: NetlinkMessage[] = [];
  let offset = 0;
  while (offset < datagram.length) {
    const left = datagram.length - offset;
    if (left < NLMSG_HDRLEN) {
      throw new NetlinkDecodeError("nlmsghdr", offset, `${left} trailing bytes, less than a message header`);
    }
    const length = datagram.readUInt32LE(offset);
    if (length < NLMSG_HDRLEN) {
      throw new NetlinkDecodeError("nlmsghdr", offset, `message length ${length} is smaller than its header`);
    }
    if (length > left) {
      throw new NetlinkDecodeError(
        "nlmsghdr",
        offset,
        `message length ${length} runs past the end (${left} bytes left)`,
      );
    }
    messages.push({
      type: datagram.readUInt16LE(offset + 4),
      flags: datagram.readUInt16LE(offset + 6),
      seq: datagram.readUInt32LE(offset + 8),
      pid: datagram.readUInt32LE(offset + 12),
      payload: datagram.subarray(offset + NLMSG_HDRLEN, offset + length),
    });
    offset += Math.min(align4(length), left);
  }
  return messages;
}

/** The header of the request an NLMSG_ERROR answers. */
export interface EchoedRequestHeader {
  readonly length: number;
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
}

/** Decoded NLMSG_ERROR payload: errno 0 is an ack, anything else the kernel's rejection. */
export interface NetlinkAck {
  /** Positive errno; 0 for success. */
  readonly errno: number;
  readonly request: EchoedRequestHeader;
  /** NLMSGERR_ATTR_MSG: the kernel's explanation. */
  readonly kernelMessage?: string;
  /** NLMSGERR_ATTR_OFFS: offset of the offending attribute in the request. */
  readonly attributeOffset?: number;
  /** NLMSGERR_ATTR_MISS_TYPE: a required attribute that was missing. */
  readonly missingAttribute?: number;
}

const ERRMSG_HEADER = 4 + NLMSG_HDRLEN; // int error + the echoed nlmsghdr

/** Decodes an NLMSG_ERROR message (struct nlmsgerr plus optional extended-ack attributes). */
export function decodeAck(message: NetlinkMessage): NetlinkAck {
  const payload = message.payload;
  if (payload.length < ERRMSG_HEADER) {
    throw new NetlinkDecodeError(
      "nlmsgerr",
      0,
      `${payload.length} bytes, expected at least ${ERRMSG_HEADER}`,
    );
  }
  const error = payload.readInt32LE(0);
  if (error > 0)
    throw new NetlinkDecodeError("nlmsgerr", 0, `error ${error} is positive; the kernel sends 0 or -errno`);
  const request: EchoedRequestHeader = {
    length: payload.readUInt32LE(4),
    type: payload.readUInt16LE(8),
    flags: payload.readUInt16LE(10),
    seq: payload.readUInt32LE(12),
    pid: payload.readUInt32LE(16),
  };
  const ack: { -readonly [K in keyof NetlinkAck]: NetlinkAck[K] } = {
    errno: error === 0 ? 0 : -error,
    request,
  };
  if ((message.flags & NLM_F_ACK_TLVS) === 0) return ack;

  // Without NLM_F_CAPPED the kernel echoed the whole request before the extended-ack attributes.
  let tlvStart = ERRMSG_HEADER;
  if ((message.flags & NLM_F_CAPPED) === 0) {
    if (request.length < NLMSG_HDRLEN) {
      throw new NetlinkDecodeError(
        "nlmsgerr",
        4,
        `echoed request length ${request.length} is smaller than a header`,
      );
    }
    tlvStart = ERRMSG_HEADER + align4(request.length - NLMSG_HDRLEN);
  }
  if (tlvStart > payload.length) {
    throw new NetlinkDecodeError("nlmsgerr", 4, `echoed request (${request.length} bytes) runs past the end`);
  }
  const tlvs = new AttributeSet(payload.subarray(tlvStart), "extended ack attributes", {
    [NLMSGERR_ATTR_MSG]: "NLMSGERR_ATTR_MSG",
    [NLMSGERR_ATTR_OFFS]: "NLMSGERR_ATTR_OFFS",
    [NLMSGERR_ATTR_MISS_TYPE]: "NLMSGERR_ATTR_MISS_TYPE",
  });
  const kernelMessage = tlvs.string(NLMSGERR_ATTR_MSG);
  const attributeOffset = tlvs.u32(NLMSGERR_ATTR_OFFS);
  const missingAttribute = tlvs.u32(NLMSGERR_ATTR_MISS_TYPE);
  if (kernelMessage !== undefined) ack.kernelMessage = kernelMessage;
  if (attributeOffset !== undefined) ack.attributeOffset = attributeOffset;
  if (missingAttribute !== undefined) ack.missingAttribute = missingAttribute;
  return ack;
}

/** Decodes an NLMSG_DONE payload: some families (generic netlink dumps) put an error there. */
export function decodeDoneErrno(message: NetlinkMessage): number {
  if (message.payload.length < 4) return 0;
  const error = message.payload.readInt32LE(0);
  return error < 0 ? -error : 0;
}
