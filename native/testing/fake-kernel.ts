// An in-memory KernelEdge for unit tests of the agent: links and addresses in maps, watchers
// told about every change (also changes "by someone else" via the helpers), VRRP sends and
// neighbour announcements recorded, adverts injectable. Errors mimic the kernel's (NetlinkError
// with EEXIST / EADDRNOTAVAIL / ENODEV).
import { errnoNumber } from "../errno.js";
import { normalizeIp, type IpFamily } from "../ip-address.js";
import type {
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
  readonly sent: SentAdvert[] = [];
  readonly memberships = new Map<number, number>();
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

  /** Delivers an advert as if received from the network. */
  receive(payload: Buffer, meta: VrrpAdvertMeta): void {
    this.handlers.onAdvert(payload, meta);
  }

  close(): void {
    this.closed = true;
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
  closed = false;

  openVrrpTransport(family: IpFamily, handlers: VrrpTransportHandlers): FakeVrrpTransport {
    const transport = new FakeVrrpTransport(family, handlers);
    this.transports.push(transport);
    return transport;
  }

  close(): void {
    this.closed = true;
  }
}
