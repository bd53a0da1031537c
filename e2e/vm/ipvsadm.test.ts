// ipvsadm's listings (as printed by ipvsadm 1.31 on Linux 6.1) parsed into the client's model.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  combineIpvsadmListings,
  IpvsadmParseError,
  parseEndpoint,
  parseIpvsadmDaemons,
  parseIpvsadmList,
  parseIpvsadmSave,
  parseIpvsadmTimeouts,
} from "./ipvsadm.js";

const save = `-A -t 198.51.100.254:80 -s wlc -p 300 -M 255.255.255.0 -b flag-3
-a -t 198.51.100.254:80 -r 203.0.113.11:8080 -m -w 5
-a -t 198.51.100.254:80 -r 203.0.113.14:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum
-a -t 198.51.100.254:80 -r 203.0.113.17:80 -g -w 1
-a -t 198.51.100.254:80 -r 203.0.113.18:80 (null) -w 1
-a -t 198.51.100.254:80 -r [2001:db8::16]:80 -i -w 1 --tun-type ipip
-A -u 198.51.100.2:5060 -s rr -p 30 --pe sip
-A --sctp-service [2001:db8::1]:80 -s mh -p 60 -M 64 -b mh-fallback,mh-port
-A -f 9 -6 -s lblcr -o
-a -f 9 -6 -r [2001:db8::31]:0 -m -w 1
`;
const header = "IP Virtual Server version 1.2.1 (size=4096)\n";
const tunnelInfo = `${header}Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn
TCP  198.51.100.254:80 wlc (flag-3) persistent 300 mask 255.255.255.0
  -> 203.0.113.11:8080            Masq    n/a           5      0          0
  -> 203.0.113.14:80              Tunnel  gue:6080:+c   1      0          0
  -> 203.0.113.17:80              Local   n/a           1      0          0
  -> 203.0.113.18:80              (null)  n/a           1      0          0
  -> [2001:db8::16]:80            Tunnel  ipip          1      0          0
UDP  198.51.100.2:5060 rr persistent 30 pe sip
SCTP [2001:db8::1]:80 mh (mh-fallback,mh-port) persistent 60 mask 64
FWM  9 IPv6 lblcr ops
  -> [2001:db8::31]:0             Masq    n/a           1      0          0
`;
const thresholds = tunnelInfo
  .replace("Masq    n/a           5      0          0", "100        50         0          0")
  .replace(/(Masq|Tunnel|Local|\(null\)) +\S+ +\d+ +0 +0/g, "0          0          0          0");
const persistent = tunnelInfo
  .replace("Masq    n/a           5      0          0", "5         1           2          3")
  .replace(/(Masq|Tunnel|Local|\(null\)) +\S+ +(\d+) +0 +0/g, "$2         0           0          0");
const stats = `${header}Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  198.51.100.254:80                   5       30       25  5000000000     1234
  -> 203.0.113.11:8080                   5       30       25  5000000000     1234
  -> 203.0.113.14:80                     0        0        0        0        0
  -> 203.0.113.17:80                     0        0        0        0        0
  -> 203.0.113.18:80                     0        0        0        0        0
  -> [2001:db8::16]:80                   0        0        0        0        0
UDP  198.51.100.2:5060                   0        0        0        0        0
SCTP [2001:db8::1]:80                    0        0        0        0        0
FWM  9 IPv6                              0        0        0        0        0
  -> [2001:db8::31]:0                    0        0        0        0        0
`;

test("-Sn: services with flags, persistence, engine; destinations with method, weight and tunnel", () => {
  const services = parseIpvsadmSave(save);
  assert.deepEqual(
    services.map((s) => s.service),
    [
      {
        key: { kind: "address", protocol: "tcp", address: "198.51.100.254", port: 80 },
        scheduler: "wlc",
        flags: { persistent: true, onePacket: false, sched1: false, sched2: false, sched3: true },
        timeout: 300,
        netmask: "255.255.255.0",
      },
      {
        key: { kind: "address", protocol: "udp", address: "198.51.100.2", port: 5060 },
        scheduler: "rr",
        flags: { persistent: true, onePacket: false, sched1: false, sched2: false, sched3: false },
        timeout: 30,
        netmask: "255.255.255.255",
        persistenceEngine: "sip",
      },
      {
        key: { kind: "address", protocol: "sctp", address: "2001:db8::1", port: 80 },
        scheduler: "mh",
        flags: { persistent: true, onePacket: false, sched1: true, sched2: true, sched3: false },
        timeout: 60,
        netmask: 64,
      },
      {
        key: { kind: "fwmark", family: 6, fwmark: 9 },
        scheduler: "lblcr",
        flags: { persistent: false, onePacket: true, sched1: false, sched2: false, sched3: false },
        timeout: 0,
        netmask: 128,
      },
    ],
  );
  assert.deepEqual(services[0]!.destinations[1], {
    address: "203.0.113.14",
    port: 80,
    method: "tunnel",
    weight: 1,
    tunnel: { type: "gue", port: 6080, checksum: "csum" },
  });
  assert.equal(services[0]!.destinations[3]!.method, "bypass");
});

test("-Ln tables and the combined view in the client's model", () => {
  const listed = parseIpvsadmList(tunnelInfo, "-Ln --tun-info");
  assert.equal(listed.length, 4);
  assert.deepEqual(listed[3]!.key, { kind: "fwmark", family: 6, fwmark: 9 });
  assert.deepEqual(listed[0]!.destinations[1]!.columns, ["Tunnel", "gue:6080:+c", "1", "0", "0"]);

  const view = combineIpvsadmListings({
    save,
    tunnelInfo,
    thresholds,
    persistentConnections: persistent,
    stats,
  });
  const nat = view[0]!.destinations[0]!;
  assert.deepEqual(nat, {
    address: "203.0.113.11",
    port: 8080,
    forwarding: "masq",
    weight: 5,
    upperThreshold: 100,
    lowerThreshold: 50,
    activeConnections: 2,
    inactiveConnections: 3,
    persistentConnections: 1,
    stats: {
      ...nat.stats,
      connections: 5n,
      inPackets: 30n,
      outPackets: 25n,
      inBytes: 5000000000n,
      outBytes: 1234n,
    },
  });
  assert.equal(view[0]!.service.stats.inBytes, 5000000000n);
  assert.deepEqual(
    view[0]!.destinations.map((d) => [d.forwarding, d.tunnel?.type]),
    [
      ["masq", undefined],
      ["tunnel", "gue"],
      ["local", undefined],
      ["bypass", undefined],
      ["tunnel", "ipip"],
    ],
  );
});

test("timeouts, daemons and endpoints", () => {
  assert.deepEqual(parseIpvsadmTimeouts("Timeout (tcp tcpfin udp): 900 120 300\n"), {
    tcp: 900,
    tcpFin: 120,
    udp: 300,
  });
  assert.deepEqual(
    parseIpvsadmDaemons(
      "master sync daemon (mcast=kvsync0, syncid=5, maxlen=1400, group=224.0.0.18, port=8848, ttl=2)\n" +
        "backup sync daemon (mcast=kvsync1, syncid=6, maxlen=1450, group=ff02::12, port=8849)\n",
    ),
    [
      {
        state: "master",
        interface: "kvsync0",
        syncId: 5,
        maxLength: 1400,
        group: "224.0.0.18",
        port: 8848,
        ttl: 2,
      },
      { state: "backup", interface: "kvsync1", syncId: 6, maxLength: 1450, group: "ff02::12", port: 8849 },
    ],
  );
  assert.deepEqual(parseEndpoint("[2001:db8::1]:443", "x"), { address: "2001:db8::1", port: 443 });
  assert.throws(() => parseEndpoint("nonsense", "-Sn"), IpvsadmParseError);
  assert.throws(
    () => parseIpvsadmSave("-a -t 198.51.100.1:80 -r 203.0.113.1:80 -m\n"),
    /destination before its service/,
  );
  assert.throws(() => parseIpvsadmList("garbage line\n", "-Ln"), /neither a service nor a destination/);
});
