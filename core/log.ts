// Structured JSON logging: one object per line, so transitions and drops can be parsed and counted
// by whatever collects the agent's output. No dependency: the agent's RSS budget is small.
import { createWriteStream, type WriteStream } from "node:fs";

export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Whether a line at `level` passes a logger set to `minimum`. */
export const levelEnabled = (level: LogLevel, minimum: LogLevel): boolean => RANK[level] >= RANK[minimum];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry these fields (e.g. { group: "web" }). */
  child(fields: LogFields): Logger;
}

export interface LogSink {
  write(line: string): void;
}

function serialise(value: unknown): unknown {
  if (value instanceof Error) {
    const out: Record<string, unknown> = { message: value.message, name: value.name };
    for (const k of ["code", "errno", "syscall", "object"]) {
      const v = (value as unknown as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

/** Fields as they are written: errors as plain objects (with errno, syscall...), bigints as text. */
export function serialiseFields(fields: LogFields | undefined): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields ?? {})) out[k] = serialise(v);
  return out;
}

export function createLogger(options: {
  sink?: LogSink;
  level?: LogLevel;
  fields?: LogFields;
  now?: () => Date;
}): Logger {
  const sink = options.sink ?? process.stderr;
  const min = RANK[options.level ?? "info"];
  const now = options.now ?? (() => new Date());
  const base = options.fields ?? {};
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const record: Record<string, unknown> = {
      time: now().toISOString(),
      level,
      msg,
      ...base,
      ...serialiseFields(fields),
    };
    sink.write(JSON.stringify(record) + "\n");
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger({ ...options, sink, fields: { ...base, ...fields } }),
  };
}

/** A sink appending to a file (the agent's --log-file), created if missing. */
export function fileSink(path: string): LogSink & { close(): void } {
  const stream: WriteStream = createWriteStream(path, { flags: "a" });
  return { write: (line) => void stream.write(line), close: () => stream.end() };
}

/** A sink that keeps lines in memory, for tests. */
export function memorySink(): LogSink & { lines: string[]; records(): Record<string, unknown>[] } {
  const lines: string[] = [];
  return {
    lines,
    write: (line) => void lines.push(line),
    records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
