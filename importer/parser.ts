// Builds the statement tree from the logical lines. A statement is the words of a line up to a
// `{`, a `}` or the end of the line; a `{` opens a block owned by the words before it on the same
// line or, when it stands alone, by the statement on the line before (both layouts occur).
import type { Block, ConfigTree, SourceLocation, Statement, Word } from "./ast.js";
import { type DiagnosticSink, syntaxError } from "./diagnostics.js";
import type { ConfigFileSystem } from "./filesystem.js";
import { type Token, tokenizeLine } from "./lexer.js";
import { preprocess } from "./preprocess.js";

export interface ParseOptions {
  fs: ConfigFileSystem;
  sink: DiagnosticSink;
  configId?: string;
  env?: Record<string, string | undefined>;
}

class TreeBuilder {
  private index = 0;

  constructor(private readonly tokens: Token[]) {}

  /** Statements until the matching `}` (returned as `close`) or, at top level, the end. */
  parseStatements(opener: { loc: SourceLocation; owner: string } | undefined): {
    statements: Statement[];
    close?: SourceLocation;
  } {
    const statements: Statement[] = [];
    let words: Word[] = [];
    let lastStatementLine: { statement: Statement; file: string; line: number } | undefined;
    const finish = (): Statement | undefined => {
      if (words.length === 0) return undefined;
      const statement: Statement = { keyword: words[0]!, args: words.slice(1) };
      statements.push(statement);
      words = [];
      return statement;
    };
    while (this.index < this.tokens.length) {
      const token = this.tokens[this.index++]!;
      switch (token.kind) {
        case "word":
          words.push({ text: token.text, quoted: token.quoted, loc: token.loc });
          break;
        case "end-of-line": {
          const statement = finish();
          if (statement) lastStatementLine = { statement, file: token.loc.file, line: token.loc.line };
          break;
        }
        case "open": {
          let owner = finish();
          if (owner === undefined) {
            // `{` on a line of its own belongs to the statement just before it.
            const previous = lastStatementLine?.statement;
            if (
              previous === undefined ||
              previous.block !== undefined ||
              previous !== statements[statements.length - 1]
            ) {
              throw syntaxError(token.loc, `unexpected "{": no keyword before it opens a block`);
            }
            owner = previous;
          }
          const inner = this.parseStatements({ loc: token.loc, owner: owner.keyword.text });
          const block: Block = { open: token.loc, close: inner.close!, statements: inner.statements };
          owner.block = block;
          lastStatementLine = undefined;
          break;
        }
        case "close": {
          finish();
          if (opener === undefined) {
            throw syntaxError(token.loc, `unexpected "}": there is no open block to close`);
          }
          return { statements, close: token.loc };
        }
      }
    }
    finish();
    if (opener !== undefined) {
      throw syntaxError(
        opener.loc,
        `unterminated block: the "{" of "${opener.owner}" opened here is never closed with "}"`,
      );
    }
    return { statements };
  }
}

/** Parses a keepalived configuration file and everything it includes into a statement tree. */
export function parseConfig(rootFile: string, options: ParseOptions): ConfigTree {
  const { lines, files } = preprocess(rootFile, options);
  const tokens = lines.flatMap(tokenizeLine);
  const { statements } = new TreeBuilder(tokens).parseStatements(undefined);
  return { root: rootFile, files, statements };
}
