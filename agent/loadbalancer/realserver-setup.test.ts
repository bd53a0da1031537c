import assert from "node:assert/strict";
import { test } from "node:test";
import {
  describeStep,
  planRealServerReconcile,
  planRealServerSetup,
  realServerVips,
} from "./realserver-setup.js";

test("DR: ARP settings, then each VIP on lo (/32, /128 without DAD)", () => {
  assert.deepEqual(
    planRealServerSetup({ vips: ["198.51.100.250", "2001:DB8::250"], mode: "dr" }).map(describeStep),
    [
      "sysctl -w net.ipv4.conf.all.arp_ignore=1    # answer ARP only for addresses of the receiving interface, never for the VIP",
      "sysctl -w net.ipv4.conf.all.arp_announce=2    # never use the VIP as the source address of ARP requests",
      "ip addr replace 198.51.100.250/32 dev lo",
      "ip addr replace 2001:db8::250/128 dev lo nodad",
    ],
  );
});

test("DR for IPv6 only needs no ARP settings", () => {
  assert.deepEqual(
    planRealServerSetup({ vips: ["2001:db8::250"], mode: "dr" }).map((s) => s.kind),
    ["address"],
  );
});

test("TUN: the IPIP device up, reverse-path filter off on it and on all, VIP on the device", () => {
  assert.deepEqual(
    planRealServerSetup({ vips: ["203.0.113.202"], mode: "tun" })
      .map(describeStep)
      .map((s) => s.split("    #")[0]),
    [
      "sysctl -w net.ipv4.conf.all.arp_ignore=1",
      "sysctl -w net.ipv4.conf.all.arp_announce=2",
      "ip link add name tunl0 type ipip",
      "ip link set tunl0 up",
      "sysctl -w net.ipv4.conf.all.rp_filter=0",
      "sysctl -w net.ipv4.conf.tunl0.rp_filter=0",
      "ip addr replace 203.0.113.202/32 dev tunl0",
    ],
  );
  assert.deepEqual(
    planRealServerSetup({ vips: ["2001:db8::202"], mode: "tun" })
      .map(describeStep)
      .map((s) => s.split("    #")[0]),
    [
      "ip link add name ip6tnl0 type ip6tnl",
      "ip link set ip6tnl0 up",
      "ip addr replace 2001:db8::202/128 dev ip6tnl0 nodad",
    ],
  );
});

test("--remove takes the VIPs away; bad input is refused with the offending value", () => {
  assert.deepEqual(
    planRealServerSetup({ vips: ["198.51.100.250"], mode: "dr", remove: true }).map(describeStep),
    ["ip addr del 198.51.100.250/32 dev lo    # if present"],
  );
  assert.throws(() => planRealServerSetup({ vips: [], mode: "dr" }), /at least one --vip/);
  assert.throws(() => planRealServerSetup({ vips: ["web"], mode: "dr" }), /--vip web: not an IP address/);
});

const state = (
  addresses: { address: string; device: string; owned: boolean }[],
  sysctls: Record<string, string> = {},
  links: Record<string, boolean> = { lo: true },
) => ({
  sysctls: new Map(Object.entries(sysctls)),
  links: new Map(Object.entries(links).map(([name, up]) => [name, { up }])),
  addresses,
});
const ARP_SET = { "net.ipv4.conf.all.arp_ignore": "1", "net.ipv4.conf.all.arp_announce": "2" };

test("reconcile: only what differs; owned VIPs no longer wanted go, others' never", () => {
  const wanted = realServerVips(["198.51.100.250", "2001:db8::250"], "dr");
  assert.deepEqual(
    planRealServerReconcile(wanted, state([]))
      .map(describeStep)
      .map((s) => s.split("    #")[0]),
    [
      "sysctl -w net.ipv4.conf.all.arp_ignore=1",
      "sysctl -w net.ipv4.conf.all.arp_announce=2",
      "ip addr replace 198.51.100.250/32 dev lo",
      "ip addr replace 2001:db8::250/128 dev lo nodad",
    ],
  );
  // in line: nothing to do, whoever added the VIPs; a stricter arp_ignore is left alone
  assert.deepEqual(
    planRealServerReconcile(
      wanted,
      state(
        [
          { address: "198.51.100.250", device: "lo", owned: true },
          { address: "2001:db8::250", device: "lo", owned: false },
        ],
        { ...ARP_SET, "net.ipv4.conf.all.arp_ignore": "2" },
      ),
    ),
    [],
  );
  // nothing wanted: owned VIPs go, an unowned one stays, sysctls are not reset
  assert.deepEqual(
    planRealServerReconcile(
      [],
      state([
        { address: "198.51.100.250", device: "lo", owned: true },
        { address: "198.51.100.251", device: "lo", owned: false },
      ]),
    ).map(describeStep),
    ["ip addr del 198.51.100.250/32 dev lo    # if present"],
  );
});

test("reconcile: a VIP moving from DR to TUN leaves lo and goes on the tunnel, raised and unfiltered", () => {
  assert.deepEqual(
    planRealServerReconcile(
      realServerVips(["203.0.113.202"], "tun"),
      state([{ address: "203.0.113.202", device: "lo", owned: true }], ARP_SET, { lo: true, tunl0: false }),
    )
      .map(describeStep)
      .map((s) => s.split("    #")[0]),
    [
      "ip link set tunl0 up",
      "sysctl -w net.ipv4.conf.all.rp_filter=0",
      "sysctl -w net.ipv4.conf.tunl0.rp_filter=0",
      "ip addr del 203.0.113.202/32 dev lo",
      "ip addr replace 203.0.113.202/32 dev tunl0",
    ],
  );
});
