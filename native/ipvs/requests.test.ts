// The IPVS wire format byte for byte (include/uapi/linux/ip_vs.h), request validation, and the
// decoding of kernel replies, including the older STATS-only layout.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AttributeSet, encodeAttributes } from "../netlink/attributes.js";
import { NetlinkDecodeError } from "../netlink/errors.js";
import {
  IPVS_CMD_ATTR_DEST,
  IPVS_CMD_ATTR_SERVICE,
  IPVS_CMD_DEL_DAEMON,
  IPVS_CMD_DEL_DEST,
  IPVS_CMD_GET_DEST,
  IPVS_CMD_NEW_DEST,
  IPVS_CMD_NEW_SERVICE,
  IPVS_CMD_SET_CONFIG,
  IPVS_DEST_ATTR_ADDR,
  IPVS_DEST_ATTR_FWD_METHOD,
  IPVS_DEST_ATTR_L_THRESH,
  IPVS_DEST_ATTR_PORT,
  IPVS_DEST_ATTR_STATS,
  IPVS_DEST_ATTR_U_THRESH,
  IPVS_DEST_ATTR_WEIGHT,
  IPVS_STATS_ATTR_CONNS,
  IPVS_STATS_ATTR_INBYTES,
  IPVS_SVC_ATTR_AF,
  IPVS_SVC_ATTR_FLAGS,
  IPVS_SVC_ATTR_NETMASK,
  IPVS_SVC_ATTR_PROTOCOL,
  IPVS_SVC_ATTR_SCHED_NAME,
  IPVS_SVC_ATTR_TIMEOUT,
} from "./constants.js";
import { decodeInfo, decodeSyncDaemon, decodeTimeouts } from "./config-codec.js";
import { IpvsValidationError, NO_SERVICE_FLAGS, type IpvsService } from "./model.js";
import {
  decodeDestinationReply,
  decodeServiceReply,
  describeOperation,
  listDestinationsRequest,
  operationRequest,
  setTimeoutsRequest,
  startSyncDaemonRequest,
  stopSyncDaemonRequest,
} from "./requests.js";

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ""), "hex");

const webKey = { kind: "address", protocol: "tcp", address: "198.51.100.254", port: 80 } as const;
const web: IpvsService = {
  key: webKey,
  scheduler: "wlc",
  flags: { ...NO_SERVICE_FLAGS, persistent: true },
  timeout: 300,
  netmask: "255.255.255.0",
};

describe("IPVS requests on the wire", () => {
  test("add service: AF, protocol, address, big-endian port, scheduler, flags with mask, timeout, netmask bytes", () => {
    const request = operationRequest({ kind: "add-service", service: web });
    assert.equal(request.command, IPVS_CMD_NEW_SERVICE);
    assert.equal(request.description, "add service TCP 198.51.100.254:80");
    assert.deepEqual(
      request.attributes,
      hex(`
        4800 0180
          0600 0100 0200 0000
          0600 0200 0600 0000
          0800 0300 c633 64fe
          0600 0400 0050 0000
          0800 0600 776c 6300
          0c00 0700 0100 0000 3d00 0000
          0800 0800 2c01 0000
          0800 0900 ffff ff00`),
    );
  });

  test("IPv6 service: 16-byte address, prefix length as a host-order u32, persistence engine", () => {
    const request = operationRequest({
      kind: "add-service",
      service: {
        key: { kind: "address", protocol: "udp", address: "2001:db8::1", port: 5060 },
        scheduler: "sh",
        flags: { ...NO_SERVICE_FLAGS, onePacket: true, sched1: true, sched2: true },
        timeout: 0,
        netmask: 64,
        persistenceEngine: "sip",
      },
    });
    const nest = new AttributeSet(request.attributes, "top").nested(IPVS_CMD_ATTR_SERVICE)!;
    assert.equal(nest.u16(IPVS_SVC_ATTR_AF), 10);
    assert.equal(nest.u16(IPVS_SVC_ATTR_PROTOCOL), 17);
    assert.deepEqual(nest.get(3), hex("20010db8000000000000000000000001"));
    assert.equal(nest.u16be(4), 5060);
    assert.deepEqual(nest.get(IPVS_SVC_ATTR_FLAGS), hex("1c000000 3d000000"));
    assert.deepEqual(nest.get(IPVS_SVC_ATTR_NETMASK), hex("40000000"));
    assert.equal(nest.string(11), "sip");
  });

  test("firewall-mark service key: AF and FWMARK only", () => {
    const request = operationRequest({
      kind: "delete-service",
      service: { kind: "fwmark", family: 6, fwmark: 7 },
    });
    assert.deepEqual(request.attributes, hex("1400 0180 0600 0100 0a00 0000 0800 0500 0700 0000"));
    assert.equal(request.description, "delete service FWM 7 (IPv6)");
  });

  test("add destination with a GUE tunnel: family, address, ports big-endian, u8 type, u16 flags", () => {
    const request = operationRequest({
      kind: "add-destination",
      service: web.key,
      destination: {
        address: "203.0.113.11",
        port: 80,
        forwarding: "tunnel",
        weight: 1,
        upperThreshold: 0,
        lowerThreshold: 0,
        tunnel: { type: "gue", port: 6080, checksum: "remcsum" },
      },
    });
    assert.equal(request.command, IPVS_CMD_NEW_DEST);
    assert.equal(request.description, "add destination 203.0.113.11:80 to TCP 198.51.100.254:80");
    const dest = new AttributeSet(request.attributes, "top").get(IPVS_CMD_ATTR_DEST);
    assert.deepEqual(
      dest,
      hex(`
        0600 0b00 0200 0000
        0800 0100 cb00 710b
        0600 0200 0050 0000
        0800 0300 0200 0000
        0800 0400 0100 0000
        0800 0500 0000 0000
        0800 0600 0000 0000
        0500 0d00 0100 0000
        0600 0e00 17c0 0000
        0600 0f00 0200 0000`),
    );
  });

  test("delete destination carries only the service key and the destination's family, address and port", () => {
    const request = operationRequest({
      kind: "delete-destination",
      service: web.key,
      destination: { address: "2001:db8::11", port: 8080 },
    });
    assert.equal(request.command, IPVS_CMD_DEL_DEST);
    assert.equal(request.description, "delete destination [2001:db8::11]:8080 from TCP 198.51.100.254:80");
    const dest = new AttributeSet(request.attributes, "top").nested(IPVS_CMD_ATTR_DEST)!;
    assert.deepEqual(
      dest.list.map((a) => a.type),
      [11, IPVS_DEST_ATTR_ADDR, IPVS_DEST_ATTR_PORT],
    );
    assert.equal(listDestinationsRequest(web.key).command, IPVS_CMD_GET_DEST);
  });

  test("timeouts, daemons: only the given attributes", () => {
    const timeouts = setTimeoutsRequest({ tcp: 900, udp: 0 });
    assert.equal(timeouts.command, IPVS_CMD_SET_CONFIG);
    assert.deepEqual(timeouts.attributes, hex("0800 0400 8403 0000 0800 0600 0000 0000"));
    const start = startSyncDaemonRequest({
      state: "backup",
      interface: "eth0",
      syncId: 9,
      group: "224.0.0.18",
      port: 8848,
      ttl: 3,
    });
    assert.deepEqual(
      start.attributes,
      hex(`3800 0380
             0800 0100 0200 0000
             0900 0200 6574 6830 0000 0000
             0800 0300 0900 0000
             0800 0500 e000 0012
             0600 0700 9022 0000
             0500 0800 0300 0000`),
    );
    const stop = stopSyncDaemonRequest("master");
    assert.equal(stop.command, IPVS_CMD_DEL_DAEMON);
    assert.deepEqual(stop.attributes, hex("0c00 0380 0800 0100 0100 0000"));
  });

  test("values that do not fit their attribute are rejected with the object named", () => {
    const reject = (fn: () => unknown, pattern: RegExp) =>
      assert.throws(fn, (e: unknown) => e instanceof IpvsValidationError && pattern.test(e.message));
    reject(
      () => operationRequest({ kind: "add-service", service: { ...web, key: { ...webKey, port: 65536 } } }),
      /TCP 198\.51\.100\.254:65536 port/,
    );
    reject(
      () => operationRequest({ kind: "delete-service", service: { kind: "fwmark", family: 4, fwmark: 0 } }),
      /FWM 0 firewall mark/,
    );
    reject(
      () =>
        operationRequest({ kind: "add-service", service: { ...web, scheduler: "a-very-long-scheduler" } }),
      /scheduler: must be 1-15 bytes/,
    );
    reject(
      () => operationRequest({ kind: "add-service", service: { ...web, netmask: 24 } }),
      /IPv4 service takes a dotted netmask/,
    );
    reject(
      () =>
        operationRequest({
          kind: "add-service",
          service: { ...web, key: { ...webKey, address: "2001:db8::1" }, netmask: "255.0.0.0" },
        }),
      /IPv6 service takes a prefix length/,
    );
    reject(
      () =>
        operationRequest({
          kind: "add-service",
          service: { ...web, key: { ...webKey, address: "example.com" } },
        }),
      /not an IP address/,
    );
    const destination = {
      address: "203.0.113.11",
      port: 80,
      forwarding: "route",
      weight: 1,
      upperThreshold: 0,
      lowerThreshold: 0,
    } as const;
    reject(
      () =>
        operationRequest({
          kind: "add-destination",
          service: web.key,
          destination: { ...destination, weight: -1 },
        }),
      /weight/,
    );
    reject(
      () =>
        operationRequest({
          kind: "add-destination",
          service: web.key,
          destination: { ...destination, upperThreshold: 2 ** 31 },
        }),
      /upper threshold/,
    );
    reject(
      () =>
        operationRequest({
          kind: "add-destination",
          service: web.key,
          destination: { ...destination, tunnel: { type: "gre", port: 0, checksum: "csum" } },
        }),
      /tunnel settings need forwarding 'tunnel'/,
    );
    reject(
      () => startSyncDaemonRequest({ state: "master", interface: "an-interface-name-too-long", syncId: 1 }),
      /interface/,
    );
  });

  test("operations describe themselves with the object", () => {
    const destination = { address: "203.0.113.11", port: 80 };
    assert.equal(
      describeOperation({ kind: "edit-service", service: web }),
      "edit service TCP 198.51.100.254:80",
    );
    assert.equal(
      describeOperation({
        kind: "edit-destination",
        service: { kind: "fwmark", family: 4, fwmark: 3 },
        destination: { ...destination, forwarding: "route", weight: 1, upperThreshold: 0, lowerThreshold: 0 },
      }),
      "edit destination 203.0.113.11:80 of FWM 3",
    );
  });
});

describe("IPVS replies", () => {
  test("a service reply with a 16-byte IPv4 address, HASHED flag and STATS only (pre-4.1 kernels)", () => {
    const reply = encodeAttributes((w) =>
      w.nested(IPVS_CMD_ATTR_SERVICE, (s) =>
        s
          .u16(IPVS_SVC_ATTR_AF, 2)
          .u16(IPVS_SVC_ATTR_PROTOCOL, 132)
          .binary(3, hex("c63364fe000000000000000000000000"))
          .u16be(4, 443)
          .string(IPVS_SVC_ATTR_SCHED_NAME, "mh")
          .binary(IPVS_SVC_ATTR_FLAGS, hex("1a000000 ffffffff"))
          .u32(IPVS_SVC_ATTR_TIMEOUT, 0)
          .binary(IPVS_SVC_ATTR_NETMASK, hex("ffffffff"))
          .nested(10, (st) => st.u32(IPVS_STATS_ATTR_CONNS, 4).u64(IPVS_STATS_ATTR_INBYTES, 5000000000n)),
      ),
    );
    const service = decodeServiceReply(reply);
    assert.deepEqual(service.key, {
      kind: "address",
      protocol: "sctp",
      address: "198.51.100.254",
      port: 443,
    });
    assert.deepEqual(service.flags, {
      persistent: false,
      onePacket: false,
      sched1: true,
      sched2: true,
      sched3: false,
    });
    assert.equal(service.netmask, "255.255.255.255");
    assert.equal(service.stats.connections, 4n);
    assert.equal(service.stats.inBytes, 5000000000n);
    assert.equal(service.persistenceEngine, undefined);
  });

  test("a destination without ADDR_FAMILY takes the service's family; counts default to 0", () => {
    const reply = encodeAttributes((w) =>
      w.nested(IPVS_CMD_ATTR_DEST, (d) =>
        d
          .binary(IPVS_DEST_ATTR_ADDR, hex("20010db8000000000000000000000011"))
          .u16be(IPVS_DEST_ATTR_PORT, 80)
          .u32(IPVS_DEST_ATTR_FWD_METHOD, 3)
          .u32(IPVS_DEST_ATTR_WEIGHT, 5)
          .u32(IPVS_DEST_ATTR_U_THRESH, 0)
          .u32(IPVS_DEST_ATTR_L_THRESH, 0)
          .nested(IPVS_DEST_ATTR_STATS, (st) => st.u32(IPVS_STATS_ATTR_CONNS, 1)),
      ),
    );
    const destination = decodeDestinationReply(reply, 6);
    assert.equal(destination.address, "2001:db8::11");
    assert.equal(destination.forwarding, "route");
    assert.equal(destination.tunnel, undefined);
    assert.equal(destination.activeConnections, 0);
    assert.equal(destination.stats.connections, 1n);
  });

  test("malformed replies are NetlinkDecodeErrors naming the attribute", () => {
    const service = (build: Parameters<typeof encodeAttributes>[0]) =>
      encodeAttributes((w) => w.nested(IPVS_CMD_ATTR_SERVICE, build));
    assert.throws(
      () => decodeServiceReply(Buffer.alloc(0)),
      (e: unknown) => e instanceof NetlinkDecodeError && /IPVS_CMD_ATTR_SERVICE is missing/.test(e.message),
    );
    assert.throws(() => decodeServiceReply(service((s) => s.u16(IPVS_SVC_ATTR_AF, 7))), /address family 7/);
    assert.throws(
      () => decodeServiceReply(service((s) => s.u16(IPVS_SVC_ATTR_AF, 2).u16(IPVS_SVC_ATTR_PROTOCOL, 1))),
      /unknown protocol number 1/,
    );
    assert.throws(
      () =>
        decodeServiceReply(
          service((s) =>
            s.u16(IPVS_SVC_ATTR_AF, 10).u16(IPVS_SVC_ATTR_PROTOCOL, 6).binary(3, hex("c63364fe")),
          ),
        ),
      /IPVS_SVC_ATTR_ADDR has 4 bytes, too few for IPv6/,
    );
    assert.throws(() => decodeSyncDaemon(encodeAttributes((w) => w.u32(1, 3))), /sync daemon state 3/);
    assert.throws(() => decodeInfo(Buffer.alloc(0)), /IPVS_INFO_ATTR_VERSION is missing/);
    assert.deepEqual(decodeTimeouts(Buffer.alloc(0)), { tcp: 0, tcpFin: 0, udp: 0 });
  });
});
