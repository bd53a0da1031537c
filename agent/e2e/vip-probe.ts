// Probing a VIP from the lab's client every few milliseconds (see vip-probe-wire.ts): an echo
// responder on every node, the prober on the client, and the prober's events for the failover
// measurements of the lab tests and the benchmark.
import { fileURLToPath } from "node:url";
import type { Lab, LabHost } from "../../e2e/lab/lab.js";
import type { LabProcess } from "../../e2e/lab/process.js";
import {
  doubleEpisodes,
  eventFromJson,
  observeFailover,
  type DoubleEpisode,
  type FailoverObservation,
  type ProbeEvent,
} from "./vip-probe-tracker.js";

const ECHO_SCRIPT = fileURLToPath(new URL("./probes/vip-echo.js", import.meta.url));
const PROBER_SCRIPT = fileURLToPath(new URL("./probes/vip-prober.js", import.meta.url));

export interface VipProbeOptions {
  vip: string;
  /** Nodes that may hold the VIP (each gets an echo responder). */
  nodes: readonly LabHost[];
  /** Probe every this many milliseconds (default 2). */
  intervalMs?: number;
  /** UDP port of the echo responders (default 7). */
  port?: number;
}

export class VipProbe {
  private readonly parsed: ProbeEvent[] = [];
  private parsedLines = 0;

  private constructor(
    private readonly prober: LabProcess,
    private readonly echoes: LabProcess[],
  ) {}

  static async start(lab: Lab, options: VipProbeOptions): Promise<VipProbe> {
    const port = options.port ?? 7;
    const echoes = options.nodes.map((n) => lab.spawnNode(n, ECHO_SCRIPT, [String(port), n.name]));
    await Promise.all(echoes.map((e) => e.waitForLine((l) => l.includes('"ready":true'))));
    const prober = lab.spawnNode(lab.client, PROBER_SCRIPT, [
      JSON.stringify({
        vip: options.vip,
        port,
        intervalMs: options.intervalMs ?? 2,
        source: lab.client.eth0.ipv4,
        localPort: 40_007,
        ifname: lab.client.eth0.name,
      }),
    ]);
    await prober.waitForLine((l) => l.includes('"ready":true'));
    return new VipProbe(prober, echoes);
  }

  /** Every event so far, in order. */
  events(): readonly ProbeEvent[] {
    const lines = this.prober.lines;
    for (; this.parsedLines < lines.length; this.parsedLines++) {
      const ev = eventFromJson(lines[this.parsedLines]!);
      if (ev) this.parsed.push(ev);
    }
    if (!this.prober.running) throw new Error(`VIP prober exited: ${this.prober.stderr}`);
    return this.parsed;
  }

  /** The node answering ordinary probes now, and since when (CLOCK_MONOTONIC ns). */
  serving(): { node: string; sinceNs: bigint } | undefined {
    const last = [...this.events()].reverse().find((e) => e.e === "serving");
    return last?.e === "serving" ? { node: last.node, sinceNs: last.firstNs } : undefined;
  }

  /** True while two or more nodes answer broadcast probes. */
  doubleNow(): boolean {
    const last = [...this.events()].reverse().find((e) => e.e === "double-start" || e.e === "double-end");
    return last?.e === "double-start";
  }

  failoverAfter(breakNs: bigint, oldMaster: string): FailoverObservation | undefined {
    return observeFailover(this.events(), breakNs, oldMaster);
  }

  doublesBetween(fromNs: bigint, toNs: bigint): DoubleEpisode[] {
    return doubleEpisodes(this.events(), fromNs, toNs);
  }

  async stop(): Promise<void> {
    await Promise.all([this.prober, ...this.echoes].map((p) => p.kill(1000)));
  }
}
