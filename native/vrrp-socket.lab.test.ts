// VRRP raw sockets across namespaces: multicast and unicast, IPv4 and IPv6, with the TTL / hop
// limit, ingress interface, source and destination the receiver must check (RFC 5798 7.1).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { runProbe, startProbe } from "../e2e/lab/addon-probe-client.js";
import { Lab } from "../e2e/lab/lab.js";
import type { LabProcess } from "../e2e/lab/process.js";
import { missingNetns, tierOptions } from "../e2e/requirements.js";
import type { VrrpAdvertMeta } from "./vrrp-socket.js";

type Advert = VrrpAdvertMeta & { payloadHex: string };

const advertWith = (listener: LabProcess, payloadHex: string): Promise<Advert> =>
  listener
    .waitForJson<{ advert?: Advert }>((v) => v.advert?.payloadHex === payloadHex, 5000)
    .then((v) => v.advert!);

/** Gives a packet time to arrive before asserting that it did not. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 300));

const received = (listener: LabProcess, payloadHex: string): boolean =>
  listener.jsonLines<{ advert?: Advert }>().some((v) => v.advert?.payloadHex === payloadHex);

describe("VRRP transport through the addon", tierOptions(missingNetns()), () => {
  let lab: Lab;
  const listeners: Record<string, LabProcess> = {};
  before(async () => {
    lab = await Lab.create({ nodes: 3, client: false });
    for (const family of [4, 6]) {
      for (const node of ["n1", "n2", "n3"])
        listeners[`${node}/${family}`] = await startProbe(lab, node, "vrrp-listen", {
          family,
          ifname: "eth0",
        });
    }
  });
  after(() => lab.teardown());

  test("IPv4 multicast to 224.0.0.18 arrives in n2 and n3 with TTL 255, their ingress ifindex and n1's source", async () => {
    const payload = "21330a01";
    const { source } = await runProbe<{ source: string }>(lab, "n1", "vrrp-send", {
      family: 4,
      ifname: "eth0",
      payloadHex: payload,
    });
    assert.equal(source, "198.51.100.1");
    for (const node of ["n2", "n3"]) {
      const advert = await advertWith(listeners[`${node}/4`]!, payload);
      assert.deepEqual(advert, {
        payloadHex: payload,
        source: "198.51.100.1",
        destination: "224.0.0.18",
        ifindex: lab.host(node).eth0.ifindex,
        ttl: 255,
      });
    }
    await settle();
    assert.equal(
      received(listeners["n1/4"]!, payload),
      false,
      "multicast loopback is off: the sender does not hear itself",
    );
  });

  test("IPv6 multicast to ff02::12 arrives with hop limit 255 from n1's link-local address", async () => {
    const payload = "31330a010064";
    const { source } = await runProbe<{ source: string }>(lab, "n1", "vrrp-send", {
      family: 6,
      ifname: "eth0",
      payloadHex: payload,
    });
    assert.match(source, /^fe80::/);
    for (const node of ["n2", "n3"]) {
      const advert = await advertWith(listeners[`${node}/6`]!, payload);
      assert.deepEqual(advert, {
        payloadHex: payload,
        source,
        destination: "ff02::12",
        ifindex: lab.host(node).eth0.ifindex,
        ttl: 255,
      });
    }
    await settle();
    assert.equal(received(listeners["n1/6"]!, payload), false);
  });

  test("unicast to a peer reaches only that peer (IPv4 and IPv6)", async () => {
    await runProbe(lab, "n1", "vrrp-send", {
      family: 4,
      ifname: "eth0",
      destination: "198.51.100.3",
      payloadHex: "21330b01",
    });
    const v4 = await advertWith(listeners["n3/4"]!, "21330b01");
    assert.deepEqual([v4.destination, v4.source, v4.ttl], ["198.51.100.3", "198.51.100.1", 255]);
    await runProbe(lab, "n1", "vrrp-send", {
      family: 6,
      ifname: "eth0",
      source: "2001:db8::1",
      destination: "2001:db8::3",
      payloadHex: "31330b01",
    });
    const v6 = await advertWith(listeners["n3/6"]!, "31330b01");
    assert.deepEqual([v6.destination, v6.source, v6.ttl], ["2001:db8::3", "2001:db8::1", 255]);
    await settle();
    assert.equal(received(listeners["n2/4"]!, "21330b01"), false);
    assert.equal(received(listeners["n2/6"]!, "31330b01"), false);
  });

  test("a packet sent with a lower TTL / hop limit is reported with that value, so receivers can drop it", async () => {
    await runProbe(lab, "n1", "vrrp-send", { family: 4, ifname: "eth0", ttl: 64, payloadHex: "21330c01" });
    assert.equal((await advertWith(listeners["n2/4"]!, "21330c01")).ttl, 64);
    await runProbe(lab, "n1", "vrrp-send", { family: 6, ifname: "eth0", ttl: 1, payloadHex: "31330c01" });
    assert.equal((await advertWith(listeners["n2/6"]!, "31330c01")).ttl, 1);
  });

  test("a send from an address the node does not own fails with the errno and the addresses named", async () => {
    await assert.rejects(
      runProbe(lab, "n1", "vrrp-send", {
        family: 4,
        ifname: "eth0",
        source: "198.51.100.2",
        payloadHex: "00",
      }),
      /NativeSystemError E\w+ sendmsg raw IPv4 protocol 112 to 224\.0\.0\.18 from 198\.51\.100\.2 via ifindex \d+/,
    );
  });
});
