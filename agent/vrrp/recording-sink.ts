// An ActionSink that records every action with the time it was asked for: the tests' view of an instance.
// It runs the Master's advert schedule on the test's clock the way the agent's I/O layer does (send now,
// then every interval, phase-locked), recording each advert as a sendAdvert.
import type { VirtualAddress } from "./config.js";
import type { VrrpAdvert } from "./packet.js";
import type {
  AdvertSchedule,
  AnnounceRequest,
  TransitionEvent,
  VrrpActionSink,
  VrrpLogEntry,
} from "./ports.js";

/** The part of the fake clock the sink needs. */
export interface SinkClock {
  now(): number;
  /** Runs `run` at `atMs`; returns a cancel function. */
  at(atMs: number, run: () => void): () => void;
}

export type RecordedAction =
  | { readonly type: "sendAdvert"; readonly atMs: number; readonly advert: VrrpAdvert }
  | { readonly type: "becomeMaster"; readonly atMs: number; readonly addresses: readonly VirtualAddress[] }
  | { readonly type: "leaveMaster"; readonly atMs: number; readonly addresses: readonly VirtualAddress[] }
  | {
      readonly type: "updateAddresses";
      readonly atMs: number;
      readonly add: readonly VirtualAddress[];
      readonly remove: readonly VirtualAddress[];
    }
  | { readonly type: "announce"; readonly atMs: number; readonly request: AnnounceRequest }
  | { readonly type: "transition"; readonly atMs: number; readonly event: TransitionEvent };

export class RecordingActionSink implements VrrpActionSink {
  readonly actions: RecordedAction[] = [];
  readonly logs: VrrpLogEntry[] = [];
  /** Whether the virtual addresses are currently up, as the I/O layer would have them. */
  holdsAddresses = false;
  /** Running advert schedules: how to halt each, and when its next advert is due. */
  private readonly schedules = new Map<() => void, number>();

  constructor(
    private readonly clock: SinkClock,
    private readonly onSend?: (advert: VrrpAdvert) => void,
  ) {}

  private now(): number {
    return this.clock.now();
  }

  sendAdvert(advert: VrrpAdvert): void {
    this.actions.push({ type: "sendAdvert", atMs: this.now(), advert });
    this.onSend?.(advert);
  }

  startAdvertising(first: VrrpAdvert, intervalMs: number): AdvertSchedule {
    // in whole microseconds, like the core, so deadlines come out exact
    const phaseUs = Math.round(this.now() * 1000);
    const intervalUs = Math.round(intervalMs * 1000);
    let advert = first;
    let rounds = 0;
    let cancel: (() => void) | undefined;
    const halt = (): void => {
      cancel?.();
      this.schedules.delete(halt);
    };
    const round = (): void => {
      rounds++;
      this.sendAdvert(advert);
      const nextAtMs = (phaseUs + rounds * intervalUs) / 1000;
      this.schedules.set(halt, nextAtMs);
      cancel = this.clock.at(nextAtMs, round);
    };
    round();
    return {
      get rounds() {
        return rounds;
      },
      withheld: 0, // the fake clock's event loop never stalls
      missed: 0, // nor does its sender wake late
      update: (next) => {
        advert = next;
      },
      stop: halt,
    };
  }

  /** The host died: every advert schedule stops with it. */
  haltSchedules(): void {
    for (const halt of [...this.schedules.keys()]) halt();
  }

  /** When the next scheduled advert is due (the Adver_Timer's deadline), for assertions; undefined when none runs. */
  nextAdvertAt(): number | undefined {
    const due = [...this.schedules.values()];
    return due.length === 0 ? undefined : Math.min(...due);
  }

  becomeMaster(addresses: readonly VirtualAddress[]): void {
    this.holdsAddresses = true;
    this.actions.push({ type: "becomeMaster", atMs: this.now(), addresses });
  }

  leaveMaster(addresses: readonly VirtualAddress[]): void {
    this.holdsAddresses = false;
    this.actions.push({ type: "leaveMaster", atMs: this.now(), addresses });
  }

  updateAddresses(change: {
    readonly add: readonly VirtualAddress[];
    readonly remove: readonly VirtualAddress[];
  }): void {
    this.actions.push({ type: "updateAddresses", atMs: this.now(), ...change });
  }

  announce(request: AnnounceRequest): void {
    this.actions.push({ type: "announce", atMs: this.now(), request });
  }

  transition(event: TransitionEvent): void {
    this.actions.push({ type: "transition", atMs: this.now(), event });
  }

  log(entry: VrrpLogEntry): void {
    this.logs.push(entry);
  }

  /** Recorded actions of one type, typed. */
  of<T extends RecordedAction["type"]>(type: T): Extract<RecordedAction, { type: T }>[] {
    return this.actions.filter((a): a is Extract<RecordedAction, { type: T }> => a.type === type);
  }

  transitions(): TransitionEvent[] {
    return this.of("transition").map((a) => a.event);
  }

  clear(): void {
    this.actions.length = 0;
    this.logs.length = 0;
  }
}
