// Located messages. Errors print as `file:line:col: message` (the form editors jump to); warnings
// as `file:line: warning: message`, since they concern a whole statement rather than a character.
import type { SourceLocation } from "./ast.js";

export type Severity = "error" | "warning";

export interface Diagnostic {
  severity: Severity;
  loc: SourceLocation;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return d.severity === "error"
    ? `${d.loc.file}:${d.loc.line}:${d.loc.column}: ${d.message}`
    : `${d.loc.file}:${d.loc.line}: warning: ${d.message}`;
}

export function formatLocation(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}`;
}

/** A syntax error: reading stops at the first one, since everything after it is guesswork. */
export class ConfigSyntaxError extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(formatDiagnostic(diagnostic));
    this.name = "ConfigSyntaxError";
  }
}

export function syntaxError(loc: SourceLocation, message: string): ConfigSyntaxError {
  return new ConfigSyntaxError({ severity: "error", loc, message });
}

/** Collects the messages of one import; errors make the import fail, warnings are printed. */
export class DiagnosticSink {
  readonly diagnostics: Diagnostic[] = [];

  error(loc: SourceLocation, message: string): void {
    this.diagnostics.push({ severity: "error", loc, message });
  }

  warning(loc: SourceLocation, message: string): void {
    this.diagnostics.push({ severity: "warning", loc, message });
  }

  get errors(): Diagnostic[] {
    return this.diagnostics.filter((d) => d.severity === "error");
  }

  get warnings(): Diagnostic[] {
    return this.diagnostics.filter((d) => d.severity === "warning");
  }

  hasErrors(): boolean {
    return this.diagnostics.some((d) => d.severity === "error");
  }
}
