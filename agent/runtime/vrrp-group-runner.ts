// One VRRP group on this node: the pure VrrpInstance wired to the kernel edge. It resolves the
// interface, carries out the core's actions (adverts, VIPs, gratuitous ARP / unsolicited NA, notify
// hooks), feeds it link states and tracked-script results, and puts back a VIP that someone else
// removes while we are Master.
import type { NodeVrrpGroup } from "../../crds/schema/node-state.js";
import type { Logger } from "../../core/log.js";
import type { KernelEdge, Subscription } from "../../native/kernel.js";
import { runCommand, describeResult } from "../exec/run-command.js";
import type { AgentMetrics, MetricsVrrpState } from "../metrics.js";
import { canonicalAddress } from "../vrrp/address.js";
import type { VirtualAddress } from "../vrrp/config.js";
import { encodeAdvert, type VrrpAdvert } from "../vrrp/packet.js";
import type {
  AdvertSchedule,
  AnnounceRequest,
  TransitionEvent,
  VrrpActionSink,
  VrrpLogEntry,
  VrrpState,
} from "../vrrp/ports.js";
import { VrrpInstance } from "../vrrp/state-machine.js";
import {
  defaultPrefixLength,
  groupFamily,
  resolveInterface,
  toInstanceConfig,
  type Family,
  type ResolvedInterface,
} from "./instance-config.js";
import { TimerScheduler } from "./timer-scheduler.js";
import type { ResignPlan } from "../guard/resign-plan.js";
import type { TransportHub } from "./transport-hub.js";

export const STATE_NAMES: Record<VrrpState, MetricsVrrpState> = {
  initialize: "Initialize",
  backup: "Backup",
  master: "Master",
  fault: "Fault",
};

export interface GroupStatus {
  name: string;
  state: MetricsVrrpState;
  vrid: number;
  version: number;
  interface: string;
  address: string;
  priority: number;
  basePriority: number;
  masterAddress?: string;
  masterPriority?: number;
  advertIntervalMs: number;
  since: string;
  transitions: number;
  advertsSent: number;
  advertsWithheld: number;
  advertsMissed: number;
  advertsReceived: number;
  packetsDropped: number;
  drops: Record<string, number>;
  faults: Record<string, string>;
  virtualIPs: string[];
}

export interface GroupRunnerDeps {
  kernel: KernelEdge;
  hub: TransportHub;
  log: Logger;
  metrics: AgentMetrics;
  /** Called after every transition (status reporting, sync with the guard). */
  onTransition?: (group: string, from: VrrpState, to: VrrpState) => void;
}

/** A VIP as the kernel sees it: on which interface, with which prefix and label. */
interface PlacedAddress {
  address: string;
  prefixLength: number;
  ifindex: number;
  label?: string;
  ipv6: boolean;
}

const VRRP_MULTICAST: Record<Family, string> = { ipv4: "224.0.0.18", ipv6: "ff02::12" };
const SCRIPT_OUTPUT_LOG_LIMIT = 200;

export class VrrpGroupRunner {
  private instance: VrrpInstance | undefined;
  private iface: ResolvedInterface | undefined;
  private scheduler: TimerScheduler | undefined;
  private addressWatch: Subscription | undefined;
  private linkWatch: Subscription | undefined;
  private scriptTimers: NodeJS.Timeout[] = [];
  private placed = new Map<string, PlacedAddress>();
  /** VIPs we are removing ourselves, so their delete notifications are not mistaken for interference. */
  private removing = new Set<string>();
  private isMaster = false;
  private lastAdvert: VrrpAdvert | undefined;
  private since = new Date();
  private transitions = 0;
  private stopped = false;
  private readonly log: Logger;

  constructor(
    private group: NodeVrrpGroup,
    private readonly deps: GroupRunnerDeps,
  ) {
    this.log = deps.log.child({ group: group.name });
  }

  get name(): string {
    return this.group.name;
  }

  get family(): Family {
    return groupFamily(this.group);
  }

  get state(): VrrpState {
    return this.instance?.state ?? "initialize";
  }

  /** The core instance (for sync groups); undefined before prepare(). */
  get vrrpInstance(): VrrpInstance | undefined {
    return this.instance;
  }

  async start(): Promise<void> {
    await this.prepare();
    this.begin();
  }

  /** Resolves the interface, removes VIPs a previous run left behind, and creates the instance. */
  async prepare(): Promise<void> {
    const { kernel } = this.deps;
    const [links, addresses] = await Promise.all([kernel.links.list(), kernel.addresses.list()]);
    this.iface = resolveInterface(this.group, links, addresses);
    this.placed = this.placeAddresses(links);
    await this.removeStaleVips(addresses);

    const config = toInstanceConfig(this.group, this.iface);
    this.scheduler = new TimerScheduler(kernel, (kind) => this.instance?.timerFired(kind));
    this.instance = new VrrpInstance(config, { scheduler: this.scheduler, actions: this.actionSink() });

    // Link states before start: a weight-0 tracked interface that is down must hold the group in Fault.
    for (const t of this.group.track?.interfaces ?? []) {
      const link = links.find((l) => l.name === t.name);
      this.instance.interfaceChanged(t.name, link?.up === true && link.running);
    }
    const own = links.find((l) => l.index === this.iface!.ifindex);
    if (own && !(own.up && own.running)) this.instance.fault(true, "link", `${own.name} is down`);

    this.linkWatch = kernel.links.watch({
      onLink: (action, link) =>
        this.linkChanged(action === "delete" ? { ...link, up: false, running: false } : link),
      onResync: () => void this.resyncLinks(),
      onError: (e) => this.log.error("link watch failed", { err: e }),
    });
    this.addressWatch = kernel.addresses.watch({
      onAddress: (action, a) => {
        if (action === "delete") this.addressRemoved(a.address, a.ifindex);
      },
      onResync: () => void this.ensureVips(),
      onError: (e) => this.log.error("address watch failed", { err: e }),
    });
  }

  /** Starts the instance (as Backup, or Master at once as address owner) and its tracked scripts. */
  begin(): void {
    if (!this.instance || !this.iface) throw new Error(`VRRP group ${this.name}: begin() before prepare()`);
    const config = this.instance.instanceConfig;
    this.deps.hub.attach(this.family, this.iface.ifindex, this.instance);
    this.startScripts();
    this.instance.start();
    this.publish();
    this.log.info("group started", {
      interface: this.iface.name,
      address: this.iface.primaryAddress,
      vrid: config.vrid,
      version: config.version,
      priority: config.priority,
      advertIntervalMs: config.advertIntervalMs,
      unicastPeers: config.unicastPeers.length,
    });
  }

  /**
   * Applies a new configuration of the same group. Returns false when the change needs a new
   * instance (another VRID, interface, version...), which the caller does by stop + start.
   */
  async reconfigure(next: NodeVrrpGroup): Promise<boolean> {
    if (!this.instance || !this.iface) return false;
    const { kernel } = this.deps;
    const [links, addresses] = await Promise.all([kernel.links.list(), kernel.addresses.list()]);
    let iface: ResolvedInterface;
    try {
      iface = resolveInterface(next, links, addresses);
    } catch {
      return false;
    }
    if (iface.ifindex !== this.iface.ifindex || iface.primaryAddress !== this.iface.primaryAddress)
      return false;
    const diff = this.instance.configChanged(toInstanceConfig(next, iface));
    if (!diff.keepsState) return false;
    const scriptsChanged =
      JSON.stringify(next.track?.scripts ?? []) !== JSON.stringify(this.group.track?.scripts ?? []);
    this.group = next;
    this.placed = this.placeAddresses(links);
    if (scriptsChanged) {
      this.stopScripts();
      this.startScripts();
    }
    if (diff.changed.length > 0)
      this.log.info("configuration applied in place", { changed: diff.changed.join(",") });
    this.publish();
    return true;
  }

  /** Resigns (priority-0 advert when Master), removes the VIPs and releases everything. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopScripts();
    this.instance?.stop();
    this.scheduler?.close();
    if (this.instance && this.iface) this.deps.hub.detach(this.family, this.iface.ifindex, this.instance);
    this.addressWatch?.close();
    this.linkWatch?.close();
    await this.removeVips();
    await this.runNotify("stop");
    this.deps.metrics.setState(this.name, "Stopped");
  }

  status(): GroupStatus {
    const s = this.instance?.status();
    const counters = s?.counters;
    const drops = Object.fromEntries(Object.entries(counters?.drops ?? {}).filter(([, n]) => n > 0));
    return {
      name: this.name,
      state: this.stopped ? "Stopped" : STATE_NAMES[this.state],
      vrid: this.group.vrid,
      version: this.group.version ?? 3,
      interface: this.iface?.name ?? "",
      address: this.iface?.primaryAddress ?? "",
      priority: s?.effectivePriority ?? this.group.priority,
      basePriority: this.group.priority,
      ...(s?.masterAddress === undefined ? {} : { masterAddress: s.masterAddress }),
      ...(s?.masterPriority === undefined ? {} : { masterPriority: s.masterPriority }),
      advertIntervalMs: s?.masterAdvertIntervalMs ?? this.group.advertIntervalMillis ?? 1000,
      since: this.since.toISOString(),
      transitions: this.transitions,
      advertsSent: counters?.advertsSent ?? 0,
      advertsWithheld: counters?.advertsWithheld ?? 0,
      advertsMissed: counters?.advertsMissed ?? 0,
      advertsReceived: counters?.advertsReceived ?? 0,
      packetsDropped: Object.values(drops).reduce((a, b) => a + b, 0),
      drops,
      faults: { ...(s?.faults ?? {}) },
      virtualIPs: [...this.placed.values()].map((p) => `${p.address}/${p.prefixLength}`),
    };
  }

  /** Everything needed to resign for us if we die while Master (see agent/guard). */
  resignPlan(): ResignPlan | undefined {
    if (!this.instance || !this.iface || !this.isMaster || !this.lastAdvert) return undefined;
    const config = this.instance.instanceConfig;
    // Exactly what the core sends when it resigns: its last advert with priority 0.
    const advert: VrrpAdvert = { ...this.lastAdvert, priority: 0 };
    const destinations = config.unicastPeers.length > 0 ? config.unicastPeers : [VRRP_MULTICAST[this.family]];
    const source = this.iface.primaryAddress;
    return {
      group: this.name,
      family: this.family,
      ifindex: this.iface.ifindex,
      source,
      packets: destinations.map((destination) => ({
        destination,
        payload: encodeAdvert(advert, {
          src: source,
          dst: destination,
          checksumVariant: config.checksumVariant,
        }).toString("base64"),
      })),
      vips: [...this.placed.values()].map((p) => ({
        ifindex: p.ifindex,
        address: p.address,
        prefixLength: p.prefixLength,
      })),
    };
  }

  // ---- the core's actions -------------------------------------------------------------------

  private actionSink(): VrrpActionSink {
    return {
      startAdvertising: (advert, intervalMs) => this.startAdvertising(advert, intervalMs),
      sendAdvert: (advert) => this.sendAdvert(advert),
      becomeMaster: () => {
        this.isMaster = true;
        void this.addVips([...this.placed.values()]);
      },
      leaveMaster: () => {
        this.isMaster = false;
        void this.removeVips();
      },
      updateAddresses: ({ add, remove }) => void this.updateAddresses(add, remove),
      announce: (request) => void this.announce(request),
      transition: (event) => this.transitioned(event),
      log: (entry) => this.coreLog(entry),
    };
  }

  /**
   * The Master's adverts: encoded once, then sent every interval by the addon without entering JavaScript
   * (an idle Master costs a timer wake-up and a sendmsg per advert, like keepalived).
   */
  private startAdvertising(advert: VrrpAdvert, intervalMs: number): AdvertSchedule {
    this.lastAdvert = advert;
    const iface = this.iface!;
    const transmission = this.deps.hub
      .transport(this.family)
      .startPeriodic(
        this.advertDatagrams(advert),
        { ifindex: iface.ifindex, source: iface.primaryAddress },
        intervalMs,
        (error) => this.log.warn("advert not sent", { err: error }),
      );
    return {
      get rounds() {
        return transmission.rounds;
      },
      get withheld() {
        return transmission.withheld;
      },
      get missed() {
        return transmission.missed;
      },
      update: (next) => {
        this.lastAdvert = next;
        transmission.update(this.advertDatagrams(next));
      },
      stop: () => transmission.stop(),
    };
  }

  private sendAdvert(advert: VrrpAdvert): void {
    const iface = this.iface!;
    const transport = this.deps.hub.transport(this.family);
    for (const { payload, destination } of this.advertDatagrams(advert)) {
      try {
        transport.send(payload, { ifindex: iface.ifindex, source: iface.primaryAddress, destination });
      } catch (e) {
        this.log.warn("advert not sent", { destination, err: e });
      }
    }
  }

  /** The advert for the multicast group, or for each unicast peer: v3's checksum covers the destination. */
  private advertDatagrams(advert: VrrpAdvert): { payload: Buffer; destination: string }[] {
    const source = this.iface!.primaryAddress;
    const config = this.instance!.instanceConfig;
    const destinations = config.unicastPeers.length > 0 ? config.unicastPeers : [VRRP_MULTICAST[this.family]];
    return destinations.map((destination) => ({
      destination,
      payload: encodeAdvert(advert, {
        src: source,
        dst: destination,
        checksumVariant: config.checksumVariant,
      }),
    }));
  }

  private placeAddresses(links: { index: number; name: string }[]): Map<string, PlacedAddress> {
    const placed = new Map<string, PlacedAddress>();
    for (const v of [...this.group.virtualIPs, ...(this.group.excludedVirtualIPs ?? [])]) {
      const ifindex = v.device ? links.find((l) => l.name === v.device)?.index : this.iface!.ifindex;
      if (ifindex === undefined) {
        this.log.error("virtual IP device does not exist; address skipped", {
          address: v.address,
          device: v.device,
        });
        continue;
      }
      placed.set(canonicalAddress(v.address), {
        address: v.address,
        prefixLength: defaultPrefixLength(v),
        ifindex,
        ipv6: v.address.includes(":"),
        ...(v.label === undefined ? {} : { label: v.label }),
      });
    }
    return placed;
  }

  private async addVips(list: PlacedAddress[]): Promise<void> {
    await Promise.all(
      list.map(async (p) => {
        try {
          await this.deps.kernel.addresses.add(
            {
              ifindex: p.ifindex,
              address: p.address,
              prefixLength: p.prefixLength,
              ...(p.label === undefined ? {} : { label: p.label }),
              // A VIP must answer at once (no DAD) and must not add a second route for its subnet.
              flags: p.ipv6 ? ["nodad", "noprefixroute"] : ["noprefixroute"],
            },
            { replace: true },
          );
        } catch (e) {
          this.log.error("cannot add virtual IP", { address: p.address, err: e });
        }
      }),
    );
  }

  private async removeVips(): Promise<void> {
    await Promise.all([...this.placed.values()].map((p) => this.removeVip(p)));
  }

  private async removeVip(p: PlacedAddress): Promise<void> {
    const key = canonicalAddress(p.address);
    this.removing.add(key);
    try {
      await this.deps.kernel.addresses.remove({
        ifindex: p.ifindex,
        address: p.address,
        prefixLength: p.prefixLength,
      });
    } catch (e) {
      if ((e as { code?: string }).code !== "EADDRNOTAVAIL")
        this.log.error("cannot remove virtual IP", { address: p.address, err: e });
    } finally {
      // The delete notification arrives after the ack; keep the mark a moment longer.
      setTimeout(() => this.removing.delete(key), 1000).unref();
    }
  }

  private async updateAddresses(
    add: readonly VirtualAddress[],
    remove: readonly VirtualAddress[],
  ): Promise<void> {
    const find = (v: VirtualAddress) => this.placed.get(canonicalAddress(v.address));
    await Promise.all(
      remove.map((v) =>
        this.removeVip(
          find(v) ?? {
            address: v.address,
            prefixLength: v.prefixLength,
            ifindex: this.iface!.ifindex,
            ipv6: v.address.includes(":"),
          },
        ),
      ),
    );
    await this.addVips(add.map(find).filter((p): p is PlacedAddress => p !== undefined));
  }

  /** On start nothing is ours yet: a VIP on the interface was left by a crashed run (or a guard that lost). */
  private async removeStaleVips(present: { address: string; ifindex: number }[]): Promise<void> {
    const stale = [...this.placed.values()].filter((p) =>
      present.some(
        (a) => a.ifindex === p.ifindex && canonicalAddress(a.address) === canonicalAddress(p.address),
      ),
    );
    if (stale.length === 0) return;
    this.log.warn("removing virtual IPs left by a previous run", {
      addresses: stale.map((p) => p.address).join(","),
    });
    await Promise.all(stale.map((p) => this.removeVip(p)));
  }

  private addressRemoved(address: string, ifindex: number): void {
    const key = canonicalAddress(address);
    const p = this.placed.get(key);
    if (!p || p.ifindex !== ifindex || !this.isMaster || this.removing.has(key) || this.stopped) return;
    this.log.warn("virtual IP removed by someone else while Master; putting it back", { address });
    this.deps.metrics.vipPutBack(this.name);
    void this.addVips([p]).then(() =>
      this.announce({
        reason: "addresses-added",
        addresses: [{ address: p.address, prefixLength: p.prefixLength }],
        repeat: 1,
        spacingMs: 0,
      }),
    );
  }

  private async ensureVips(): Promise<void> {
    if (!this.isMaster || this.stopped) return;
    const present = await this.deps.kernel.addresses.list();
    const missing = [...this.placed.values()].filter(
      (p) =>
        !present.some(
          (a) => a.ifindex === p.ifindex && canonicalAddress(a.address) === canonicalAddress(p.address),
        ),
    );
    if (missing.length > 0) {
      this.log.warn("virtual IPs missing after a netlink resync; putting them back", {
        addresses: missing.map((m) => m.address).join(","),
      });
      await this.addVips(missing);
    }
  }

  private async announce(request: AnnounceRequest): Promise<void> {
    const iface = this.iface!;
    const targets = request.addresses.map(
      (a) => this.placed.get(canonicalAddress(a.address)) ?? { address: a.address, ifindex: iface.ifindex },
    );
    // Excluded VIPs follow the Master too, so they are announced with the advertised ones.
    if (request.reason !== "addresses-added") {
      for (const p of this.placed.values())
        if (!targets.some((t) => t.address === p.address)) targets.push(p);
    }
    for (let i = 0; i < request.repeat; i++) {
      if (i > 0 && request.spacingMs > 0) await new Promise((r) => setTimeout(r, request.spacingMs));
      if (this.stopped || !this.isMaster) return;
      for (const t of targets) {
        try {
          this.deps.kernel.neighbors.announce({ ifindex: t.ifindex, address: t.address, mac: iface.mac });
        } catch (e) {
          this.log.warn("announcement not sent", { address: t.address, err: e });
        }
      }
    }
  }

  private transitioned(event: TransitionEvent): void {
    const from = STATE_NAMES[event.from];
    const to = STATE_NAMES[event.to];
    this.transitions++;
    this.since = new Date();
    this.log.info("transition", {
      from,
      to,
      reason: event.reason,
      detail: event.detail,
      priority: event.priority,
    });
    this.deps.metrics.transition(this.name, from, to);
    this.publish();
    this.deps.onTransition?.(this.name, event.from, event.to);
    const hook =
      event.to === "master"
        ? "master"
        : event.to === "backup"
          ? "backup"
          : event.to === "fault"
            ? "fault"
            : undefined;
    if (hook) void this.runNotify(hook);
  }

  private async runNotify(hook: "master" | "backup" | "fault" | "stop"): Promise<void> {
    const argv = this.group.notify?.[hook];
    if (!argv) return;
    const state = hook.toUpperCase();
    const priority = String(this.instance?.effectivePriority ?? this.group.priority);
    const r = await runCommand(argv, { timeoutMs: 30_000, extraArgs: [this.name, state, priority] });
    if (r.code !== 0) {
      this.deps.metrics.notifyFailed(this.name);
      this.log.warn("notify command failed", { hook, result: describeResult(argv, r) });
    }
  }

  private coreLog(entry: VrrpLogEntry): void {
    this.log[entry.level](entry.message, { event: entry.event, ...(entry.fields ?? {}) });
  }

  private publish(): void {
    const { metrics } = this.deps;
    metrics.setState(this.name, this.stopped ? "Stopped" : STATE_NAMES[this.state]);
    metrics.setPriority(this.name, this.instance?.effectivePriority ?? this.group.priority);
  }

  // ---- tracking -------------------------------------------------------------------------------

  private linkChanged(link: { index: number; name: string; up: boolean; running: boolean }): void {
    if (!this.instance || this.stopped) return;
    const up = link.up && link.running;
    if (this.group.track?.interfaces?.some((t) => t.name === link.name))
      this.instance.interfaceChanged(link.name, up);
    if (link.index === this.iface?.ifindex)
      this.instance.fault(!up, "link", up ? "" : `${link.name} is down`);
    this.publish();
  }

  private async resyncLinks(): Promise<void> {
    for (const link of await this.deps.kernel.links.list()) this.linkChanged(link);
  }

  private startScripts(): void {
    for (const script of this.group.track?.scripts ?? []) {
      const interval = script.intervalMillis ?? 1000;
      const timeout = script.timeoutMillis ?? interval;
      let running = false;
      const tick = () => {
        // A run still going when the next is due is not started twice (keepalived does the same).
        if (running || this.stopped) return;
        running = true;
        void runCommand(script.command, { timeoutMs: timeout }).then((r) => {
          running = false;
          if (this.stopped) return;
          const ok = r.code === 0;
          if (!ok)
            this.log.debug("tracked script failed", {
              script: script.name,
              result: describeResult(script.command, r).slice(0, SCRIPT_OUTPUT_LOG_LIMIT),
            });
          this.instance?.scriptResult(script.name, ok);
          this.publish();
        });
      };
      tick();
      this.scriptTimers.push(setInterval(tick, interval));
    }
  }

  private stopScripts(): void {
    for (const t of this.scriptTimers) clearInterval(t);
    this.scriptTimers = [];
  }
}
