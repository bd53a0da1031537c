import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { InterfaceAddress } from "../../native/kernel.js";
import {
  ADDRESS_PROTOCOL,
  OwnedAddressRecord,
  isOwned,
  ownershipLabel,
  realServerRecordPath,
} from "./ownership.js";

const address = (fields: Partial<InterfaceAddress> & Pick<InterfaceAddress, "address" | "family">) => ({
  ifindex: 1,
  prefixLength: fields.family === 4 ? 32 : 128,
  flags: 0,
  flagNames: [],
  scope: 0,
  ...fields,
});

test("IPv4 labels: start with the device, fit 15 bytes, differ per instance", () => {
  const label = ownershipLabel("tunl0", "web");
  assert.match(label, /^tunl0:kl-[0-9a-f]{5}$/);
  assert.ok(Buffer.byteLength(label) <= 15);
  assert.notEqual(ownershipLabel("lo", "web"), ownershipLabel("lo", "db"));
  assert.equal(ownershipLabel("lo", "web"), ownershipLabel("lo", "web"));
});

test("ownership: IPv4 by label; IPv6 by the record unless the kernel names another creator", () => {
  const dir = mkdtempSync(join(tmpdir(), "kubelvs-owned-"));
  try {
    const record = new OwnedAddressRecord(realServerRecordPath(dir, "web"));
    const v4 = "198.51.100.200";
    assert.equal(
      isOwned(address({ family: 4, address: v4, label: ownershipLabel("lo", "web") }), "lo", "web", record),
      true,
    );
    assert.equal(
      isOwned(address({ family: 4, address: v4, label: ownershipLabel("lo", "db") }), "lo", "web", record),
      false,
    );
    assert.equal(isOwned(address({ family: 4, address: v4, label: "lo" }), "lo", "web", record), false);

    const v6 = address({ family: 6, address: "2001:db8::200", protocol: ADDRESS_PROTOCOL });
    assert.equal(isOwned(v6, "lo", "web", record), false, "not recorded");
    record.add("2001:db8::200", "lo");
    assert.equal(isOwned(v6, "lo", "web", record), true);
    assert.equal(isOwned({ ...v6, protocol: 4 }, "lo", "web", record), false, "someone else's protocol");
    const { protocol: _p, ...noProtocol } = v6;
    assert.equal(isOwned(noProtocol, "lo", "web", record), true, "a kernel before 6.1 reports none");
    assert.equal(isOwned(v6, "ip6tnl0", "web", record), false, "recorded on lo only");

    // the record survives the process: a new one reads it back
    const again = new OwnedAddressRecord(realServerRecordPath(dir, "web"));
    assert.deepEqual(again.list(), [{ address: "2001:db8::200", device: "lo" }]);
    again.delete("2001:db8::200", "lo");
    assert.deepEqual(JSON.parse(readFileSync(again.location, "utf8")), { version: 1, addresses: [] });

    writeFileSync(again.location, "{nonsense");
    assert.throws(
      () => new OwnedAddressRecord(again.location).list(),
      /real-server ownership record .*: not JSON/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
