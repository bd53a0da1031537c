// Test support: one instance on a fake clock with a recording sink, and adverts built with the real encoder.
import { resolveInstanceConfig } from "./config.js";
import type { VrrpInstanceConfig, VrrpInstanceConfigInput } from "./config.js";
import { FakeClock } from "./fake-clock.js";
import type { FakeScheduler } from "./fake-clock.js";
import { encodeAdvert, simplePasswordAuthData, vrrpMulticastGroup } from "./packet.js";
import type { ChecksumVariant, VrrpAdvert } from "./packet.js";
import { RecordingActionSink } from "./recording-sink.js";
import { VrrpInstance } from "./state-machine.js";

export const VIP = "198.51.100.254";

/** VRID 51, VIP 198.51.100.254/24 on eth0, primary 198.51.100.2, priority 100, VRRPv2 at 1 s (the captures' setup). */
export function testConfig(overrides: Partial<VrrpInstanceConfigInput> = {}): VrrpInstanceConfig {
  return resolveInstanceConfig({
    name: "VI_1",
    interface: "eth0",
    vrid: 51,
    virtualAddresses: [{ address: VIP, prefixLength: 24 }],
    primaryAddress: "198.51.100.2",
    ...overrides,
  });
}

export interface Harness {
  readonly clock: FakeClock;
  readonly scheduler: FakeScheduler;
  readonly sink: RecordingActionSink;
  readonly instance: VrrpInstance;
  readonly config: VrrpInstanceConfig;
  /** Encodes an advert like `peer` would send it and hands it to the instance. */
  receive(from: AdvertFrom): void;
}

export interface AdvertFrom {
  readonly src: string;
  readonly priority: number;
  readonly vrid?: number;
  readonly addresses?: readonly string[];
  /** v3: centiseconds; v2: seconds. Defaults to the instance's own interval. */
  readonly interval?: number;
  readonly version?: 2 | 3;
  readonly password?: string;
  readonly authType?: "none" | "simple" | "ah";
  readonly ttl?: number;
  readonly dst?: string;
  readonly checksumVariant?: ChecksumVariant;
}

/** The advert a peer of `config` would send. */
export function advertLike(config: VrrpInstanceConfig, from: AdvertFrom): VrrpAdvert {
  const version = from.version ?? config.version;
  const addresses = from.addresses ?? config.virtualAddresses.map((v) => v.address);
  const vrid = from.vrid ?? config.vrid;
  if (version === 3) {
    return {
      version: 3,
      vrid,
      priority: from.priority,
      addresses,
      maxAdvertIntervalCs: from.interval ?? config.advertIntervalMs / 10,
    };
  }
  const password = from.password ?? config.authPassword;
  const authType = from.authType ?? (password === undefined ? "none" : "simple");
  return {
    version: 2,
    vrid,
    priority: from.priority,
    addresses,
    authType,
    authData:
      authType === "simple" && password !== undefined ? simplePasswordAuthData(password) : new Uint8Array(8),
    advertIntervalS: from.interval ?? config.advertIntervalMs / 1000,
  };
}

export function packetFrom(config: VrrpInstanceConfig, from: AdvertFrom): { bytes: Buffer; dst: string } {
  const dst = from.dst ?? vrrpMulticastGroup(config.family);
  const checksumVariant = from.checksumVariant ?? config.checksumVariant;
  return { bytes: encodeAdvert(advertLike(config, from), { src: from.src, dst, checksumVariant }), dst };
}

export function createHarness(config: VrrpInstanceConfig, clock = new FakeClock()): Harness {
  const scheduler = clock.scheduler();
  const sink = new RecordingActionSink(clock);
  const instance = new VrrpInstance(config, { scheduler, actions: sink });
  scheduler.bind((kind) => instance.timerFired(kind));
  return {
    clock,
    scheduler,
    sink,
    instance,
    config,
    receive(from) {
      const { bytes, dst } = packetFrom(config, from);
      instance.advertReceived(bytes, { src: from.src, dst, ttl: from.ttl ?? 255 });
    },
  };
}
