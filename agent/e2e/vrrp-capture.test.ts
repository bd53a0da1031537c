import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseAdvertLine, wireFailover, type CapturedAdvert } from "./vrrp-capture.js";

describe("VRRP capture", () => {
  test("tcpdump's lines for v2 and v3 adverts, over IPv4 and IPv6", () => {
    assert.deepEqual(
      parseAdvertLine(
        "1795563548.443933 IP 198.51.100.1 > 224.0.0.18: VRRPv2, Advertisement, vrid 9, prio 0, authtype simple, intvl 1s, length 20",
      ),
      { timeUs: 1795563548443933, source: "198.51.100.1", version: 2, vrid: 9, priority: 0 },
    );
    assert.deepEqual(
      parseAdvertLine(
        "1795563553.741815 IP 198.51.100.2 > 224.0.0.18: VRRPv3, Advertisement, vrid 9, prio 100, intvl 5cs, length 12",
      ),
      { timeUs: 1795563553741815, source: "198.51.100.2", version: 3, vrid: 9, priority: 100 },
    );
    assert.equal(
      parseAdvertLine(
        "1795563553.741815 IP6 fe80::1 > ff02::12: VRRPv3, Advertisement, vrid 7, prio 50, intvl 10cs, length 28",
      )?.source,
      "fe80::1",
    );
    assert.equal(parseAdvertLine("listening on br0, link-type EN10MB (Ethernet)"), undefined);
  });

  test("the takeover: the old Master's last advert before the new Master's first", () => {
    const a = (timeUs: number, source: string, priority: number, vrid = 9): CapturedAdvert => ({
      timeUs,
      source,
      version: 3,
      vrid,
      priority,
    });
    const adverts = [
      a(1_000, ".1", 150),
      a(11_000, ".1", 150),
      a(12_000, ".1", 150, 8), // another group
      a(15_000, ".1", 0),
      a(21_100, ".2", 100),
      a(31_100, ".2", 100),
    ];
    const f = wireFailover(adverts, 9, ".1", ".2", 5_000);
    assert.equal(f?.lastOld.priority, 0);
    assert.equal(f?.firstNew.timeUs, 21_100);
    assert.equal(f?.gapMs, 6.1);
    assert.equal(wireFailover(adverts, 9, ".1", ".3", 5_000), undefined);
    // the new Master's first advert must follow the break; the old one's last may precede it
    assert.equal(wireFailover(adverts, 9, ".1", ".2", 25_000)?.firstNew.timeUs, 31_100);
    assert.equal(wireFailover(adverts, 9, ".1", ".2", 25_000)?.lastOld.timeUs, 15_000);
    assert.equal(wireFailover(adverts, 9, ".1", ".2", 40_000), undefined);
  });
});
