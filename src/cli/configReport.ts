/** Human-readable reports of a checked configuration (`portcullis config check|dump`). */
import type { CheckedConfiguration, JailConfig, Problem } from '../config/model.js';
import { formatLocation } from '../shared/errors.js';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : /(?:x|s|ch)$/.test(word) ? 'es' : 's'}`;
}

function problemLine(p: Problem): string {
  const where = formatLocation(p.location);
  return `${p.severity}: ${where ? `${where}: ` : ''}${p.message}`;
}

/** The summary line and one line per problem, errors first. */
export function formatProblems(c: CheckedConfiguration): string {
  const errors = c.problems.filter((p) => p.severity === 'error');
  const warnings = c.problems.filter((p) => p.severity === 'warning');
  const names = c.jails.map((j) => j.name).join(', ');
  let out = `${c.basedir}: ${plural(c.jails.length, 'jail')} enabled${names ? ` (${names})` : ''}, ${plural(errors.length, 'error')}, ${plural(warnings.length, 'warning')}\n`;
  for (const p of [...errors, ...warnings]) out += problemLine(p) + '\n';
  return out;
}

function seconds(s: number): string {
  return s < 0 ? 'permanent' : `${s}s`;
}

function jailBlock(j: JailConfig): string {
  const lines = [`[${j.name}]`];
  const row = (k: string, v: string): number => lines.push(`  ${k.padEnd(14)} ${v}`);
  row('backend', j.backend + j.backendArgs);
  if (j.filter) {
    const args = Object.entries(j.filter.args).map(([k, v]) => `${k}=${v}`).join(', ');
    row('filter', `${j.filter.name}${args ? `[${args}]` : ''}: ${plural(j.filter.failregex.length, 'failregex')}, ${j.filter.ignoreregex.length} ignoreregex, maxlines ${j.filter.maxlines}, usedns ${j.filter.usedns}`);
    if (j.filter.datepattern !== undefined) row('datepattern', j.filter.datepattern);
    for (const m of j.filter.journalmatch) row('journalmatch', m.join(' '));
  } else row('filter', '(none)');
  for (const p of j.logpaths) row('logpath', `${p.path}${p.tail ? ' (tail)' : ''}`);
  row('counting', `maxretry ${j.maxretry} within findtime ${seconds(j.findtimeSec)}, maxmatches ${j.maxmatches}`);
  const inc = j.bantimeIncrement;
  row('bantime', seconds(j.bantimeSec) + (inc.enabled ? `, increment${inc.factor !== undefined ? ` factor ${inc.factor}` : ''}${inc.maxtimeSec !== undefined ? ` max ${seconds(inc.maxtimeSec)}` : ''}` : ''));
  if (j.ignoreip.length > 0) row('ignoreip', j.ignoreip.join(' '));
  row('ignoreself', String(j.ignoreself));
  if (j.ignorecommand) row('ignorecommand', j.ignorecommand);
  for (const a of j.actions) {
    const props = a.kind === 'python' ? `python ${a.pythonFile ?? ''}` : Object.entries(a.properties).filter(([k]) => !k.startsWith('action') && !k.includes('?')).map(([k, v]) => `${k}=${String(v)}`).join(', ');
    row('action', `${a.name}${props ? ` (${props})` : ''}`);
  }
  return lines.join('\n') + '\n';
}

/** Server settings and every enabled jail, resolved. */
export function formatDump(c: CheckedConfiguration): string {
  const s = c.server;
  let out = `# ${c.basedir}\n[server]\n`;
  const row = (k: string, v: string): void => void (out += `  ${k.padEnd(14)} ${v}\n`);
  row('loglevel', s.loglevel);
  row('logtarget', s.logtarget);
  row('socket', s.socket);
  row('pidfile', s.pidfile);
  row('dbfile', s.dbfile ?? '(disabled)');
  row('dbpurgeage', seconds(s.dbpurgeageSec));
  row('dbmaxmatches', String(s.dbmaxmatches));
  for (const j of c.jails) out += '\n' + jailBlock(j);
  return out;
}
