// Netlink attributes (struct nlattr: u16 length, u16 type, value, padding to 4 bytes).
// AttributeWriter builds them; AttributeSet reads them with typed, length-checked accessors.
// Integers are host byte order (little-endian here) unless a *Be variant is used (ports, masks).
import { NLA_F_NESTED, NLA_F_NET_BYTEORDER, NLA_HDRLEN, NLA_TYPE_MASK } from "./constants.js";
import { NetlinkDecodeError } from "./errors.js";

export function align4(length: number): number {
  return (length + 3) & ~3;
}

const MAX_ATTRIBUTE_LENGTH = 0xffff;

/** Builds a sequence of attributes; nested() writes a container with NLA_F_NESTED. */
export class AttributeWriter {
  private readonly chunks: Buffer[] = [];
  private length = 0;

  u8(type: number, value: number): this {
    const b = Buffer.alloc(1);
    b.writeUInt8(value);
    return this.binary(type, b);
  }

  u16(type: number, value: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(value);
    return this.binary(type, b);
  }

  /** u16 in network byte order (e.g. ports). */
  u16be(type: number, value: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(value);
    return this.binary(type, b);
  }

  u32(type: number, value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value);
    return this.binary(type, b);
  }

  /** u32 in network byte order (e.g. IPv4 netmasks). */
  u32be(type: number, value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(value);
    return this.binary(type, b);
  }

  s32(type: number, value: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(value);
    return this.binary(type, b);
  }

  u64(type: number, value: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(value);
    return this.binary(type, b);
  }

  /** A NUL-terminated string (NLA_NUL_STRING / NLA_STRING both accept it). */
  string(type: number, value: string): this {
    return this.binary(type, Buffer.concat([Buffer.from(value, "utf8"), Buffer.alloc(1)]));
  }

  /** A zero-length attribute whose presence is the value (NLA_FLAG). */
  flag(type: number): this {
    return this.binary(type, Buffer.alloc(0));
  }

  binary(type: number, value: Uint8Array): this {
    const total = NLA_HDRLEN + value.length;
    if (total > MAX_ATTRIBUTE_LENGTH) {
      throw new RangeError(
        `netlink attribute ${type & NLA_TYPE_MASK} is ${total} bytes, more than ${MAX_ATTRIBUTE_LENGTH}`,
      );
    }
    if (!Number.isInteger(type) || type < 0 || type > 0xffff) {
      throw new RangeError(`netlink attribute type ${type} is not a 16-bit unsigned integer`);
    }
    const header = Buffer.alloc(NLA_HDRLEN);
    header.writeUInt16LE(total, 0);
    header.writeUInt16LE(type, 2);
    this.chunks.push(header, Buffer.from(value.buffer, value.byteOffset, value.length));
    const padding = align4(total) - total;
    if (padding > 0) this.chunks.push(Buffer.alloc(padding));
    this.length += align4(total);
    return this;
  }

  /** A nested attribute: `build` writes the children. */
  nested(type: number, build: (children: AttributeWriter) => void): this {
    const children = new AttributeWriter();
    build(children);
    return this.binary(type | NLA_F_NESTED, children.toBuffer());
  }

  get byteLength(): number {
    return this.length;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

/** Shorthand: the bytes of the attributes `build` writes. */
export function encodeAttributes(build: (writer: AttributeWriter) => void): Buffer {
  const writer = new AttributeWriter();
  build(writer);
  return writer.toBuffer();
}

export interface Attribute {
  /** Type without the NLA_F_NESTED / NLA_F_NET_BYTEORDER bits. */
  readonly type: number;
  readonly nested: boolean;
  readonly netByteOrder: boolean;
  readonly value: Buffer;
  /** Offset of the attribute header inside the decoded buffer. */
  readonly offset: number;
}

/** Splits a buffer into attributes; throws NetlinkDecodeError on a malformed header or length. */
export function decodeAttributes(buffer: Buffer, context: string): Attribute[] {
  const attributes: Attribute[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    if (buffer.length - offset < NLA_HDRLEN) {
      throw new NetlinkDecodeError(
        context,
        offset,
        `${buffer.length - offset} trailing bytes, less than an attribute header`,
      );
    }
    const length = buffer.readUInt16LE(offset);
    const rawType = buffer.readUInt16LE(offset + 2);
    if (length < NLA_HDRLEN) {
      throw new NetlinkDecodeError(context, offset, `attribute length ${length} is smaller than its header`);
    }
    if (offset + length > buffer.length) {
      throw new NetlinkDecodeError(
        context,
        offset,
        `attribute length ${length} runs past the end (${buffer.length - offset} bytes left)`,
      );
    }
    attributes.push({
      type: rawType & NLA_TYPE_MASK,
      nested: (rawType & NLA_F_NESTED) !== 0,
      netByteOrder: (rawType & NLA_F_NET_BYTEORDER) !== 0,
      value: buffer.subarray(offset + NLA_HDRLEN, offset + length),
      offset,
    });
    offset += Math.min(align4(length), buffer.length - offset);
  }
  return attributes;
}

/**
 * Attributes of one message (or one nest) by type, with typed accessors. Accessors return
 * undefined for an absent attribute and throw NetlinkDecodeError for a wrongly sized one.
 * When a type repeats, get() returns the last one (kernel convention); all() returns every one.
 */
export class AttributeSet {
  readonly list: readonly Attribute[];
  private readonly byType = new Map<number, Attribute>();

  /**
   * @param context names the attribute space in errors, e.g. "IFLA attributes".
   * @param names optional type → name table for clearer errors.
   */
  constructor(
    buffer: Buffer,
    readonly context: string,
    private readonly names: Readonly<Record<number, string>> = {},
  ) {
    this.list = decodeAttributes(buffer, context);
    for (const attribute of this.list) this.byType.set(attribute.type, attribute);
  }

  has(type: number): boolean {
    return this.byType.has(type);
  }

  get(type: number): Buffer | undefined {
    return this.byType.get(type)?.value;
  }

  all(type: number): Buffer[] {
    return this.list.filter((a) => a.type === type).map((a) => a.value);
  }

  u8(type: number): number | undefined {
    return this.fixed(type, 1, (b) => b.readUInt8(0));
  }

  u16(type: number): number | undefined {
    return this.fixed(type, 2, (b) => b.readUInt16LE(0));
  }

  u16be(type: number): number | undefined {
    return this.fixed(type, 2, (b) => b.readUInt16BE(0));
  }

  u32(type: number): number | undefined {
    return this.fixed(type, 4, (b) => b.readUInt32LE(0));
  }

  u32be(type: number): number | undefined {
    return this.fixed(type, 4, (b) => b.readUInt32BE(0));
  }

  s32(type: number): number | undefined {
    return this.fixed(type, 4, (b) => b.readInt32LE(0));
  }

  u64(type: number): bigint | undefined {
    return this.fixed(type, 8, (b) => b.readBigUInt64LE(0));
  }

  /** A string attribute; the value ends at the first NUL (or at the attribute's end). */
  string(type: number): string | undefined {
    const value = this.get(type);
    if (value === undefined) return undefined;
    const nul = value.indexOf(0);
    return value.toString("utf8", 0, nul === -1 ? value.length : nul);
  }

  binary(type: number): Buffer | undefined {
    return this.get(type);
  }

  nested(type: number, names: Readonly<Record<number, string>> = {}): AttributeSet | undefined {
    const value = this.get(type);
    return value === undefined
      ? undefined
      : new AttributeSet(value, `${this.nameOf(type)} nested attributes`, names);
  }

  /** Like the accessors above, but a missing attribute is a decode error. */
  required<T>(type: number, read: (set: this, type: number) => T | undefined): T {
    const value = read(this, type);
    if (value === undefined)
      throw new NetlinkDecodeError(this.context, 0, `required attribute ${this.nameOf(type)} is missing`);
    return value;
  }

  nameOf(type: number): string {
    return this.names[type] ?? `type ${type}`;
  }

  private fixed<T>(type: number, size: number, read: (value: Buffer) => T): T | undefined {
    const attribute = this.byType.get(type);
    if (attribute === undefined) return undefined;
    if (attribute.value.length < size) {
      throw new NetlinkDecodeError(
        this.context,
        attribute.offset,
        `attribute ${this.nameOf(type)} has ${attribute.value.length} bytes, expected ${size}`,
      );
    }
    return read(attribute.value);
  }
}
