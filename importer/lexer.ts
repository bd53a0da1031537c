// Words and braces of one logical line. Quotes (" or ', as keepalived.conf(5) says) group
// whitespace into a word and may join onto unquoted text (`ab"c d"e` is the word `abc de`);
// escapes are honoured inside quotes only; `{` and `}` outside quotes are tokens of their own.
import type { SourceLocation } from "./ast.js";
import { syntaxError } from "./diagnostics.js";
import type { SourceLine } from "./preprocess.js";

export type Token =
  | { kind: "word"; text: string; quoted: boolean; loc: SourceLocation }
  | { kind: "open" | "close"; loc: SourceLocation }
  | { kind: "end-of-line"; loc: SourceLocation };

const SIMPLE_ESCAPES: Record<string, string> = {
  a: "\x07",
  b: "\b",
  E: "\x1b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

/** Reads the escape starting after a backslash at `text[i]`; returns the character and the next index. */
function readEscape(text: string, i: number): [string, number] {
  const c = text[i]!;
  if (c in SIMPLE_ESCAPES) return [SIMPLE_ESCAPES[c]!, i + 1];
  const octal = /^[0-7]{1,3}/.exec(text.slice(i));
  if (octal) return [String.fromCharCode(parseInt(octal[0], 8) & 0xff), i + octal[0].length];
  const hex = /^x([0-9a-fA-F]{1,2})/.exec(text.slice(i));
  if (hex) return [String.fromCharCode(parseInt(hex[1]!, 16)), i + hex[0].length];
  if (c === "c" && i + 1 < text.length) return [String.fromCharCode(text.charCodeAt(i + 1) & 0x1f), i + 2];
  return [c, i + 1];
}

export function tokenizeLine(line: SourceLine): Token[] {
  const { text } = line;
  const at = (i: number): SourceLocation => ({
    file: line.file,
    line: line.line,
    column: line.columns[Math.min(i, line.columns.length - 1)] ?? 1,
  });
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "{" || c === "}") {
      tokens.push({ kind: c === "{" ? "open" : "close", loc: at(i) });
      i++;
      continue;
    }
    const start = i;
    let word = "";
    let quoted = false;
    while (i < text.length && !/\s/.test(text[i]!) && text[i] !== "{" && text[i] !== "}") {
      const d = text[i]!;
      if (d === '"' || d === "'") {
        const open = i;
        quoted = true;
        i++;
        while (i < text.length && text[i] !== d) {
          if (text[i] === "\\" && i + 1 < text.length) {
            const [ch, next] = readEscape(text, i + 1);
            word += ch;
            i = next;
          } else {
            word += text[i];
            i++;
          }
        }
        if (i >= text.length) {
          throw syntaxError(
            at(open),
            `unterminated quoted string: the ${d} opened here is not closed on this line`,
          );
        }
        i++;
      } else if (d === "$" && text[i + 1] === "{" && text.indexOf("}", i) > 0) {
        // An undefined ${NAME} stays in the text as written (keepalived does the same).
        const end = text.indexOf("}", i);
        word += text.slice(i, end + 1);
        i = end + 1;
      } else {
        word += d;
        i++;
      }
    }
    tokens.push({ kind: "word", text: word, quoted, loc: at(start) });
  }
  tokens.push({ kind: "end-of-line", loc: at(text.length) });
  return tokens;
}
