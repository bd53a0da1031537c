// The README's demo command, run as a test: it must work on a clean checkout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { missingControlPlaneBinaries } from "../control-plane/binaries.js";
import { missingNetns, tierOptions } from "../requirements.js";
import { runDemo } from "./demo.js";

test(
  "kubelvs demo: election, kill of the Master's agent, new MASTER in kubectl, traffic carries on",
  tierOptions(missingNetns(), missingControlPlaneBinaries()),
  async () => {
    const lines: string[] = [];
    await runDemo({ out: (l) => lines.push(l) });
    const text = lines.join("\n");
    assert.match(text, /vrrpgroup\.kubelvs\.io\/web\s+70\s+198\.51\.100\.254\s+n1\s+3\/3/);
    // Issue 6: kubectl shows the MASTER within 1 s of the election ...
    const electionLag = Number(/kubectl showed MASTER n1 (-?\d+) ms after the election/.exec(text)?.[1]);
    assert.ok(electionLag < 1000, `kubectl lagged the election by ${electionLag} ms`);
    assert.match(text, /kubectl shows MASTER n2 \d+ ms after the kill/);
    assert.match(text, /the client's traffic is answered by n2 \d+ ms after the kill/);
    // ... and the new MASTER within 1 s of the failover.
    const lag = Number(/kubectl showed the new MASTER (-?\d+) ms after the failover/.exec(text)?.[1]);
    assert.ok(lag < 1000, `kubectl lagged the failover by ${lag} ms`);
    // in the order the requests were sent: n1, then (after the requests lost while the VIP moved) n2,
    // then n1 again once it preempted; nothing fails while one node holds the VIP
    assert.match(
      text,
      /who answered, in order: \d+× n1 → (\d+× -\(\w+\) → )?\d+× n2 → (\d+× -\(\w+\) → )?\d+× n1$/m,
    );
    assert.match(text, /done$/);
  },
);
