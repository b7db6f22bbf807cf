/**
 * fail2ban-regex `-o/--out`: one value per failure (`id`, `ip`, `msg`, `row`, a group name) or a
 * template with action-style tags (`<ip> <time> <F-USER> <msg>` …), as 1.0.2 prints them.
 */
import type { Failure } from '../../filter/filter.js';
import { joinTuple, linesOf, type FailData, type FailValue } from '../../filter/failData.js';
import { mapTagToGroup } from '../../filter/tagExpand.js';
import type { IpAddress } from '../../shared/ip.js';
import { pyReprFloat } from '../../shared/pyvalue.js';
import { pyReprDict, pyReprValue, pyStrValue, pyTime } from './pyfmt.js';

export interface OutEnv {
  /** `MyTime.time()` for failures without a date. */
  readonly now: () => number;
  readonly hostname: () => string;
}

const TAG = /<([^ <>]+)>/g;
const FTAG = /<F-([A-Z0-9_-]+)>/g;

/** The ticket data fail2ban builds from a failure (`matches`, `failures`, then every non-None entry). */
function ticketData(fail: FailData): Map<string, FailValue> {
  const data = new Map<string, FailValue>([['matches', []], ['failures', 0]]);
  for (const [k, v] of fail) if (v !== null) data.set(k, v);
  return data;
}

function ptr(ip: IpAddress): string {
  if (ip.family === 4) return `${ip.text.split('.').reverse().join('.')}.`;
  if (ip.family === 6) return `${ip.value.toString(16).padStart(32, '0').split('').reverse().join('.')}.`;
  return '';
}

function matchesText(data: Map<string, FailValue>): string {
  return linesOf(data, 'matches').map(joinTuple).join('\n');
}

/** A function printing the failures of one line in the `-o` format. */
export function outputFormatter(format: string, env: OutEnv, print: (line: string) => void): (ret: readonly Failure[]) => void {
  if (format === 'id' || format === 'fid') return (ret) => { for (const r of ret) print(r.fid ? r.fid.text : 'None'); };
  if (format === 'ip') return (ret) => { for (const r of ret) print(pyStrValue(r.fail.get('ip') ?? r.fid)); };
  if (format === 'msg') {
    return (ret) => { for (const r of ret) for (const l of linesOf(r.fail, 'matches')) print(joinTuple(l)); };
  }
  if (format === 'row') {
    return (ret) => {
      for (const r of ret) print(`[${r.fid ? pyReprValue(r.fid) : 'None'},\t${pyTime(r.time, r.intTime)},\t${pyReprDict(r.fail, 'matches')}],`);
    };
  }
  if (!format.includes('<')) return (ret) => { for (const r of ret) print(pyStrValue(r.fail.get(format) ?? null)); };
  // The template split once into literal text and tags (the same scan `format.replace(TAG, …)` does).
  const literals: string[] = [];
  const tags: string[] = [];
  let last = 0;
  for (const m of format.matchAll(TAG)) {
    literals.push(format.slice(last, m.index));
    tags.push(m[1] as string);
    last = m.index + m[0].length;
  }
  const tail = format.slice(last);
  return (ret) => {
    const rows: Array<[Failure, string]> = [];
    let wrap = false;
    for (const r of ret) {
      let data: Map<string, FailValue> | undefined;
      const ticket = (): Map<string, FailValue> => (data ??= ticketData(r.fail));
      const ipv = r.fail.get('ip');
      const ip = (ipv === null || ipv === undefined ? null : (ipv as IpAddress)) ?? r.fid;
      const value = (tag: string): string | undefined => {
        switch (tag) {
          case 'ip': return ip ? ip.text : 'None';
          case 'family': return ip?.family === 4 ? 'inet4' : ip?.family === 6 ? 'inet6' : 'None';
          case 'ip-rev': return ip ? ptr(ip) : '';
          case 'fid': return r.fid ? r.fid.text : 'None';
          case 'failures': return pyStrValue(ticket().get('failures'));
          case 'time': return r.time === null ? pyReprFloat(env.now()) : pyTime(r.time, r.intTime);
          case 'bancount': return '0';
          case 'restored': return '0';
          case 'matches': return matchesText(ticket());
          case 'F-*': return pyReprDict(ticket());
          case 'msg':
            if (!wrap && linesOf(r.fail, 'matches').length <= 1) return matchesText(ticket());
            wrap = true;
            return '\u0000msg\u0000';
          case 'br': return '\n';
          case 'sp': return ' ';
          case 'fq-hostname':
          case 'sh-hostname': return env.hostname();
          default: return undefined;
        }
      };
      let v = '';
      for (let i = 0; i < tags.length; i++) {
        const tag = tags[i] as string;
        const x = value(tag);
        v += literals[i] as string;
        if (x === undefined) v += `<${tag}>`;
        else v += tag === 'msg' || !x.includes('\u0000') ? x : x.replace(/\u0000/g, '\\x00');
      }
      v += tail;
      if (v.includes('<')) {
        v = v.replace(FTAG, (_m, tag: string) => {
          const x = ticket().get(mapTagToGroup(tag));
          return x === undefined ? '' : pyStrValue(x).replace(/\u0000/g, '\\x00');
        });
      }
      if (wrap) {
        rows.push([r, v]);
        continue;
      }
      print(v);
    }
    for (const [r, v] of rows) for (const l of linesOf(r.fail, 'matches')) print(v.replaceAll('\u0000msg\u0000', joinTuple(l)));
  };
}
