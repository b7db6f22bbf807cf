/**
 * The socket command set (fail2ban's `Transmitter`): one request, a list of strings as the client
 * sends it, becomes a call on the server; the reply is the Python value fail2ban would return, or
 * a Python exception of the class fail2ban raises, so that both the real `fail2ban-client` and
 * ours print the same text. Inside `server-stream` and `reload` setters are quiet (return None).
 */
import { str2seconds } from '../shared/duration.js';
import { PyException, PyFloat, PyTuple, pyAsBool, pyNumber, pyRepr, pyStr, type PyValue } from '../shared/pyvalue.js';
import type { Ticket } from '../counter/ticket.js';
import { banWithTimeLine } from '../shared/timefmt.js';
import { FAIL2BAN_VERSION } from '../shared/version.js';
import { LEVEL } from '../system/log.js';
import { IgnoreListError, parseIgnoreCache } from './ignore.js';
import { KeyError, type Jail } from './jail.js';
import { FilterSettingError } from './jailFilter.js';
import type { Server} from './server.js';
import { DuplicateJailError, UnknownJailError, ValueError } from './server.js';

/** `command[i]`, raising Python's IndexError when the client sent too few words. */
class IndexError extends Error {}

function arg(cmd: readonly PyValue[], i: number): string {
  if (i >= cmd.length) throw new IndexError('list index out of range');
  return pyStr(cmd[i] ?? null);
}

function intArg(cmd: readonly PyValue[], i: number): number {
  const s = arg(cmd, i).trim();
  if (!/^[+-]?\d+$/.test(s)) throw new ValueError(`invalid literal for int() with base 10: '${arg(cmd, i)}'`);
  return Number.parseInt(s, 10);
}

function seconds(text: string): number {
  return Math.trunc(pyNumber(str2seconds(text)));
}

/** Maps an error to the exception fail2ban would send back. */
export function toPyException(e: unknown): PyException {
  if (e instanceof PyException) return e;
  if (e instanceof UnknownJailError) return new PyException('fail2ban.exceptions', 'UnknownJailException', [e.jail]);
  if (e instanceof DuplicateJailError) return new PyException('fail2ban.exceptions', 'DuplicateJailException', [e.message]);
  if (e instanceof IndexError) return new PyException('builtins', 'IndexError', [e.message]);
  if (e instanceof KeyError) return new PyException('builtins', 'KeyError', [e.key]);
  if (e instanceof ValueError || e instanceof IgnoreListError) return new PyException('builtins', 'ValueError', [e.message]);
  if (e instanceof FilterSettingError) return new PyException('fail2ban.server.failregex', 'RegexException', [e.message]);
  return new PyException('builtins', 'Exception', [e instanceof Error ? e.message : String(e)]);
}

export class Transmitter {
  private quiet = 0;

  constructor(private readonly server: Server) {}

  /** Handles one request; a failure becomes the reply `(1, exception)` (the caller pickles it). */
  async proceed(command: readonly PyValue[]): Promise<{ code: 0 | 1; value: PyValue }> {
    try {
      return { code: 0, value: await this.handle(command) };
    } catch (e) {
      const exc = toPyException(e);
      this.server.env.log.log('fail2ban.transmitter', LEVEL.ERROR, `Command ${pyRepr(command)} has failed. Received ${pyRepr(exc)}`);
      return { code: 1, value: exc };
    }
  }

  private async handle(cmd: readonly PyValue[]): Promise<PyValue> {
    const s = this.server;
    const name = arg(cmd, 0);
    switch (name) {
      case 'ping':
        return 'pong';
      case 'add': {
        const jail = arg(cmd, 1);
        if (jail === '--all') throw new Error(`Reserved name '${jail}'`);
        s.addJail(jail, cmd.length > 2 ? arg(cmd, 2) : 'auto');
        return jail;
      }
      case 'multi-set':
        return this.set(cmd.slice(1), true);
      case 'set':
        return this.set(cmd.slice(1), false);
      case 'start':
        await s.startJail(arg(cmd, 1));
        return null;
      case 'stop':
        if (cmd.length === 1) {
          setImmediate(() => void s.quit());
          return null;
        }
        if (arg(cmd, 1) === '--all') await s.stopAllJails();
        else await s.stopJail(arg(cmd, 1));
        return null;
      case 'reload': {
        const jail = arg(cmd, 1);
        const opts = asList(cmd[2]);
        this.quiet++;
        try {
          await s.reloadBegin(jail, opts);
          for (const c of asList(cmd[3] ?? [])) await this.handle(asCommand(c));
        } finally {
          this.quiet--;
          await s.reloadEnd();
        }
        return 'OK';
      }
      case 'unban':
        if (cmd.length >= 2) {
          const rest = cmd.slice(1).map((v) => pyStr(v));
          if (rest.length === 1 && rest[0] === '--all') return s.unban(null, null);
          return s.unban(null, rest);
        }
        break;
      case 'banned':
        return s.banned(
          null,
          cmd.slice(1).map((v) => pyStr(v)),
        );
      case 'echo':
        return cmd.slice(1);
      case 'server-status':
        return 'Server ready';
      case 'server-stream': {
        this.quiet++;
        try {
          await this.stream(asList(cmd[1] ?? []));
        } finally {
          this.quiet--;
        }
        return null;
      }
      case 'sleep':
        await new Promise((r) => setTimeout(r, Math.max(0, Number(arg(cmd, 1)) * 1000)));
        return null;
      case 'flushlogs':
        return s.env.logControl.flush();
      case 'get':
        return this.get(cmd.slice(1));
      case 'status':
        if (cmd.length === 1) return s.status();
        if (cmd.length === 2) return s.jail(arg(cmd, 1)).status('basic');
        if (cmd.length === 3) return s.jail(arg(cmd, 1)).status(arg(cmd, 2));
        throw new Error('Invalid command (no status)');
      case 'version':
        return FAIL2BAN_VERSION;
      case 'config-error':
        s.env.log.log('fail2ban.transmitter', LEVEL.ERROR, arg(cmd, 1));
        return null;
      default:
        break;
    }
    throw new Error('Invalid command');
  }

  /**
   * A configuration stream. fail2ban stops at the first failing command, leaving every later jail
   * unstarted while the server looks healthy; here a command that fails for a jail takes only that
   * jail out (removed, its remaining commands skipped, the error logged naming it) and the others
   * go on. The first error is still raised at the end, so the client reports the failure (exit 255).
   */
  private async stream(commands: readonly unknown[]): Promise<void> {
    const broken = new Set<string>();
    let first: Error | undefined;
    for (const c of commands) {
      const command = asCommand(c);
      const jail = jailOf(command);
      if (jail !== undefined && broken.has(jail)) continue;
      try {
        await this.handle(command);
      } catch (e) {
        first ??= e instanceof Error ? e : new Error(String(e));
        if (jail === undefined || !this.server.jails.has(jail)) throw e;
        broken.add(jail);
        this.server.env.log.log('fail2ban.transmitter', LEVEL.ERROR, `Jail '${jail}' is not started: ${e instanceof Error ? e.message : String(e)}`);
        await this.server.removeJail(jail);
      }
    }
    if (first !== undefined) throw first;
  }

  private quietOr(v: () => PyValue): PyValue {
    return this.quiet ? null : v();
  }

  private async set(cmd: readonly PyValue[], multiple: boolean): Promise<PyValue> {
    const s = this.server;
    const name = arg(cmd, 0);
    const lc = s.env.logControl;
    switch (name) {
      case 'loglevel':
        lc.setLevel(arg(cmd, 1));
        return this.quietOr(() => lc.getLevel());
      case 'logtarget':
        if (!lc.setTarget(arg(cmd, 1))) throw new Error('Failed to change log target');
        return this.quietOr(() => lc.getTarget());
      case 'syslogsocket':
        if (!lc.setSyslogSocket(arg(cmd, 1))) throw new Error('Failed to change syslog socket');
        return this.quietOr(() => lc.getSyslogSocket());
      case 'allowipv6':
        s.allowIpv6 = arg(cmd, 1);
        return this.quietOr(() => arg(cmd, 1));
      case 'thread':
        return null;
      case 'dbfile': {
        s.setDatabase(arg(cmd, 1));
        const db = s.database;
        if (!db) return null;
        return this.quietOr(() => db.filename);
      }
      case 'dbmaxmatches':
      case 'dbpurgeage': {
        const db = s.database;
        if (!db) {
          s.env.log.log('fail2ban.transmitter', LEVEL.MSG, `${name} setting was not in effect since no db yet`);
          return null;
        }
        if (name === 'dbmaxmatches') db.maxMatches = intArg(cmd, 1);
        else db.purgeAge = seconds(arg(cmd, 1));
        return this.quietOr(() => (name === 'dbmaxmatches' ? db.maxMatches : db.purgeAge));
      }
      default:
        return this.setJail(name, cmd, multiple);
    }
  }

  private async setJail(name: string, cmd: readonly PyValue[], multiple: boolean): Promise<PyValue> {
    const s = this.server;
    const key = arg(cmd, 1);
    const jail = s.jail(name);
    const f = jail.filter;
    const q = (v: () => PyValue): PyValue => this.quietOr(v);
    switch (key) {
      case 'idle': {
        const v = arg(cmd, 2);
        if (v !== 'on' && v !== 'off') throw new Error("Invalid idle option, must be 'on' or 'off'");
        jail.idle = v === 'on';
        return q(() => jail.idle);
      }
      case 'ignoreself':
        jail.ignore.ignoreSelf = pyAsBool(arg(cmd, 2));
        return q(() => jail.ignore.ignoreSelf);
      case 'addignoreip':
        for (const v of cmd.slice(2)) jail.ignore.add(pyStr(v));
        return q(() => jail.ignore.list());
      case 'delignoreip':
        jail.ignore.remove(arg(cmd, 2));
        return q(() => jail.ignore.list());
      case 'ignorecommand':
        jail.ignore.ignoreCommand = arg(cmd, 2);
        return q(() => jail.ignore.ignoreCommand);
      case 'ignorecache':
        jail.ignore.setCache(parseIgnoreCache(arg(cmd, 2), seconds));
        return q(() => ignoreCacheValue(jail.ignore.cacheOptions));
      case 'addlogpath': {
        const path = arg(cmd, 2);
        let tail = false;
        if (cmd.length === 4) {
          const opt = arg(cmd, 3).toLowerCase();
          if (opt === 'tail') tail = true;
          else if (opt !== 'head') throw new ValueError("File option must be 'head' or 'tail'");
        } else if (cmd.length > 4) throw new ValueError('Only one file can be added at a time');
        jail.files?.addLogPath(path, tail);
        return q(() => jail.files?.getLogPaths() ?? []);
      }
      case 'porttrap':
        // a portcullis extension (the port trap); Debian's server refuses it
        await jail.setPortTrap(arg(cmd, 2));
        return q(() => jail.portTrap);
      case 'dellogpath':
        jail.files?.delLogPath(arg(cmd, 2));
        return q(() => jail.files?.getLogPaths() ?? []);
      case 'logencoding':
        f.logencoding = arg(cmd, 2);
        s.env.log.log('fail2ban.filter', LEVEL.INFO, `  encoding: ${encodingValue(f.logencoding)}`);
        return q(() => encodingValue(f.logencoding));
      case 'addjournalmatch':
        if (jail.backend === 'systemd') {
          jail.journalMatches.push(...splitMatches(cmd.slice(2).map((v) => pyStr(v))));
          jail.journal?.matchesChanged();
        }
        return q(() => journalMatchValue(jail.journalMatches));
      case 'deljournalmatch': {
        if (jail.backend === 'systemd') {
          const words = cmd.slice(2).map((v) => pyStr(v));
          if (words.length === 0) jail.journalMatches.length = 0;
          else {
            // one group, as given (fail2ban compares the whole word list)
            const i = jail.journalMatches.findIndex((x) => x.join('\0') === words.join('\0'));
            if (i < 0) throw new ValueError(`Match ${pyRepr(words)} not found`);
            jail.journalMatches.splice(i, 1);
          }
          jail.journal?.matchesChanged();
        }
        return q(() => journalMatchValue(jail.journalMatches));
      }
      case 'prefregex':
        f.setPrefRegex(arg(cmd, 2));
        return q(() => (f.prefregex !== undefined ? (f.expanded([f.prefregex])[0] ?? '') : ''));
      case 'addfailregex':
      case 'addignoreregex': {
        const values = multiple ? asList(cmd[2]) : [arg(cmd, 2)];
        for (const v of values) {
          if (key === 'addfailregex') f.addFailRegex(v);
          else f.addIgnoreRegex(v);
        }
        if (multiple) return true;
        return q(() => f.expanded(key === 'addfailregex' ? f.failregex : f.ignoreregex));
      }
      case 'delfailregex':
      case 'delignoreregex': {
        const list = key === 'delfailregex' ? f.failregex : f.ignoreregex;
        const i = intArg(cmd, 2);
        if (i < 0 || i >= list.length) {
          s.env.log.log('fail2ban.filter', LEVEL.ERROR, 'Cannot remove regular expression. Index ' + i + ' is not valid');
        } else {
          list.splice(i, 1);
          f.changed();
        }
        return q(() => f.expanded(list));
      }
      case 'usedns': {
        const v = arg(cmd, 2).toLowerCase();
        f.usedns = ['yes', 'warn', 'no', 'raw'].includes(v) ? v : v === 'true' ? 'yes' : v === 'false' ? 'no' : 'no';
        if (!['yes', 'warn', 'no', 'raw', 'true', 'false'].includes(v)) {
          s.env.log.log('fail2ban.filter', LEVEL.ERROR, `Incorrect value for usedns. "${arg(cmd, 2)}". Using default "no"`);
        }
        f.changed();
        return q(() => f.usedns);
      }
      case 'findtime':
        f.findtime = seconds(arg(cmd, 2));
        s.env.log.log('fail2ban.filter', LEVEL.INFO, `  findtime: ${f.findtime}`);
        return q(() => f.findtime);
      case 'datepattern': {
        const v = arg(cmd, 2);
        f.datepattern = v === '' || v.toLowerCase() === 'none' ? undefined : v;
        f.changed();
        return q(() => datePatternValue(f.datepattern));
      }
      case 'logtimezone': {
        const v = arg(cmd, 2);
        f.logtimezone = v === '' ? undefined : v;
        f.changed();
        return q(() => f.logtimezone ?? null);
      }
      case 'maxmatches':
        f.failManager.maxMatches = intArg(cmd, 2);
        return q(() => f.failManager.maxMatches);
      case 'maxretry':
        f.failManager.maxRetry = intArg(cmd, 2);
        s.env.log.log('fail2ban.filter', LEVEL.INFO, `  maxRetry: ${f.failManager.maxRetry}`);
        return q(() => f.failManager.maxRetry);
      case 'maxlines': {
        const n = intArg(cmd, 2);
        if (n <= 0) throw new ValueError(`maxlines must be a positive integer, got ${n}`);
        f.maxlines = n;
        f.changed();
        return q(() => f.maxlines);
      }
      case 'bantime':
        jail.actions.banManager.banTime = seconds(arg(cmd, 2));
        jail.actions.bantimeChanged();
        s.env.log.log('fail2ban.actions', LEVEL.INFO, `  banTime: ${jail.actions.banManager.banTime}`);
        return q(() => jail.actions.banManager.banTime);
      case 'attempt':
        if (this.quiet) return null;
        return f.addAttempt(
          arg(cmd, 2),
          cmd.slice(3).map((v) => pyStr(v)),
        );
      case 'banip':
        return jail.actions.banIps(cmd.slice(2).map((v) => pyStr(v)));
      case 'unbanip': {
        const report = arg(cmd, 2) === '--report-absent';
        const ips = cmd.slice(report ? 3 : 2).map((v) => pyStr(v));
        return s.unban(name, ips, report);
      }
      case 'addaction': {
        const actName = arg(cmd, 2);
        const pyFile = cmd.length > 3 ? arg(cmd, 3) : undefined;
        if (jail.actions.keepOnReload(actName)) return q(() => actName);
        const action = s.env.actions.create(name, actName, pyFile);
        jail.actions.actions.set(actName, action);
        return q(() => actName);
      }
      case 'delaction':
        await jail.actions.removeAction(arg(cmd, 2));
        return null;
      case 'action': {
        const action = jail.action(arg(cmd, 2));
        if (multiple) {
          for (const pair of asList(cmd[3])) {
            const kv = Array.isArray(pair) ? (pair as PyValue[]) : [];
            const k = pyStr(kv[0] ?? null);
            if (action.methodNames().includes(k)) await action.call(k);
            else action.setProperty(k, pyStr(kv[1] ?? ''));
          }
          return true;
        }
        const k = arg(cmd, 3);
        if (action.methodNames().includes(k)) {
          if (this.quiet) return null;
          return action.call(k);
        }
        action.setProperty(k, arg(cmd, 4));
        return q(() => action.getProperty(k) ?? null);
      }
      default:
        if (key.startsWith('bantime.')) {
          jail.increment.setOption(key.slice(8), arg(cmd, 2));
          return q(() => jail.increment.getOption(key.slice(8)));
        }
    }
    throw new Error(`Invalid command '${key}' (no set action or not yet implemented)`);
  }

  private get(cmd: readonly PyValue[]): PyValue {
    const s = this.server;
    const name = arg(cmd, 0);
    const lc = s.env.logControl;
    switch (name) {
      case 'loglevel':
        return lc.getLevel();
      case 'logtarget':
        return lc.getTarget();
      case 'syslogsocket':
        return lc.getSyslogSocket();
      case 'thread':
        return null;
      case 'dbfile':
        return s.database?.filename ?? null;
      case 'dbmaxmatches':
        return s.database?.maxMatches ?? null;
      case 'dbpurgeage':
        return s.database?.purgeAge ?? null;
      default:
        break;
    }
    const key = arg(cmd, 1);
    const jail = s.jail(name);
    const f = jail.filter;
    switch (key) {
      case 'banned':
        return s.banned(
          name,
          cmd.slice(2).map((v) => pyStr(v)),
        );
      case 'logpath':
        return jail.files?.getLogPaths() ?? [];
      case 'porttrap':
        return jail.portTrap;
      case 'logencoding':
        return encodingValue(f.logencoding);
      case 'journalmatch':
        return journalMatchValue(jail.journalMatches);
      case 'ignoreself':
        return jail.ignore.ignoreSelf;
      case 'ignoreip':
        return jail.ignore.list();
      case 'ignorecommand':
        return jail.ignore.ignoreCommand === '' ? false : jail.ignore.ignoreCommand;
      case 'ignorecache':
        return ignoreCacheValue(jail.ignore.cacheOptions);
      case 'prefregex':
        return f.prefregex !== undefined ? (f.expanded([f.prefregex])[0] ?? '') : '';
      case 'failregex':
        return f.expanded(f.failregex);
      case 'ignoreregex':
        return f.expanded(f.ignoreregex);
      case 'usedns':
        return f.usedns;
      case 'findtime':
        return f.findtime;
      case 'datepattern':
        return datePatternValue(f.datepattern);
      case 'logtimezone':
        return f.logtimezone ?? null;
      case 'maxmatches':
        return f.failManager.maxMatches;
      case 'maxretry':
        return f.failManager.maxRetry;
      case 'maxlines':
        return f.maxlines;
      case 'bantime':
        return jail.actions.banManager.banTime;
      case 'banip':
        return banList(jail, cmd.length > 2 && arg(cmd, 2) === '--with-time');
      case 'baninfo':
        return banInfo(jail);
      case 'actioninfo':
        // portcullis' own: per action, what its bans go through and the last native failure
        return [...jail.actions.actions.values()].map((a) => [a.name, a.backend ?? 'template', a.backendError ?? null]);
      case 'actions':
        return [...jail.actions.actions.keys()];
      case 'action':
        return jail.action(arg(cmd, 2)).getProperty(arg(cmd, 3)) ?? null;
      case 'actionproperties':
        return jail.action(arg(cmd, 2)).propertyNames();
      case 'actionmethods':
        return jail.action(arg(cmd, 2)).methodNames();
      default:
        if (key.startsWith('bantime.')) return jail.increment.getOption(key.slice(8));
    }
    throw new Error('Invalid command (no get action or not yet implemented)');
  }
}

/** The jail a stream command configures (`add J`, `set J …`, `multi-set J …`, `start J`). */
function jailOf(cmd: readonly PyValue[]): string | undefined {
  const [verb, target, key] = cmd;
  if (typeof target !== 'string') return undefined;
  if (verb === 'add' || verb === 'start') return target;
  if ((verb === 'set' || verb === 'multi-set') && typeof key === 'string') return target;
  return undefined;
}

function asList(v: PyValue | undefined): string[] {
  if (Array.isArray(v)) return (v as PyValue[]).map((x) => (Array.isArray(x) ? (x as never) : pyStr(x)));
  if (v instanceof PyTuple) return v.items.map((x) => pyStr(x));
  return [];
}

function asCommand(v: unknown): PyValue[] {
  if (Array.isArray(v)) return v as PyValue[];
  if (v instanceof PyTuple) return [...v.items];
  throw new Error('Invalid command');
}

function encodingValue(enc: string): string {
  return enc.toLowerCase() === 'auto' ? 'UTF-8' : enc;
}

function datePatternValue(p: string | undefined): PyValue {
  return p === undefined ? new PyTuple([null, 'Default Detectors']) : new PyTuple([p, p]);
}

function ignoreCacheValue(o: { key: string; maxCount: number; maxTime: number } | undefined): PyValue {
  return o ? [o.key, o.maxCount, o.maxTime] : null;
}

function journalMatchValue(m: readonly (readonly string[])[]): PyValue {
  return m.map((x) => [...x]);
}

/** `a b + c` → [[a, b], [c]]. */
function splitMatches(words: readonly string[]): string[][] {
  const out: string[][] = [[]];
  for (const w of words) {
    if (w === '+') out.push([]);
    else (out[out.length - 1] as string[]).push(w);
  }
  return out.filter((g) => g.length > 0);
}

/**
 * portcullis' own `get JAIL baninfo` (fail2ban has no such command; `portcullis bans` uses it):
 * per ban, in expiry order, `[ip, time of ban, ban time, ban count, failures]`.
 */
function banInfo(jail: Jail): PyValue {
  const bt = jail.actions.banManager.banTime;
  const num = (n: number): PyValue => (Number.isInteger(n) ? n : new PyFloat(n));
  return ticketsByEnd(jail).map((t) => [t.id.text, new PyFloat(t.time), num(t.banTimeOr(bt)), t.banCount, t.attempt]);
}

/** The jail's bans in expiry order (what `get JAIL banip` lists). */
function ticketsByEnd(jail: Jail): Ticket[] {
  const bt = jail.actions.banManager.banTime;
  return jail.actions.banManager
    .tickets()
    .map((t) => ({ t, end: t.endOfBan(bt) }))
    .sort((a, b) => a.end - b.end)
    .map((x) => x.t);
}

function banList(jail: Jail, withTime: boolean): PyValue {
  const bt = jail.actions.banManager.banTime;
  const tickets = ticketsByEnd(jail);
  if (!withTime) return tickets.map((t) => t.id.text);
  return tickets.map((t) => banWithTimeLine(t.id.text, t.time, t.banTimeOr(bt)));
}

