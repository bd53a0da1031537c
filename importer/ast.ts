// The syntax tree of a keepalived.conf after includes, conditional lines and parameter substitution
// have been applied. keepalived's grammar is tiny: a statement is the words of one line, and a
// statement may own a `{ ... }` block of further statements. Every node keeps where it came from so
// that every later message can point at a file, line and column.

export interface SourceLocation {
  /** The file as the user named it (includes: joined onto the including file's directory). */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based, counted in characters of the original line. */
  column: number;
}

export interface Word {
  /** The word with quotes removed and escapes applied. */
  text: string;
  /** True when any part of the word was quoted (a quoted "{" is a word, not a block). */
  quoted: boolean;
  loc: SourceLocation;
}

export interface Block {
  /** Where the `{` is. */
  open: SourceLocation;
  /** Where the matching `}` is. */
  close: SourceLocation;
  statements: Statement[];
}

export interface Statement {
  /** The first word: a keyword, or the first item of a list block (an address, a script name...). */
  keyword: Word;
  args: Word[];
  block?: Block;
}

export interface ConfigTree {
  /** The file the user named. */
  root: string;
  /** Every file read, root first, in the order they were opened. */
  files: string[];
  statements: Statement[];
}
