// Makes this node a ready real server for the DR/TUN VIPs its NodeState lists (spec.realServer): the
// VIP a local address on lo or the IP-in-IP device, the node never answering ARP for it, tunnels up
// with reverse-path filtering off. It reconciles by diff (agent/loadbalancer/realserver-setup.ts
// plans, this module carries the plan out through netlink and /proc/sys) whenever the spec changes,
// when a watched VIP disappears (someone deleted it by hand), and every resync interval (a sysctl or
// a tunnel's state changed behind its back). Only addresses it added are ever removed (ownership.ts),
// sysctls are never reset, and what it cannot do is reported in NodeState status.realServer and
// logged once per change.
//
// Safety first for IPv4: a VIP on lo with the default ARP settings makes the node answer ARP for it
// and steal the VIP from the director, so IPv4 VIPs are added only once arp_ignore and arp_announce
// are confirmed.
import type { NodeRealServer, NodeRealServerStatus } from "../../crds/schema/node-state.js";
import type { Logger } from "../../core/log.js";
import type { AddressControl, InterfaceAddress, LinkControl, Subscription } from "../../native/kernel.js";
import { ipFamilyOf } from "../../native/ip-address.js";
import { NetlinkError } from "../../native/netlink/errors.js";
import {
  ARP_SYSCTLS,
  REAL_SERVER_DEVICES,
  hostSettings,
  planRealServerReconcile,
  vipDevice,
  type PresentAddress,
  type RealServerVip,
  type SetupStep,
} from "../loadbalancer/realserver-setup.js";
import type { LinkWriter, Sysctls } from "./host.js";
import { ADDRESS_PROTOCOL, isOwned, ownershipLabel, type OwnedAddressRecord } from "./ownership.js";

export interface RealServerPreparerDeps {
  instance: string;
  addresses: AddressControl;
  links: LinkControl;
  linkWriter: LinkWriter;
  sysctls: Sysctls;
  record: OwnedAddressRecord;
  log: Logger;
  /** Full reconcile this often even without a change (default 30 s). */
  resyncIntervalMs?: number;
}

const DEFAULT_RESYNC_MS = 30_000;
const MAX_MESSAGE = 1024;

interface FoundAddress extends PresentAddress {
  readonly entry: InterfaceAddress;
}

function hasCode(error: unknown, code: string): boolean {
  return error instanceof NetlinkError && error.code === code;
}

function describe(step: SetupStep): string {
  switch (step.kind) {
    case "sysctl":
      return `sysctl ${step.key}=${step.value}`;
    case "tunnel-device":
      return `create ${step.name} (${step.type})`;
    case "link-up":
      return `set ${step.device} up`;
    case "address":
      return `${step.action} ${step.address} ${step.action === "add" ? "on" : "from"} ${step.device}`;
  }
}

export class RealServerPreparer {
  private wanted: RealServerVip[] = [];
  private current: NodeRealServerStatus | undefined;
  private timer: NodeJS.Timeout | undefined;
  private watch: Subscription | undefined;
  /** Reconciles run one at a time; a request during one makes one more run after it. */
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private lastMessage: string | undefined;

  constructor(private readonly deps: RealServerPreparerDeps) {}

  /** Takes the spec's section (absent: no VIPs, owned ones go) and reconciles at once. */
  async apply(section: NodeRealServer | undefined): Promise<void> {
    this.wanted = (section?.vips ?? []).flatMap((v) => {
      const family = ipFamilyOf(v.address);
      return family === undefined
        ? []
        : [{ address: v.address, family, mode: v.forwarding === "TUN" ? ("tun" as const) : ("dr" as const) }];
    });
    if (this.wanted.length > 0) this.startWatching();
    await this.reconcile();
  }

  /** What status.realServer says; undefined when there is nothing to say. */
  status(): NodeRealServerStatus | undefined {
    return this.current;
  }

  /** Reconciles now, or right after the one under way; resolves when the host is in line. */
  reconcile(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.reconcileOnce();
        } while (this.again && !this.stopped);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Stops watching and resyncing; the VIPs stay (a restarted agent adopts them). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.watch?.close();
    await this.running;
    this.deps.linkWriter.close();
  }

  private startWatching(): void {
    if (this.stopped) return;
    this.timer ??= setInterval(() => void this.reconcile(), this.deps.resyncIntervalMs ?? DEFAULT_RESYNC_MS);
    this.timer.unref();
    if (this.watch !== undefined) return;
    try {
      this.watch = this.deps.addresses.watch({
        onAddress: (action, address) => {
          // A wanted VIP deleted by hand is put back at once; everything else waits for the resync.
          if (action === "delete" && this.wanted.some((v) => v.address === address.address))
            void this.reconcile();
        },
        onResync: () => void this.reconcile(),
        onError: (error) => {
          this.deps.log.warn("real-server address watch failed; relying on the periodic resync", {
            err: error,
          });
          this.watch?.close();
          this.watch = undefined;
        },
      });
    } catch (error) {
      this.deps.log.warn("cannot watch addresses; relying on the periodic resync", { err: error });
    }
  }

  private async reconcileOnce(): Promise<void> {
    if (this.stopped) return;
    const { log } = this.deps;
    const problems: string[] = [];
    let found: FoundAddress[] = [];
    let links = new Map<string, { index: number; up: boolean }>();
    try {
      ({ found, links } = await this.observe());
    } catch (error) {
      this.report([], [`cannot read the host's addresses: ${(error as Error).message}`]);
      return;
    }
    const sysctls = new Map<string, string | undefined>();
    for (const step of hostSettings(this.wanted))
      if (step.kind === "sysctl") {
        try {
          sysctls.set(step.key, this.deps.sysctls.read(step.key));
        } catch (error) {
          sysctls.set(step.key, undefined);
          problems.push((error as Error).message);
        }
      }
    const plan = planRealServerReconcile(this.wanted, { sysctls, links, addresses: found });

    const failed = new Set<string>(); // sysctl keys and devices whose step failed
    const present = new Set(found.map((a) => `${a.address} ${a.device}`));
    for (const step of plan) {
      try {
        // Raising or configuring a tunnel device that could not be created: its creation's error says it.
        const device =
          step.kind === "link-up" ? step.device : step.kind === "sysctl" ? step.key.split(".")[3] : undefined;
        if (device !== undefined && failed.has(device)) continue;
        const blocker = this.blocker(step, failed, links);
        if (blocker !== undefined) {
          problems.push(`${describe(step)}: not done, ${blocker}`);
          continue;
        }
        await this.carryOut(step, found, links, present);
        log.info("real-server preparation", { step: describe(step) });
      } catch (error) {
        if (step.kind === "sysctl") failed.add(step.key);
        if (step.kind === "tunnel-device") failed.add(step.name);
        const message = (error as Error).message;
        problems.push(message.startsWith(describe(step)) ? message : `${describe(step)}: ${message}`);
      }
    }
    const prepared = this.wanted
      .filter((v) => present.has(`${v.address} ${vipDevice(v.family, v.mode)}`))
      .filter((v) => v.family === 6 || ARP_SYSCTLS.every((key) => !failed.has(key)))
      .map((v) => v.address);
    this.report(prepared, problems);
  }

  /** Why an add cannot go ahead: the ARP settings or its device are not in place. */
  private blocker(
    step: SetupStep,
    failed: ReadonlySet<string>,
    links: ReadonlyMap<string, { index: number; up: boolean }>,
  ): string | undefined {
    if (step.kind !== "address" || step.action !== "add") return undefined;
    const arpFailed = ARP_SYSCTLS.filter((key) => failed.has(key));
    if (ipFamilyOf(step.address) === 4 && arpFailed.length > 0)
      return `${arpFailed.join(" and ")} could not be set, and without it this node would answer ARP for the VIP and take it from the director`;
    if (!links.has(step.device)) return `device ${step.device} does not exist`;
    return undefined;
  }

  private async observe(): Promise<{
    found: FoundAddress[];
    links: Map<string, { index: number; up: boolean }>;
  }> {
    const links = new Map<string, { index: number; up: boolean }>();
    const deviceOf = new Map<number, string>();
    for (const link of await this.deps.links.list())
      if ((REAL_SERVER_DEVICES as readonly string[]).includes(link.name)) {
        links.set(link.name, { index: link.index, up: link.up });
        deviceOf.set(link.index, link.name);
      }
    const found: FoundAddress[] = [];
    for (const entry of await this.deps.addresses.list()) {
      const device = deviceOf.get(entry.ifindex);
      if (device === undefined || entry.prefixLength !== (entry.family === 4 ? 32 : 128)) continue;
      found.push({
        address: entry.address,
        device,
        owned: isOwned(entry, device, this.deps.instance, this.deps.record),
        entry,
      });
    }
    // Recorded IPv6 VIPs that are gone (deleted by hand, a device removed) are forgotten: an
    // address put there later by someone else must not count as this agent's.
    const onHost = new Set(found.map((a) => `${a.address} ${a.device}`));
    for (const { address, device } of this.deps.record.list())
      if (!onHost.has(`${address} ${device}`)) this.deps.record.delete(address, device);
    return { found, links };
  }

  private async carryOut(
    step: SetupStep,
    found: readonly FoundAddress[],
    links: Map<string, { index: number; up: boolean }>,
    present: Set<string>,
  ): Promise<void> {
    const { deps } = this;
    switch (step.kind) {
      case "sysctl":
        deps.sysctls.write(step.key, step.value);
        return;
      case "tunnel-device": {
        try {
          await deps.linkWriter.create(step.name, step.type);
        } catch (error) {
          // Creating the first tunnel loads the module, whose fallback device takes the name.
          if (!hasCode(error, "EEXIST")) throw error;
        }
        const link = await deps.links.lookup(step.name);
        if (link === undefined) throw new Error(`${step.name} was created but cannot be found`);
        links.set(step.name, { index: link.index, up: link.up });
        return;
      }
      case "link-up": {
        const link = links.get(step.device);
        if (link === undefined) throw new Error(`device ${step.device} does not exist`);
        await deps.linkWriter.setUp(link.index);
        links.set(step.device, { ...link, up: true });
        return;
      }
      case "address": {
        const link = links.get(step.device);
        if (link === undefined) throw new Error(`device ${step.device} does not exist`);
        const family = ipFamilyOf(step.address) === 6 ? 6 : 4;
        const prefixLength = family === 4 ? 32 : 128;
        if (step.action === "remove") {
          const entry = found.find((a) => a.address === step.address && a.device === step.device)?.entry;
          try {
            await deps.addresses.remove({
              ifindex: link.index,
              address: step.address,
              prefixLength,
              ...(entry?.label === undefined ? {} : { label: entry.label }),
            });
          } catch (error) {
            if (!hasCode(error, "EADDRNOTAVAIL")) throw error;
          }
          if (family === 6) deps.record.delete(step.address, step.device);
          present.delete(`${step.address} ${step.device}`);
          return;
        }
        // IPv6: recorded before the add, so a crash in between leaves nothing unowned behind.
        if (family === 6) deps.record.add(step.address, step.device);
        try {
          await deps.addresses.add({
            ifindex: link.index,
            address: step.address,
            prefixLength,
            protocol: ADDRESS_PROTOCOL,
            ...(family === 4
              ? { label: ownershipLabel(step.device, deps.instance) }
              : { flags: ["nodad"] as const }),
          });
        } catch (error) {
          // Not added: not this agent's. EEXIST: someone put it there since the listing; it is
          // theirs, and the VIP is local either way.
          if (family === 6) deps.record.delete(step.address, step.device);
          if (!hasCode(error, "EEXIST")) throw error;
        }
        present.add(`${step.address} ${step.device}`);
        return;
      }
    }
  }

  private report(prepared: string[], problems: string[]): void {
    const message = problems.join("; ");
    if (message !== (this.lastMessage ?? "")) {
      if (message === "") this.deps.log.info("real-server preparation complete", { prepared });
      else this.deps.log.warn("real-server preparation incomplete", { problems, prepared });
      this.lastMessage = message;
    }
    if (this.wanted.length === 0 && prepared.length === 0 && message === "") {
      this.current = undefined;
      return;
    }
    this.current = {
      prepared: [...new Set(prepared)].sort(),
      ...(message === ""
        ? {}
        : { message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message }),
    };
  }
}
