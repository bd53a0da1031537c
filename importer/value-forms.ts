// keepalived.conf value forms as statement parsers for the keyword catalogue. Each reports a
// located error and returns undefined when the statement does not have the form.
import type { Statement, Word } from "./ast.js";
import {
  type BlockSpec,
  type BlockValues,
  type Catalogue,
  type Located,
  type Parser,
  type ReadContext,
  argCount,
  checked,
  needBlock,
  noBlock,
  readBlock,
} from "./read-block.js";
import {
  type IPAddress,
  type IPPrefix,
  commandArgv,
  netmaskToPrefixLength,
  parseBool,
  parseIP,
  parseIPPrefix,
  parseInteger,
  parseTimerMillis,
} from "./values.js";

const kw = (s: Statement) => s.keyword.text;

/** A keyword on its own (`nopreempt`). */
export const flag: Parser<true> = (s, ctx) =>
  noBlock(s, ctx) && argCount(s, ctx, 0, 0, "no value") ? true : undefined;

/** `<BOOL>`, optional: the keyword alone means true. */
export const bool: Parser<boolean> = (s, ctx) => {
  if (!noBlock(s, ctx) || !argCount(s, ctx, 0, 1, "at most one value (on|off|true|false|yes|no)"))
    return undefined;
  const word = s.args[0];
  return word === undefined ? true : checked(word, ctx, kw(s), parseBool(word.text));
};

export function integer(min: number, max: number): Parser<number> {
  return (s, ctx) => {
    if (!noBlock(s, ctx) || !argCount(s, ctx, 1, 1, `one integer (${min}-${max})`)) return undefined;
    return checked(s.args[0]!, ctx, kw(s), parseInteger(s.args[0]!.text, min, max));
  };
}

/** `<TIMER>` in seconds (fractions allowed), as milliseconds. */
export function timer(minSeconds: number, maxSeconds: number): Parser<number> {
  return (s, ctx) => {
    if (!noBlock(s, ctx) || !argCount(s, ctx, 1, 1, `one time in seconds (${minSeconds}-${maxSeconds})`))
      return undefined;
    return checked(s.args[0]!, ctx, kw(s), parseTimerMillis(s.args[0]!.text, minSeconds, maxSeconds));
  };
}

export const word: Parser<string> = (s, ctx) =>
  noBlock(s, ctx) && argCount(s, ctx, 1, 1, "one value") ? s.args[0]!.text : undefined;

/** One or more words, kept as one string (router_id, virtualhost, regex...). */
export const text: Parser<string> = (s, ctx) =>
  noBlock(s, ctx) && argCount(s, ctx, 1, Infinity, "a value")
    ? s.args.map((a) => a.text).join(" ")
    : undefined;

export function choice<const T extends string>(values: readonly T[]): Parser<T> {
  return (s, ctx) => {
    if (!noBlock(s, ctx) || !argCount(s, ctx, 1, 1, `one of ${values.join("|")}`)) return undefined;
    const value = s.args[0]!.text;
    if ((values as readonly string[]).includes(value)) return value as T;
    ctx.sink.error(s.args[0]!.loc, `${kw(s)}: "${value}" is not one of ${values.join("|")}`);
    return undefined;
  };
}

export function ipWord(word: Word, ctx: ReadContext, keyword: string): IPAddress | undefined {
  const ip = parseIP(word.text);
  if (ip === undefined) ctx.sink.error(word.loc, `${keyword}: "${word.text}" is not an IP address`);
  return ip;
}

export const ip: Parser<IPAddress> = (s, ctx) =>
  noBlock(s, ctx) && argCount(s, ctx, 1, 1, "one IP address") ? ipWord(s.args[0]!, ctx, kw(s)) : undefined;

export function portWord(word: Word, ctx: ReadContext, keyword: string, min = 1): number | undefined {
  return checked(word, ctx, keyword, parseInteger(word.text, min, 65535));
}

export const port: Parser<number> = (s, ctx) =>
  noBlock(s, ctx) && argCount(s, ctx, 1, 1, "one port (1-65535)")
    ? portWord(s.args[0]!, ctx, kw(s))
    : undefined;

export const netmask: Parser<number> = (s, ctx) =>
  noBlock(s, ctx) && argCount(s, ctx, 1, 1, "one netmask")
    ? checked(s.args[0]!, ctx, kw(s), netmaskToPrefixLength(s.args[0]!.text))
    : undefined;

export interface ScriptCommand {
  argv: string[];
  /** `username [groupname]` after the script: kubelvs runs commands in the agent's context. */
  user?: Word;
}

/** `SCRIPT|"SCRIPT ARGS" [username [:][groupname]]`, as notify and check scripts are written. */
export const command: Parser<ScriptCommand> = (s, ctx) => {
  if (!noBlock(s, ctx) || !argCount(s, ctx, 1, 3, `a script ("path args" quoted when it has arguments)`))
    return undefined;
  const argv = checked(s.args[0]!, ctx, kw(s), commandArgv(s.args[0]!.text));
  if (argv === undefined) return undefined;
  return s.args[1] === undefined ? { argv } : { argv, user: s.args[1] };
};

export function block<C extends Catalogue>(spec: BlockSpec<C>): Parser<BlockValues<C>> {
  return (s, ctx) =>
    needBlock(s, ctx) && argCount(s, ctx, 0, 0, "no value before its {")
      ? readBlock(spec, s.block!.statements, ctx.sink)
      : undefined;
}

export interface Named<V> {
  name: Word;
  values: V;
  statement: Statement;
}

/** `KEYWORD NAME { ... }` (vrrp_instance, vrrp_script, vrrp_sync_group...). */
export function named<C extends Catalogue>(spec: BlockSpec<C>): Parser<Named<BlockValues<C>>> {
  return (s, ctx) => {
    if (!needBlock(s, ctx) || !argCount(s, ctx, 1, 1, "one name before its {")) return undefined;
    return { name: s.args[0]!, values: readBlock(spec, s.block!.statements, ctx.sink), statement: s };
  };
}

/** A block whose lines are entries of a list (virtual_ipaddress, unicast_peer, track_script...). */
export function list<T>(
  entry: (words: Word[], ctx: ReadContext) => T | undefined,
  entryBlock: string,
): Parser<Located<T>[]> {
  return (s, ctx) => {
    if (!needBlock(s, ctx) || !argCount(s, ctx, 0, 0, "no value before its {")) return undefined;
    const inner: ReadContext = { sink: ctx.sink, block: entryBlock };
    const out: Located<T>[] = [];
    for (const line of s.block!.statements) {
      if (line.block !== undefined) {
        ctx.sink.error(line.block.open, `entries of ${s.keyword.text} do not take a { } block`);
        continue;
      }
      const value = entry([line.keyword, ...line.args], inner);
      if (value !== undefined) out.push({ value, loc: line.keyword.loc, statement: line });
    }
    return out;
  };
}

/** Names, one per entry (vrrp_sync_group `group`, notification_email). */
export const nameEntry = (words: Word[], ctx: ReadContext): Word | undefined => {
  if (words.length === 1) return words[0];
  ctx.sink.error(words[1]!.loc, `${ctx.block}: one name per line`);
  return undefined;
};

export interface VirtualAddress {
  address: IPPrefix;
  device?: Word;
  label?: Word;
  /** Options of `ip address add` kubelvs does not model (brd, scope, no_track...). */
  otherOptions: Word[];
  words: Word[];
}

const ADDRESS_OPTIONS_WITH_VALUE = new Set([
  "brd",
  "broadcast",
  "dev",
  "scope",
  "label",
  "peer",
  "preferred_lft",
  "track_group",
]);
const ADDRESS_FLAGS = new Set([
  "home",
  "-nodad",
  "nodad",
  "mngtmpaddr",
  "noprefixroute",
  "autojoin",
  "no_track",
  "use_vmac",
]);

/** `<IPADDR>[/<MASK>] [brd <IPADDR>] [dev <STRING>] [scope <SCOPE>] [label <LABEL>] ...` */
export const virtualAddressEntry = (words: Word[], ctx: ReadContext): VirtualAddress | undefined => {
  const first = words[0]!;
  if (/^[\d.]+-[\d.]+$/.test(first.text) || /^[0-9a-fA-F:]+-[0-9a-fA-F:]+$/.test(first.text)) {
    ctx.sink.error(
      first.loc,
      `${ctx.block}: address ranges are only allowed in virtual_server_group, not "${first.text}"`,
    );
    return undefined;
  }
  const address = checked(first, ctx, ctx.block, parseIPPrefix(first.text));
  if (address === undefined) return undefined;
  const result: VirtualAddress = { address, otherOptions: [], words };
  for (let i = 1; i < words.length; i++) {
    const option = words[i]!;
    if (ADDRESS_OPTIONS_WITH_VALUE.has(option.text)) {
      const value = words[i + 1];
      if (value === undefined) {
        ctx.sink.error(option.loc, `${ctx.block}: "${option.text}" needs a value`);
        return undefined;
      }
      if (option.text === "dev") result.device = value;
      else if (option.text === "label") result.label = value;
      else result.otherOptions.push(option);
      i++;
    } else if (ADDRESS_FLAGS.has(option.text)) {
      result.otherOptions.push(option);
    } else {
      ctx.sink.error(option.loc, `${ctx.block}: unknown address option "${option.text}"`);
      return undefined;
    }
  }
  return result;
};

export interface Peer {
  address: IPAddress;
  otherOptions: Word[];
}

/** `<IPADDR> [min_ttl N] [max_ttl N]` */
export const peerEntry = (words: Word[], ctx: ReadContext): Peer | undefined => {
  const address = ipWord(words[0]!, ctx, ctx.block);
  if (address === undefined) return undefined;
  const otherOptions: Word[] = [];
  for (let i = 1; i < words.length; i += 2) {
    const option = words[i]!;
    if ((option.text !== "min_ttl" && option.text !== "max_ttl") || words[i + 1] === undefined) {
      ctx.sink.error(option.loc, `${ctx.block}: expected "min_ttl N" or "max_ttl N", found "${option.text}"`);
      return undefined;
    }
    if (checked(words[i + 1]!, ctx, option.text, parseInteger(words[i + 1]!.text, 0, 255)) === undefined)
      return undefined;
    otherOptions.push(option);
  }
  return { address, otherOptions };
};

export interface Tracked {
  name: Word;
  weight?: number;
  reverse?: Word;
}

/** `NAME [weight N] [reverse|noreverse]` (track_interface, track_script). */
export function trackedEntry(minWeight: number, maxWeight: number) {
  return (words: Word[], ctx: ReadContext): Tracked | undefined => {
    const result: Tracked = { name: words[0]! };
    for (let i = 1; i < words.length; i++) {
      const option = words[i]!;
      if (option.text === "weight") {
        const value = words[i + 1];
        if (value === undefined) {
          ctx.sink.error(option.loc, `${ctx.block}: "weight" needs a value (${minWeight}..${maxWeight})`);
          return undefined;
        }
        const weight = checked(
          value,
          ctx,
          `${ctx.block} weight`,
          parseInteger(value.text, minWeight, maxWeight),
        );
        if (weight === undefined) return undefined;
        result.weight = weight;
        i++;
      } else if (option.text === "reverse") {
        result.reverse = option;
      } else if (option.text === "noreverse") {
        delete result.reverse;
      } else {
        ctx.sink.error(option.loc, `${ctx.block}: expected "weight N" or "reverse", found "${option.text}"`);
        return undefined;
      }
    }
    return result;
  };
}

export type TunnelType = "ipip" | "gue" | "gre";
export type TunnelChecksum = "nocsum" | "csum" | "remcsum";

export interface ForwardingMethod {
  method: "NAT" | "DR" | "TUN";
  tunnelType?: TunnelType;
  tunnelPort?: number;
  checksum?: TunnelChecksum;
}

/** `NAT|DR|TUN [type {ipip|gue port NUM|gre} [nocsum|csum|remcsum]]` (lb_kind, lvs_method). */
export const forwarding: Parser<ForwardingMethod> = (s, ctx) => {
  if (
    !noBlock(s, ctx) ||
    !argCount(s, ctx, 1, 6, "NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]")
  )
    return undefined;
  const [method, ...rest] = s.args;
  const name = method!.text.toUpperCase();
  if (name === "PROXY" || (name !== "NAT" && name !== "DR" && name !== "TUN")) {
    ctx.sink.error(method!.loc, `${kw(s)}: "${method!.text}" is not one of NAT|DR|TUN`);
    return undefined;
  }
  const result: ForwardingMethod = { method: name };
  for (let i = 0; i < rest.length; i++) {
    const option = rest[i]!;
    if (name !== "TUN") {
      ctx.sink.error(option.loc, `${kw(s)}: "${option.text}" is only allowed after TUN`);
      return undefined;
    }
    if (option.text === "type") {
      const type = rest[i + 1]?.text;
      if (type !== "ipip" && type !== "gue" && type !== "gre") {
        ctx.sink.error((rest[i + 1] ?? option).loc, `${kw(s)}: tunnel type must be ipip, gue or gre`);
        return undefined;
      }
      result.tunnelType = type;
      i++;
    } else if (option.text === "port") {
      const value = rest[i + 1];
      const p = value === undefined ? undefined : portWord(value, ctx, `${kw(s)} port`);
      if (p === undefined) {
        if (value === undefined) ctx.sink.error(option.loc, `${kw(s)}: "port" needs a number`);
        return undefined;
      }
      result.tunnelPort = p;
      i++;
    } else if (option.text === "nocsum" || option.text === "csum" || option.text === "remcsum") {
      result.checksum = option.text;
    } else {
      ctx.sink.error(option.loc, `${kw(s)}: unexpected "${option.text}"`);
      return undefined;
    }
  }
  if (result.tunnelType === "gue" && result.tunnelPort === undefined) {
    ctx.sink.error(s.args[0]!.loc, `${kw(s)}: a GUE tunnel needs "port N"`);
    return undefined;
  }
  if (result.tunnelPort !== undefined && result.tunnelType !== "gue") {
    ctx.sink.error(s.args[0]!.loc, `${kw(s)}: "port" applies to GUE tunnels only`);
    return undefined;
  }
  if (result.checksum === "remcsum" && result.tunnelType === "gre") {
    ctx.sink.error(s.args[0]!.loc, `${kw(s)}: GRE tunnels have no remcsum option`);
    return undefined;
  }
  return result;
};

export interface ServerAddress {
  address: IPAddress;
  port?: number;
}

/** `<IPADDR> [<PORT>]` (real_server, sorry_server). */
export function serverAddress(s: Statement, ctx: ReadContext, what: string): ServerAddress | undefined {
  if (!argCount(s, ctx, 1, 2, `an address and optionally a port (${what} <IPADDR> [<PORT>])`))
    return undefined;
  const address = ipWord(s.args[0]!, ctx, kw(s));
  if (address === undefined) return undefined;
  if (s.args[1] === undefined) return { address };
  const p = portWord(s.args[1], ctx, `${kw(s)} port`, 0);
  return p === undefined ? undefined : { address, port: p };
}
