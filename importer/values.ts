// Parsers for keepalived's value forms (addresses, ports, integers, <TIMER>, <BOOL>, netmasks,
// script command lines). Pure functions: they return undefined (or a reason) and never throw.
import { isIPv4, isIPv6 } from "node:net";

export type IPFamily = 4 | 6;

export interface IPAddress {
  family: IPFamily;
  /** Canonical text: dotted quad, or RFC 5952 compressed lower-case IPv6. */
  text: string;
}

export function parseIP(text: string): IPAddress | undefined {
  if (isIPv4(text)) return { family: 4, text };
  if (isIPv6(text)) {
    // The URL parser applies RFC 5952 canonicalisation (lower case, longest zero run compressed).
    const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
    return { family: 6, text: canonical };
  }
  return undefined;
}

export interface IPPrefix extends IPAddress {
  prefixLength?: number;
}

/** `ADDR` or `ADDR/LEN`. */
export function parseIPPrefix(text: string): IPPrefix | string {
  const [addressText, lengthText, ...rest] = text.split("/");
  const address = parseIP(addressText ?? "");
  if (address === undefined || rest.length > 0) return `"${text}" is not an IP address`;
  if (lengthText === undefined) return address;
  const max = address.family === 4 ? 32 : 128;
  if (!/^\d+$/.test(lengthText) || Number(lengthText) > max) {
    return `"/${lengthText}" is not a prefix length for an IPv${address.family} address (0-${max})`;
  }
  return { ...address, prefixLength: Number(lengthText) };
}

/** A decimal integer in [min, max]; returns a reason on failure. */
export function parseInteger(text: string, min: number, max: number): number | string {
  if (!/^[+-]?\d+$/.test(text)) return `"${text}" is not an integer`;
  const value = Number(text);
  if (value < min || value > max) return `${text} is out of range (${min}-${max})`;
  return value;
}

/** keepalived <TIMER>: seconds with up to microsecond fractions; returned in milliseconds (rounded). */
export function parseTimerMillis(text: string, minSeconds: number, maxSeconds: number): number | string {
  if (!/^\d+(\.\d+)?$|^\.\d+$/.test(text)) return `"${text}" is not a time in seconds`;
  const seconds = Number(text);
  if (seconds < minSeconds || seconds > maxSeconds) {
    return `${text} s is out of range (${minSeconds}-${maxSeconds} s)`;
  }
  return Math.round(seconds * 1000);
}

const TRUE_WORDS = new Set(["on", "true", "yes"]);
const FALSE_WORDS = new Set(["off", "false", "no"]);

/** keepalived <BOOL>; a keyword given without a value means true. */
export function parseBool(text: string | undefined): boolean | string {
  if (text === undefined) return true;
  const lower = text.toLowerCase();
  if (TRUE_WORDS.has(lower)) return true;
  if (FALSE_WORDS.has(lower)) return false;
  return `"${text}" is not a boolean (on|off|true|false|yes|no)`;
}

/** A netmask (255.255.255.0, ffff:ffff::) or a bare prefix length, as a prefix length. */
export function netmaskToPrefixLength(text: string): number | string {
  if (/^\d+$/.test(text)) {
    const length = Number(text);
    return length >= 1 && length <= 128 ? length : `"${text}" is not a prefix length (1-128)`;
  }
  const address = parseIP(text);
  if (address === undefined) return `"${text}" is not a netmask`;
  let bits = "";
  if (address.family === 4) {
    bits = address.text
      .split(".")
      .map((o) => Number(o).toString(2).padStart(8, "0"))
      .join("");
  } else {
    const [head = "", tail = ""] = address.text.split("::");
    const h = head === "" ? [] : head.split(":");
    const t = tail === "" ? [] : tail.split(":");
    const groups = address.text.includes("::")
      ? [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t]
      : h;
    bits = groups.map((g) => parseInt(g, 16).toString(2).padStart(16, "0")).join("");
  }
  const length = bits.indexOf("0") < 0 ? bits.length : bits.indexOf("0");
  if (bits.slice(length).includes("1")) return `"${text}" is not a contiguous netmask`;
  if (length === 0) return `netmask "${text}" is empty`;
  return length;
}

/**
 * A keepalived script line as argv: words split on whitespace, single quotes group words (the
 * double quotes were already removed by the lexer), as keepalived splits notify and check scripts.
 */
export function commandArgv(text: string): string[] | string {
  const argv: string[] = [];
  let current = "";
  let inWord = false;
  let quote = false;
  for (const c of text) {
    if (quote) {
      if (c === "'") quote = false;
      else current += c;
    } else if (c === "'") {
      quote = true;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) argv.push(current);
      current = "";
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (quote) return `unterminated ' in command "${text}"`;
  if (inWord) argv.push(current);
  if (argv.length === 0) return "empty command";
  return argv;
}

function ipv4ToNumber(text: string): number {
  return text.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

function numberToIPv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/** Addresses of a virtual_server_group range: `A.B.C.D-E`, `A-B` (full addresses) or `A/len` (IPv4). */
export function expandIPv4Range(text: string, limit: number): string[] | string {
  const dash = /^(\d+\.\d+\.\d+\.\d+)-(\d+(?:\.\d+\.\d+\.\d+)?)$/.exec(text);
  const slash = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(text);
  let first: number;
  let last: number;
  if (dash) {
    if (!isIPv4(dash[1]!)) return `"${dash[1]}" is not an IPv4 address`;
    first = ipv4ToNumber(dash[1]!);
    const end = dash[2]!.includes(".") ? dash[2]! : dash[1]!.replace(/\d+$/, dash[2]!);
    if (!isIPv4(end)) return `"${dash[2]}" is not the end of an IPv4 range`;
    last = ipv4ToNumber(end);
  } else if (slash) {
    const length = Number(slash[2]);
    if (!isIPv4(slash[1]!) || length > 32) return `"${text}" is not an IPv4 prefix`;
    const size = 2 ** (32 - length);
    first = Math.floor(ipv4ToNumber(slash[1]!) / size) * size;
    last = first + size - 1;
  } else {
    return `"${text}" is not an address range`;
  }
  if (last < first) return `range "${text}" ends before it starts`;
  if (last - first + 1 > limit)
    return `range "${text}" has ${last - first + 1} addresses; the importer expands at most ${limit}`;
  const out: string[] = [];
  for (let n = first; n <= last; n++) out.push(numberToIPv4(n));
  return out;
}

/** True when the address is the all-ones (broadcast) address of its IPv4 prefix. */
export function isIPv4Broadcast(address: string, prefixLength: number): boolean {
  if (prefixLength >= 31) return false;
  const hostBits = 32 - prefixLength;
  return ipv4ToNumber(address) % 2 ** hostBits === 2 ** hostBits - 1;
}

/** True when the address is the all-zeros (network) address of its IPv4 prefix. */
export function isIPv4Network(address: string, prefixLength: number): boolean {
  if (prefixLength >= 31) return false;
  return ipv4ToNumber(address) % 2 ** (32 - prefixLength) === 0;
}
