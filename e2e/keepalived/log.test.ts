import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { instanceStates, packetErrors, stateEntries } from "./log.js";

// Lines as keepalived 2.2.7 prints them with -l -D (its own messages, abridged to a few).
const LOG = `Tue Nov 24 23:29:15 2026: Starting Keepalived v2.2.7 (01/16,2022)
Tue Nov 24 23:29:15 2026: (WEB) removing VIPs.
Tue Nov 24 23:29:15 2026: (WEB) Entering BACKUP STATE (init)
Tue Nov 24 23:29:15 2026: (DB) Entering BACKUP STATE (init)
Tue Nov 24 23:29:18 2026: (WEB) Receive advertisement timeout
Tue Nov 24 23:29:18 2026: (WEB) Entering MASTER STATE
Tue Nov 24 23:29:19 2026: (WEB) Master received advert from 198.51.100.1 with higher priority 150, ours 100
Tue Nov 24 23:29:19 2026: (WEB) Entering BACKUP STATE
Tue Nov 24 23:29:20 2026: (WEB) Entering MASTER STATE
`;

describe("keepalived's console log", () => {
  test("each instance's latest state, and how often it entered one", () => {
    assert.deepEqual(
      [...instanceStates(LOG)],
      [
        ["WEB", "MASTER"],
        ["DB", "BACKUP"],
      ],
    );
    assert.equal(stateEntries(LOG, "WEB", "MASTER"), 2);
    assert.equal(stateEntries(LOG, "DB", "MASTER"), 0);
  });

  test("a clean log has no packet errors", () => {
    assert.deepEqual(packetErrors(LOG), []);
  });

  test("each kind of rejected packet is recognised", () => {
    const lines = [
      "(WEB) Invalid VRRPv3 checksum",
      "(WEB) invalid TTL/HL. Received 64 and expect 255",
      "(WEB) received an invalid passwd!",
      "(WEB) advertisement interval mismatch mine=1 sec rcv'd=2 sec",
      "(WEB) wrong version. Received 2 and expect 3",
      "(WEB) received an unexpected ip number count 2, expected 1!",
      "(WEB) Expected unicast packet but received multicast packet",
      "Discarding bogus packet from 198.51.100.1",
    ].map((l) => `Tue Nov 24 23:29:15 2026: ${l}`);
    assert.deepEqual(
      packetErrors(lines.join("\n")).map((e) => e.problem),
      ["checksum", "ttl", "auth", "interval", "version", "addresses", "transport", "bogus"],
    );
  });
});
