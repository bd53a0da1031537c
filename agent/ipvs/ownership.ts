// Which IPVS services kubelvs created, so it changes and deletes only those: the kernel keeps no
// owner for a service, and other tools (kube-proxy in IPVS mode, a hand-run ipvsadm, another
// agent instance) share the table. See agent/ipvs/README.md for the design and its failure modes.
//
// The record is a small JSON file per agent instance under the run directory, rewritten
// atomically (temporary file + rename) before services are added (write-ahead: a crash between
// the write and the add leaves a key owned that does not exist, which the next full read prunes)
// and after services are deleted.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface OwnershipStore {
  /** Where the record lives, for logs. */
  readonly location: string;
  /** The owned service ids (serviceKeyId); empty when nothing was recorded yet. */
  load(): Set<string>;
  save(owned: ReadonlySet<string>): void;
}

const FORMAT_VERSION = 1;

interface OwnershipFile {
  version: number;
  services: string[];
}

export class OwnershipFileError extends Error {
  constructor(path: string, problem: string, cause?: unknown) {
    super(`IPVS ownership record ${path}: ${problem}`, cause === undefined ? {} : { cause });
    this.name = "OwnershipFileError";
  }
}

/** The record of one agent instance: `<runDir>/<instance>.ipvs-owned.json`. */
export function ownershipFilePath(runDir: string, instance: string): string {
  return join(runDir, `${instance}.ipvs-owned.json`);
}

export class FileOwnershipStore implements OwnershipStore {
  constructor(readonly location: string) {}

  load(): Set<string> {
    let text: string;
    try {
      text = readFileSync(this.location, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return new Set();
      throw new OwnershipFileError(this.location, "cannot read", error);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new OwnershipFileError(this.location, "not JSON", error);
    }
    const file = parsed as Partial<OwnershipFile> | null;
    if (
      file === null ||
      typeof file !== "object" ||
      file.version !== FORMAT_VERSION ||
      !Array.isArray(file.services) ||
      !file.services.every((s) => typeof s === "string")
    ) {
      throw new OwnershipFileError(
        this.location,
        `expected {"version": ${FORMAT_VERSION}, "services": [service ids]}`,
      );
    }
    return new Set(file.services);
  }

  save(owned: ReadonlySet<string>): void {
    const content: OwnershipFile = { version: FORMAT_VERSION, services: [...owned].sort() };
    const temporary = `${this.location}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(this.location), { recursive: true });
      writeFileSync(temporary, `${JSON.stringify(content)}\n`, { mode: 0o644 });
      renameSync(temporary, this.location);
    } catch (error) {
      throw new OwnershipFileError(this.location, "cannot write", error);
    }
  }
}

/** A record in memory, for tests and for agents without a run directory. */
export class MemoryOwnershipStore implements OwnershipStore {
  readonly location = "memory";
  private owned: Set<string>;

  constructor(initial: Iterable<string> = []) {
    this.owned = new Set(initial);
  }

  load(): Set<string> {
    return new Set(this.owned);
  }

  save(owned: ReadonlySet<string>): void {
    this.owned = new Set(owned);
  }
}
