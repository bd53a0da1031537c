// The importer reads configuration through this small interface so that the parser stays pure:
// the CLI passes the real file system, tests pass an in-memory one.
import { readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { posix, resolve } from "node:path";

export interface ConfigFileSystem {
  /** Reads a file as UTF-8; throws an Error with `code` (ENOENT, EACCES, EISDIR...) on failure. */
  readFile(path: string): string;
  /** Names in a directory, or an empty list when it cannot be read (glob semantics). */
  listDirectory(path: string): string[];
  isDirectory(path: string): boolean;
  exists(path: string): boolean;
  /** A canonical identity for a file, used to detect include cycles. */
  canonicalPath(path: string): string;
}

/** The real file system; relative paths resolve against `baseDirectory` (default: the working directory). */
export function nodeFileSystem(baseDirectory = process.cwd()): ConfigFileSystem {
  const at = (path: string) => resolve(baseDirectory, path);
  return {
    readFile: (path) => readFileSync(at(path), "utf8"),
    listDirectory: (path) => {
      try {
        return readdirSync(at(path === "" ? "." : path));
      } catch {
        return [];
      }
    },
    isDirectory: (path) => {
      try {
        return statSync(at(path)).isDirectory();
      } catch {
        return false;
      }
    },
    exists: (path) => {
      try {
        statSync(at(path));
        return true;
      } catch {
        return false;
      }
    },
    canonicalPath: (path) => {
      try {
        return realpathSync(at(path));
      } catch {
        return at(path);
      }
    },
  };
}

function fsError(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${path}`), { code });
}

/** An in-memory file system for tests: file name (posix, relative or absolute) to content. */
export function memoryFileSystem(files: Record<string, string>): ConfigFileSystem {
  const norm = (path: string) => posix.normalize(path === "" ? "." : path).replace(/\/$/, "");
  const contents = new Map(Object.entries(files).map(([name, text]) => [norm(name), text]));
  const directories = new Set<string>();
  for (const name of contents.keys()) {
    for (let dir = posix.dirname(name); ; dir = posix.dirname(dir)) {
      directories.add(dir);
      if (dir === "." || dir === "/") break;
    }
  }
  return {
    readFile: (path) => {
      const text = contents.get(norm(path));
      if (text !== undefined) return text;
      throw fsError(directories.has(norm(path)) ? "EISDIR" : "ENOENT", path);
    },
    listDirectory: (path) => {
      const dir = norm(path);
      const names = new Set<string>();
      for (const name of [...contents.keys(), ...directories]) {
        if (name !== dir && posix.dirname(name) === dir) names.add(posix.basename(name));
      }
      return [...names];
    },
    isDirectory: (path) => directories.has(norm(path)),
    exists: (path) => contents.has(norm(path)) || directories.has(norm(path)),
    canonicalPath: (path) => norm(path),
  };
}
