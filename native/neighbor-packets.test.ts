import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ARP_OPERATION_REQUEST,
  buildGratuitousArp,
  buildUnsolicitedNeighborAdvertisement,
  decodeArpFrame,
  decodeNeighborAdvertisement,
  PacketDecodeError,
} from "./neighbor-packets.js";

test("gratuitous ARP: broadcast request with sender = target = VIP, padded to 60 bytes", () => {
  const frame = buildGratuitousArp("198.51.100.254", "02:00:00:00:00:01");
  assert.equal(frame.length, 60);
  assert.equal(
    frame.subarray(0, 42).toString("hex"),
    "ffffffffffff" +
      "020000000001" +
      "0806" +
      "0001" +
      "0800" +
      "06" +
      "04" +
      "0001" +
      "020000000001" +
      "c63364fe" +
      "000000000000" +
      "c63364fe",
  );
  assert.deepEqual(decodeArpFrame(frame), {
    destinationMac: "ff:ff:ff:ff:ff:ff",
    sourceMac: "02:00:00:00:00:01",
    operation: ARP_OPERATION_REQUEST,
    senderMac: "02:00:00:00:00:01",
    senderIp: "198.51.100.254",
    targetMac: "00:00:00:00:00:00",
    targetIp: "198.51.100.254",
  });
  assert.throws(() => buildGratuitousArp("2001:db8::1", "02:00:00:00:00:01"), /not an IPv4 address/);
  assert.throws(() => buildGratuitousArp("198.51.100.254", "02:00"), /not a MAC address/);
});

test("unsolicited NA: type 136, override set, solicited clear, target link-layer option", () => {
  const packet = buildUnsolicitedNeighborAdvertisement("2001:db8::fe", "02:00:00:00:00:01");
  assert.equal(
    packet.toString("hex"),
    "88" + "00" + "0000" + "20000000" + "20010db80000000000000000000000fe" + "0201" + "020000000001",
  );
  assert.deepEqual(decodeNeighborAdvertisement(packet), {
    router: false,
    solicited: false,
    override: true,
    target: "2001:db8::fe",
    targetMac: "02:00:00:00:00:01",
  });
  assert.equal(
    decodeNeighborAdvertisement(
      buildUnsolicitedNeighborAdvertisement("2001:db8::fe", "02:00:00:00:00:01", { router: true }),
    ).router,
    true,
  );
});

test("decoders reject what is not ARP / NA", () => {
  const frame = buildGratuitousArp("198.51.100.254", "02:00:00:00:00:01");
  const ipv4 = Buffer.from(frame);
  ipv4.writeUInt16BE(0x0800, 12);
  assert.throws(() => decodeArpFrame(ipv4), /EtherType 0x800 is not ARP/);
  assert.throws(() => decodeArpFrame(frame.subarray(0, 30)), PacketDecodeError);
  const na = buildUnsolicitedNeighborAdvertisement("2001:db8::fe", "02:00:00:00:00:01");
  const zeroOption = Buffer.from(na);
  zeroOption[25] = 0;
  assert.throws(() => decodeNeighborAdvertisement(zeroOption), /option of length 0/);
  const rs = Buffer.from(na);
  rs[0] = 133;
  assert.throws(() => decodeNeighborAdvertisement(rs), /type 133/);
});
