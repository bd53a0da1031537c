import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { internetChecksum, ipv4PseudoHeader, ipv6PseudoHeader } from "./checksum.js";
import {
  decodeAdvert,
  encodeAdvert,
  simplePasswordAuthData,
  tryDecodeAdvert,
  VRRP_DECODE_ERROR_REASONS,
  VrrpDecodeError,
  VrrpEncodeError,
} from "./packet.js";
import type {
  DecodeOptions,
  VrrpAdvert,
  VrrpDecodeErrorReason,
  VrrpV2Advert,
  VrrpV3Advert,
} from "./packet.js";

const V4 = { src: "198.51.100.1", dst: "224.0.0.18" } as const;
const V6 = { src: "fe80::1", dst: "ff02::12" } as const;

const v2Advert: VrrpV2Advert = {
  version: 2,
  vrid: 51,
  priority: 150,
  addresses: ["198.51.100.254"],
  authType: "none",
  authData: new Uint8Array(8),
  advertIntervalS: 1,
};
const v3Advert: VrrpV3Advert = {
  version: 3,
  vrid: 51,
  priority: 150,
  addresses: ["198.51.100.254"],
  maxAdvertIntervalCs: 5,
};
const v3Ipv6Advert: VrrpV3Advert = {
  version: 3,
  vrid: 7,
  priority: 200,
  addresses: ["2001:db8::100", "2001:db8::101"],
  maxAdvertIntervalCs: 100,
};

function stripDecoded(decoded: ReturnType<typeof decodeAdvert>): VrrpAdvert {
  const { family: _family, checksum: _checksum, checksumVariant: _variant, ...advert } = decoded;
  return advert;
}

function decodeError(packet: Uint8Array, options: DecodeOptions): VrrpDecodeError {
  const result = tryDecodeAdvert(packet, options);
  assert.equal(result.ok, false, "expected the packet to be rejected");
  if (result.ok) throw new Error("unreachable");
  return result.error;
}

describe("VRRP packet encoding matches keepalived 2.2.7 byte for byte", () => {
  test("VRRPv2, priority 150, no auth (from keepalived-vrrpv2-adv1.pcap)", () => {
    assert.equal(encodeAdvert(v2Advert, V4).toString("hex"), "2133960100011d98c63364fe0000000000000000");
  });
  test("VRRPv3 IPv4, 50 ms, checksum with the pseudo-header (from keepalived-vrrpv3-adv0.05.pcap)", () => {
    assert.equal(encodeAdvert(v3Advert, V4).toString("hex"), "31339601000502d0c63364fe");
  });
  test("VRRPv3 IPv4 without the pseudo-header (v3_checksum_as_v2), checked against an independent computation", () => {
    assert.equal(
      encodeAdvert(v3Advert, { ...V4, checksumVariant: "vrrp-only" }).toString("hex"),
      "3133960100050d94c63364fe",
    );
  });
  test("VRRPv3 IPv6 with the IPv6 pseudo-header, checked against an independent computation", () => {
    assert.equal(
      encodeAdvert(v3Ipv6Advert, V6).toString("hex"),
      "3107c8020064aaef20010db800000000000000000000010020010db8000000000000000000000101",
    );
  });
});

describe("VRRP packet round trips", () => {
  const cases: { name: string; advert: VrrpAdvert; options: { src: string; dst: string } }[] = [
    { name: "v2 no auth", advert: v2Advert, options: V4 },
    {
      name: "v2 simple password",
      advert: { ...v2Advert, authType: "simple", authData: simplePasswordAuthData("secret") },
      options: V4,
    },
    {
      name: "v2 priority 0 (resign), 3 addresses, interval 255 s",
      advert: {
        ...v2Advert,
        priority: 0,
        advertIntervalS: 255,
        addresses: ["198.51.100.10", "198.51.100.11", "203.0.113.1"],
      },
      options: V4,
    },
    { name: "v3 IPv4 multicast", advert: v3Advert, options: V4 },
    {
      name: "v3 IPv4 unicast, max interval 4095 cs",
      advert: { ...v3Advert, maxAdvertIntervalCs: 4095 },
      options: { src: "198.51.100.1", dst: "198.51.100.2" },
    },
    { name: "v3 IPv6", advert: v3Ipv6Advert, options: V6 },
    {
      name: "v3 IPv6 owner (255)",
      advert: { ...v3Ipv6Advert, priority: 255, addresses: ["fe80::100", "2001:db8::1"] },
      options: { src: "fe80::2", dst: "fe80::3" },
    },
  ];
  for (const { name, advert, options } of cases) {
    test(name, () => {
      const bytes = encodeAdvert(advert, options);
      const decoded = decodeAdvert(bytes, options);
      assert.deepEqual(stripDecoded(decoded), advert);
      assert.equal(decoded.family, options.src.includes(":") ? "ipv6" : "ipv4");
      assert.equal(decoded.checksum, bytes.readUInt16BE(6));
      assert.deepEqual(encodeAdvert(stripDecoded(decoded), options), bytes);
    });
  }

  test("both VRRPv3 IPv4 checksum variants round-trip and are told apart", () => {
    const withPseudo = encodeAdvert(v3Advert, { ...V4, checksumVariant: "pseudo-header" });
    const without = encodeAdvert(v3Advert, { ...V4, checksumVariant: "vrrp-only" });
    assert.notDeepEqual(withPseudo, without);
    assert.equal(
      decodeAdvert(withPseudo, { ...V4, checksumMode: "pseudo-header" }).checksumVariant,
      "pseudo-header",
    );
    assert.equal(decodeAdvert(without, { ...V4, checksumMode: "vrrp-only" }).checksumVariant, "vrrp-only");
    assert.equal(
      decodeAdvert(withPseudo, { ...V4, checksumMode: "either" }).checksumVariant,
      "pseudo-header",
    );
    assert.equal(decodeAdvert(without, { ...V4, checksumMode: "either" }).checksumVariant, "vrrp-only");
    assert.equal(decodeError(without, { ...V4, checksumMode: "pseudo-header" }).reason, "bad-checksum");
    assert.equal(decodeError(withPseudo, { ...V4, checksumMode: "vrrp-only" }).reason, "bad-checksum");
  });

  test("the option does not apply where the RFC fixes the variant: v2 never, v3 IPv6 always uses the pseudo-header", () => {
    const v2 = encodeAdvert(v2Advert, { ...V4, checksumVariant: "pseudo-header" });
    assert.equal(decodeAdvert(v2, { ...V4, checksumMode: "pseudo-header" }).checksumVariant, "vrrp-only");
    const v6 = encodeAdvert(v3Ipv6Advert, { ...V6, checksumVariant: "vrrp-only" });
    assert.equal(decodeAdvert(v6, { ...V6, checksumMode: "vrrp-only" }).checksumVariant, "pseudo-header");
  });

  test("the pseudo-header binds the addresses: the same bytes from another source fail the checksum", () => {
    const bytes = encodeAdvert(v3Ipv6Advert, V6);
    assert.equal(decodeError(bytes, { ...V6, src: "fe80::2" }).reason, "bad-checksum");
    const v4 = encodeAdvert(v3Advert, V4);
    assert.equal(decodeError(v4, { ...V4, dst: "198.51.100.9" }).reason, "bad-checksum");
  });

  test("VRRPv3 reserved bits are ignored on receipt and sent as zero", () => {
    const bytes = encodeAdvert(v3Advert, V4);
    bytes[4] = bytes[4]! | 0xf0;
    const decoded = decodeAdvert(recomputeChecksum(bytes, V4, "pseudo-header"), V4);
    assert.equal(decoded.version === 3 && decoded.maxAdvertIntervalCs, 5);
    assert.equal(encodeAdvert(stripDecoded(decoded), V4)[4], 0);
  });
});

describe("VRRP packet decode errors carry a reason and context", () => {
  const good = encodeAdvert(v2Advert, V4);
  const goodV3 = encodeAdvert(v3Advert, V4);
  /** Re-checksums a hand-modified packet so that only the intended field is wrong. */
  const withChecksum = (
    bytes: Buffer,
    options = V4,
    variant: "vrrp-only" | "pseudo-header" = "vrrp-only",
  ): Buffer => recomputeChecksum(bytes, options, variant);
  const cases: { reason: VrrpDecodeErrorReason; packet: () => Buffer; options?: DecodeOptions }[] = [
    { reason: "truncated", packet: () => good.subarray(0, 7) },
    { reason: "truncated", packet: () => good.subarray(0, 19) },
    { reason: "bad-version", packet: () => withChecksum(Buffer.from([0x41, ...good.subarray(1)])) },
    { reason: "bad-version", packet: () => good, options: V6 },
    { reason: "bad-type", packet: () => withChecksum(Buffer.from([0x22, ...good.subarray(1)])) },
    { reason: "bad-vrid", packet: () => withChecksum(Buffer.from([0x21, 0, ...good.subarray(2)])) },
    {
      reason: "bad-auth-type",
      packet: () => withChecksum(Buffer.from([...good.subarray(0, 4), 3, ...good.subarray(5)])),
    },
    {
      reason: "bad-interval",
      packet: () => withChecksum(Buffer.from([...good.subarray(0, 5), 0, ...good.subarray(6)])),
    },
    {
      reason: "bad-interval",
      packet: () =>
        withChecksum(
          Buffer.from([...goodV3.subarray(0, 4), 0, 0, ...goodV3.subarray(6)]),
          V4,
          "pseudo-header",
        ),
    },
    {
      reason: "address-count-mismatch",
      packet: () => withChecksum(Buffer.from([...good.subarray(0, 3), 0, ...good.subarray(4)])),
    },
    { reason: "address-count-mismatch", packet: () => withChecksum(Buffer.concat([good, Buffer.alloc(4)])) },
    {
      reason: "truncated",
      packet: () => withChecksum(Buffer.from([...good.subarray(0, 3), 2, ...good.subarray(4)])),
    },
    {
      reason: "bad-checksum",
      packet: () => Buffer.from([...good.subarray(0, 6), good[6]! ^ 1, ...good.subarray(7)]),
    },
  ];
  for (const [i, { reason, packet, options }] of cases.entries()) {
    test(`${reason} (#${i})`, () => {
      const error = decodeError(packet(), options ?? V4);
      assert.ok(error instanceof VrrpDecodeError);
      assert.equal(error.reason, reason, error.message);
      assert.match(
        error.message,
        new RegExp(`from ${(options ?? V4).src.replace(/\./g, "\\.")} rejected \\(${reason}\\)`),
      );
      assert.throws(() => decodeAdvert(packet(), options ?? V4), VrrpDecodeError);
    });
  }

  test("every decode reason is exercised above", () => {
    assert.deepEqual(new Set(cases.map((c) => c.reason)), new Set(VRRP_DECODE_ERROR_REASONS));
  });

  test("AH (auth type 2) decodes and is reported as such", () => {
    const ah = encodeAdvert({ ...v2Advert, authType: "ah" }, V4);
    const decoded = decodeAdvert(ah, V4);
    assert.equal(decoded.version === 2 && decoded.authType, "ah");
  });

  test("source and destination of different families are a caller error, not a packet error", () => {
    assert.throws(() => decodeAdvert(good, { src: "198.51.100.1", dst: "ff02::12" }), TypeError);
    assert.throws(() => decodeAdvert(good, { src: "not-an-ip", dst: "224.0.0.18" }), /not an IP address/);
  });
});

function recomputeChecksum(
  bytes: Buffer,
  options: { src: string; dst: string },
  variant: "vrrp-only" | "pseudo-header",
): Buffer {
  // an independent checksum (IPv4 only) for hand-built packets, so the tests do not trust the codec's own
  const copy = Buffer.from(bytes);
  copy.writeUInt16BE(0, 6);
  let sum = 0;
  const add = (data: Uint8Array): void => {
    for (let i = 0; i < data.length; i += 2) sum += ((data[i] ?? 0) << 8) | (data[i + 1] ?? 0);
  };
  if (variant === "pseudo-header") {
    const pseudo = Buffer.alloc(12);
    Buffer.from(options.src.split(".").map(Number)).copy(pseudo, 0);
    Buffer.from(options.dst.split(".").map(Number)).copy(pseudo, 4);
    pseudo[9] = 112;
    pseudo.writeUInt16BE(copy.length, 10);
    add(pseudo);
  }
  add(copy);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  copy.writeUInt16BE(~sum & 0xffff, 6);
  return copy;
}

describe("VRRP encode rejects what cannot go on the wire", () => {
  const bad: { name: string; advert: VrrpAdvert; options?: { src: string; dst: string }; field: RegExp }[] = [
    { name: "VRID 0", advert: { ...v3Advert, vrid: 0 }, field: /vrid/ },
    { name: "priority 256", advert: { ...v3Advert, priority: 256 }, field: /priority/ },
    { name: "no addresses", advert: { ...v3Advert, addresses: [] }, field: /addresses\.length/ },
    {
      name: "v3 interval 4096 cs",
      advert: { ...v3Advert, maxAdvertIntervalCs: 4096 },
      field: /maxAdvertIntervalCs/,
    },
    { name: "v2 interval 0", advert: { ...v2Advert, advertIntervalS: 0 }, field: /advertIntervalS/ },
    {
      name: "v2 auth data of 7 bytes",
      advert: { ...v2Advert, authData: new Uint8Array(7) },
      field: /authData/,
    },
    {
      name: "IPv6 address in an IPv4 packet",
      advert: { ...v3Advert, addresses: ["2001:db8::1"] },
      field: /addresses\[0\]/,
    },
    { name: "VRRPv2 over IPv6", advert: v2Advert, options: V6, field: /IPv4-only/ },
  ];
  for (const { name, advert, options, field } of bad) {
    test(name, () => {
      assert.throws(
        () => encodeAdvert(advert, options ?? V4),
        (e: unknown) => e instanceof VrrpEncodeError && field.test(e.message),
      );
    });
  }
  test("a simple password longer than 8 bytes", () => {
    assert.throws(() => simplePasswordAuthData("123456789"), /at most 8/);
    assert.deepEqual(Array.from(simplePasswordAuthData("ab")), [0x61, 0x62, 0, 0, 0, 0, 0, 0]);
  });
});

/** Rewrites the checksum field (pseudo-header variant for v3, as keepalived sends) of an arbitrary buffer. */
function fixChecksum(bytes: Buffer, options: { src: string; dst: string }): Buffer {
  const copy = Buffer.from(bytes);
  copy.writeUInt16BE(0, 6);
  const v3 = copy[0]! >> 4 === 3;
  const pseudo = !v3
    ? []
    : options.src.includes(":")
      ? [ipv6PseudoHeader(options.src, options.dst, copy.length)]
      : [ipv4PseudoHeader(options.src, options.dst, copy.length)];
  copy.writeUInt16BE(internetChecksum(...pseudo, copy), 6);
  return copy;
}

/** mulberry32: a tiny seeded PRNG, so the fuzz run is the same on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("VRRP decode fuzzing", () => {
  test("20,000 random and mutated buffers: decode returns or throws VrrpDecodeError, nothing else", () => {
    const random = prng(0x5eed_4242);
    const int = (n: number): number => Math.floor(random() * n);
    const seeds: { bytes: Buffer; options: { src: string; dst: string } }[] = [
      { bytes: encodeAdvert(v2Advert, V4), options: V4 },
      {
        bytes: encodeAdvert({ ...v2Advert, authType: "simple", authData: simplePasswordAuthData("pw") }, V4),
        options: V4,
      },
      { bytes: encodeAdvert(v3Advert, V4), options: V4 },
      { bytes: encodeAdvert(v3Advert, { ...V4, checksumVariant: "vrrp-only" }), options: V4 },
      { bytes: encodeAdvert(v3Ipv6Advert, V6), options: V6 },
    ];
    const modes = ["pseudo-header", "vrrp-only", "either"] as const;
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      let bytes: Buffer;
      let options: { src: string; dst: string };
      if (i % 4 === 0) {
        bytes = Buffer.from(Array.from({ length: int(90) }, () => int(256)));
        options = int(2) === 0 ? V4 : V6;
      } else {
        const seed = seeds[int(seeds.length)]!;
        options = seed.options;
        bytes = Buffer.from(seed.bytes);
        const mutations = 1 + int(4);
        for (let m = 0; m < mutations; m++) {
          switch (int(5)) {
            case 0: // flip a bit
              if (bytes.length > 0) {
                const at = int(bytes.length);
                bytes[at] = bytes[at]! ^ (1 << int(8));
              }
              break;
            case 1: // overwrite a byte
              if (bytes.length > 0) bytes[int(bytes.length)] = int(256);
              break;
            case 2: // truncate
              bytes = bytes.subarray(0, int(bytes.length + 1));
              break;
            case 3: // extend with random bytes
              bytes = Buffer.concat([
                bytes,
                Buffer.from(Array.from({ length: 1 + int(20) }, () => int(256))),
              ]);
              break;
            default: // set the address count to anything
              if (bytes.length > 3) bytes[3] = int(256);
          }
        }
        // half of the mutants get a valid checksum again, so they reach the checks behind it
        if (int(2) === 0 && bytes.length >= 8) bytes = fixChecksum(bytes, options);
      }
      try {
        const decoded = decodeAdvert(bytes, { ...options, checksumMode: modes[int(3)]! });
        outcomes.set("ok", (outcomes.get("ok") ?? 0) + 1);
        // whatever decodes must encode back to a packet that decodes to the same advert
        const again = decodeAdvert(
          encodeAdvert(stripDecoded(decoded), { ...options, checksumVariant: decoded.checksumVariant }),
          {
            ...options,
            checksumMode: "either",
          },
        );
        assert.deepEqual(stripDecoded(again), stripDecoded(decoded));
      } catch (error) {
        if (!(error instanceof VrrpDecodeError)) throw error;
        outcomes.set(error.reason, (outcomes.get(error.reason) ?? 0) + 1);
      }
    }
    const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
    assert.equal(total, 20_000);
    // the mutations reach deep into the decoder: valid packets and most rejection reasons occur
    assert.ok((outcomes.get("ok") ?? 0) > 500, `only ${outcomes.get("ok")} packets decoded`);
    for (const reason of VRRP_DECODE_ERROR_REASONS) {
      assert.ok((outcomes.get(reason) ?? 0) > 0, `no ${reason} among ${JSON.stringify([...outcomes])}`);
    }
  });
});
