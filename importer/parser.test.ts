// The line layer and the statement tree: comments, quoting, braces, includes, conditional lines
// and parameter substitution, with the locations every later message depends on.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Statement } from "./ast.js";
import { ConfigSyntaxError, DiagnosticSink, formatDiagnostic } from "./diagnostics.js";
import { memoryFileSystem } from "./filesystem.js";
import { expandBraces, glob } from "./glob.js";
import { parseConfig } from "./parser.js";

interface Parsed {
  statements: Statement[];
  files: string[];
  messages: string[];
}

function parse(files: Record<string, string>, configId?: string, root = "keepalived.conf"): Parsed {
  const sink = new DiagnosticSink();
  const tree = parseConfig(root, { fs: memoryFileSystem(files), sink, configId, env: { SITE: "east" } });
  return { statements: tree.statements, files: tree.files, messages: sink.diagnostics.map(formatDiagnostic) };
}

/** A compact rendering: `keyword arg arg { child; child }`. */
function render(statements: Statement[]): string {
  return statements
    .map((s) => {
      const words = [s.keyword, ...s.args].map((w) =>
        /[\s{};]/.test(w.text) || w.text === "" ? JSON.stringify(w.text) : w.text,
      );
      return s.block === undefined ? words.join(" ") : `${words.join(" ")} { ${render(s.block.statements)} }`;
    })
    .join("; ");
}

function syntaxError(files: Record<string, string>): string {
  try {
    parse(files);
  } catch (e) {
    if (e instanceof ConfigSyntaxError) return e.message;
    throw e;
  }
  assert.fail("expected a syntax error");
}

describe("statements and blocks", () => {
  test("comments start with # or ! anywhere outside quotes", () => {
    const p = parse({
      "keepalived.conf":
        '! header\nglobal_defs { # trailing\n  router_id a!b\n  notification_email_from "x#y!z"\n}\n',
    });
    assert.equal(render(p.statements), "global_defs { router_id a; notification_email_from x#y!z }");
  });

  test("quotes group words, may join unquoted text, and honour escapes", () => {
    const p = parse({ "keepalived.conf": `a "b c" d"e f"g 'h "i"' "tab\\there" "\\x41\\101\\\\"\n` });
    assert.deepEqual(
      p.statements[0]!.args.map((w) => w.text),
      ["b c", "de fg", 'h "i"', "tab\there", "AA\\"],
    );
    assert.deepEqual(
      p.statements[0]!.args.map((w) => w.quoted),
      [true, true, true, true, true],
    );
  });

  test("a quoted brace is a word, not a block", () => {
    const p = parse({ "keepalived.conf": 'notify "{"\n' });
    assert.equal(p.statements[0]!.block, undefined);
    assert.equal(p.statements[0]!.args[0]!.text, "{");
  });

  test("blocks open on the keyword's line, on the next line, or hold a whole line", () => {
    const p = parse({
      "keepalived.conf":
        "vrrp_instance A\n{\n  virtual_ipaddress { 198.51.100.1 }\n  track_script {\n    chk }\n}\n",
    });
    assert.equal(
      render(p.statements),
      "vrrp_instance A { virtual_ipaddress { 198.51.100.1 }; track_script { chk } }",
    );
  });

  test("locations are 1-based file, line and column of each word and brace", () => {
    const p = parse({ "keepalived.conf": "\n  vrrp_instance  VI {\n\tpriority 7 }\n" });
    const s = p.statements[0]!;
    assert.deepEqual(s.keyword.loc, { file: "keepalived.conf", line: 2, column: 3 });
    assert.deepEqual(s.args[0]!.loc, { file: "keepalived.conf", line: 2, column: 18 });
    assert.deepEqual(s.block!.open, { file: "keepalived.conf", line: 2, column: 21 });
    assert.deepEqual(s.block!.close, { file: "keepalived.conf", line: 3, column: 13 });
    assert.deepEqual(s.block!.statements[0]!.args[0]!.loc, { file: "keepalived.conf", line: 3, column: 11 });
  });

  test("syntax errors point at the offending character", () => {
    assert.equal(
      syntaxError({ "keepalived.conf": "a {\n  b {\n  }\n" }),
      'keepalived.conf:1:3: unterminated block: the "{" of "a" opened here is never closed with "}"',
    );
    assert.equal(
      syntaxError({ "keepalived.conf": "a {\n}\n  }\n" }),
      'keepalived.conf:3:3: unexpected "}": there is no open block to close',
    );
    assert.equal(
      syntaxError({ "keepalived.conf": "a 'x\n" }),
      "keepalived.conf:1:3: unterminated quoted string: the ' opened here is not closed on this line",
    );
    assert.equal(
      syntaxError({ "keepalived.conf": "a {\n}\n{\n}\n" }),
      'keepalived.conf:3:1: unexpected "{": no keyword before it opens a block',
    );
  });
});

describe("include", () => {
  test("patterns are relative to the including file, sorted, and nest", () => {
    const p = parse(
      {
        "etc/keepalived.conf": "include conf.d/*.conf\ninclude 'extra/{b,a}.conf'\n",
        "etc/conf.d/20-b.conf": "second\n",
        "etc/conf.d/10-a.conf": "first\ninclude ../extra/a.conf\n",
        "etc/conf.d/.hidden.conf": "hidden\n",
        "etc/extra/a.conf": "extra_a\n",
        "etc/extra/b.conf": "extra_b\n",
      },
      undefined,
      "etc/keepalived.conf",
    );
    assert.equal(render(p.statements), "first; extra_a; second; extra_b; extra_a");
    assert.deepEqual(p.files, [
      "etc/keepalived.conf",
      "etc/conf.d/10-a.conf",
      "etc/extra/a.conf",
      "etc/conf.d/20-b.conf",
      "etc/extra/b.conf",
      "etc/extra/a.conf",
    ]);
  });

  test("a block may open in one file and close in another, as the text is spliced", () => {
    const p = parse({
      "keepalived.conf": "global_defs {\ninclude body.conf\n}\n",
      "body.conf": "router_id x\n",
    });
    assert.equal(render(p.statements), "global_defs { router_id x }");
    assert.deepEqual(p.statements[0]!.block!.statements[0]!.keyword.loc, {
      file: "body.conf",
      line: 1,
      column: 1,
    });
  });

  test("a wildcard that matches nothing is a warning; a named file that is missing is an error", () => {
    const p = parse({ "keepalived.conf": "include none/*.conf\nx\n" });
    assert.deepEqual(p.messages, [
      'keepalived.conf:1: warning: include "none/*.conf" matched no file (looked for none/*.conf)',
    ]);
    assert.equal(
      syntaxError({ "keepalived.conf": "x\n  include sub/missing.conf\n" }),
      'keepalived.conf:2:3: include: cannot read "sub/missing.conf": no such file',
    );
    assert.equal(
      syntaxError({ "keepalived.conf": "include sub\n", "sub/a.conf": "" }),
      'keepalived.conf:1:1: include: cannot read "sub": is a directory',
    );
  });

  test("a file including itself is a cycle", () => {
    assert.equal(
      syntaxError({ "keepalived.conf": "include keepalived.conf\n" }),
      "keepalived.conf:1:1: include cycle: keepalived.conf -> keepalived.conf",
    );
  });

  test("brace expansion and globbing", () => {
    assert.deepEqual(expandBraces("a{b,c{d,e}}f"), ["abf", "acdf", "acef"]);
    assert.deepEqual(expandBraces("a{b"), ["a{b"]);
    const fs = memoryFileSystem({ "d/x1.conf": "", "d/x2.conf": "", "d/y.conf": "", "d/sub/x3.conf": "" });
    assert.deepEqual(glob(fs, "d/x?.conf"), ["d/x1.conf", "d/x2.conf"]);
    assert.deepEqual(glob(fs, "d/[!x]*.conf"), ["d/y.conf"]);
    assert.deepEqual(glob(fs, "d/*/x*.conf"), ["d/sub/x3.conf"]);
    assert.deepEqual(glob(fs, "d/{y,x1}.conf"), ["d/y.conf", "d/x1.conf"]);
  });
});

describe("conditional lines (@ID) and parameters ($NAME)", () => {
  const conditional = "@lb1 priority 150\n@lb2 priority 100\n@^lb1 nopreempt\nalways\n";

  test("@ID keeps a line for that config id only; @^ID for every other", () => {
    assert.equal(render(parse({ "keepalived.conf": conditional }, "lb1").statements), "priority 150; always");
    assert.equal(
      render(parse({ "keepalived.conf": conditional }, "lb2").statements),
      "priority 100; nopreempt; always",
    );
  });

  test("without a config id, @ID lines are dropped with a warning", () => {
    const p = parse({ "keepalived.conf": conditional });
    assert.equal(render(p.statements), "nopreempt; always");
    assert.deepEqual(p.messages, [
      'keepalived.conf:1: warning: line for config id "lb1" skipped: no config id was given (import with --node lb1=FILE or --config-id lb1 to keep it)',
      'keepalived.conf:2: warning: line for config id "lb2" skipped: no config id was given (import with --node lb2=FILE or --config-id lb2 to keep it)',
    ]);
  });

  test("$NAME and ${NAME} are replaced at use, recursively, with the latest definition", () => {
    const p = parse({
      "keepalived.conf":
        "$BASE=198.51.${SUB}\n$SUB=100\naddress ${BASE}.1/24\n$SUB=200\naddress ${BASE}.2 $SUB\n$EMPTY=\nx${EMPTY}y\n",
    });
    assert.equal(render(p.statements), "address 198.51.100.1/24; address 198.51.200.2 200; xy");
  });

  test("substituted words are located at the reference", () => {
    const p = parse({ "keepalived.conf": "$P=150\n  priority $P\n" });
    assert.deepEqual(p.statements[0]!.args[0]!.loc, { file: "keepalived.conf", line: 2, column: 12 });
  });

  test("a multi-line parameter expands to several lines, which may define and test again", () => {
    const p = parse(
      {
        "keepalived.conf": [
          "$RS= \\",
          "real_server 203.0.113.${N} 80 { \\",
          "  weight ${N} \\",
          "}",
          "virtual_server 198.51.100.1 80 {",
          "  $N=1",
          "  $RS",
          "  $N=2",
          "  $RS",
          "}",
          "",
        ].join("\n"),
      },
      "lb1",
    );
    assert.equal(
      render(p.statements),
      "virtual_server 198.51.100.1 80 { real_server 203.0.113.1 80 { weight 1 }; real_server 203.0.113.2 80 { weight 2 } }",
    );
  });

  test("predefined parameters", () => {
    const p = parse(
      { "dir/keepalived.conf": "a ${_INSTANCE} ${_HASH}x ${_BANG} ${_ENV SITE}\nb ${_PWD}\n" },
      "lb1",
      "dir/keepalived.conf",
    );
    assert.deepEqual(
      p.statements[0]!.args.map((w) => w.text),
      ["lb1", "#x", "!", "east"],
    );
    assert.ok(p.statements[1]!.args[0]!.text.endsWith("/dir"));
  });

  test("an undefined ${NAME} stays as written, with a warning; a bare $word is left alone", () => {
    const p = parse({ "keepalived.conf": 'script "exit $? ${NOPE}"\nx ${NOPE}y\n' });
    assert.deepEqual(
      p.statements.map((s) => s.args[0]!.text),
      ["exit $? ${NOPE}", "${NOPE}y"],
    );
    assert.deepEqual(p.messages, [
      "keepalived.conf:1: warning: parameter ${NOPE} is not defined; it is kept as written",
      "keepalived.conf:2: warning: parameter ${NOPE} is not defined; it is kept as written",
    ]);
  });

  test("self-reference and randomness are errors", () => {
    assert.equal(
      syntaxError({ "keepalived.conf": "$A=x${A}\nv ${A}\n" }),
      "keepalived.conf:2:3: parameter substitution does not end (does $A refer to itself?)",
    );
    assert.equal(
      syntaxError({ "keepalived.conf": "v ${_RANDOM 1 9}\n" }),
      "keepalived.conf:1:3: ${_RANDOM} makes every import different; replace it with a fixed value",
    );
  });
});
