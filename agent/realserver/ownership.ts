// Which real-server VIPs this agent instance put on the host, so it removes only those — after a
// restart too, and never an address an administrator, another tool or another kubelvs instance put
// on lo or a tunnel device.
//
// IPv4: the kernel keeps the mark. Each address gets the label "<device>:kl-<tag>", tag = 5 hex
// digits of the instance name's SHA-256 (a label must start with the device name and fits 15
// bytes: "tunl0:kl-1a2b3" is 14). It lives exactly as long as the address, survives agent and pod
// restarts, and `ip addr` shows it.
//
// IPv6 has no labels. The address carries IFA_PROTO = ADDRESS_PROTOCOL (Linux 6.1+: who created the
// address; `ip -6 addr` prints it as "proto 107"), which tells kubelvs's addresses from everyone
// else's but has one byte: not enough to tell two instances apart. So each instance also records the
// IPv6 VIPs it added in a small file (write-ahead: recorded before the add, dropped after the
// removal), and owns an IPv6 address when the file lists it and the kernel does not say someone else
// made it (a protocol other than ours; kernels before 6.1 report none). The file belongs in a
// directory that lives as long as the host's addresses: the host's /run (tmpfs, cleared by the reboot
// that clears the addresses), which the chart mounts for it (--real-server-state-dir).
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { InterfaceAddress } from "../../native/kernel.js";

/** IFA_PROTO of the IPv6 VIPs kubelvs adds: 107, "k" (values 0-3 are the kernel's own). */
export const ADDRESS_PROTOCOL = 107;

/** The IPv4 label marking this instance's addresses on `device`. */
export function ownershipLabel(device: string, instance: string): string {
  const tag = createHash("sha256").update(instance).digest("hex").slice(0, 5);
  return `${device}:kl-${tag}`;
}

/** The record of one instance's IPv6 VIPs: `<dir>/<instance>.realserver-owned.json`. */
export function realServerRecordPath(dir: string, instance: string): string {
  return join(dir, `${instance}.realserver-owned.json`);
}

const FORMAT_VERSION = 1;

/** "address device" entries; read once, then kept in memory and written through on every change. */
export class OwnedAddressRecord {
  private entries: Set<string> | undefined;

  constructor(readonly location: string) {}

  static key(address: string, device: string): string {
    return `${address} ${device}`;
  }

  list(): { address: string; device: string }[] {
    return [...this.load()].map((key) => {
      const [address = "", device = ""] = key.split(" ");
      return { address, device };
    });
  }

  has(address: string, device: string): boolean {
    return this.load().has(OwnedAddressRecord.key(address, device));
  }

  add(address: string, device: string): void {
    const entries = this.load();
    const key = OwnedAddressRecord.key(address, device);
    if (entries.has(key)) return;
    this.save(new Set([...entries, key]));
  }

  delete(address: string, device: string): void {
    const entries = this.load();
    const key = OwnedAddressRecord.key(address, device);
    if (!entries.has(key)) return;
    this.save(new Set([...entries].filter((e) => e !== key)));
  }

  private load(): Set<string> {
    if (this.entries !== undefined) return this.entries;
    let text: string;
    try {
      text = readFileSync(this.location, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT")
        throw new Error(`real-server ownership record ${this.location}: cannot read it`, { cause: error });
      this.entries = new Set();
      return this.entries;
    }
    let parsed: { version?: unknown; addresses?: unknown };
    try {
      parsed = JSON.parse(text) as { version?: unknown; addresses?: unknown };
    } catch (error) {
      throw new Error(`real-server ownership record ${this.location}: not JSON`, { cause: error });
    }
    if (
      parsed.version !== FORMAT_VERSION ||
      !Array.isArray(parsed.addresses) ||
      !parsed.addresses.every((a) => typeof a === "string")
    )
      throw new Error(
        `real-server ownership record ${this.location}: expected {"version": ${FORMAT_VERSION}, "addresses": ["ADDRESS DEVICE", ...]}`,
      );
    this.entries = new Set(parsed.addresses);
    return this.entries;
  }

  private save(entries: Set<string>): void {
    const temporary = `${this.location}.tmp`;
    try {
      mkdirSync(dirname(this.location), { recursive: true });
      writeFileSync(
        temporary,
        JSON.stringify({ version: FORMAT_VERSION, addresses: [...entries].sort() }) + "\n",
      );
      renameSync(temporary, this.location);
    } catch (error) {
      throw new Error(`real-server ownership record ${this.location}: cannot write it`, { cause: error });
    }
    this.entries = entries;
  }
}

/** Whether this instance put `address` (on `device`) there. */
export function isOwned(
  address: InterfaceAddress,
  device: string,
  instance: string,
  record: OwnedAddressRecord,
): boolean {
  if (address.family === 4) return address.label === ownershipLabel(device, instance);
  return (
    record.has(address.address, device) &&
    (address.protocol === undefined || address.protocol === ADDRESS_PROTOCOL)
  );
}
