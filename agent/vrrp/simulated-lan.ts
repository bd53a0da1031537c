// A simulated link for multi-router tests: every advert an instance sends goes through the real encoder,
// crosses the "wire" after a fixed latency on the fake clock and enters the other instances through the
// real decoder and validation, exactly as the I/O layer will feed them.
import type { VrrpInstanceConfig } from "./config.js";
import type { FakeClock, FakeScheduler } from "./fake-clock.js";
import { encodeAdvert, vrrpMulticastGroup } from "./packet.js";
import type { VrrpAdvert } from "./packet.js";
import { RecordingActionSink } from "./recording-sink.js";
import { VrrpInstance } from "./state-machine.js";

export interface WirePacket {
  readonly atMs: number;
  readonly from: string;
  readonly src: string;
  readonly dst: string;
  readonly bytes: Buffer;
  readonly advert: VrrpAdvert;
}

export interface LanNode {
  readonly name: string;
  readonly instance: VrrpInstance;
  readonly scheduler: FakeScheduler;
  readonly sink: RecordingActionSink;
  /** A crashed node neither sends nor receives and its timers are gone. */
  crashed: boolean;
}

export class SimulatedLan {
  private readonly nodes = new Map<string, LanNode>();
  /** Everything put on the wire, in order. */
  readonly wire: WirePacket[] = [];

  constructor(
    private readonly clock: FakeClock,
    private readonly latencyMs = 0,
  ) {}

  addNode(config: VrrpInstanceConfig): LanNode {
    if (this.nodes.has(config.name)) throw new Error(`simulated LAN already has a node ${config.name}`);
    return this.createNode(config);
  }

  /** A crashed node boots again: a fresh instance with the same config, not yet started. */
  reboot(name: string): LanNode {
    const node = this.node(name);
    if (!node.crashed) throw new Error(`simulated LAN node ${name} is running; crash it first`);
    return this.createNode(node.instance.instanceConfig);
  }

  private createNode(config: VrrpInstanceConfig): LanNode {
    const scheduler = this.clock.scheduler();
    const sink = new RecordingActionSink(this.clock, (advert) => this.transmit(config.name, advert));
    const instance = new VrrpInstance(config, { scheduler, actions: sink });
    scheduler.bind((kind) => instance.timerFired(kind));
    const node: LanNode = { name: config.name, instance, scheduler, sink, crashed: false };
    this.nodes.set(config.name, node);
    return node;
  }

  node(name: string): LanNode {
    const node = this.nodes.get(name);
    if (node === undefined) throw new Error(`simulated LAN has no node ${name}`);
    return node;
  }

  /** The host dies: no resign, no more packets, no timers. Its addresses die with it. */
  crash(name: string): void {
    const node = this.node(name);
    node.crashed = true;
    node.scheduler.dispose();
    node.sink.haltSchedules();
    node.sink.holdsAddresses = false;
  }

  /** Names of the live nodes that hold the virtual addresses right now. */
  holders(): string[] {
    return [...this.nodes.values()].filter((n) => !n.crashed && n.sink.holdsAddresses).map((n) => n.name);
  }

  private transmit(from: string, advert: VrrpAdvert): void {
    const sender = this.node(from);
    if (sender.crashed) return;
    const config = sender.instance.instanceConfig;
    const destinations =
      config.unicastPeers.length > 0 ? config.unicastPeers : [vrrpMulticastGroup(config.family)];
    for (const dst of destinations) {
      const bytes = encodeAdvert(advert, {
        src: config.primaryAddress,
        dst,
        checksumVariant: config.checksumVariant,
      });
      this.wire.push({ atMs: this.clock.now(), from, src: config.primaryAddress, dst, bytes, advert });
      this.clock.at(this.clock.now() + this.latencyMs, () => this.deliver(from, dst, bytes));
    }
  }

  private deliver(from: string, dst: string, bytes: Buffer): void {
    const sender = this.node(from);
    for (const node of this.nodes.values()) {
      if (node.name === from || node.crashed) continue;
      const receiver = node.instance.instanceConfig;
      // multicast reaches everyone; a unicast packet only the host that owns the destination address
      if (dst !== vrrpMulticastGroup(receiver.family) && dst !== receiver.primaryAddress) continue;
      node.instance.advertReceived(bytes, {
        src: sender.instance.instanceConfig.primaryAddress,
        dst,
        ttl: 255,
      });
    }
  }
}
