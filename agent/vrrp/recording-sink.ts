// An ActionSink that records every action with the time it was asked for: the tests' view of an instance.
import type { VirtualAddress } from "./config.js";
import type { VrrpAdvert } from "./packet.js";
import type { AnnounceRequest, TransitionEvent, VrrpActionSink, VrrpLogEntry } from "./ports.js";

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

  constructor(
    private readonly now: () => number,
    private readonly onSend?: (advert: VrrpAdvert) => void,
  ) {}

  sendAdvert(advert: VrrpAdvert): void {
    this.actions.push({ type: "sendAdvert", atMs: this.now(), advert });
    this.onSend?.(advert);
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
