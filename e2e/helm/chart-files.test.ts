// The chart's files that need no helm to check: the CRD copies are crds/*.yaml byte for byte,
// values.yaml satisfies values.schema.json, and the Grafana dashboard is well-formed and queries only
// metrics the agent and operator export.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { repositoryRoot } from "../control-plane/binaries.js";
import { definedMetrics } from "../docs/metrics-reference.js";

const chartDir = join(repositoryRoot, "charts", "kubelvs");

interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: { expr: string; refId: string }[];
}

interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string }[] };
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".yaml"))
    .sort();
}

describe("the chart's files", () => {
  test("files/crds/ holds exactly crds/*.yaml, byte for byte (charts/kubelvs/sync-crds.sh copies them)", () => {
    const sourceDir = join(repositoryRoot, "crds");
    const copyDir = join(chartDir, "files", "crds");
    assert.deepEqual(yamlFiles(copyDir), yamlFiles(sourceDir), "run charts/kubelvs/sync-crds.sh");
    for (const name of yamlFiles(sourceDir)) {
      assert.ok(
        readFileSync(join(copyDir, name)).equals(readFileSync(join(sourceDir, name))),
        `charts/kubelvs/files/crds/${name} differs from crds/${name}: run charts/kubelvs/sync-crds.sh`,
      );
    }
  });

  test("values.yaml satisfies values.schema.json, which rejects unknown keys", () => {
    const schema = JSON.parse(readFileSync(join(chartDir, "values.schema.json"), "utf8")) as object;
    const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
    const values = parse(readFileSync(join(chartDir, "values.yaml"), "utf8")) as Record<string, unknown>;
    assert.ok(validate(values), JSON.stringify(validate.errors, null, 2));
    assert.equal(validate({ ...values, replicas: 2 }), false, "a top-level typo is an error");
    const agent = values.agent as Record<string, unknown>;
    assert.equal(validate({ ...values, agent: { ...agent, hostNetwork: false } }), false);
  });

  describe("the Grafana dashboard", () => {
    const dashboard = JSON.parse(
      readFileSync(join(chartDir, "files", "dashboards", "kubelvs.json"), "utf8"),
    ) as Dashboard;
    const queries = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })),
    );

    test("panels have unique ids, fit the 24-column grid and do not overlap", () => {
      const ids = dashboard.panels.map((p) => p.id);
      assert.equal(new Set(ids).size, ids.length);
      const cells = new Map<string, string>();
      for (const p of dashboard.panels) {
        const { x, y, w, h } = p.gridPos;
        assert.ok(x >= 0 && w > 0 && x + w <= 24, `${p.title} fits the grid`);
        for (let row = y; row < y + h; row++) {
          for (let column = x; column < x + w; column++) {
            const key = `${row}:${column}`;
            assert.ok(!cells.has(key), `${p.title} overlaps ${cells.get(key)}`);
            cells.set(key, p.title);
          }
        }
      }
    });

    test("has panels for state per group, transitions, adverts, drops and real-server health", () => {
      const byMetric = (metric: string) => queries.filter((q) => q.expr.includes(metric)).map((q) => q.panel);
      for (const metric of [
        "kubelvs_vrrp_state",
        "kubelvs_vrrp_transitions_total",
        "kubelvs_vrrp_adverts_sent_total",
        "kubelvs_vrrp_adverts_received_total",
        "kubelvs_vrrp_packets_dropped_total",
        "kubelvs_realserver_healthy",
      ]) {
        assert.ok(byMetric(metric).length > 0, `no panel queries ${metric}`);
      }
      for (const p of dashboard.panels.filter((p) => p.type !== "row")) {
        assert.ok(p.description, `${p.title} explains what it shows`);
      }
    });

    test("queries only metrics the agent and operator define, with their labels", () => {
      const metrics = new Map(definedMetrics().map((m) => [m.name, m]));
      // Labels Prometheus adds to every scraped series (the PodMonitor adds node).
      const targetLabels = ["namespace", "pod", "node", "job", "instance"];
      for (const { panel, expr } of queries) {
        const used = [...expr.matchAll(/\b(kubelvs_[a-z0-9_]+)/g)].map((m) => m[1]!);
        assert.ok(used.length > 0, `${panel}: ${expr}`);
        const labels = new Set(targetLabels);
        for (const name of used) {
          const metric = metrics.get(name);
          assert.ok(metric, `${panel} queries ${name}, which no source defines`);
          for (const label of metric.labels) labels.add(label);
        }
        for (const m of expr.matchAll(/\bby \(([^)]*)\)/g)) {
          for (const label of m[1]!.split(",").map((l) => l.trim())) {
            assert.ok(labels.has(label), `${panel}: ${used.join(", ")} has no label ${label}`);
          }
        }
        for (const m of expr.matchAll(/\{([^}]*)\}/g)) {
          for (const matcher of m[1]!.matchAll(/([a-z_]+)\s*(?:=~|!=|!~|=)/g)) {
            assert.ok(labels.has(matcher[1]!), `${panel}: ${used.join(", ")} has no label ${matcher[1]}`);
          }
        }
      }
    });

    test("template variables: a Prometheus data source, the namespace and the group", () => {
      assert.deepEqual(
        dashboard.templating.list.map((v) => `${v.name}:${v.type}`),
        ["datasource:datasource", "namespace:query", "group:query"],
      );
      assert.equal(dashboard.uid, "kubelvs-overview");
    });
  });
});
