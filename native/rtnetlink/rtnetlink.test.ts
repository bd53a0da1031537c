import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeAttributes } from "../netlink/attributes.js";
import { NetlinkConnection } from "../netlink/connection.js";
import {
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
} from "../netlink/constants.js";
import { NetlinkDecodeError, NetlinkError } from "../netlink/errors.js";
import { decodeMessages, encodeMessage, type NetlinkMessage } from "../netlink/message.js";
import { ackFor, doneFor, FakeNetlinkTransport, replyTo } from "../testing/fake-netlink.js";
import {
  addressFlagBits,
  addressFlagNames,
  decodeAddress,
  encodeAddAddress,
  encodeRemoveAddress,
} from "./address.js";
import { RtnetlinkClient, watchGroups, watchRtnetlinkOn } from "./client.js";
import * as C from "./constants.js";
import { decodeRtnetlinkEvent, type RtnetlinkEvent } from "./events.js";
import { decodeLink, encodeCreateLink, encodeSetLinkUp } from "./link.js";

/** An RTM_NEWLINK as the kernel sends it for a veth named eth0 (ifinfomsg + attributes). */
function linkMessage(options: {
  index: number;
  name: string;
  flags: number;
  operstate: number;
  type?: number;
}): NetlinkMessage {
  const ifinfomsg = Buffer.alloc(16);
  ifinfomsg.writeUInt16LE(1, 2); // ARPHRD_ETHER
  ifinfomsg.writeInt32LE(options.index, 4);
  ifinfomsg.writeUInt32LE(options.flags, 8);
  const attributes = encodeAttributes((w) =>
    w
      .string(C.IFLA_IFNAME, options.name)
      .u32(C.IFLA_MTU, 1500)
      .u8(C.IFLA_OPERSTATE, options.operstate)
      .binary(C.IFLA_ADDRESS, Buffer.from([2, 0, 0, 0, 0, 1]))
      .binary(C.IFLA_BROADCAST, Buffer.alloc(6, 0xff))
      .u32(C.IFLA_MASTER, 7)
      .nested(C.IFLA_LINKINFO, (info) => info.string(C.IFLA_INFO_KIND, "veth")),
  );
  return {
    type: options.type ?? C.RTM_NEWLINK,
    flags: 0,
    seq: 0,
    pid: 0,
    payload: Buffer.concat([ifinfomsg, attributes]),
  };
}

/** An RTM_NEWADDR as the kernel sends it (ifaddrmsg + attributes). */
function addressMessage(options: {
  family: number;
  prefix: number;
  index: number;
  local?: Buffer;
  address?: Buffer;
  label?: string;
  flags?: number;
  shortFlags?: number;
  type?: number;
}): NetlinkMessage {
  const ifaddrmsg = Buffer.from([options.family, options.prefix, options.shortFlags ?? 0x80, 0, 0, 0, 0, 0]);
  ifaddrmsg.writeUInt32LE(options.index, 4);
  const attributes = encodeAttributes((w) => {
    if (options.address) w.binary(C.IFA_ADDRESS, options.address);
    if (options.local) w.binary(C.IFA_LOCAL, options.local);
    if (options.label) w.string(C.IFA_LABEL, options.label);
    if (options.flags !== undefined) w.u32(C.IFA_FLAGS, options.flags);
  });
  return {
    type: options.type ?? C.RTM_NEWADDR,
    flags: 0,
    seq: 0,
    pid: 0,
    payload: Buffer.concat([ifaddrmsg, attributes]),
  };
}

const v4 = Buffer.from([198, 51, 100, 10]);
const v6 = Buffer.from("20010db8000000000000000000000010", "hex");

test("decodeLink reads name, index, flags, state, MAC, MTU, kind and master", () => {
  const link = decodeLink(
    linkMessage({
      index: 3,
      name: "eth0",
      flags: C.IFF_UP | C.IFF_RUNNING | C.IFF_LOWER_UP | C.IFF_BROADCAST,
      operstate: 6,
    }),
  );
  assert.deepEqual(link, {
    index: 3,
    name: "eth0",
    flags: 0x10043,
    up: true,
    running: true,
    lowerUp: true,
    operstate: "up",
    linkType: 1,
    mac: "02:00:00:00:00:01",
    broadcastMac: "ff:ff:ff:ff:ff:ff",
    mtu: 1500,
    kind: "veth",
    master: 7,
  });
  const down = decodeLink(linkMessage({ index: 3, name: "eth0", flags: 0, operstate: 2 }));
  assert.equal(down.up, false);
  assert.equal(down.operstate, "down");
  assert.equal(
    decodeLink(linkMessage({ index: 3, name: "x", flags: 0, operstate: 99 })).operstate,
    "unknown",
  );
});

test("decodeLink rejects a short header or a nameless link", () => {
  assert.throws(
    () => decodeLink({ type: 16, flags: 0, seq: 0, pid: 0, payload: Buffer.alloc(8) }),
    NetlinkDecodeError,
  );
  assert.throws(
    () => decodeLink({ type: 16, flags: 0, seq: 0, pid: 0, payload: Buffer.alloc(16) }),
    /no IFLA_IFNAME/,
  );
});

test("decodeAddress: IPv4 with label, IPv6 with 32-bit IFA_FLAGS, point-to-point peer", () => {
  assert.deepEqual(
    decodeAddress(
      addressMessage({ family: C.AF_INET, prefix: 24, index: 3, local: v4, address: v4, label: "eth0:vip" }),
    ),
    {
      family: 4,
      ifindex: 3,
      address: "198.51.100.10",
      prefixLength: 24,
      label: "eth0:vip",
      flags: 0x80,
      flagNames: ["permanent"],
      scope: 0,
    },
  );
  const six = decodeAddress(
    addressMessage({ family: C.AF_INET6, prefix: 64, index: 4, address: v6, flags: 0x282, shortFlags: 0x82 }),
  );
  assert.equal(six.address, "2001:db8::10");
  assert.deepEqual(six.flagNames, ["nodad", "permanent", "noprefixroute"]);
  const ptp = decodeAddress(
    addressMessage({
      family: C.AF_INET,
      prefix: 32,
      index: 5,
      local: v4,
      address: Buffer.from([198, 51, 100, 1]),
    }),
  );
  assert.equal(ptp.address, "198.51.100.10");
  assert.equal(ptp.peer, "198.51.100.1");
});

test("decodeAddress rejects unknown families, wrong address sizes and missing addresses", () => {
  assert.throws(
    () => decodeAddress(addressMessage({ family: 7, prefix: 0, index: 1, local: v4 })),
    /neither AF_INET nor AF_INET6/,
  );
  assert.throws(
    () => decodeAddress(addressMessage({ family: C.AF_INET, prefix: 24, index: 1, local: v6 })),
    /16 bytes, expected 4/,
  );
  assert.throws(
    () => decodeAddress(addressMessage({ family: C.AF_INET6, prefix: 64, index: 1 })),
    /neither IFA_LOCAL nor IFA_ADDRESS/,
  );
});

test("encodeAddAddress: ifaddrmsg, IFA_LOCAL/IFA_ADDRESS, label and the full flags in IFA_FLAGS", () => {
  const payload = encodeAddAddress({
    ifindex: 3,
    address: "198.51.100.10",
    prefixLength: 24,
    label: "eth0:vip",
    flags: ["nodad", "noprefixroute"],
  });
  // family AF_INET, prefix 24, low 8 flag bits (nodad), scope universe, ifindex 3
  assert.deepEqual([...payload.subarray(0, 8)], [2, 24, 0x02, 0, 3, 0, 0, 0]);
  const decoded = decodeAddress({ type: C.RTM_NEWADDR, flags: 0, seq: 0, pid: 0, payload });
  assert.equal(decoded.address, "198.51.100.10");
  assert.equal(decoded.label, "eth0:vip");
  assert.equal(decoded.flags, 0x202);
  const six = encodeAddAddress({ ifindex: 4, address: "2001:DB8::10", prefixLength: 64, flags: ["nodad"] });
  assert.deepEqual([...six.subarray(0, 4)], [10, 64, 0x02, 0]);
  assert.ok(six.includes(v6));
});

test("address specs are validated with the address in the message", () => {
  assert.throws(
    () => encodeAddAddress({ ifindex: 3, address: "198.51.100.300", prefixLength: 24 }),
    /not an IP address/,
  );
  assert.throws(
    () => encodeAddAddress({ ifindex: 3, address: "198.51.100.1", prefixLength: 33 }),
    /198.51.100.1: prefix length 33 is not in 0..32/,
  );
  assert.throws(
    () => encodeAddAddress({ ifindex: 0, address: "198.51.100.1", prefixLength: 24 }),
    /ifindex 0/,
  );
  assert.throws(
    () => encodeAddAddress({ ifindex: 3, address: "2001:db8::1", prefixLength: 64, label: "eth0:x" }),
    /IPv6 addresses have no labels/,
  );
  assert.throws(
    () =>
      encodeAddAddress({ ifindex: 3, address: "198.51.100.1", prefixLength: 24, label: "a-very-long-label" }),
    /1..15 bytes/,
  );
  assert.throws(() => addressFlagBits(["nodad", "bogus" as "nodad"]), /unknown address flag 'bogus'/);
  assert.deepEqual(addressFlagNames(addressFlagBits(["noprefixroute", "nodad"])), ["nodad", "noprefixroute"]);
  const remove = encodeRemoveAddress({ ifindex: 3, address: "198.51.100.10", prefixLength: 24 });
  assert.deepEqual([...remove.subarray(0, 8)], [2, 24, 0, 0, 3, 0, 0, 0]);
});

test("decodeRtnetlinkEvent maps message types to typed events", () => {
  const event = decodeRtnetlinkEvent(
    addressMessage({ family: C.AF_INET, prefix: 24, index: 3, local: v4, type: C.RTM_DELADDR }),
  );
  assert.equal(event?.kind, "address");
  assert.equal(event?.action, "delete");
  const link = decodeRtnetlinkEvent(
    linkMessage({ index: 3, name: "eth0", flags: 0, operstate: 2, type: C.RTM_DELLINK }),
  );
  assert.equal(link?.kind === "link" && link.link.name, "eth0");
  assert.equal(link?.action, "delete");
  assert.equal(
    decodeRtnetlinkEvent({ type: 24, flags: 0, seq: 0, pid: 0, payload: Buffer.alloc(12) }),
    undefined,
  );
});

/** A fake kernel that knows one link and one address and records requests. */
function fakeKernel(): FakeNetlinkTransport {
  return new FakeNetlinkTransport((request) => {
    switch (request.type) {
      case C.RTM_GETLINK: {
        const index = request.payload.readInt32LE(4);
        if ((request.flags & NLM_F_DUMP) === NLM_F_DUMP) {
          return [
            replyTo(
              request,
              C.RTM_NEWLINK,
              linkMessage({ index: 3, name: "eth0", flags: 1, operstate: 6 }).payload,
            ),
            doneFor(request),
          ];
        }
        const byName = request.payload.includes(Buffer.from("eth0\0"));
        if (index === 3 || byName)
          return [
            replyTo(
              request,
              C.RTM_NEWLINK,
              linkMessage({ index: 3, name: "eth0", flags: 1, operstate: 6 }).payload,
              0,
            ),
            ackFor(request),
          ];
        return [ackFor(request, 19)];
      }
      case C.RTM_GETADDR:
        return [
          replyTo(
            request,
            C.RTM_NEWADDR,
            addressMessage({ family: C.AF_INET, prefix: 24, index: 3, local: v4, address: v4 }).payload,
          ),
          replyTo(
            request,
            C.RTM_NEWADDR,
            addressMessage({ family: C.AF_INET6, prefix: 64, index: 4, address: v6 }).payload,
          ),
          doneFor(request),
        ];
      case C.RTM_NEWADDR:
        return [ackFor(request, request.payload.includes(v4) ? 17 : 0)];
      case C.RTM_DELADDR:
        return [ackFor(request, 99)];
      default:
        return [ackFor(request, 95)];
    }
  });
}

test("RtnetlinkClient: links by dump, name and index; ENODEV becomes undefined in findLink", async () => {
  const transport = fakeKernel();
  const client = new RtnetlinkClient(new NetlinkConnection(transport));
  assert.deepEqual(
    (await client.listLinks()).map((l) => l.name),
    ["eth0"],
  );
  assert.equal((await client.getLink("eth0")).index, 3);
  assert.equal((await client.getLink(3)).mac, "02:00:00:00:00:01");
  assert.equal(await client.findLink(9), undefined);
  await assert.rejects(
    client.getLink("nope"),
    (e: unknown) => e instanceof NetlinkError && e.message === "look up link 'nope': ENODEV",
  );
  client.close();
});

test("RtnetlinkClient: address list filters, add flags, errors naming the address", async () => {
  const transport = fakeKernel();
  const client = new RtnetlinkClient(new NetlinkConnection(transport));
  assert.deepEqual(
    (await client.listAddresses()).map((a) => a.address),
    ["198.51.100.10", "2001:db8::10"],
  );
  assert.deepEqual(
    (await client.listAddresses({ ifindex: 4 })).map((a) => a.address),
    ["2001:db8::10"],
  );
  await client.addAddress({ ifindex: 4, address: "2001:db8::10", prefixLength: 64, flags: ["nodad"] });
  await client.addAddress({ ifindex: 4, address: "2001:db8::10", prefixLength: 64 }, { replace: true });
  await assert.rejects(
    client.addAddress({ ifindex: 3, address: "198.51.100.10", prefixLength: 24 }),
    /add address 198.51.100.10\/24 on ifindex 3: EEXIST/,
  );
  await assert.rejects(
    client.removeAddress({ ifindex: 3, address: "198.51.100.10", prefixLength: 24 }),
    /remove address 198.51.100.10\/24 on ifindex 3: EADDRNOTAVAIL/,
  );
  const adds = transport.requests.filter((r) => r.type === C.RTM_NEWADDR);
  assert.equal(adds[0]!.flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  assert.equal(adds[1]!.flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
  client.close();
});

test("watch groups: all three by default, or the chosen ones", () => {
  assert.deepEqual(watchGroups({}), [C.RTNLGRP_LINK, C.RTNLGRP_IPV4_IFADDR, C.RTNLGRP_IPV6_IFADDR]);
  assert.deepEqual(watchGroups({ ipv6Addresses: true }), [C.RTNLGRP_IPV6_IFADDR]);
});

test("a watch decodes notifications and asks for a resync on garbage or overrun", () => {
  const transport = new FakeNetlinkTransport();
  const events: RtnetlinkEvent[] = [];
  const resyncs: string[] = [];
  const watch = watchRtnetlinkOn(new NetlinkConnection(transport), {
    onEvent: (e) => events.push(e),
    onResync: (e) => resyncs.push(e.name),
    onError: () => assert.fail("no socket error expected"),
  });
  const notify = (m: NetlinkMessage): void => transport.deliver(encodeMessage(m));
  notify(addressMessage({ family: C.AF_INET, prefix: 24, index: 3, local: v4, type: C.RTM_DELADDR }));
  notify(linkMessage({ index: 3, name: "eth0", flags: 0, operstate: 2 }));
  notify({ type: C.RTM_NEWADDR, flags: 0, seq: 0, pid: 0, payload: Buffer.alloc(3) });
  transport.fail(Object.assign(new Error("ENOBUFS"), { code: "ENOBUFS" }));
  assert.deepEqual(
    events.map((e) => `${e.kind}:${e.action}`),
    ["address:delete", "link:new"],
  );
  assert.deepEqual(resyncs, ["NetlinkDecodeError", "Error"]);
  watch.close();
  assert.equal(transport.closed, true);
  assert.equal(decodeMessages(encodeMessage({ type: 1, flags: 0, seq: 0 })).length, 1);
});

test("IFA_PROTO: encoded when given, decoded when non-zero, validated to 1..255", () => {
  const payload = encodeAddAddress({
    ifindex: 1,
    address: "2001:db8::200",
    prefixLength: 128,
    protocol: 107,
  });
  const decoded = decodeAddress({ type: C.RTM_NEWADDR, flags: 0, seq: 0, pid: 0, payload });
  assert.equal(decoded.protocol, 107);
  const plain = encodeAddAddress({ ifindex: 1, address: "2001:db8::200", prefixLength: 128 });
  assert.equal(
    decodeAddress({ type: C.RTM_NEWADDR, flags: 0, seq: 0, pid: 0, payload: plain }).protocol,
    undefined,
  );
  assert.throws(
    () => encodeAddAddress({ ifindex: 1, address: "198.51.100.1", prefixLength: 32, protocol: 256 }),
    /198\.51\.100\.1: address protocol 256 is not in 1\.\.255/,
  );
});

test("link requests: create by name and kind, set up through ifi_change", () => {
  const create = encodeCreateLink("tunl0", "ipip");
  assert.ok(create.includes(Buffer.from("tunl0\0")));
  assert.ok(create.includes(Buffer.from("ipip\0")));
  assert.throws(() => encodeCreateLink("a-very-long-name0", "ipip"), /must be 1\.\.15 bytes/);
  const up = encodeSetLinkUp(7, true);
  assert.deepEqual([up.readInt32LE(4), up.readUInt32LE(8), up.readUInt32LE(12)], [7, C.IFF_UP, C.IFF_UP]);
  assert.equal(encodeSetLinkUp(7, false).readUInt32LE(8), 0);
});
