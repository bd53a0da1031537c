// Effective priority and tracking faults from tracked interfaces and scripts, with keepalived's rules.
//
// Each tracked object is "good" or "bad" (interface up/down, script OK/failed) or not yet known.
//   weight 0:  bad ⇒ Fault (reverse: good ⇒ Fault); not yet known ⇒ Fault too, the instance waits for it
//   weight w:  good ⇒ +w if w > 0, bad ⇒ +w (i.e. −|w|) if w < 0, otherwise 0; reverse negates the contribution;
//              not yet known ⇒ 0
// Effective priority = base + contributions, clamped to 1..254. An address owner (base 255) is never changed.
//
// Scripts follow vrrp_script's rise/fall: the first result decides at once (unless init_fail, which starts
// "bad"); after that it takes `fall` consecutive failures to turn bad and `rise` consecutive successes to turn
// good. A success while falling, or a failure while rising, restarts the count.
import type { TrackedInterfaceConfig, TrackedScriptConfig } from "./config.js";

export type TrackedHealth = "unknown" | "good" | "bad";

export interface TrackingStatus {
  readonly effectivePriority: number;
  /** One entry per tracked object holding the instance in Fault. Empty when none does. */
  readonly faults: readonly string[];
}

interface ScriptState {
  health: TrackedHealth;
  /** keepalived's result counter: 0..rise-1 while bad, rise..rise+fall-1 while good. */
  counter: number;
}

function contribution(weight: number, reverse: boolean, health: TrackedHealth): number {
  if (weight === 0 || health === "unknown") return 0;
  const raw = health === "good" ? (weight > 0 ? weight : 0) : weight < 0 ? weight : 0;
  return reverse ? -raw : raw;
}

function faultOf(
  kind: string,
  name: string,
  weight: number,
  reverse: boolean,
  health: TrackedHealth,
): string | undefined {
  if (weight !== 0) return undefined;
  if (health === "unknown") return `${kind} ${name}: state not known yet`;
  const faulty = reverse ? health === "good" : health === "bad";
  if (!faulty) return undefined;
  if (kind === "interface") return `interface ${name} is ${health === "bad" ? "down" : "up (reverse)"}`;
  return `script ${name} ${health === "bad" ? "failed" : "succeeded (reverse)"}`;
}

export class PriorityTracker {
  private basePriority: number;
  private interfaces: readonly TrackedInterfaceConfig[];
  private scripts: readonly TrackedScriptConfig[];
  private readonly interfaceUp = new Map<string, boolean>();
  private readonly scriptStates = new Map<string, ScriptState>();

  constructor(
    basePriority: number,
    interfaces: readonly TrackedInterfaceConfig[],
    scripts: readonly TrackedScriptConfig[],
  ) {
    this.basePriority = basePriority;
    this.interfaces = interfaces;
    this.scripts = scripts;
    for (const script of scripts) this.scriptStates.set(script.name, this.initialScriptState(script));
  }

  private initialScriptState(script: TrackedScriptConfig): ScriptState {
    return script.initFail ? { health: "bad", counter: 0 } : { health: "unknown", counter: 0 };
  }

  /** Reload: new settings, keeping what is known about objects that stay tracked. */
  reconfigure(
    basePriority: number,
    interfaces: readonly TrackedInterfaceConfig[],
    scripts: readonly TrackedScriptConfig[],
  ): void {
    this.basePriority = basePriority;
    this.interfaces = interfaces;
    this.scripts = scripts;
    for (const script of scripts) {
      const state = this.scriptStates.get(script.name);
      if (state === undefined) {
        this.scriptStates.set(script.name, this.initialScriptState(script));
      } else if (state.health === "good") {
        state.counter = Math.min(Math.max(state.counter, script.rise), script.rise + script.fall - 1);
      } else if (state.health === "bad") {
        state.counter = Math.min(state.counter, script.rise - 1);
      }
    }
    for (const name of [...this.scriptStates.keys()]) {
      if (!scripts.some((s) => s.name === name)) this.scriptStates.delete(name);
    }
  }

  tracksInterface(name: string): boolean {
    return this.interfaces.some((t) => t.name === name);
  }

  tracksScript(name: string): boolean {
    return this.scripts.some((s) => s.name === name);
  }

  /** Records an interface's link state. Interfaces this instance does not track are ignored (returns false). */
  interfaceChanged(name: string, up: boolean): boolean {
    if (!this.tracksInterface(name)) return false;
    const changed = this.interfaceUp.get(name) !== up;
    this.interfaceUp.set(name, up);
    return changed;
  }

  /** Records one run of a script (true = exit status 0). Returns whether its health changed. */
  scriptResult(name: string, ok: boolean): boolean {
    const script = this.scripts.find((s) => s.name === name);
    const state = this.scriptStates.get(name);
    if (script === undefined || state === undefined) return false;
    const before = state.health;
    const top = script.rise + script.fall - 1;
    if (ok) {
      if (state.health === "unknown" || state.counter >= script.rise - 1) {
        state.health = "good";
        state.counter = top;
      } else {
        state.counter++;
      }
    } else if (state.health === "unknown" || state.counter <= script.rise) {
      state.health = "bad";
      state.counter = 0;
    } else {
      state.counter--;
    }
    return state.health !== before;
  }

  interfaceHealth(name: string): TrackedHealth {
    const up = this.interfaceUp.get(name);
    return up === undefined ? "unknown" : up ? "good" : "bad";
  }

  scriptHealth(name: string): TrackedHealth {
    return this.scriptStates.get(name)?.health ?? "unknown";
  }

  status(): TrackingStatus {
    let total = this.basePriority;
    const faults: string[] = [];
    for (const t of this.interfaces) {
      const health = this.interfaceHealth(t.name);
      total += contribution(t.weight, t.reverse, health);
      const fault = faultOf("interface", t.name, t.weight, t.reverse, health);
      if (fault !== undefined) faults.push(fault);
    }
    for (const s of this.scripts) {
      const health = this.scriptHealth(s.name);
      total += contribution(s.weight, s.reverse, health);
      const fault = faultOf("script", s.name, s.weight, s.reverse, health);
      if (fault !== undefined) faults.push(fault);
    }
    const effectivePriority = this.basePriority === 255 ? 255 : Math.min(254, Math.max(1, total));
    return { effectivePriority, faults };
  }
}
