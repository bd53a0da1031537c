// The host edges the real-server preparer needs besides the KernelEdge's addresses and links:
// sysctls under a /proc/sys that may be mounted elsewhere (a container's own /proc/sys is read-only;
// the chart mounts the host's /proc/sys/net writable at /host/proc/sys/net), and creating tunnel
// devices and setting them up over rtnetlink (the agent's image has no `ip`).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RtnetlinkClient } from "../../native/rtnetlink/client.js";

export const DEFAULT_PROC_SYS_ROOT = "/proc/sys";

export interface Sysctls {
  /** The value, trimmed; undefined when the key does not exist (e.g. a device not created yet). */
  read(key: string): string | undefined;
  /** Throws an Error naming the file and the errno (EROFS: a read-only /proc/sys). */
  write(key: string, value: string): void;
}

/** net.ipv4.conf.all.arp_ignore → <root>/net/ipv4/conf/all/arp_ignore. */
export class ProcSysctls implements Sysctls {
  constructor(readonly root: string = DEFAULT_PROC_SYS_ROOT) {}

  path(key: string): string {
    return join(this.root, ...key.split("."));
  }

  read(key: string): string | undefined {
    try {
      return readFileSync(this.path(key), "utf8").trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new Error(`read ${this.path(key)}: ${(error as Error).message}`, { cause: error });
    }
  }

  write(key: string, value: string): void {
    try {
      writeFileSync(this.path(key), value);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const hint =
        code === "EROFS" || code === "EACCES" || code === "EPERM"
          ? ` (point --proc-sys-root at a writable mount of the host's /proc/sys; the chart's agent.realServerPreparation does)`
          : "";
      throw new Error(`sysctl ${key}=${value}: write ${this.path(key)}: ${(error as Error).message}${hint}`, {
        cause: error,
      });
    }
  }
}

/** Creating and raising links: what `ip link add … type ipip` and `ip link set … up` do. */
export interface LinkWriter {
  /** NetlinkError EEXIST when the name is taken. */
  create(name: string, kind: string): Promise<void>;
  setUp(index: number): Promise<void>;
  close(): void;
}

/** A LinkWriter on an rtnetlink socket of its own, opened on first use. */
export function rtnetlinkLinkWriter(): LinkWriter {
  let client: RtnetlinkClient | undefined;
  const open = () => (client ??= RtnetlinkClient.open());
  return {
    create: (name, kind) => open().createLink(name, kind),
    setUp: (index) => open().setLinkUp(index, true),
    close: () => {
      client?.close();
      client = undefined;
    },
  };
}
