import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { PcapFormatError, readPcapIpPackets } from "./pcap.js";
import { sharedTestdataOptions, sharedTestdataPath } from "./testdata.js";

interface Frame {
  seconds: number;
  fraction: number;
  data: Buffer;
}

function pcapFile(
  frames: Frame[],
  options: { bigEndian?: boolean; nanosecond?: boolean; linkType?: number } = {},
): Buffer {
  const u32 = (value: number): Buffer => {
    const b = Buffer.alloc(4);
    if (options.bigEndian) b.writeUInt32BE(value);
    else b.writeUInt32LE(value);
    return b;
  };
  const u16 = (value: number): Buffer => {
    const b = Buffer.alloc(2);
    if (options.bigEndian) b.writeUInt16BE(value);
    else b.writeUInt16LE(value);
    return b;
  };
  const magic = options.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4;
  const header = Buffer.concat([
    u32(magic),
    u16(2),
    u16(4),
    u32(0),
    u32(0),
    u32(65535),
    u32(options.linkType ?? 1),
  ]);
  const records = frames.map((f) =>
    Buffer.concat([u32(f.seconds), u32(f.fraction), u32(f.data.length), u32(f.data.length), f.data]),
  );
  return Buffer.concat([header, ...records]);
}

const MAC_A = Buffer.from([0x02, 0, 0, 0, 0, 0x01]);
const MAC_MCAST = Buffer.from([0x01, 0x00, 0x5e, 0x00, 0x00, 0x12]);

function ethernet(etherType: number, payload: Buffer, vlan?: number): Buffer {
  const type = Buffer.alloc(2);
  type.writeUInt16BE(etherType);
  const tag = vlan === undefined ? Buffer.alloc(0) : Buffer.from([0x81, 0x00, vlan >> 8, vlan & 0xff]);
  return Buffer.concat([MAC_MCAST, MAC_A, tag, type, payload]);
}

function ipv4(payload: Buffer, ttl = 255, protocol = 112): Buffer {
  const header = Buffer.alloc(20);
  header[0] = 0x45;
  header.writeUInt16BE(20 + payload.length, 2);
  header[8] = ttl;
  header[9] = protocol;
  Buffer.from([198, 51, 100, 1]).copy(header, 12);
  Buffer.from([224, 0, 0, 18]).copy(header, 16);
  return Buffer.concat([header, payload]);
}

function ipv6(payload: Buffer, hopLimit = 255, withHopByHop = false): Buffer {
  const extension = withHopByHop ? Buffer.from([112, 0, 5, 2, 0, 0, 1, 0]) : Buffer.alloc(0); // router alert
  const header = Buffer.alloc(40);
  header[0] = 0x60;
  header.writeUInt16BE(extension.length + payload.length, 4);
  header[6] = withHopByHop ? 0 : 112;
  header[7] = hopLimit;
  header[8] = 0xfe;
  header[9] = 0x80;
  header[23] = 1; // fe80::1
  header[24] = 0xff;
  header[25] = 0x02;
  header[39] = 0x12; // ff02::12
  return Buffer.concat([header, extension, payload]);
}

const PAYLOAD = Buffer.from("31339601000502d0c63364fe", "hex");
const ARP = Buffer.alloc(28, 1);

describe("pcap reader", () => {
  const frames: Frame[] = [
    { seconds: 100, fraction: 250, data: ethernet(0x0800, Buffer.concat([ipv4(PAYLOAD), Buffer.alloc(14)])) }, // padded
    { seconds: 100, fraction: 500, data: ethernet(0x0806, ARP) },
    { seconds: 101, fraction: 0, data: ethernet(0x86dd, ipv6(PAYLOAD, 255, true)) },
    { seconds: 102, fraction: 7, data: ethernet(0x0800, ipv4(PAYLOAD, 64, 6), 42) },
  ];

  for (const variant of [
    {},
    { bigEndian: true },
    { nanosecond: true },
    { bigEndian: true, nanosecond: true },
  ]) {
    test(`yields IPv4 and IPv6 packets, skips ARP (${JSON.stringify(variant)})`, () => {
      const scale = variant.nanosecond ? 1000 : 1;
      const file = pcapFile(
        frames.map((f) => ({ ...f, fraction: f.fraction * scale })),
        variant,
      );
      const packets = [...readPcapIpPackets(file)];
      assert.equal(packets.length, 3);
      const [first, second, third] = packets as [
        (typeof packets)[0],
        (typeof packets)[0],
        (typeof packets)[0],
      ];
      assert.deepEqual(
        { ...first, payload: first.payload.toString("hex") },
        {
          frame: 0,
          timestampUs: 100_000_250,
          ethernetSrc: "02:00:00:00:00:01",
          ethernetDst: "01:00:5e:00:00:12",
          ipVersion: 4,
          ipSrc: "198.51.100.1",
          ipDst: "224.0.0.18",
          ttl: 255,
          protocol: 112,
          payload: PAYLOAD.toString("hex"), // the Ethernet padding is cut off by the IP total length
        },
      );
      assert.equal(second.frame, 2);
      assert.equal(second.ipVersion, 6);
      assert.equal(second.ipSrc, "fe80::1");
      assert.equal(second.ipDst, "ff02::12");
      assert.equal(second.protocol, 112, "the hop-by-hop header is skipped");
      assert.deepEqual(second.payload, PAYLOAD);
      assert.equal(third.frame, 3);
      assert.equal(third.ttl, 64, "read through the VLAN tag");
      assert.equal(third.protocol, 6);
      assert.equal(third.timestampUs, 102_000_007);
    });
  }

  test("rejects pcapng, other link types and cut-off records with a clear error", () => {
    const pcapng = Buffer.alloc(24);
    pcapng.writeUInt32LE(0x0a0d0d0a, 0);
    assert.throws(() => [...readPcapIpPackets(pcapng)], /pcapng is not supported/);
    assert.throws(
      () => [...readPcapIpPackets(pcapFile([], { linkType: 113 }))],
      /link type 113 is not Ethernet/,
    );
    const whole = pcapFile([frames[0]!]);
    assert.throws(() => [...readPcapIpPackets(whole.subarray(0, whole.length - 3))], PcapFormatError);
    assert.throws(() => [...readPcapIpPackets(whole.subarray(0, 30))], /record header cut off/);
    assert.throws(() => [...readPcapIpPackets(Buffer.alloc(10))], /shorter than the 24-byte header/);
  });

  test(
    "reads the shared keepalived captures: every IPv4 packet, ARP skipped",
    sharedTestdataOptions("keepalived-vrrpv2-adv1.pcap", "keepalived-vrrpv3-adv0.05.pcap"),
    () => {
      // frame totals and their split (IPv4 / ARP) were counted independently of this reader
      const expected: [name: string, frames: number, ipPackets: number][] = [
        ["keepalived-vrrpv2-adv1.pcap", 619, 239],
        ["keepalived-vrrpv3-adv0.05.pcap", 2130, 1872],
      ];
      for (const [name, frameCount, ipCount] of expected) {
        const packets = [...readPcapIpPackets(readFileSync(sharedTestdataPath(name)))];
        assert.equal(packets.length, ipCount, name);
        assert.ok(packets.every((p) => p.ipVersion === 4 && p.protocol === 112));
        assert.ok(packets.at(-1)!.frame < frameCount);
        for (let i = 1; i < packets.length; i++) {
          assert.ok(
            packets[i]!.timestampUs >= packets[i - 1]!.timestampUs,
            `${name}: time goes back at ${i}`,
          );
        }
      }
    },
  );
});
