/**
 * fail2ban's failregex tags (`<HOST>`, `<ADDR>`, `<IP4>`, `<IP6>`, `<DNS>`, `<CIDR>`, `<SUBNET>`,
 * `<F-ID/>`, `<F-PORT/>`, `<SKIPLINES>`, custom `<F-NAME>…</F-NAME>`) expanded into Python regex
 * text, then `((?i)…` / `(?:(?i)…` rewritten into scoped flags, exactly as fail2ban 1.0.2 does
 * before compiling. The result is still Python syntax; `src/regex` translates it.
 */

/** Debian fail2ban 1.0.2's address patterns (`IPAddr.IP_4_RE`, `IP_6_RE`). */
export const IP4_RE = String.raw`(?:\d{1,3}\.){3}\d{1,3}`;
export const IP6_RE = String.raw`(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):)`;

const R_IP4 = String.raw`(?:::f{4,6}:)?(?P<ip4>${IP4_RE})`;
const R_IP6 = `(?P<ip6>${IP6_RE})`;
const R_DNS = String.raw`(?P<dns>[\w\-.^_]*\w)`;
const R_CIDR = String.raw`(?P<cidr>\d+)`;
const R_ADDR = String.raw`\[?(?:${R_IP4}|${R_IP6})\]?`;
const R_HOST = `(?:${R_ADDR}|${R_DNS})`;
const R_SUBNET = String.raw`\[?(?:${R_IP4}|${R_IP6})(?:/${R_CIDR})?\]?`;

const FIXED_TAGS: Readonly<Record<string, string>> = {
  IP4: R_IP4,
  'F-IP4/': R_IP4,
  IP6: R_IP6,
  'F-IP6/': R_IP6,
  ADDR: R_ADDR,
  'F-ADDR/': R_ADDR,
  CIDR: R_CIDR,
  'F-CIDR/': R_CIDR,
  SUBNET: R_SUBNET,
  'F-SUBNET/': R_SUBNET,
  DNS: R_DNS,
  'F-DNS/': R_DNS,
  'F-ID/': String.raw`(?P<fid>\S+)`,
  'F-PORT/': String.raw`(?P<fport>\w+)`,
};

/** Python's `</?[\w\-]+/?>` with Unicode `\w`. */
const TAG_RE = /<\/?[\p{L}\p{N}_-]+\/?>/gu;
const CUSTOM_RE = /^(\/?)F-([A-Z0-9_-]+)$/;
const GLOBAL_TO_SCOPED = /(?<!\\)\((?:\?:)?(\(\?[a-z]+)\)/g;

/** The group name of a custom `<F-NAME>` tag: lowercased, `id` → `fid`, `port` → `fport`. */
export function mapTagToGroup(name: string): string {
  const lower = name.toLowerCase();
  return lower === 'id' ? 'fid' : lower === 'port' ? 'fport' : lower;
}

/** `Regex._resolveHostTag(regex, useDns)`. */
export function expandFilterTags(regex: string, usedns: string): string {
  const open = new Set<string>();
  let skiplines = 0;
  return regex.replace(TAG_RE, (tag) => {
    const name = tag.slice(1, -1);
    if (name === 'HOST') return usedns === 'no' ? R_ADDR : R_HOST;
    if (name === 'SKIPLINES') return String.raw`\n(?P<skiplines${skiplines++}>(?:(?:.*\n)*?))`;
    const fixed = FIXED_TAGS[name];
    if (fixed !== undefined) return fixed;
    const custom = CUSTOM_RE.exec(name);
    if (!custom) return tag;
    const tagName = custom[2] ?? '';
    if (custom[1]) return open.has(tagName) ? ')' : tag;
    open.add(tagName);
    return `(?P<${mapTagToGroup(tagName)}>`;
  });
}

/** fail2ban's rewrite of `((?i)X)` and `(?:(?i)X)` into the scoped `(?i:X)` (Python ≥ 3.6). */
export function scopeGroupFlags(regex: string): string {
  return regex.replace(GLOBAL_TO_SCOPED, '$1:');
}

/** Both steps, as `Regex.__init__` applies them before compiling. */
export function prepareFailRegex(regex: string, usedns: string): string {
  return scopeGroupFlags(expandFilterTags(regex, usedns));
}
