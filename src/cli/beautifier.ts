/**
 * fail2ban 1.0.2's client `Beautifier`: how `fail2ban-client` prints each server reply. The rules
 * follow Python's semantics closely enough that an unexpected reply shape fails where fail2ban's
 * would, and then prints what fail2ban prints in that case (`repr(msg) + repr(response)`).
 */
import { PyDict, PyException, PyFloat, PyTuple, pyRepr, pyStr, type PyValue } from '../shared/pyvalue.js';

/** A Python operation that would raise inside fail2ban's `beautify` (caught there). */
class PyOpFailed extends Error {}

/** A Python error raised by `beautifyError` itself (not caught there): `str(exc)` as Python prints it. */
export class BeautifyErrorFailed extends Error {}

function fail(): never {
  throw new PyOpFailed();
}

/** Python's `type(v).__name__`. */
export function pyTypeName(v: PyValue): string {
  if (v === null) return 'NoneType';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number' || typeof v === 'bigint') return 'int';
  if (v instanceof PyFloat) return 'float';
  if (v instanceof PyDict) return 'dict';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyException) return v.name;
  return 'list';
}

/** `iter(v)` as a list: characters of a str, items of a list/tuple, keys of a dict. */
function items(v: PyValue): readonly PyValue[] {
  if (typeof v === 'string') return Array.from(v);
  if (Array.isArray(v)) return v as readonly PyValue[];
  if (v instanceof PyTuple) return v.items;
  if (v instanceof PyDict) return v.entries.map(([k]) => k);
  return fail();
}

/** `v[i]` for the sequences (a dict has no integer keys here, so KeyError). */
function at(v: PyValue, i: number): PyValue {
  if (v instanceof PyDict || !(typeof v === 'string' || Array.isArray(v) || v instanceof PyTuple)) fail();
  const all = items(v);
  const item = all[i < 0 ? all.length + i : i];
  return item === undefined ? fail() : item;
}

/** `v[:-1]` (a dict cannot be sliced). */
function butLast(v: PyValue): readonly PyValue[] {
  if (v instanceof PyDict) fail();
  return items(v).slice(0, -1);
}

function str(v: PyValue): string {
  return typeof v === 'string' ? v : fail();
}

/** `sep.join(v)`: every item must be a str. */
function join(sep: string, v: PyValue): string {
  return items(v).map(str).join(sep);
}

/** `"%s" % v`: a tuple is the argument list itself. */
function percentS(v: PyValue): string {
  if (!(v instanceof PyTuple)) return pyStr(v);
  return v.items.length === 1 ? pyStr(v.items[0] ?? null) : fail();
}

/** `"%i" % v`. */
function percentI(v: PyValue): string {
  if (v instanceof PyTuple) return v.items.length === 1 ? percentI(v.items[0] ?? null) : fail();
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (v instanceof PyFloat && Number.isFinite(v.value)) return BigInt(Math.trunc(v.value)).toString();
  return fail();
}

const LEVEL_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'NOTSET'], [5, 'HEAVY'], [7, 'TRACE'], [10, 'DEBUG'], [18, 'MSG'], [20, 'INFO'], [25, 'NOTICE'], [30, 'WARNING'], [40, 'ERROR'], [50, 'CRITICAL'],
]);

/** `logging.getLevelName(n)` with the names fail2ban registers (1–49 all named). */
function levelName(level: number | bigint | boolean): string {
  const n = Number(level);
  const known = LEVEL_NAMES.get(n);
  if (known !== undefined) return known;
  if (n > 0 && n < 50) return `#${String(n).padStart(2, '0')}-Lev.`;
  return `Level ${pyStr(level)}`;
}

/** A "|- a\n|- b\n`- c" tree under a heading, built the way fail2ban appends it (a failure keeps the part so far). */
function tree(state: State, heading: string, list: PyValue, label: (item: PyValue, i: number) => string): void {
  let msg = heading;
  state.msg = msg;
  const head = butLast(list);
  for (const [i, item] of head.entries()) {
    msg += '|- ' + label(item, i) + '\n';
    state.msg = msg;
  }
  state.msg = msg + '`- ' + label(at(list, -1), head.length);
}

/** `msg = heading; msg += tail()`: a failing tail leaves the heading as msg. */
function headed(state: State, heading: string, tail: () => string): void {
  state.msg = heading;
  state.msg = heading + tail();
}

interface State {
  msg: PyValue;
}

function statusJail(jail: PyValue, response: PyValue, state: State): void {
  const lines: string[] = ['Status for the jail: ' + percentS(jail)];
  state.msg = lines;
  items(response).forEach((res1, n) => {
    const last1 = n === items(response).length - 1;
    lines.push(`${last1 ? '`-' : '|-'} ${pyStr(at(res1, 0))}`);
    const sub = at(res1, 1);
    items(sub).forEach((res2, m) => {
      const prefix2 = (last1 ? '   ' : '|  ') + (m === items(sub).length - 1 ? '`-' : '|-');
      const value = at(res2, 1);
      const val = Array.isArray(value) ? (value as readonly PyValue[]).map(pyStr).join(' ') : pyStr(value);
      lines.push(`${prefix2} ${pyStr(at(res2, 0))}:\t${val}`);
    });
  });
  state.msg = lines.join('\n');
}

function statusServer(response: PyValue, state: State): void {
  const lines: string[] = ['Status'];
  state.msg = lines;
  items(response).forEach((res1, n) => {
    const value = at(res1, 1);
    const val = Array.isArray(value) ? (value as readonly PyValue[]).map(pyStr).join(' ') : pyStr(value);
    lines.push(`${n === items(response).length - 1 ? '`-' : '|-'} ${pyStr(at(res1, 0))}:\t${val}`);
  });
  state.msg = lines.join('\n');
}

/** The branches keyed by the first word (`ping`, `status`, …); false when none applies. */
function firstWord(inC: readonly PyValue[], response: PyValue, state: State): boolean {
  const c0 = at(inC, 0);
  if (c0 === 'ping') state.msg = 'Server replied: ' + str(response);
  else if (c0 === 'version') state.msg = response;
  else if (c0 === 'start') state.msg = 'Jail started';
  else if (c0 === 'stop') {
    if (response === null) state.msg = inC.length === 1 ? 'Shutdown successful' : 'Jail stopped';
  } else if (c0 === 'add') state.msg = 'Added jail ' + str(response);
  else if (c0 === 'flushlogs') state.msg = 'logs: ' + str(response);
  else if (c0 === 'echo') state.msg = join(' ', state.msg);
  else if (c0 === 'status') {
    if (inC.length > 1) statusJail(inC[1] ?? null, response, state);
    else statusServer(response, state);
  } else return false;
  return true;
}

/** The global settings keyed by the second word (`get loglevel`, `set dbfile …`). */
function secondWord(c1: PyValue, response: PyValue, state: State): boolean {
  if (c1 === 'syslogsocket') headed(state, 'Current syslog socket is:\n', () => '`- ' + str(response));
  else if (c1 === 'logtarget') headed(state, 'Current logging target is:\n', () => '`- ' + str(response));
  else if (c1 === 'loglevel') {
    const isInt = typeof response === 'number' || typeof response === 'bigint' || typeof response === 'boolean';
    state.msg = 'Current logging level is ' + pyRepr(isInt ? levelName(response) : response);
  } else if (c1 === 'dbfile') {
    if (response === null) state.msg = 'Database currently disabled';
    else headed(state, 'Current database file is:\n', () => '`- ' + str(response));
  } else if (c1 === 'dbpurgeage') {
    if (response === null) state.msg = 'Database currently disabled';
    else headed(state, 'Current database purge age is:\n', () => '`- ' + percentI(response) + 'seconds');
  } else return false;
  return true;
}

function datePattern(response: PyValue): string {
  if (response === null) return 'Not set/required';
  if (at(response, 0) === null) return percentS(at(response, 1));
  if (!(response instanceof PyTuple) || response.items.length !== 2) return fail();
  return `${pyStr(response.items[0] ?? null)} (${pyStr(response.items[1] ?? null)})`;
}

const LOGPATH = ['logpath', 'addlogpath', 'dellogpath'];
const JOURNAL = ['journalmatch', 'addjournalmatch', 'deljournalmatch'];
const IGNOREIP = ['ignoreip', 'addignoreip', 'delignoreip'];
const REGEXES = ['failregex', 'addfailregex', 'delfailregex', 'ignoreregex', 'addignoreregex', 'delignoreregex'];
const isOneOf = (v: PyValue, names: readonly string[]): boolean => typeof v === 'string' && names.includes(v);

/** `The jail J action A has the following …` lists. */
function actionList(inC: readonly PyValue[], response: PyValue, what: string, state: State): void {
  if (items(response).length === 0) state.msg = `No ${what} for jail ${pyStr(at(inC, 1))} action ${pyStr(at(inC, 3))}`;
  else headed(state, `The jail ${pyStr(at(inC, 1))} action ${pyStr(at(inC, 3))} has the following ${what}:\n`, () => join(', ', response));
}

/** The lists printed as a tree, with their empty text and heading. */
function listTree(c2: PyValue, response: PyValue, state: State): boolean {
  const empty = (): boolean => items(response).length === 0;
  if (isOneOf(c2, LOGPATH)) {
    if (empty()) state.msg = 'No file is currently monitored';
    else tree(state, 'Current monitored log file(s):\n', response, str);
  } else if (isOneOf(c2, IGNOREIP)) {
    if (empty()) state.msg = 'No IP address/network is ignored';
    else tree(state, 'These IP addresses/networks are ignored:\n', response, str);
  } else if (isOneOf(c2, REGEXES)) {
    if (empty()) state.msg = 'No regular expression is defined';
    else tree(state, 'The following regular expression are defined:\n', response, (r, i) => `[${i}]: ` + str(r));
  } else return false;
  return true;
}

/** The per-jail settings keyed by the third word (`get JAIL logpath`, …). */
function thirdWord(inC: readonly PyValue[], response: PyValue, state: State): void {
  const c2 = at(inC, 2);
  const empty = (): boolean => items(response).length === 0;
  if (listTree(c2, response, state)) return;
  if (c2 === 'logencoding') headed(state, 'Current log encoding is set to:\n', () => str(response));
  else if (isOneOf(c2, JOURNAL)) {
    if (empty()) state.msg = 'No journal match filter set';
    else headed(state, 'Current match filter:\n', () => items(response).map((r) => join(' ', r)).join(' + '));
  } else if (c2 === 'datepattern') headed(state, 'Current date pattern set to: ', () => datePattern(response));
  else if (c2 === 'actions') {
    if (empty()) state.msg = `No actions for jail ${percentS(at(inC, 1))}`;
    else headed(state, `The jail ${percentS(at(inC, 1))} has the following actions:\n`, () => join(', ', response));
  } else if (c2 === 'actionproperties') actionList(inC, response, 'properties', state);
  else if (c2 === 'actionmethods') actionList(inC, response, 'methods', state);
  else if (c2 === 'banip' && inC[0] === 'get' && Array.isArray(response)) {
    const sep = inC.length <= 3 ? ' ' : at(inC, 3);
    state.msg = join(sep === '--with-time' ? '\n' : str(sep), response);
  }
}

/** What `beautify` produced, and whether fail2ban's "Beautifier error" fallback was taken. */
export interface BeautifyOutcome {
  readonly text: string;
  readonly failed: boolean;
}

/** `Beautifier(cmd).beautify(response)`, printed (`str()`), with the fallback flag. */
export function beautifyOutcome(cmd: readonly PyValue[], response: PyValue): BeautifyOutcome {
  const state: State = { msg: response };
  try {
    if (!firstWord(cmd, response, state) && cmd.length >= 2 && !secondWord(cmd[1] ?? null, response, state) && cmd.length >= 3) {
      thirdWord(cmd, response, state);
    }
  } catch (e) {
    if (!(e instanceof PyOpFailed)) throw e;
    return { text: pyRepr(state.msg) + pyRepr(response), failed: true };
  }
  return { text: pyStr(state.msg), failed: false };
}

/** The text `fail2ban-client` prints for the reply `response` to the command `cmd`. */
export function beautify(cmd: readonly PyValue[], response: PyValue): string {
  return beautifyOutcome(cmd, response).text;
}

/** `str(exc)` as Python prints it (a KeyError shows its key's repr). */
export function pyExceptionText(exc: PyException): string {
  if (exc.name === 'KeyError' && exc.args.length === 1) return pyRepr(exc.args[0] ?? null);
  return exc.toString();
}

function firstArg(exc: PyException): string {
  const a = exc.args[0];
  if (a === undefined) throw new BeautifyErrorFailed('tuple index out of range');
  if (typeof a !== 'string') throw new BeautifyErrorFailed(`can only concatenate str (not "${pyTypeName(a)}") to str`);
  return a;
}

/**
 * `Beautifier.beautifyError(exc)`, printed. Throws `BeautifyErrorFailed` where fail2ban's own
 * method raises (an UnknownJailException without a str argument).
 */
export function beautifyError(exc: PyException): string {
  if (exc.name === 'UnknownJailException') return `Sorry but the jail '${firstArg(exc)}' does not exist`;
  if (exc.name === 'IndexError') return 'Sorry but the command is invalid';
  if (exc.name === 'DuplicateJailException') return `The jail '${firstArg(exc)}' already exists`;
  return pyExceptionText(exc);
}
