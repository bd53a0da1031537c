// IpvsClient on the kernel this test runs on. The development machines' kernel has no IPVS, so
// there this checks the typed error; on a kernel with IPVS loaded it checks that the client opens.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { tierOptions } from "../../e2e/requirements.js";
import { addonPath } from "../addon.js";
import { IpvsClient } from "./client.js";
import { IpvsUnavailableError } from "./errors.js";

const missingAddon = existsSync(addonPath())
  ? undefined
  : `addon not built at ${addonPath()} (npm run build:native)`;

test(
  "IpvsClient.open() on this kernel: IpvsUnavailableError without IPVS, a working client with it",
  tierOptions(missingAddon),
  async () => {
    if (existsSync("/proc/net/ip_vs")) {
      const client = await IpvsClient.open();
      assert.match((await client.info()).version, /^\d+\.\d+\.\d+$/);
      client.close();
      return;
    }
    await assert.rejects(IpvsClient.open(), (error: unknown) => {
      assert.ok(error instanceof IpvsUnavailableError);
      assert.equal(error.message, "IPVS is not available in this kernel (ip_vs module not loaded?)");
      assert.match(
        String((error.cause as Error).message),
        /generic netlink family IPVS is not registered in this kernel .*ENOENT/,
      );
      return true;
    });
  },
);
