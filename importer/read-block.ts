// The machinery behind the keyword catalogue: a block is read by looking up each statement's
// keyword in its block's table. Unknown keywords and keywords kubelvs cannot express are warnings
// (never silently dropped); values of the wrong form are located errors.
import type { SourceLocation, Statement, Word } from "./ast.js";
import type { DiagnosticSink } from "./diagnostics.js";

export interface Located<T> {
  value: T;
  loc: SourceLocation;
  statement: Statement;
}

export interface ReadContext {
  sink: DiagnosticSink;
  /** Name of the block being read, for messages ("vrrp_instance", "TCP_CHECK"...). */
  block: string;
}

export interface KeywordSpec<T, R extends boolean = boolean> {
  /** Parses the statement; returns undefined after reporting an error. */
  parse(statement: Statement, ctx: ReadContext): T | undefined;
  /** Repeated keywords collect every occurrence (real_server, url...); others keep the last. */
  repeated: R;
  /** Why kubelvs has no equivalent: the keyword is accepted, checked and reported as ignored. */
  unmapped?: string;
}

export type Parser<T> = (statement: Statement, ctx: ReadContext) => T | undefined;

// The parameter types are compared structurally; `never` keeps every spec assignable here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Catalogue = Record<string, KeywordSpec<any>>;

export interface BlockSpec<C extends Catalogue> {
  name: string;
  keywords: C;
  /** Statements in this block that are not keywords (e.g. the entries of a list) are read by this. */
  mistakes?: Record<string, string>;
}

export type BlockValues<C extends Catalogue> = {
  [K in keyof C]?: C[K] extends KeywordSpec<infer T, true>
    ? Located<T>[]
    : C[K] extends KeywordSpec<infer T, false>
      ? Located<T>
      : never;
};

export function one<T>(parse: Parser<T>): KeywordSpec<T, false> {
  return { parse, repeated: false };
}

export function many<T>(parse: Parser<T>): KeywordSpec<T, true> {
  return { parse, repeated: true };
}

export function unmapped<T>(reason: string, parse: Parser<T>): KeywordSpec<T, false> {
  return { parse, repeated: false, unmapped: reason };
}

/** Keywords seen in the wild that keepalived does not have, with what to say about them. */
export const PLACEHOLDER_KEYWORDS = new Set(["...", "…", "......"]);

function reportUnknown(statement: Statement, spec: BlockSpec<Catalogue>, ctx: ReadContext): void {
  const name = statement.keyword.text;
  const explanation = spec.mistakes?.[name];
  if (explanation !== undefined) {
    ctx.sink.warning(statement.keyword.loc, `"${name}" in ${spec.name} is ignored: ${explanation}`);
  } else if (PLACEHOLDER_KEYWORDS.has(name)) {
    ctx.sink.warning(
      statement.keyword.loc,
      `"${name}" in ${spec.name} is a placeholder from documentation, not a keepalived keyword; keepalived skips it and so does the import`,
    );
  } else {
    ctx.sink.warning(statement.keyword.loc, `unknown keyword "${name}" in ${spec.name} (ignored)`);
  }
}

export function readBlock<C extends Catalogue>(
  spec: BlockSpec<C>,
  statements: Statement[],
  sink: DiagnosticSink,
): BlockValues<C> {
  const ctx: ReadContext = { sink, block: spec.name };
  const values: Record<string, Located<unknown> | Located<unknown>[]> = {};
  for (const statement of statements) {
    const name = statement.keyword.text;
    const keyword = Object.hasOwn(spec.keywords, name) ? spec.keywords[name] : undefined;
    if (keyword === undefined) {
      reportUnknown(statement, spec, ctx);
      continue;
    }
    const value: unknown = keyword.parse(statement, ctx);
    if (keyword.unmapped !== undefined) {
      sink.warning(
        statement.keyword.loc,
        `"${name}" in ${spec.name} has no kubelvs equivalent and is ignored: ${keyword.unmapped}`,
      );
      continue;
    }
    if (value === undefined) continue;
    const located: Located<unknown> = { value, loc: statement.keyword.loc, statement };
    if (keyword.repeated) {
      const list = (values[name] ??= []) as Located<unknown>[];
      list.push(located);
    } else {
      values[name] = located;
    }
  }
  return values as BlockValues<C>;
}

// ---- value-form parsers -------------------------------------------------------------------

export function noBlock(statement: Statement, ctx: ReadContext): boolean {
  if (statement.block === undefined) return true;
  ctx.sink.error(
    statement.block.open,
    `"${statement.keyword.text}" in ${ctx.block} does not take a { } block`,
  );
  return false;
}

export function needBlock(statement: Statement, ctx: ReadContext): boolean {
  if (statement.block !== undefined) return true;
  const at = statement.args[statement.args.length - 1]?.loc ?? statement.keyword.loc;
  ctx.sink.error(at, `"${statement.keyword.text}" in ${ctx.block} needs a { } block`);
  return false;
}

/** Exactly `count` arguments (or between min and max). */
export function argCount(
  statement: Statement,
  ctx: ReadContext,
  min: number,
  max: number,
  form: string,
): boolean {
  const n = statement.args.length;
  if (n >= min && n <= max) return true;
  const at = n > max ? statement.args[max]!.loc : statement.keyword.loc;
  ctx.sink.error(at, `"${statement.keyword.text}" needs ${form}`);
  return false;
}

/** Runs a value parser that returns a value or a reason string, reporting the reason at the word. */
export function checked<T>(word: Word, ctx: ReadContext, keyword: string, result: T | string): T | undefined {
  if (typeof result === "string") {
    ctx.sink.error(word.loc, `${keyword}: ${result}`);
    return undefined;
  }
  return result;
}

/** Accepts anything (used for keywords kubelvs ignores, whose exact form does not matter). */
export const anything: Parser<true> = () => true;
