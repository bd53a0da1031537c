// The line layer of keepalived's configuration language, applied before words and braces are
// looked at (the order keepalived itself uses): comments are cut, `include` lines splice in other
// files, `@ID` lines are kept or dropped by the config id, `$NAME=value` lines define parameters,
// and `$NAME` / `${NAME}` references are replaced. The result is a list of logical lines, each
// remembering the file and line it came from and, per character, its original column.
import { posix } from "node:path";
import type { SourceLocation } from "./ast.js";
import { type DiagnosticSink, syntaxError } from "./diagnostics.js";
import type { ConfigFileSystem } from "./filesystem.js";
import { glob, hasWildcard } from "./glob.js";

export interface SourceLine {
  file: string;
  line: number;
  text: string;
  /** 1-based column in the original line for every character of `text`. */
  columns: number[];
}

export interface PreprocessOptions {
  fs: ConfigFileSystem;
  sink: DiagnosticSink;
  /** keepalived's config id (`-i`), which `@ID` lines are compared with; the node name on import. */
  configId?: string;
  /** Environment for `${_ENV NAME}`. */
  env?: Record<string, string | undefined>;
}

export interface PreprocessResult {
  lines: SourceLine[];
  files: string[];
}

const INCLUDE_KEYWORDS = new Set(["include", "includer", "includem", "includew", "includeb", "includea"]);
/** Substitution of a self-referencing parameter would never end; keepalived loops, we stop. */
const MAX_SUBSTITUTIONS_PER_LINE = 1000;
const MAX_EXPANSION_DEPTH = 32;

interface Parameter {
  /** One entry per line: a multi-line definition (`$X= \`) expands into several lines. */
  lines: string[];
}

function locationOf(line: SourceLine, index: number): SourceLocation {
  const column = line.columns[Math.min(index, line.columns.length - 1)] ?? 1;
  return { file: line.file, line: line.line, column };
}

function slice(line: SourceLine, start: number, end = line.text.length): SourceLine {
  return { ...line, text: line.text.slice(start, end), columns: line.columns.slice(start, end) };
}

function trimStart(line: SourceLine): SourceLine {
  const skip = line.text.length - line.text.trimStart().length;
  return skip === 0 ? line : slice(line, skip);
}

function trimEnd(line: SourceLine): SourceLine {
  return slice(line, 0, line.text.trimEnd().length);
}

/** Cuts a `#` or `!` comment, which may start anywhere outside quotes. */
export function stripComment(text: string): string {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#" || c === "!") return text.slice(0, i);
  }
  return text;
}

function physicalLine(file: string, number: number, raw: string): SourceLine {
  const text = stripComment(raw);
  return { file, line: number, text, columns: Array.from(text, (_, i) => i + 1) };
}

function unquote(word: string): string {
  return word.length >= 2 && (word[0] === '"' || word[0] === "'") && word.endsWith(word[0])
    ? word.slice(1, -1)
    : word;
}

class Preprocessor {
  readonly lines: SourceLine[] = [];
  readonly files: string[] = [];
  private readonly parameters = new Map<string, Parameter>();
  private readonly includeStack: string[] = [];
  private readonly includeNames: string[] = [];
  private readonly currentDirectory: string[] = [];

  constructor(private readonly options: PreprocessOptions) {}

  readRoot(file: string): void {
    this.readFile(file, undefined);
  }

  private readFile(file: string, includedAt: SourceLocation | undefined): void {
    const canonical = this.options.fs.canonicalPath(file);
    const cycleStart = this.includeStack.indexOf(canonical);
    if (cycleStart >= 0 && includedAt !== undefined) {
      const chain = [...this.includeNames.slice(cycleStart), file];
      throw syntaxError(includedAt, `include cycle: ${chain.join(" -> ")}`);
    }
    let content: string;
    try {
      content = this.options.fs.readFile(file);
    } catch (e) {
      const code = (e as { code?: string }).code ?? "error";
      const reason =
        code === "ENOENT"
          ? "no such file"
          : code === "EISDIR"
            ? "is a directory"
            : code === "EACCES"
              ? "permission denied"
              : code;
      const at = includedAt ?? { file, line: 1, column: 1 };
      throw syntaxError(at, `${includedAt ? "include: " : ""}cannot read "${file}": ${reason}`);
    }
    this.files.push(file);
    this.includeStack.push(canonical);
    this.includeNames.push(file);
    this.currentDirectory.push(posix.dirname(file));
    const raw = content.split(/\r?\n/);
    for (let i = 0; i < raw.length; i++) {
      let line = trimStart(physicalLine(file, i + 1, raw[i]!));
      if (line.text.trim() === "") continue;
      const first = /^\S+/.exec(line.text)![0];
      if (INCLUDE_KEYWORDS.has(first)) {
        this.include(line, first);
        continue;
      }
      // A multi-line parameter definition continues while lines end with a backslash.
      const definition = /^\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.text.trimEnd());
      if (definition && definition[2]!.endsWith("\\")) {
        const values = [definition[2]!.slice(0, -1).trim()];
        let last = line.text.trimEnd();
        while (last.endsWith("\\") && i + 1 < raw.length) {
          i++;
          const next = physicalLine(file, i + 1, raw[i]!).text.trim();
          last = next;
          values.push(next.endsWith("\\") ? next.slice(0, -1).trim() : next);
        }
        this.parameters.set(definition[1]!, { lines: values.filter((v) => v !== "") });
        continue;
      }
      line = trimEnd(line);
      this.processLine(line, 0);
    }
    this.includeStack.pop();
    this.includeNames.pop();
    this.currentDirectory.pop();
  }

  private include(line: SourceLine, keyword: string): void {
    const rest = line.text.slice(keyword.length).trim();
    const loc = locationOf(line, 0);
    if (rest === "") throw syntaxError(loc, `${keyword} needs a file name or pattern`);
    const pattern = unquote(rest);
    const directory = this.currentDirectory[this.currentDirectory.length - 1] ?? ".";
    const resolved = pattern.startsWith("/") ? pattern : posix.join(directory, pattern);
    if (!hasWildcard(pattern) && !pattern.includes("{")) {
      this.readFile(resolved, loc);
      return;
    }
    const matches = glob(this.options.fs, resolved);
    if (matches.length === 0) {
      this.options.sink.warning(loc, `${keyword} "${pattern}" matched no file (looked for ${resolved})`);
    }
    for (const match of matches) this.readFile(match, loc);
  }

  /** One logical line: conditional prefix, definitions, substitution, then emit. */
  private processLine(line: SourceLine, depth: number): void {
    line = trimEnd(trimStart(line));
    if (line.text === "") return;
    if (line.text.startsWith("@")) {
      const m = /^@(\^?)(\S*)/.exec(line.text)!;
      const negated = m[1] === "^";
      const id = m[2]!;
      const loc = locationOf(line, 0);
      if (id === "") throw syntaxError(loc, `"@" must be followed by a config id (e.g. @node1 priority 150)`);
      const matches = this.options.configId === id;
      if (matches === negated) {
        if (this.options.configId === undefined && !negated) {
          this.options.sink.warning(
            loc,
            `line for config id "${id}" skipped: no config id was given (import with --node ${id}=FILE or --config-id ${id} to keep it)`,
          );
        }
        return;
      }
      this.processLine(slice(line, m[0].length), depth);
      return;
    }
    const definition = /^\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.text);
    if (definition) {
      this.parameters.set(definition[1]!, { lines: [definition[2]!.trim()] });
      return;
    }
    if (/^~(SEQx?|LST)\(/.test(line.text)) {
      throw syntaxError(
        locationOf(line, 0),
        "~SEQ/~LST repetition blocks are not supported by the importer; expand them first (keepalived --config-test ... writes the expanded configuration with -d)",
      );
    }
    const expanded = this.substitute(line);
    if (expanded.length === 1 && !expanded[0]!.reprocess) {
      this.lines.push(expanded[0]!.line);
      return;
    }
    if (depth >= MAX_EXPANSION_DEPTH) {
      throw syntaxError(
        locationOf(line, 0),
        "multi-line parameters nested too deeply (a parameter that expands to itself?)",
      );
    }
    for (const part of expanded) this.processLine(part.line, depth + 1);
  }

  private predefined(name: string, argument: string | undefined): string | undefined {
    switch (name) {
      case "_PWD":
        return posix.resolve(this.currentDirectory[this.currentDirectory.length - 1] ?? ".");
      case "_INSTANCE":
        return this.options.configId;
      case "_HASH":
        return "#";
      case "_BANG":
        return "!";
      case "_ENV":
        return argument === undefined ? undefined : (this.options.env?.[argument] ?? "");
      default:
        return undefined;
    }
  }

  /**
   * Replaces parameter references. Returns several lines when a multi-line parameter is used
   * (those must be processed again: they may hold definitions and conditional lines).
   */
  private substitute(line: SourceLine): { line: SourceLine; reprocess: boolean }[] {
    let { text, columns } = line;
    let count = 0;
    let i = text.indexOf("$");
    while (i >= 0) {
      let name: string | undefined;
      let argument: string | undefined;
      let end = i;
      const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:\s+([^}]*))?\}/.exec(text.slice(i));
      const bare = /^\$([A-Za-z_][A-Za-z0-9_]*)(?=\s|$)/.exec(text.slice(i));
      if (braced) {
        name = braced[1];
        argument = braced[2]?.trim();
        end = i + braced[0].length;
      } else if (bare) {
        name = bare[1];
        end = i + bare[0].length;
      }
      if (name === undefined) {
        i = text.indexOf("$", i + 1);
        continue;
      }
      const loc = { file: line.file, line: line.line, column: columns[i] ?? 1 };
      if (name === "_RANDOM") {
        throw syntaxError(loc, "${_RANDOM} makes every import different; replace it with a fixed value");
      }
      const parameter = this.parameters.get(name);
      const value = parameter === undefined ? this.predefined(name, argument) : undefined;
      if (parameter === undefined && value === undefined) {
        if (braced)
          this.options.sink.warning(loc, `parameter \${${name}} is not defined; it is kept as written`);
        i = text.indexOf("$", end);
        continue;
      }
      if (++count > MAX_SUBSTITUTIONS_PER_LINE) {
        throw syntaxError(loc, `parameter substitution does not end (does $${name} refer to itself?)`);
      }
      const column = columns[i] ?? 1;
      if (parameter !== undefined && parameter.lines.length > 1) {
        const before = text.slice(0, i);
        const after = text.slice(end);
        const parts = parameter.lines.map((l, index) => {
          const full = (index === 0 ? before : "") + l + (index === parameter.lines.length - 1 ? after : "");
          return {
            line: { file: line.file, line: line.line, text: full, columns: Array.from(full, () => column) },
            reprocess: true,
          };
        });
        return parts;
      }
      const replacement = parameter !== undefined ? (parameter.lines[0] ?? "") : value!;
      text = text.slice(0, i) + replacement + text.slice(end);
      columns = [...columns.slice(0, i), ...Array.from(replacement, () => column), ...columns.slice(end)];
      // Substitution is recursive: scan the replacement again from the same place.
      i = text.indexOf("$", i);
    }
    return [{ line: { ...line, text, columns }, reprocess: false }];
  }
}

export function preprocess(rootFile: string, options: PreprocessOptions): PreprocessResult {
  const p = new Preprocessor(options);
  p.readRoot(rootFile);
  return { lines: p.lines, files: p.files };
}
