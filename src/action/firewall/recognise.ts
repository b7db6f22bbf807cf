/**
 * Which native backend can do an action's ban and unban. The action's `actionban` and
 * `actionunban`, with every static tag already filled in for one family (names, ports, the
 * family's set), are read as shell words; when they are exactly one firewall command each that
 * adds and removes `<ip>` to and from one named set or chain — the shape of the stock nftables,
 * iptables-ipset, firewallcmd-ipset (ipset type) and iptables actions — the native backend can do
 * the same change in batches. The iptables commands may be the default `iptables`/`ip6tables` or a
 * variant named explicitly (`iptables-legacy`, `iptables-nft`, as an admin of a legacy host sets
 * `iptables = iptables-legacy <lockingopt>`): the backend then runs that variant and its own
 * `-restore` tool, so the bans land in the same kernel tables the template would use. Anything
 * else (pipes, `$`, several commands, other tags, a customised command) is not recognised and
 * stays a template: recognition is by effect, so an admin's override of the commands is always
 * honoured.
 */

/** What the action's ban/unban do, in native terms. */
export type NativeTarget =
  | { readonly kind: 'nftables'; readonly command: string; readonly tableFamily: string; readonly table: string; readonly set: string }
  | { readonly kind: 'ipset'; readonly command: string; readonly set: string; readonly timeout: number | undefined }
  | { readonly kind: 'iptables'; readonly command: string; readonly lockArgs: readonly string[]; readonly chain: string; readonly ruleTail: readonly string[] };

/** The placeholder `<ip>` stands for in the parsed words. */
const IP = '\u0000ip\u0000';
const NAME = /^[A-Za-z0-9_.:-]+$/;
const WORD = /^[A-Za-z0-9_.:/=+,-]+$/;

/**
 * The words of a simple shell command (backslash escapes and plain quotes only), with `<ip>` as
 * {@link IP}; undefined when the text does anything else (expansions, redirections, several
 * commands, globs, other tags).
 */
export function simpleWords(text: string): string[] | undefined {
  const parts = text.trim().split('<ip>');
  if (parts.length !== 2) return undefined;
  const words: string[] = [];
  let cur: string | undefined;
  const src = parts.join(IP);
  for (let i = 0; i < src.length; i++) {
    const c = src.charAt(i);
    if (c === ' ' || c === '\t') {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
    } else if (c === '\\') {
      const n = src.charAt(++i);
      if (n === '' || n === '\n') return undefined;
      cur = (cur ?? '') + n;
    } else if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) return undefined;
      cur = (cur ?? '') + src.slice(i + 1, end);
      i = end;
    } else if ('"$`;|&<>()*?[]\n\r#~'.includes(c)) return undefined;
    else cur = (cur ?? '') + c;
  }
  if (cur !== undefined) words.push(cur);
  return words;
}

const base = (cmd: string): string => cmd.slice(cmd.lastIndexOf('/') + 1);
const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((w, i) => w === b[i]);

/** The native equivalent of a (statically resolved) actionban / actionunban pair, if there is one. */
export function recogniseBanCommands(ban: string, unban: string): NativeTarget | undefined {
  const b = simpleWords(ban);
  const u = simpleWords(unban);
  if (!b || !u || b.length === 0 || b[0] !== u[0]) return undefined;
  const cmd = b[0] ?? '';
  if (!/^[A-Za-z0-9_./-]+$/.test(cmd)) return undefined;
  switch (base(cmd)) {
    case 'nft':
      return nft(cmd, b, u);
    case 'ipset':
      return ipset(cmd, b, u);
    case 'iptables':
    case 'ip6tables':
    case 'iptables-legacy':
    case 'ip6tables-legacy':
    case 'iptables-nft':
    case 'ip6tables-nft':
      return iptables(cmd, b, u);
    default:
      return undefined;
  }
}

/** `nft add element FAM TABLE SET { <ip> }` / `nft delete element FAM TABLE SET { <ip> }`. */
function nft(cmd: string, b: readonly string[], u: readonly string[]): NativeTarget | undefined {
  const [, verb, what, tf, table, set, open, ip, close] = b;
  if (b.length !== 9 || verb !== 'add' || what !== 'element' || open !== '{' || ip !== IP || close !== '}') return undefined;
  if (!same(u, [cmd, 'delete', 'element', tf ?? '', table ?? '', set ?? '', '{', IP, '}'])) return undefined;
  if (![tf, table, set].every((w) => w !== undefined && NAME.test(w))) return undefined;
  return { kind: 'nftables', command: cmd, tableFamily: tf ?? '', table: table ?? '', set: set ?? '' };
}

/** `ipset -exist add SET <ip> [timeout N]` / `ipset -exist del SET <ip>`. */
function ipset(cmd: string, b: readonly string[], u: readonly string[]): NativeTarget | undefined {
  const [, exist, verb, set, ip, tkey, tval] = b;
  if (exist !== '-exist' || verb !== 'add' || ip !== IP || set === undefined || !NAME.test(set)) return undefined;
  let timeout: number | undefined;
  if (b.length === 7 && tkey === 'timeout' && tval !== undefined && /^\d+$/.test(tval)) timeout = Number(tval);
  else if (b.length !== 5) return undefined;
  if (!same(u, [cmd, '-exist', 'del', set, IP])) return undefined;
  return { kind: 'ipset', command: cmd, set, timeout };
}

/** `iptables [-w] -I CHAIN 1 -s <ip> -j TARGET…` / `iptables [-w] -D CHAIN -s <ip> -j TARGET…`. */
function iptables(cmd: string, b: readonly string[], u: readonly string[]): NativeTarget | undefined {
  const lock = b[1] === '-w' ? ['-w'] : [];
  const rest = b.slice(1 + lock.length);
  const [op, chain, pos, s, ip, j] = rest;
  if (op !== '-I' || pos !== '1' || s !== '-s' || ip !== IP || j !== '-j' || chain === undefined || !NAME.test(chain)) return undefined;
  const tail = rest.slice(6);
  if (tail.length === 0 || !tail.every((w) => WORD.test(w))) return undefined;
  if (!same(u, [cmd, ...lock, '-D', chain, '-s', IP, '-j', ...tail])) return undefined;
  return { kind: 'iptables', command: cmd, lockArgs: lock, chain, ruleTail: tail };
}
