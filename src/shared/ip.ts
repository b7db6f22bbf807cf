/**
 * IP addresses as fail2ban understands them (`IPAddr`): strict parsing (glibc `inet_pton`: no
 * leading zeros, no short IPv4 forms), `[v6]` brackets and `/plen` or `/mask` suffixes, masking,
 * IPv4-mapped IPv6 turned into IPv4, canonical text (glibc `inet_ntop`), and raw text kept as the
 * identity of anything that is not an address (a host name, `192.030.0.6`).
 */
import { PortcullisError } from './errors.js';

export type IpFamily = 4 | 6;

/** A parsed address or network; `family` undefined means "not an IP" (then `text` is the raw input). */
export interface IpAddress {
  readonly family: IpFamily | undefined;
  /** The address as a number (network order), masked to `plen`. 0n when not an IP. */
  readonly value: bigint;
  /** Prefix length: 32/128 for a single address; 0 when not an IP. */
  readonly plen: number;
  /** fail2ban's text: canonical address, `/plen` when it is a network; the raw input otherwise. */
  readonly text: string;
}

/** Whether a value is an {@link IpAddress} (for values of mixed type, such as a failure's groups). */
export function isIpAddress(v: unknown): v is IpAddress {
  return typeof v === 'object' && v !== null && 'plen' in v && 'text' in v && 'family' in v;
}

/** Raised where fail2ban's IPAddr raises ValueError (a malformed `/plen` or mask). */
export class IpSyntaxError extends PortcullisError {
  constructor(message: string) {
    super('E_IP_SYNTAX', message);
  }
}

const MAX = { 4: (1n << 32n) - 1n, 6: (1n << 128n) - 1n } as const;

/** glibc `inet_pton(AF_INET)`: exactly four decimal octets, no leading zeros, each at most 255. */
export function parseIpv4(text: string): bigint | undefined {
  const n = text.length;
  if (n < 7 || n > 15) return undefined;
  let v = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return undefined;
      v = v * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return undefined; // a leading zero
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return undefined;
    } else return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return BigInt(v * 256 + octet);
}

/** glibc `inet_pton(AF_INET6)`, including a trailing dotted IPv4 part. */
export function parseIpv6(text: string): bigint | undefined {
  if (text.length < 2 || text.length > 45 || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const words = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] ?? '';
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = words(halves[0] ?? '');
  const tail = halves.length === 2 ? words(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  if (halves.length === 2 && (halves[1] ?? '').includes('.') && (halves[0] ?? '').includes('.')) return undefined;
  if ((halves[0] ?? '').includes('.') && halves.length === 2) return undefined;
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const all = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  return all.reduce((acc, w) => (acc << 16n) | BigInt(w), 0n);
}

/** glibc `inet_ntop(AF_INET6)`: longest run (≥ 2) of zero words as `::`, embedded IPv4 forms. */
export function formatIpv6(value: bigint): string {
  const w = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(16 * (7 - i))) & 0xffffn));
  let best = { base: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > best.len) best = { base: i, len: j - i };
    i = j;
  }
  if (best.len < 2) best = { base: -1, len: 0 };
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best.base !== -1 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && best.base === 0 && (best.len === 6 || (best.len === 5 && w[5] === 0xffff))) {
      return out + formatIpv4(value & 0xffffffffn);
    }
    out += (w[i] ?? 0).toString(16);
  }
  if (best.base !== -1 && best.base + best.len === 8) out += ':';
  return out;
}

export function formatIpv4(value: bigint): string {
  const n = Number(value);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** A mask (`255.255.0.0`, `ffff:ffff::`) as a prefix length; undefined if not a contiguous mask. */
function maskToPlen(mask: string): number | undefined {
  const ip = parseIp(mask);
  if (ip.family === undefined) return undefined;
  const bits = ip.family === 4 ? 32 : 128;
  for (let plen = 0; plen <= bits; plen++) {
    if (ip.value === (MAX[ip.family] ^ (MAX[ip.family] >> BigInt(plen)))) return plen;
  }
  return undefined;
}

function build(family: IpFamily, raw: bigint, cidr: number | undefined): IpAddress {
  const bits = family === 4 ? 32 : 128;
  if (cidr === undefined && family === 6 && raw >> 32n === 0xffffn) {
    // ::ffff:0:0/96, IPv4-mapped: fail2ban treats it as the IPv4 address.
    return build(4, raw & 0xffffffffn, undefined);
  }
  const plen = cidr ?? bits;
  const value = cidr === undefined ? raw : raw & (MAX[family] ^ (MAX[family] >> BigInt(Math.min(cidr, bits))));
  const base = family === 4 ? formatIpv4(value) : formatIpv6(value);
  return { family, value, plen, text: plen && plen < bits ? `${base}/${plen}` : base };
}

/**
 * `IPAddr(text)`: brackets stripped, `/plen` or `/mask` applied. Throws IpSyntaxError where
 * fail2ban raises (a `/…` suffix that is neither a number nor a mask).
 */
export function parseIp(input: string): IpAddress {
  let text = input;
  if (text.length > 2 && text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  let cidr: number | undefined;
  const slash = text.indexOf('/');
  if (slash !== -1) {
    const suffix = text.slice(slash + 1);
    text = text.slice(0, slash);
    if (suffix.includes('.') || suffix.includes(':')) {
      cidr = maskToPlen(suffix);
      if (cidr === undefined) throw new IpSyntaxError(`invalid mask '${suffix}', no plen representation`);
    } else if (/^\s*[+-]?\d+\s*$/.test(suffix)) cidr = Number(suffix);
    else throw new IpSyntaxError(`invalid literal for int() with base 10: '${suffix}'`);
  }
  // fail2ban's special negative values: -1 unspecified, -2 raw, -4 / -12 an IPv4 / IPv6 family hint.
  const notIp: IpAddress = { family: undefined, value: 0n, plen: 0, text };
  if (cidr === -1) cidr = undefined;
  if (cidr === -2) return notIp;
  const families: readonly IpFamily[] = cidr === undefined || cidr >= 0 ? [4, 6] : cidr === -4 ? [4] : cidr === -12 ? [6] : [];
  if (cidr !== undefined && cidr < 0) cidr = undefined;
  for (const family of families) {
    const v = family === 4 ? parseIpv4(text) : parseIpv6(text);
    if (v !== undefined) return build(family, v, cidr);
  }
  return notIp;
}

/** Whether `ip` lies in `net` (same family, masked equality); false for anything not an IP. */
export function ipInNet(ip: IpAddress, net: IpAddress): boolean {
  if (ip.family === undefined || ip.family !== net.family) return false;
  const mask = MAX[ip.family] ^ (MAX[ip.family] >> BigInt(net.plen));
  return (ip.value & mask) === net.value;
}

/** fail2ban's special `cidr` arguments of `IPAddr(text, cidr)`. */
export const CIDR_UNSPEC = -1;
export const CIDR_RAW = -2;
export const FAM_IPV4 = -4;
export const FAM_IPV6 = -12;

/** The text of something that is not an address, kept raw. */
export function rawAddress(text: string): IpAddress {
  return { family: undefined, value: 0n, plen: 0, text };
}

/**
 * `IPAddr(text, cidr)`: {@link CIDR_UNSPEC} parses brackets and `/plen` ({@link parseIp});
 * {@link CIDR_RAW} keeps the text; {@link FAM_IPV4} / {@link FAM_IPV6} restrict the family; a
 * prefix length ≥ 0 masks the address. No brackets or suffixes are parsed when `cidr` is given.
 */
export function ipAddr(text: string, cidr: number = CIDR_UNSPEC): IpAddress {
  if (cidr === CIDR_UNSPEC) return parseIp(text);
  if (cidr === CIDR_RAW) return rawAddress(text);
  const families: readonly IpFamily[] = cidr >= 0 ? [4, 6] : cidr === FAM_IPV4 ? [4] : cidr === FAM_IPV6 ? [6] : [];
  for (const family of families) {
    const v = family === 4 ? parseIpv4(text) : parseIpv6(text);
    if (v !== undefined) return build(family, v, cidr >= 0 ? cidr : undefined);
  }
  return rawAddress(text);
}

/** Python's `IPAddr == other` where `other` is text (parsed) or another address. */
export function ipEquals(a: IpAddress, b: IpAddress | string): boolean {
  if (typeof b === 'string' && a.family === undefined) return a.text === b;
  const o = typeof b === 'string' ? parseIp(b) : b;
  if (a.family === undefined || o.family === undefined) return a.family === o.family && a.text === o.text;
  return a.family === o.family && a.value === o.value && a.plen === o.plen;
}
