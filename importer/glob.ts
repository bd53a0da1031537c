// Expansion of `include` patterns the way keepalived does it with glob(3): csh brace expansion,
// then `*`, `?` and `[...]` per path component; leading dots are only matched explicitly; results
// are sorted. Node 20 has no fs.glob, and the pattern language needed is this small.
import { posix } from "node:path";
import type { ConfigFileSystem } from "./filesystem.js";

const WILDCARD = /[*?[]/;

export function hasWildcard(pattern: string): boolean {
  return WILDCARD.test(pattern);
}

/** `a{b,c{d,e}}f` → [abf, acdf, acef]; unbalanced braces are kept literally. */
export function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf("{");
  if (open < 0) return [pattern];
  let depth = 0;
  const commas: number[] = [];
  let close = -1;
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "{") depth++;
    else if (c === "}") {
      depth--;
      if (depth === 0) {
        close = i;
        break;
      }
    } else if (c === "," && depth === 1) commas.push(i);
  }
  if (close < 0) return [pattern];
  const head = pattern.slice(0, open);
  const tail = pattern.slice(close + 1);
  const bounds = [open, ...commas, close];
  const out: string[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const alternative = pattern.slice(bounds[i]! + 1, bounds[i + 1]);
    for (const expanded of expandBraces(head + alternative + tail)) out.push(expanded);
  }
  return out;
}

function componentRegExp(component: string): RegExp {
  let source = "";
  for (let i = 0; i < component.length; i++) {
    const c = component[i]!;
    if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else if (c === "[") {
      const end = component.indexOf("]", i + 2);
      if (end < 0) {
        source += "\\[";
        continue;
      }
      let set = component.slice(i + 1, end);
      if (set.startsWith("!")) set = "^" + set.slice(1);
      source += "[" + set.replace(/\\/g, "\\\\") + "]";
      i = end;
    } else source += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/** Files matching one brace-free pattern, sorted; directories are not returned. */
function globOne(fs: ConfigFileSystem, pattern: string): string[] {
  if (!hasWildcard(pattern)) return fs.exists(pattern) && !fs.isDirectory(pattern) ? [pattern] : [];
  const absolute = pattern.startsWith("/");
  const components = pattern.split("/").filter((c) => c !== "");
  let candidates = [absolute ? "/" : ""];
  components.forEach((component, index) => {
    const last = index === components.length - 1;
    const next: string[] = [];
    for (const dir of candidates) {
      const join = (name: string) => (dir === "" ? name : posix.join(dir, name));
      if (!hasWildcard(component)) {
        next.push(join(component));
        continue;
      }
      const re = componentRegExp(component);
      const names = fs
        .listDirectory(dir === "" ? "." : dir)
        .filter((n) => re.test(n) && (!n.startsWith(".") || component.startsWith(".")))
        .sort();
      for (const name of names) next.push(join(name));
    }
    candidates = last ? next : next.filter((p) => fs.isDirectory(p));
  });
  return candidates.filter((p) => fs.exists(p) && !fs.isDirectory(p));
}

export function glob(fs: ConfigFileSystem, pattern: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const alternative of expandBraces(pattern)) {
    for (const file of globOne(fs, alternative)) {
      if (!seen.has(file)) {
        seen.add(file);
        out.push(file);
      }
    }
  }
  return out;
}
