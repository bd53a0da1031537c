// What the core reads out of a received packet before its state machine looks at it: the families of
// the addresses, the source in canonical form, and the decoded, checksum-verified advert. All of it
// is a pure function of the bytes, the two addresses and the checksum mode, and a Master sends the
// same advert byte for byte every interval (up to 100 times a second per group at 10 ms), so a
// repeat costs a memcmp and a lookup instead of address parsing, a checksum and address formatting.
import { canonicalAddress, ipFamily, type IpFamily } from "./address.js";
import { tryDecodeAdvert, type ChecksumVariant, type DecodeResult } from "./packet.js";
import type { AdvertMeta } from "./ports.js";

export type ChecksumMode = ChecksumVariant | "either";

/** One received packet and what the core reads from it, each read at most once. */
export class ReceivedAdvert {
  readonly srcFamily: IpFamily | undefined;
  readonly dstFamily: IpFamily | undefined;
  /** The source in the core's canonical text form; undefined when it is no IP address. */
  readonly canonicalSrc: string | undefined;
  private decodeResult: DecodeResult | undefined;

  constructor(
    /** A copy: the memo compares the next packet against it. */
    readonly packet: Buffer,
    readonly src: string,
    readonly dst: string,
    readonly mode: ChecksumMode,
  ) {
    this.srcFamily = ipFamily(src);
    this.dstFamily = ipFamily(dst);
    this.canonicalSrc = this.srcFamily === undefined ? undefined : canonicalAddress(src);
  }

  /** Decoded and verified on first use (callers check the families first: decoding needs valid ones). */
  get decoded(): DecodeResult {
    this.decodeResult ??= tryDecodeAdvert(this.packet, {
      src: this.src,
      dst: this.dst,
      checksumMode: this.mode,
    });
    return this.decodeResult;
  }

  /** The same bytes between the same addresses, read the same way. */
  repeats(packet: Uint8Array, meta: AdvertMeta, mode: ChecksumMode): boolean {
    return this.dst === meta.dst && this.mode === mode && this.packet.equals(packet);
  }
}

/** Senders remembered at once: the Master, and during an election a few contenders. */
const MAX_SENDERS = 8;

/** The last packet of each recent sender, so a repeat is recognised instead of read again. */
export class ReceivedAdvertMemo {
  private readonly bySender = new Map<string, ReceivedAdvert>();

  read(packet: Uint8Array, meta: AdvertMeta, mode: ChecksumMode): ReceivedAdvert {
    const last = this.bySender.get(meta.src);
    if (last?.repeats(packet, meta, mode) === true) return last;
    const received = new ReceivedAdvert(Buffer.from(packet), meta.src, meta.dst, mode);
    if (last === undefined && this.bySender.size >= MAX_SENDERS) this.bySender.clear();
    this.bySender.set(meta.src, received);
    return received;
  }
}
