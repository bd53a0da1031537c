import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { advertIntervalSeconds, renderKeepalivedConf, type KeepalivedInstance } from "./config.js";

const base: KeepalivedInstance = {
  name: "WEB",
  interface: "eth0",
  vrid: 51,
  version: 3,
  priority: 100,
  advertIntervalMs: 10,
  virtualIPs: [{ address: "198.51.100.254", prefixLength: 24 }],
};

describe("keepalived.conf for a lab node", () => {
  test("a v3 multicast instance", () => {
    assert.equal(
      renderKeepalivedConf({ routerId: "n2", instances: [base] }),
      [
        "# written by kubelvs e2e/keepalived for a lab node",
        "global_defs {",
        "  router_id n2",
        "}",
        "",
        "vrrp_instance WEB {",
        "  state BACKUP",
        "  interface eth0",
        "  virtual_router_id 51",
        "  version 3",
        "  priority 100",
        "  advert_int 0.01",
        "  virtual_ipaddress {",
        "    198.51.100.254/24",
        "  }",
        "}",
        "",
      ].join("\n"),
    );
  });

  test("v2 with a password, unicast peers, nopreempt", () => {
    const text = renderKeepalivedConf({
      routerId: "n2",
      instances: [
        {
          ...base,
          version: 2,
          advertIntervalMs: 1000,
          authPassword: "kubelvs",
          unicastSource: "198.51.100.2",
          unicastPeers: ["198.51.100.1", "198.51.100.3"],
          preempt: false,
        },
      ],
    });
    const includes = (lines: string[]) =>
      assert.ok(text.includes(lines.join("\n")), `${lines.join("|")} in\n${text}`);
    includes(["  advert_int 1", "  nopreempt"]);
    includes(["  authentication {", "    auth_type PASS", "    auth_pass kubelvs", "  }"]);
    includes([
      "  unicast_src_ip 198.51.100.2",
      "  unicast_peer {",
      "    198.51.100.1",
      "    198.51.100.3",
      "  }",
    ]);
  });

  test("intervals the version cannot carry are refused", () => {
    assert.equal(advertIntervalSeconds({ name: "X", version: 3, advertIntervalMs: 50 }), "0.05");
    assert.throws(
      () => advertIntervalSeconds({ name: "X", version: 2, advertIntervalMs: 500 }),
      /whole seconds/,
    );
    assert.throws(
      () => advertIntervalSeconds({ name: "X", version: 3, advertIntervalMs: 15 }),
      /centiseconds/,
    );
  });

  test("passwords only in v2, at most 8 printable characters", () => {
    assert.throws(
      () => renderKeepalivedConf({ routerId: "n", instances: [{ ...base, authPassword: "x" }] }),
      /only in version 2/,
    );
    assert.throws(
      () =>
        renderKeepalivedConf({
          routerId: "n",
          instances: [{ ...base, version: 2, advertIntervalMs: 1000, authPassword: "123456789" }],
        }),
      /1-8 printable/,
    );
  });
});
