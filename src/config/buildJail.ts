/**
 * Turns one jail's command stream (what the server would execute) into a typed JailConfig,
 * checking every value the way the server would and reporting problems with their location.
 */
import type { SourceLocation } from '../shared/errors.js';
import { parseDurationSeconds } from '../shared/duration.js';
import { PyFloat, pyRepr, type PyValue } from '../shared/pyvalue.js';
import type { ActionConfig, BackendKind, BanTimeIncrement, FilterConfig, JailConfig, LogPathConfig, LogPathPattern, Problem, UseDns } from './model.js';
import type { JailReader } from './readers/jail.js';
import type { StreamCommand } from './readers/filter.js';
import { extractOptions } from './options.js';
import { pyStr } from './ini/store.js';
import { isKnownEncoding } from './encodings.js';

const BACKENDS: readonly BackendKind[] = ['auto', 'polling', 'pyinotify', 'gamin', 'systemd'];
const USEDNS: readonly UseDns[] = ['yes', 'warn', 'no', 'raw'];
const ID_GROUP = /<(?:HOST|ADDR|IP4|IP6|DNS|CIDR|SUBNET|F-ID|F-MLFID)>|\(\?P<(?:fid|ip4|ip6|dns|mlfid)>/;

class JailBuilder {
  readonly problems: Problem[] = [];
  readonly sets = new Map<string, PyValue>();
  readonly failregex: string[] = [];
  readonly ignoreregex: string[] = [];
  readonly ignoreip: string[] = [];
  readonly journalmatch: string[][] = [];
  readonly logpaths: LogPathConfig[] = [];
  readonly actions: ActionConfig[] = [];
  backend: PyValue = 'auto';

  constructor(private readonly jail: JailReader) {}

  problem(severity: Problem['severity'], code: string, option: string, message: string): void {
    this.problems.push({ severity, code, message, location: this.jail.locate(option) });
  }

  apply(cmd: StreamCommand): void {
    const [verb, , what, ...rest] = cmd;
    if (verb === 'add') this.backend = what ?? 'auto';
    if (verb !== 'set' && verb !== 'multi-set') return;
    const key = pyStr(what as string);
    if (key === 'action') return this.setActionProps(verb === 'multi-set', rest);
    const values: PyValue[] = verb === 'multi-set' ? [...((rest[0] as PyValue[] | undefined) ?? [])] : rest;
    if (key === 'addfailregex') this.failregex.push(...values.map((v) => pyStr(v as string)));
    else if (key === 'addignoreregex') this.ignoreregex.push(...values.map((v) => pyStr(v as string)));
    else if (key === 'addignoreip') this.ignoreip.push(...values.map((v) => pyStr(v as string)));
    else if (key === 'addjournalmatch') this.journalmatch.push(values.map((v) => pyStr(v as string)));
    else if (key === 'addlogpath') this.addLogPath(values);
    else if (key === 'addaction') this.addAction(values);
    else this.sets.set(key, values[0] ?? null);
  }

  private addLogPath([path, tail]: PyValue[]): void {
    const t = pyStr((tail as string | undefined) ?? 'head').toLowerCase();
    if (t !== 'head' && t !== 'tail') this.problem('error', 'E_LOGPATH_OPTION', 'logpath', `log path option "${pyStr(tail as string)}" after ${pyStr(path as string)} must be "head" or "tail"`);
    this.logpaths.push({ path: pyStr(path as string), tail: t === 'tail' });
  }

  private addAction([name, file, args]: PyValue[]): void {
    const base = { name: pyStr(name as string), properties: {} };
    if (file === undefined) this.actions.push({ ...base, kind: 'command' });
    else this.actions.push({ ...base, kind: 'python', pythonFile: pyStr(file as string), pythonArgs: pyStr(args as string) });
    if (file !== undefined) this.problem('error', 'E_PYTHON_ACTION', 'action', `Python action ${pyStr(file as string)} is not supported by portcullis; use a command action (action.d/*.conf)`);
  }

  /** `set J action A k v` or `multi-set J action A [[k, v], …]`. */
  private setActionProps(multi: boolean, values: PyValue[]): void {
    const [actName, ...props] = values;
    const action = this.actions.find((a) => a.name === actName);
    if (!action) return;
    const pairs = multi ? ((props[0] as PyValue[][] | undefined) ?? []) : [props];
    const properties: Record<string, string | boolean | number | null> = { ...action.properties };
    for (const [k, v] of pairs) properties[pyStr(k as string)] = v instanceof PyFloat || Array.isArray(v) ? pyRepr(v as PyValue) : (v as string | boolean | number | null);
    this.actions[this.actions.indexOf(action)] = { ...action, properties };
  }

  text(key: string): string | undefined {
    const v = this.sets.get(key);
    return v === undefined || v === null ? undefined : pyStr(v as string);
  }

  int(key: string, fallback: number, min: number): number {
    if (!this.sets.has(key)) return fallback;
    const v = this.sets.get(key);
    if (typeof v !== 'number' || v < min) {
      const raw = this.jail.rawText(key) ?? pyStr(v as string);
      this.problem('error', 'E_BAD_INT', key, `${key} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return v;
  }

  seconds(key: string, fallback: number | undefined): number | undefined {
    const t = this.text(key);
    if (t === undefined) return fallback;
    const s = parseDurationSeconds(t);
    if (s === undefined) this.problem('error', 'E_BAD_TIME', key, `${key} = ${JSON.stringify(t)} is not a time; use seconds or abbreviations such as 600, 10m, 1h, 1d, 1w, or -1 for permanent`);
    return s ?? fallback;
  }
}

function buildFilter(b: JailBuilder, jail: JailReader): FilterConfig | undefined {
  if (!jail.filter) return undefined;
  const usednsRaw = (b.text('usedns') ?? 'warn').toLowerCase();
  const usedns = USEDNS.find((u) => u === usednsRaw) ?? (usednsRaw === 'true' ? 'yes' : usednsRaw === 'false' ? 'no' : undefined);
  if (!usedns) b.problem('warning', 'E_USEDNS', 'usedns', `usedns = ${JSON.stringify(usednsRaw)} is not one of yes, warn, no, raw; fail2ban uses "no"`);
  const prefregex = b.text('prefregex') || undefined;
  for (const re of b.failregex) {
    if (!ID_GROUP.test(re) && !(prefregex && ID_GROUP.test(prefregex))) {
      b.problem('error', 'E_NO_FAILURE_ID', 'failregex', `failregex ${JSON.stringify(re)} has no <HOST>, <ADDR>, <F-ID> or other failure-id group (fail2ban: "No failure-id group")`);
    }
  }
  const parsed = extractOptions(pyStr(jail.options.get('filter') ?? ''));
  return {
    name: parsed.name,
    args: Object.fromEntries(parsed.options),
    usedns: usedns ?? 'no',
    prefregex,
    failregex: b.failregex,
    ignoreregex: b.ignoreregex,
    maxlines: b.int('maxlines', 1, 1),
    datepattern: b.text('datepattern'),
    journalmatch: b.journalmatch,
  };
}

function buildIncrement(b: JailBuilder): BanTimeIncrement {
  const factorText = b.text('bantime.factor');
  const factor = factorText === undefined ? undefined : Number(factorText);
  if (factor !== undefined && !Number.isFinite(factor)) b.problem('error', 'E_BAD_NUMBER', 'bantime.factor', `bantime.factor = ${JSON.stringify(factorText)} is not a number`);
  const multText = b.text('bantime.multipliers') ?? '';
  const multipliers = multText.split(/\s+/).filter((m) => m !== '').map(Number);
  if (multipliers.some((m) => !Number.isFinite(m))) b.problem('error', 'E_BAD_NUMBER', 'bantime.multipliers', `bantime.multipliers = ${JSON.stringify(multText)} must be numbers separated by spaces`);
  return {
    enabled: b.sets.get('bantime.increment') === true,
    factor: Number.isFinite(factor) ? factor : undefined,
    formula: b.text('bantime.formula'),
    multipliers: multipliers.filter(Number.isFinite),
    maxtimeSec: b.seconds('bantime.maxtime', undefined),
    rndtimeSec: b.seconds('bantime.rndtime', undefined),
    overalljails: b.sets.get('bantime.overalljails') === true,
  };
}

/** The `logpath` lines as fail2ban splits them: the last space-separated word may be head/tail. */
function logPathPatterns(jail: JailReader): LogPathPattern[] {
  const value = jail.options.get('logpath');
  if (value === undefined || value === null) return [];
  return pyStr(value)
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const cut = line.lastIndexOf(' ');
      const tail = cut === -1 ? 'head' : line.slice(cut + 1);
      return { pattern: cut === -1 ? line : line.slice(0, cut), tail: tail.toLowerCase() === 'tail' };
    });
}

/** Builds the typed jail from its commands; problems are returned, never thrown. */
export function buildJailConfig(jail: JailReader, stream: readonly StreamCommand[], source: SourceLocation | undefined): { jail: JailConfig; problems: Problem[] } {
  const b = new JailBuilder(jail);
  for (const cmd of stream) b.apply(cmd);
  const backendText = pyStr(b.backend as string);
  const backendName = backendText.split('[')[0] ?? '';
  const backend = BACKENDS.find((k) => k === backendName.trim());
  if (!backend) b.problem('error', 'E_BACKEND', 'backend', `backend "${backendText}" is unknown; use one of ${BACKENDS.join(', ')}`);
  const logencoding = b.text('logencoding') ?? 'auto';
  if (!isKnownEncoding(logencoding)) b.problem('error', 'E_ENCODING', 'logencoding', `logencoding "${logencoding}" is not an encoding portcullis knows; use auto, utf-8, latin-1, ascii or another standard name`);
  const filter = buildFilter(b, jail);
  const config: JailConfig = {
    name: jail.name,
    backend: backend ?? 'auto',
    backendArgs: backendText.slice(backendName.length),
    filter,
    maxretry: b.int('maxretry', 3, 1),
    maxmatches: b.int('maxmatches', 5, 0),
    findtimeSec: b.seconds('findtime', 600) ?? 600,
    bantimeSec: b.seconds('bantime', 600) ?? 600,
    bantimeIncrement: buildIncrement(b),
    ignoreip: b.ignoreip,
    ignoreself: b.sets.get('ignoreself') !== false,
    ignorecommand: b.text('ignorecommand') ?? '',
    ignorecache: b.text('ignorecache'),
    logpaths: b.logpaths,
    logpathPatterns: backend === 'systemd' ? [] : logPathPatterns(jail),
    logencoding,
    logtimezone: b.text('logtimezone'),
    actions: b.actions,
    source,
  };
  return { jail: config, problems: b.problems };
}
