import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  formatFailoverTable,
  formatResources,
  formatSideBySide,
  formatWireTable,
  median,
  type BenchRun,
} from "./bench-report.js";

const INTERVALS = [{ label: "v3 10 ms", version: 3 as const, intervalMs: 10 }];

function run(
  implementation: BenchRun["implementation"],
  clientMs: number | undefined,
  extra: Partial<BenchRun> = {},
): BenchRun {
  return {
    implementation,
    interval: "v3 10 ms",
    kind: "crash",
    run: 1,
    rfcMs: implementation === "kubelvs" ? 6.09375 : 36.09375,
    doubles: [],
    ...(clientMs === undefined ? { error: "timed out" } : { clientMs, wireMs: clientMs - 2 }),
    ...extra,
  };
}

describe("benchmark report", () => {
  test("median of odd and even counts", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([]), undefined);
  });

  test("failover table: medians with range, ratio, failed runs and doubles", () => {
    const runs = [
      run("kubelvs", 12),
      run("kubelvs", 10),
      run("kubelvs", undefined),
      run("keepalived", 36, { doubles: ["n1+n2"] }),
      run("keepalived", 34, { doubles: ["n1+n2", "n2+n3"] }),
      run("keepalived", 35),
    ];
    const text = formatFailoverTable(runs, INTERVALS, ["crash"]);
    const [header, row] = text.trimEnd().split("\n");
    assert.match(header!, /^ADVERTS\s+BREAK\s+KUBELVS ms\s+KEEPALIVED ms\s+RATIO/);
    assert.match(
      row!,
      /^v3 10 ms\s+crash\s+11\.0 \(10\.0–12\.0\) 1 failed\s+35\.0 \(34\.0–36\.0\)\s+0\.31\s+no \/ n1\+n2 in 2\/3, n2\+n3 in 1\/3$/,
    );
  });

  test("wire table shows the RFC timer per implementation; missing runs say so", () => {
    const text = formatWireTable([run("kubelvs", 9)], INTERVALS, ["crash", "resign"]);
    assert.match(text, /crash\s+7\.00 \(7\.00–7\.00\) \(6\.09\)\s+not run/);
    assert.match(text, /resign\s+not run\s+not run/);
  });

  test("resources per process and in total", () => {
    const text = formatResources([
      {
        implementation: "kubelvs",
        interval: "v3 10 ms",
        seconds: 10,
        processes: [
          { role: "kubelvs guard", pid: 10, cpuPercent: 0.1, rssKiB: 51200, anonKiB: 10240 },
          { role: "kubelvs agent", pid: 11, cpuPercent: 1.4, rssKiB: 61440, anonKiB: 20480 },
        ],
      },
    ]);
    assert.match(text, /kubelvs\s+kubelvs agent\s+11\s+1\.400\s+60\.0\s+20\.0/);
    assert.match(text, /kubelvs\s+total\s+1\.500\s+110\.0\s+30\.0/);
  });

  test("side by side: both Masters per window, their ratio, and the medians", () => {
    const text = formatSideBySide({
      interval: "v3 10 ms",
      windowSeconds: 5,
      windows: [
        { kubelvs: 0.4, keepalived: 0.5 },
        { kubelvs: 0.45, keepalived: 0.4 },
        { kubelvs: 0.3, keepalived: 0.4 },
      ],
    });
    assert.match(text, /^1\s+0\.400\s+0\.500\s+0\.80$/m);
    assert.match(text, /^2\s+0\.450\s+0\.400\s+1\.13$/m);
    assert.match(text, /^median\s+0\.400\s+0\.400\s+0\.80$/m);
  });
});
