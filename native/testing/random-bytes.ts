// Deterministic randomness for property/fuzz tests: the same seed gives the same bytes on every
// run, so a failure is reproducible from the seed printed with it.

/** mulberry32: small, fast, good enough to spread test inputs; not for cryptography. */
export class SeededRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  bytes(length: number): Buffer {
    const buffer = Buffer.alloc(length);
    for (let i = 0; i < length; i++) buffer[i] = this.int(0, 255);
    return buffer;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  /**
   * A damaged copy of a valid input: flipped bits, overwritten bytes, truncation, extension, or
   * length fields set to boundary values — the shapes that break hand-written decoders.
   */
  mutate(input: Buffer): Buffer {
    let out = Buffer.from(input);
    const edits = this.int(1, 4);
    for (let i = 0; i < edits; i++) {
      switch (this.int(0, 5)) {
        case 0:
          if (out.length > 0) {
            const at = this.int(0, out.length - 1);
            out[at] = out[at]! ^ (1 << this.int(0, 7));
          }
          break;
        case 1:
          if (out.length > 0) out[this.int(0, out.length - 1)] = this.pick([0, 1, 0x7f, 0x80, 0xff]);
          break;
        case 2:
          out = out.subarray(0, this.int(0, out.length));
          break;
        case 3:
          out = Buffer.concat([out, this.bytes(this.int(1, 16))]);
          break;
        case 4:
          if (out.length >= 2) {
            const at = this.int(0, out.length - 2) & ~1;
            out.writeUInt16LE(
              this.pick([0, 1, 3, 4, 5, 0xfffc, 0xffff, out.length, out.length + 4]) & 0xffff,
              at,
            );
          }
          break;
        default:
          if (out.length >= 4) {
            const at = this.int(0, out.length - 4) & ~3;
            out.writeUInt32LE(this.pick([0, 15, 16, 17, 0xffffffff, out.length, out.length + 1]) >>> 0, at);
          }
      }
    }
    return out;
  }
}

/**
 * Feeds `count` inputs (half random, half mutations of `samples`) to `decode` and checks that each
 * call returns or throws an instance of `allowed`. Returns how many inputs decoded successfully.
 */
export function fuzzDecoder(options: {
  readonly seed: number;
  readonly count: number;
  readonly samples: readonly Buffer[];
  readonly decode: (input: Buffer) => unknown;
  readonly allowed: abstract new (...args: never[]) => Error;
}): { readonly decoded: number; readonly rejected: number } {
  const random = new SeededRandom(options.seed);
  let decoded = 0;
  let rejected = 0;
  for (let i = 0; i < options.count; i++) {
    const input =
      options.samples.length > 0 && i % 2 === 1
        ? random.mutate(random.pick(options.samples))
        : random.bytes(random.int(0, 96));
    try {
      options.decode(input);
      decoded++;
    } catch (error) {
      if (!(error instanceof options.allowed)) {
        const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
        throw new Error(
          `seed ${options.seed} input #${i} (${input.toString("hex")}) threw a foreign error: ${detail}`,
        );
      }
      rejected++;
    }
  }
  return { decoded, rejected };
}
