#!/usr/bin/env node
// The floor under any single-threaded sshd filter in JavaScript on this machine: only the
// regexes the stock sshd filter must run per line, with none of the bookkeeping around them —
// the syslog date regex, the prefregex, then the failregexes in order (each skipped first by
// portcullis' exact pre-checks: first character and required literal) until one matches. No
// failure objects, no multi-line ids, no timestamps, no output, the log already in memory.
// Whatever portcullis does on top of this can only be slower, so 1 / floor is the ceiling for
// the lines/s of a one-core filter here; bench/filter-sshd.sh gives fail2ban's lines/s to
// compare with.
//
// Usage: npm run build && node bench/filter-floor.mjs LOG [ROUNDS]     (ROUNDS default 8; best is reported)
// LOG is an auth.log, e.g. the one bench/filter-sshd.sh caches in /tmp/portcullis-bench-genlog/.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(path.join(root, 'dist', 'src', p));
const [{ Filter }, { readFilterSettings }, { CollectingLog }, { NodeFileSystem }, { createDateTemplateContext }, { intlZone }, { captureIndices }] = await Promise.all([
  dist('filter/filter.js'), dist('config/filterFile.js'), dist('config/log.js'), dist('system/nodeFs.js'),
  dist('filter/dateTemplates.js'), dist('filter/strptime.js'), dist('regex/translate.js'),
]);

const [log, roundsArg] = process.argv.slice(2);
if (!log) {
  console.error('usage: node bench/filter-floor.mjs LOG [ROUNDS]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 8);
const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
const s = readFilterSettings(new NodeFileSystem(), '/etc/fail2ban', 'sshd', new Map(), new CollectingLog());
const now = () => Date.now() / 1000;
const f = new Filter(
  { usedns: 'warn', prefregex: s.prefregex, failregex: s.failregex, ignoreregex: s.ignoreregex, maxlines: s.maxlines, datepattern: s.datepattern },
  { now, realClock: now, zone: intlZone('UTC'), dates: createDateTemplateContext({ year: 2026 }) },
);
const pre = f.prefRegex.compiled.regex;
const content = captureIndices(pre.source).get('content');
const fails = f.failRegexes.map((r) => {
  const table = new Uint8Array(128);
  if (r.firstUnits) for (const u of r.firstUnits) if (u < 128) table[u] = 1;
  return { table: r.firstUnits ? table : null, literal: r.literal, re: r.compiled.regex };
});
// The syslog template `(?:DAY )?MON Day %k:%M:%S`, the one every line of the generated log uses.
const date = /^(?:[^\p{L}\p{N}_]{0,2})(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s)?(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+(\d{1,2}) (\d{1,2}):(\d{2}):(\d{2})/u;

let best = Infinity;
let hits = 0;
for (let round = 0; round < rounds; round++) {
  const t = performance.now();
  hits = 0;
  for (const line of lines) {
    const d = date.exec(line);
    const m = pre.exec(line.slice(d ? d[0].length : 0) + '\n');
    if (!m) continue;
    const c = m[content];
    const ch = c.charCodeAt(0);
    for (const { table, literal, re } of fails) {
      if (table && (ch >= 128 || table[ch] === 0)) continue;
      if (literal !== undefined && !c.includes(literal)) continue;
      if (re.exec(c)) {
        hits++;
        break;
      }
    }
  }
  best = Math.min(best, (performance.now() - t) / lines.length);
}
console.log(`lines: ${lines.length}, lines a failregex matched: ${hits}`);
console.log(`bare regex floor: ${(best * 1000).toFixed(2)} us/line (best of ${rounds}) = at most ${Math.round(1000 / best).toLocaleString('en-US')} lines/s on one core`);
