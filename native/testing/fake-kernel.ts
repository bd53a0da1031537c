// An in-memory KernelEdge for unit tests of the agent: links and addresses in maps, watchers
// told about every change (also changes "by someone else" via the helpers), VRRP sends and
// neighbour announcements recorded, adverts injectable. Errors mimic the kernel's (NetlinkError
// with EEXIST / EADDRNOTAVAIL / ENODEV). Timers and periodic transmissions run on the real event
// loop (setTimeout / setInterval), with performance.now() as the monotonic clock.
import { errnoNumber } from "../errno.js";
import { normalizeIp, type IpFamily } from "../ip-address.js";
import type {
  NativeSystemError,
  PeriodicAdvert,
  PeriodicSendOptions,
  PeriodicTransmission,
  PreciseTimer,
  AddressControl,
  AddressSpec,
  AddressWatchListener,
  AnnounceTarget,
  InterfaceAddress,
  KernelEdge,
  Link,
  LinkControl,
  LinkWatchListener,
  NeighborAnnouncer,
  Subscription,
  VrrpAdvertMeta,
  VrrpSendOptions,
  VrrpTransport,
  VrrpTransportHandlers,
} from "../kernel.js";
import { NetlinkError } from "../netlink/errors.js";
import {
  addressFlagBits,
  addressFlagNames,
  describeAddress,
  checkAddressSpec,
} from "../rtnetlink/address.js";

const kernelError = (code: string, request: string): NetlinkError =>
  new NetlinkError({ errno: errnoNumber(code) ?? 0, request });

export class FakeAddressControl implements AddressControl {
  readonly addresses: InterfaceAddress[] = [];
  private readonly watchers = new Set<AddressWatchListener>();

  list(filter: { family?: IpFamily; ifindex?: number } = {}): Promise<InterfaceAddress[]> {
    return Promise.resolve(
      this.addresses.filter(
        (a) =>
          (filter.family === undefined || a.family === filter.family) &&
          (filter.ifindex === undefined || a.ifindex === filter.ifindex),
      ),
    );
  }

  add(spec: AddressSpec, options: { replace?: boolean } = {}): Promise<void> {
    const family = checkAddressSpec(spec);
    const address = normalizeIp(spec.address);
    const index = this.indexOf(spec.ifindex, address, spec.prefixLength);
    if (index >= 0 && !options.replace)
      return Promise.reject(kernelError("EEXIST", `add address ${describeAddress(spec)}`));
    const flags = addressFlagBits(spec.flags ?? []) | 0x80; // added addresses are permanent
    const entry: InterfaceAddress = {
      family,
      ifindex: spec.ifindex,
      address,
      prefixLength: spec.prefixLength,
      flags,
      flagNames: addressFlagNames(flags),
      scope: spec.scope ?? 0,
      ...(spec.label !== undefined ? { label: spec.label } : {}),
      ...(spec.broadcast !== undefined ? { broadcast: spec.broadcast } : {}),
      ...(spec.protocol !== undefined ? { protocol: spec.protocol } : {}),
    };
    if (index >= 0) this.addresses[index] = entry;
    else this.addresses.push(entry);
    this.notify("new", entry);
    return Promise.resolve();
  }

  remove(spec: Pick<AddressSpec, "ifindex" | "address" | "prefixLength">): Promise<void> {
    const index = this.indexOf(spec.ifindex, normalizeIp(spec.address), spec.prefixLength);
    if (index < 0)
      return Promise.reject(kernelError("EADDRNOTAVAIL", `remove address ${describeAddress(spec)}`));
    const [removed] = this.addresses.splice(index, 1);
    this.notify("delete", removed!);
    return Promise.resolve();
  }

  watch(listener: AddressWatchListener): Subscription {
    this.watchers.add(listener);
    return { close: () => this.watchers.delete(listener) };
  }

  /** Someone else (an admin, another daemon) removes an address. */
  removeExternally(ifindex: number, address: string, prefixLength: number): void {
    void this.remove({ ifindex, address, prefixLength });
  }

  /** Tells watchers that notifications were lost. */
  overrun(): void {
    for (const watcher of [...this.watchers]) watcher.onResync(new Error("fake overrun"));
  }

  private indexOf(ifindex: number, address: string, prefixLength: number): number {
    return this.addresses.findIndex(
      (a) => a.ifindex === ifindex && a.address === address && a.prefixLength === prefixLength,
    );
  }

  private notify(action: "new" | "delete", address: InterfaceAddress): void {
    for (const watcher of [...this.watchers]) watcher.onAddress(action, address);
  }
}

export class FakeLinkControl implements LinkControl {
  readonly links = new Map<number, Link>();
  private readonly watchers = new Set<LinkWatchListener>();

  /** Adds (or replaces) an interface, up and running by default. */
  addLink(link: Partial<Link> & Pick<Link, "index" | "name">): Link {
    const up = link.up ?? true;
    const full: Link = {
      flags: up ? 0x11043 : 0x1002,
      up,
      running: up,
      lowerUp: up,
      operstate: up ? "up" : "down",
      linkType: 1,
      mac: `02:00:00:00:00:${link.index.toString(16).padStart(2, "0")}`,
      mtu: 1500,
      ...link,
    };
    this.links.set(full.index, full);
    this.notify("new", full);
    return full;
  }

  /** Sets an interface administratively and operationally up or down, like `ip link set`. */
  setUp(index: number, up: boolean): void {
    const link = this.links.get(index);
    if (!link) throw kernelError("ENODEV", `set link ifindex ${index}`);
    this.addLink({
      ...link,
      up,
      running: up,
      lowerUp: up,
      operstate: up ? "up" : "down",
      flags: up ? link.flags | 0x11041 : link.flags & ~0x11041,
    });
  }

  removeLink(index: number): void {
    const link = this.links.get(index);
    if (!link) return;
    this.links.delete(index);
    this.notify("delete", link);
  }

  list(): Promise<Link[]> {
    return Promise.resolve([...this.links.values()]);
  }

  lookup(target: string | number): Promise<Link | undefined> {
    return Promise.resolve(
      typeof target === "number"
        ? this.links.get(target)
        : [...this.links.values()].find((l) => l.name === target),
    );
  }

  watch(listener: LinkWatchListener): Subscription {
    this.watchers.add(listener);
    return { close: () => this.watchers.delete(listener) };
  }

  private notify(action: "new" | "delete", link: Link): void {
    for (const watcher of [...this.watchers]) watcher.onLink(action, link);
  }
}

export interface SentAdvert {
  readonly payload: Buffer;
  readonly options: VrrpSendOptions;
}

export class FakeVrrpTransport implements VrrpTransport {
  /** Every advert sent, by send() and by each round of a periodic transmission, in order. */
  readonly sent: SentAdvert[] = [];
  readonly memberships = new Map<number, number>();
  /** Every transmission startPeriodic() began, stopped ones included. */
  readonly periodic: FakePeriodicTransmission[] = [];
  closed = false;

  constructor(
    readonly family: IpFamily,
    private readonly handlers: VrrpTransportHandlers,
  ) {}

  join(ifindex: number): void {
    this.memberships.set(ifindex, (this.memberships.get(ifindex) ?? 0) + 1);
  }

  leave(ifindex: number): void {
    const count = this.memberships.get(ifindex) ?? 0;
    if (count <= 1) this.memberships.delete(ifindex);
    else this.memberships.set(ifindex, count - 1);
  }

  send(payload: Buffer, options: VrrpSendOptions): void {
    if (this.closed) throw new Error("fake VRRP transport closed");
    this.sent.push({ payload: Buffer.from(payload), options });
  }

  startPeriodic(
    adverts: readonly PeriodicAdvert[],
    options: PeriodicSendOptions,
    intervalMs: number,
    onError: (error: NativeSystemError) => void,
  ): FakePeriodicTransmission {
    if (this.closed) throw new Error("fake VRRP transport closed");
    const transmission = new FakePeriodicTransmission(this.sent, options, onError);
    transmission.restart(adverts, intervalMs);
    this.periodic.push(transmission);
    return transmission;
  }

  /** Transmissions still sending. */
  get activePeriodic(): FakePeriodicTransmission[] {
    return this.periodic.filter((t) => !t.stopped);
  }

  /** Delivers an advert as if received from the network. */
  receive(payload: Buffer, meta: VrrpAdvertMeta): void {
    this.handlers.onAdvert(payload, meta);
  }

  close(): void {
    for (const transmission of this.periodic) transmission.stop();
    this.closed = true;
  }
}

const copied = (adverts: readonly PeriodicAdvert[]): PeriodicAdvert[] => {
  if (adverts.length === 0) throw new RangeError("periodic adverts must not be empty");
  return adverts.map((a) => ({ payload: Buffer.from(a.payload), destination: normalizeIp(a.destination) }));
};

/**
 * Records each round into the transport's `sent` list, like send(): the first round at once, the
 * next ones every intervalMs on a setInterval. Checks its arguments like the addon does.
 */
export class FakePeriodicTransmission implements PeriodicTransmission {
  rounds = 0;
  readonly missed = 0;
  failures = 0;
  readonly withheld = 0;
  stopped = false;
  /** The adverts (copied) and interval of the current schedule. */
  adverts: readonly PeriodicAdvert[] = [];
  intervalMs = 0;
  private interval: NodeJS.Timeout | undefined;

  constructor(
    private readonly sent: SentAdvert[],
    readonly options: PeriodicSendOptions,
    private readonly onError: (error: NativeSystemError) => void,
  ) {}

  restart(adverts: readonly PeriodicAdvert[], intervalMs: number): void {
    if (this.stopped) throw new Error("restart: this periodic VRRP transmission is stopped");
    if (!(intervalMs >= 1 && intervalMs <= 86_400_000))
      throw new RangeError(`startPeriodic: intervalMs must be between 1 and 86400000, got ${intervalMs}`);
    this.adverts = copied(adverts);
    this.intervalMs = intervalMs;
    clearInterval(this.interval);
    this.sendRound();
    this.interval = setInterval(() => this.sendRound(), intervalMs);
  }

  update(adverts: readonly PeriodicAdvert[]): void {
    if (this.stopped) throw new Error("update: this periodic VRRP transmission is stopped");
    this.adverts = copied(adverts);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.interval);
    this.interval = undefined;
  }

  /** A send error as the addon reports it: counted, and given to onError (asynchronously). */
  fail(error: NativeSystemError): void {
    this.failures++;
    queueMicrotask(() => this.onError(error));
  }

  private sendRound(): void {
    this.rounds++;
    for (const advert of this.adverts) {
      this.sent.push({
        payload: Buffer.from(advert.payload),
        options: { ...this.options, destination: advert.destination },
      });
    }
  }
}

/**
 * A PreciseTimer on setTimeout and performance.now(). setTimeout may run a little before a
 * fractional deadline; the timer then waits again, so it never fires early, like the real one.
 */
export class FakePreciseTimer implements PreciseTimer {
  closed = false;
  private deadline: number | undefined;
  private timeout: NodeJS.Timeout | undefined;

  constructor(private readonly onFire: () => void) {}

  /** The armed deadline, or undefined. */
  get armedAt(): number | undefined {
    return this.deadline;
  }

  arm(atMs: number): void {
    if (this.closed) throw new Error("arm(deadlineMs): fake timer is closed");
    if (typeof atMs !== "number") throw new TypeError("arm(deadlineMs): deadlineMs must be a number");
    if (!Number.isFinite(atMs) || atMs < 0)
      throw new RangeError(`arm(deadlineMs): deadlineMs must be a finite number >= 0, got ${atMs}`);
    this.disarm();
    this.deadline = atMs;
    this.schedule(atMs);
  }

  disarm(): void {
    clearTimeout(this.timeout);
    this.timeout = undefined;
    this.deadline = undefined;
  }

  close(): void {
    this.disarm();
    this.closed = true;
  }

  private schedule(atMs: number): void {
    this.timeout = setTimeout(
      () => {
        if (performance.now() < atMs) {
          this.schedule(atMs);
          return;
        }
        this.timeout = undefined;
        this.deadline = undefined;
        this.onFire();
      },
      Math.max(0, atMs - performance.now()),
    );
  }
}

export class FakeNeighborAnnouncer implements NeighborAnnouncer {
  readonly announced: AnnounceTarget[] = [];

  announce(target: AnnounceTarget): void {
    this.announced.push(target);
  }

  close(): void {}
}

export class FakeKernelEdge implements KernelEdge {
  readonly addresses = new FakeAddressControl();
  readonly links = new FakeLinkControl();
  readonly neighbors = new FakeNeighborAnnouncer();
  readonly transports: FakeVrrpTransport[] = [];
  readonly timers: FakePreciseTimer[] = [];
  closed = false;

  openVrrpTransport(family: IpFamily, handlers: VrrpTransportHandlers): FakeVrrpTransport {
    const transport = new FakeVrrpTransport(family, handlers);
    this.transports.push(transport);
    return transport;
  }

  monotonicNowMs(): number {
    return performance.now();
  }

  createTimer(onFire: () => void): FakePreciseTimer {
    const timer = new FakePreciseTimer(onFire);
    this.timers.push(timer);
    return timer;
  }

  close(): void {
    this.closed = true;
  }
}
