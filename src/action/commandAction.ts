/**
 * fail2ban's `CommandAction`: an action.d file's commands run through `/bin/sh` with fail2ban's
 * life cycle — per-family start on demand (`started[family]`: bit 1 started, bit 2 holds bans),
 * flush before per-ticket unbans, stop once per started family (identical commands once), the
 * check → repair (or stop + start) → retry path of a failing command, the ban epoch, the
 * server-wide command lock and fail2ban's log texts on its logger names. Values from log lines
 * reach the shell only as positional arguments (dynamicTags.ts).
 */
import { PortcullisError } from '../shared/errors.js';
import { PyFloat, pyRepr, pyReprFloat, pyReprString } from '../shared/pyvalue.js';
import { str2seconds } from '../shared/duration.js';
import type { CommandResult, CommandRunner } from '../system/exec.js';
import { LEVEL, type ServerLog } from '../system/log.js';
import { ActionInfo, type ActionInfoPorts, type FamilyKey, type JailView } from './actionInfo.js';
import type { CommandLock } from './commandLock.js';
import { substituteDynamic, type ShellCommand } from './dynamicTags.js';
import { ActionTagError, StaticTags, propertyText, type PropertyValue } from './staticTags.js';

/** The ports an action runs with (one set per server). */
export interface ActionEnv {
  readonly runner: CommandRunner;
  readonly lock: Pick<CommandLock, 'run'>;
  readonly log: ServerLog;
  hostname(fqdn: boolean): string;
  /** Whether IPv6 is allowed (`allowipv6`): conditional actions start `inet6` too. */
  allowIpv6(): boolean;
  /** Seconds since the epoch (`<time>` of start/stop commands). */
  now(): number;
  /** Reverse DNS and merged bans for the expensive tags of start/stop commands. */
  readonly info?: ActionInfoPorts;
}

/** The ban epoch of a jail, shared by its actions: a repair raises it so that old bans are re-banned. */
export interface BanEpoch {
  current: number;
}

/** An action operation failed; the message is fail2ban's exception text. */
export class ActionError extends PortcullisError {
  constructor(
    readonly jail: string,
    readonly action: string,
    /** The command property (`<actionban>`, `<actionstart>` …). */
    readonly command: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('E_ACTION', message, options);
  }
}

/** A property value the action cannot take (`timeout = abc`). */
export class ActionPropertyError extends PortcullisError {
  constructor(readonly jail: string, readonly action: string, readonly property: string, message: string) {
    super('E_ACTION_PROPERTY', `Cannot set property "${property}" of action "${action}" in jail "${jail}": ${message}`);
  }
}

/** portcullis cannot run fail2ban's Python actions (`action.d/*.py`); the daemon refuses them with this. */
export class PythonActionError extends PortcullisError {
  constructor(readonly jail: string, readonly action: string, readonly file: string) {
    super('E_PYTHON_ACTION', `Jail "${jail}": action "${action}" is a Python action (${file}), which portcullis cannot run`);
  }
}

const CONDITIONAL_FAMILY = /^(\w+)\?(family)=(.*)$/;
const DEFAULT_COMMANDS = ['actionstart', 'actionban', 'actionreban', 'actionunban', 'actioncheck', 'actionrepair', 'actionflush', 'actionstop', 'actionreload'];
/** What `get <jail> actionmethods <act>` lists for a command action (fail2ban 1.0.2). */
const METHOD_NAMES = ['ban', 'clearAllParams', 'consistencyCheck', 'escapeTag', 'executeCmd', 'flush', 'invalidateBanEpoch', 'prolong', 'reban', 'reload', 'replaceDynamicTags', 'replaceTag', 'start', 'stop', 'unban'];
/** Class attributes fail2ban lists among an action's properties. */
const CLASS_PROPERTIES = ['ESCAPE_CRE', 'ESCAPE_VN_CRE', 'banEpoch'];
/** Python's `signal` names by number, as fail2ban's `signame` table holds them on Linux. */
const SIGNAMES = ['SIG_DFL', 'SIG_IGN', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL', 'SIGUSR1', 'SIGSEGV', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGPOLL', 'SIGPWR', 'SIGSYS'];
const SIGNUMS: Readonly<Record<string, number>> = { SIGHUP: 1, SIGIOT: 6, SIGIO: 29, SIGRTMIN: 34, SIGRTMAX: 64 };
const HINT_127 =
  '"Command not found".  Make sure that all commands in %s are in the PATH of fail2ban-server process ' +
  '(grep -a PATH= /proc/`pidof -x fail2ban-server`/environ). You may want to start "fail2ban-server -f" separately, ' +
  'initiate it with "fail2ban-client reload" in another shell session and observe if additional informative error ' +
  'messages appear in the terminals.';

function signalNumber(sig: string): number {
  const i = SIGNAMES.indexOf(sig);
  return i > 1 ? i : (SIGNUMS[sig] ?? 0);
}

function signalName(n: number): string {
  if (n === 34) return 'SIGRTMIN';
  if (n === 64) return 'SIGRTMAX';
  return SIGNAMES[n] ?? `signal ${n}`;
}

/** Python's truthiness of a property value. */
function truthy(v: PropertyValue | undefined): boolean {
  if (v === undefined || v === null) return false;
  if (v instanceof PyFloat) return v.value !== 0;
  return Boolean(v);
}

/** `bytes.splitlines()`: lines split at \n, \r\n or \r; no trailing empty line. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** A stable opaque id for the exec log lines of one action (fail2ban prints a Python object id). */
function execId(jail: string, action: string): string {
  let h = 0x811c9dc5;
  for (const ch of `${jail}\0${action}`) h = Math.imul(h ^ (ch.codePointAt(0) ?? 0), 0x01000193) >>> 0;
  return `7f${h.toString(16).padStart(8, '0')}`;
}

type AfterExec = (family: FamilyKey, ok: boolean) => void;

export class CommandAction {
  private readonly props = new Map<string, PropertyValue>();
  private readonly tags: StaticTags;
  /** `started[family]`: bit 1 started, bit 2 holds bans (insertion order matters, as in fail2ban's dict). */
  private started = new Map<FamilyKey, number>();
  /** Commands executed per operation and family (fail2ban's `__eOpCmd`), forgotten when a property changes. */
  private readonly executed = new Map<string, Map<FamilyKey, string>>();
  private derived: { cond?: boolean; families?: readonly FamilyKey[]; onDemand?: boolean } = {};
  private epoch = 0;
  private readonly id: string;

  constructor(
    readonly name: string,
    readonly jail: JailView,
    properties: Iterable<readonly [string, PropertyValue]>,
    private readonly env: ActionEnv,
    private readonly jailEpoch: BanEpoch = { current: 0 },
  ) {
    this.id = execId(jail.name, name);
    this.props.set('timeout', 60);
    for (const c of DEFAULT_COMMANDS) this.props.set(c, '');
    this.tags = new StaticTags(jail.name, name, () => this.tagSource(), (fqdn) => env.hostname(fqdn));
    env.log.log('fail2ban.CommandAction', LEVEL.DEBUG, "Created <class 'fail2ban.server.action.CommandAction'>");
    for (const [k, v] of properties) this.setProperty(k, v);
  }

  /** `set <jail> action <act> <prop> <value>`: `timeout` goes through str2seconds, `bantime` is ignored. */
  setProperty(key: string, value: PropertyValue): void {
    if (key === 'bantime') return;
    let v = value;
    if (key === 'timeout' && typeof v === 'string') {
      try {
        const s = str2seconds(v);
        v = typeof s === 'bigint' ? Number(s) : s;
      } catch (e) {
        throw new ActionPropertyError(this.jail.name, this.name, key, e instanceof Error ? e.message : String(e));
      }
    }
    this.props.set(key, v);
    this.invalidate();
    this.env.log.log('fail2ban.CommandAction', LEVEL.DEBUG, `  Set ${key} = ${v instanceof PyFloat ? pyReprFloat(v.value) : pyRepr(v)}`);
  }

  /** `clearAllParams` (a reload keeps the action): the commands and timeout back to their defaults, to be set again by the stream. */
  clearAllParams(): void {
    this.props.set('timeout', 60);
    for (const c of DEFAULT_COMMANDS) this.props.set(c, '');
    this.invalidate();
  }

  /** `get <jail> action <act> <prop>`; undefined when the action has no such property. */
  getProperty(key: string): PropertyValue | undefined {
    if (key === 'banEpoch') return this.banEpoch;
    return this.props.get(key);
  }

  /** `get <jail> actionproperties <act>`: fail2ban's sorted `dir()` of public non-callables. */
  propertyNames(): string[] {
    const names = new Set([...CLASS_PROPERTIES, ...[...this.props.keys()].filter((k) => !k.startsWith('_'))]);
    return [...names].sort();
  }

  /** `get <jail> actionmethods <act>`. */
  methodNames(): string[] {
    return [...METHOD_NAMES];
  }

  /** The epoch of the last repair of this action (0: never). */
  get banEpoch(): number {
    return this.epoch;
  }

  /** Whether `actionprolong` is set to something other than blanks (the observer only prolongs then). */
  get prolongable(): boolean {
    const v = this.props.get('actionprolong');
    return truthy(v) && !/^\s+$/.test(propertyText(v ?? null));
  }

  /** Whether the action has a flush command (else the caller unbans ticket by ticket). */
  get hasFlush(): boolean {
    return truthy(this.props.get('actionflush'));
  }

  /** Whether restored tickets must not be banned by this action (`norestored`). */
  get norestored(): boolean {
    return truthy(this.props.get('norestored'));
  }

  /** The timeout in seconds. */
  get timeoutSeconds(): number {
    const t = this.props.get('timeout') ?? 60;
    return t instanceof PyFloat ? t.value : Number(t);
  }

  /** Jail start: `actionstart` for every family, unless the action starts on demand. */
  start(): Promise<boolean> {
    return this.startFamily(undefined, false);
  }

  /** `actionban` (after `actionstart` for the ticket's family when on demand). */
  async ban(info: ActionInfo, cmd = '<actionban>'): Promise<void> {
    const family = info.family;
    if (this.startOnDemand && !this.started.get(family)) await this.startFamily(family, true);
    if (!(await this.processCmd(cmd, info))) throw new ActionError(this.jail.name, this.name, cmd, `Error banning ${info.get('ip') ?? ''}`);
    this.started.set(family, (this.started.get(family) ?? 0) | 3);
  }

  // ---- the native path (action/nativeBans.ts): the same life cycle, the ban done elsewhere ----

  /** A command with its static tags filled in for `family` (`<ip>` and other ticket tags left as they are). */
  staticCommand(tag: string, family: FamilyKey): string {
    return this.operation(tag, family);
  }

  /** What `ban` does before its command: `actionstart` of the family when the action starts on demand. */
  async beginBan(family: FamilyKey): Promise<void> {
    if (this.startOnDemand && !this.started.get(family)) await this.startFamily(family, true);
  }

  /** What `ban` does after its command succeeded: the family now holds bans. */
  markBanned(family: FamilyKey): void {
    this.started.set(family, (this.started.get(family) ?? 0) | 3);
  }

  /** Whether the family holds bans (else `unban` has nothing to do). */
  holdsBans(family: FamilyKey): boolean {
    return ((this.started.get(family) ?? 0) & 2) !== 0;
  }

  /**
   * After a failed native change: `actioncheck`, and when it fails `actionrepair` (or stop and
   * start), as before the retry of a failed command. True when the environment is sane again.
   */
  async repair(family: FamilyKey, unbanning: boolean): Promise<boolean> {
    if (!truthy(this.props.get('actioncheck'))) return true;
    const beforeRepair = (): boolean => {
      if (unbanning && !truthy(this.props.get('actionrepair_on_unban'))) {
        this.env.log.log('fail2ban.CommandAction', LEVEL.ERROR, 'Invariant check failed. Unban is impossible.');
        return false;
      }
      return true;
    };
    return (await this.invariantCheck(family, beforeRepair, !unbanning)) === 1;
  }

  /** `actionreban` if set, else `actionban` (a ticket banned before the last repair). */
  reban(info: ActionInfo): Promise<void> {
    return this.ban(info, truthy(this.props.get('actionreban')) ? '<actionreban>' : '<actionban>');
  }

  /** `actionprolong` (the caller checks {@link prolongable}). */
  async prolong(info: ActionInfo): Promise<void> {
    if (!(await this.processCmd('<actionprolong>', info))) {
      throw new ActionError(this.jail.name, this.name, '<actionprolong>', `Error prolonging ${info.get('ip') ?? ''}`);
    }
  }

  /** `actionunban`, only when the ticket's family holds bans. */
  async unban(info: ActionInfo): Promise<void> {
    if (((this.started.get(info.family) ?? 0) & 2) === 0) return;
    if (!(await this.processCmd('<actionunban>', info))) {
      throw new ActionError(this.jail.name, this.name, '<actionunban>', `Error unbanning ${info.get('ip') ?? ''}`);
    }
  }

  /**
   * `actionflush` for every family holding bans. Returns false when the action has no flush
   * command (the caller then unbans each ticket); throws ActionError when the flush failed.
   * The tickets are not needed by a command action; the parameter keeps one signature for all actions.
   */
  async flush(_infos: readonly ActionInfo[] = []): Promise<boolean> {
    if (!this.hasFlush) return false;
    const families = [...this.started].filter(([, v]) => (v & 3) === 3).map(([f]) => f);
    if (families.length === 0) return true;
    return this.executeOperation('<actionflush>', 'flushing', families, (f, ok) => {
      const s = this.started.get(f);
      if (ok && s) this.started.set(f, s & ~2);
    });
  }

  /** Jail stop: `actionstop` once per started family. */
  stop(): Promise<boolean> {
    return this.stopFamily(undefined);
  }

  /** Server reload with the action kept: `actionreload` for the started families. */
  reload(): Promise<boolean> {
    return this.executeOperation('<actionreload>', 'reloading', []);
  }

  /** The invariant check (with repair) of every started family; `beforeRepair` false skips the repair. */
  async consistencyCheck(beforeRepair?: () => boolean): Promise<boolean> {
    let ok = true;
    if (!truthy(this.props.get('actioncheck'))) return ok;
    for (const [family, started] of [...this.started]) {
      if (started && (await this.invariantCheck(family, beforeRepair)) !== 1) {
        this.started.set(family, 0);
        this.setExecuted('<actionstart>', family, null);
        ok = false;
      }
    }
    return ok;
  }

  // ---- state -------------------------------------------------------------------------------

  private invalidate(): void {
    this.tags.clear();
    this.executed.clear();
    this.derived = {};
  }

  private tagSource(): ReadonlyMap<string, PropertyValue> {
    const m = new Map(this.props);
    if (!m.has('actionstart_on_demand')) m.set('actionstart_on_demand', this.startOnDemand);
    return m;
  }

  private get hasCondSection(): boolean {
    this.derived.cond ??= [...this.props.keys()].some((k) => CONDITIONAL_FAMILY.test(k));
    return this.derived.cond;
  }

  private get families(): readonly FamilyKey[] {
    if (this.derived.families === undefined) {
      const explicit = this.props.get('families');
      if (truthy(explicit)) this.derived.families = propertyText(explicit ?? null).split(/[\s,]+/).filter((w) => w !== '');
      else if (this.hasCondSection) this.derived.families = this.env.allowIpv6() ? ['inet4', 'inet6'] : ['inet4'];
      else this.derived.families = [''];
    }
    return this.derived.families;
  }

  private get startOnDemand(): boolean {
    if (this.derived.onDemand === undefined) {
      const v = this.props.get('actionstart_on_demand');
      this.derived.onDemand = v === undefined || v === null ? this.hasCondSection : truthy(v);
    }
    return this.derived.onDemand;
  }

  private setExecuted(tag: string, family: FamilyKey, cmd: string | null): void {
    let fams = this.executed.get(tag);
    if (cmd) {
      if (!fams) this.executed.set(tag, (fams = new Map<FamilyKey, string>()));
      fams.set(family, cmd);
      return;
    }
    const old = fams?.get(family);
    if (!fams || old === undefined) return;
    fams.delete(family);
    for (const [f, v] of [...fams]) if (v === old) fams.delete(f);
  }

  private executedByOthers(tag: string, family: FamilyKey): string[] {
    return [...(this.executed.get(tag) ?? [])].filter(([f]) => f !== family).map(([, v]) => v);
  }

  // ---- operations ----------------------------------------------------------------------------

  /** `_getOperation`: the static pass, then `<family>` filled in for a conditional family. */
  private operation(tag: string, family: FamilyKey): string {
    const cmd = this.tags.resolve(tag, family ?? '');
    if (!family || !cmd.includes('<')) return cmd;
    const fam = family;
    return substituteDynamic(cmd, (t) => (t === 'family' ? fam : undefined), new Map(), this.env).script;
  }

  private async executeOperation(tag: string, operation: string, given: readonly FamilyKey[], afterExec?: AfterExec): Promise<boolean> {
    let ok = true;
    let err = "'Script error'";
    const families = given.length > 0 ? given : [...this.started].filter(([, v]) => v).map(([f]) => f);
    for (const family of families) {
      try {
        const cmd = this.operation(tag, family);
        let ret = true;
        if (cmd && !this.executedByOthers(tag, family).includes(cmd)) {
          const info = ActionInfo.forOperation(this.jail, this.env.now(), family, this.env.info);
          ret = await this.executeCmd(substituteDynamic(cmd, info.get, info.fdata, this.env));
          ok &&= ret;
        }
        afterExec?.(family, ret);
        this.setExecuted(tag, family, ret ? cmd : null);
      } catch (e) {
        if (!(e instanceof ActionTagError)) throw e;
        ok = false;
        err = `ValueError(${pyReprString(e.pythonMessage)})`;
      }
    }
    if (!ok) throw new ActionError(this.jail.name, this.name, tag, `Error ${operation} action Jail(${pyReprString(this.jail.name)})/${this.name}: ${err}`);
    return ok;
  }

  private startFamily(family: FamilyKey | undefined, force: boolean): Promise<boolean> {
    if (this.startOnDemand) {
      if (!force) return Promise.resolve(true);
    } else if (!force && this.started.get(family ?? null)) return Promise.resolve(true);
    const families = family === undefined || family === null ? this.families : [family];
    return this.executeOperation('<actionstart>', 'starting', families, (f, ok) => {
      if (!ok) return;
      this.setExecuted('<actionstop>', f, null);
      this.started.set(f, 1);
    });
  }

  private stopFamily(family: FamilyKey | undefined): Promise<boolean> {
    let families: FamilyKey[];
    if (family === undefined || family === null) {
      families = [...this.started].filter(([, v]) => v).map(([f]) => f);
      if (families.length === 0) return Promise.resolve(true);
      this.started = new Map();
    } else {
      if (!this.started.has(family)) return Promise.resolve(true);
      this.started.set(family, 0);
      families = [family];
    }
    return this.executeOperation('<actionstop>', 'stopping', families, (f, ok) => {
      if (ok) this.setExecuted('<actionstart>', f, null);
    });
  }

  private invalidateBanEpoch(): void {
    this.epoch = ++this.jailEpoch.current;
  }

  /** `_invariantCheck`: 1 sane (or restored), 0 not restorable, -1 repair refused by `beforeRepair`. */
  private async invariantCheck(family: FamilyKey, beforeRepair?: () => boolean, forceStart = true): Promise<number> {
    if (!forceStart && family !== null && !this.started.has(family)) return 1;
    const checkCmd = this.operation('<actioncheck>', family);
    if (!checkCmd || (await this.executeCmd({ script: checkCmd, args: [] }))) return 1;
    if (beforeRepair && !beforeRepair()) return -1;
    this.env.log.log('fail2ban.CommandAction', LEVEL.ERROR, 'Invariant check failed. Trying to restore a sane environment');
    this.invalidateBanEpoch();
    const repairCmd = this.operation('<actionrepair>', family);
    if (repairCmd) {
      if (!(await this.executeCmd({ script: repairCmd, args: [] }))) {
        this.started.set(family, 0);
        this.env.log.log('fail2ban.CommandAction', LEVEL.CRITICAL, 'Unable to restore environment');
        return 0;
      }
      this.started.set(family, 1);
    } else {
      try {
        await this.stopFamily(family);
      } catch (e) {
        // a failing stop is passed over when start and check succeed afterwards
        if (!(e instanceof ActionError)) throw e;
      }
      await this.startFamily(family, forceStart || !this.startOnDemand);
    }
    if (this.started.get(family) && !(await this.executeCmd({ script: checkCmd, args: [] }))) {
      this.env.log.log('fail2ban.CommandAction', LEVEL.CRITICAL, 'Unable to restore environment');
      return 0;
    }
    return 1;
  }

  /** `_processCmd`: run a ticket command; on failure, one more attempt after the check (and repair). */
  private async processCmd(cmd: string, info: ActionInfo): Promise<boolean> {
    const family = info.family;
    for (let attempt = 0; ; ) {
      if (attempt > 0 && !(await this.repair(family, cmd === '<actionunban>'))) return false;
      let realCmd: string;
      try {
        realCmd = this.tags.resolve(cmd, family ?? '');
      } catch (e) {
        throw new ActionError(this.jail.name, this.name, cmd, e instanceof ActionTagError ? e.pythonMessage : String(e), { cause: e });
      }
      const ok = await this.executeCmd(substituteDynamic(realCmd, info.get, info.fdata, this.env));
      attempt++;
      if (ok || attempt > 1) return ok;
    }
  }

  // ---- execution ---------------------------------------------------------------------------

  /** `executeCmd`: an empty command succeeds; otherwise one command at a time, server-wide. */
  private executeCmd(cmd: ShellCommand): Promise<boolean> {
    const log = this.env.log;
    if (log.isEnabledFor(9)) log.log('fail2ban.action', 9, this.shown(cmd));
    if (cmd.script === '' && cmd.args.length === 0) {
      log.log('fail2ban.action', LEVEL.DEBUG, 'Nothing to do');
      return Promise.resolve(true);
    }
    return this.env.lock.run(async () => this.logResult(cmd, await this.env.runner.run(cmd, this.timeoutSeconds * 1000)));
  }

  /** How fail2ban prints a command: the text, or the list `[script, arg…]` when it has arguments. */
  private shown(cmd: ShellCommand): string {
    return cmd.args.length === 0 ? cmd.script : pyRepr([cmd.script, ...cmd.args]);
  }

  /** `Utils.executeCmd`'s log lines (logger `fail2ban.utils`); true on exit status 0. */
  private logResult(cmd: ShellCommand, r: CommandResult): boolean {
    const log = this.env.log;
    const id = this.id;
    const u = 'fail2ban.utils';
    let execLogged = false;
    const logExec = (level: number): void => {
      if (!execLogged) log.log(u, level, `${id} -- exec: ${this.shown(cmd)}`);
      execLogged = true;
    };
    if (r.spawnError !== undefined) {
      logExec(LEVEL.ERROR);
      log.log(u, LEVEL.ERROR, `${this.shown(cmd)} -- failed with ${r.spawnError}`);
      return false;
    }
    if (r.timedOut) {
      logExec(LEVEL.ERROR);
      const t = this.props.get('timeout');
      log.log(u, LEVEL.ERROR, `${id} -- timed out after ${t instanceof PyFloat ? pyReprFloat(t.value) : String(t)} seconds.`);
    }
    const rc = r.code ?? (r.signal !== null ? -signalNumber(r.signal) : null);
    const level = rc === 0 ? LEVEL.DEBUG : LEVEL.ERROR;
    if (log.isEnabledFor(level)) {
      logExec(level === LEVEL.DEBUG ? 9 : LEVEL.ERROR);
      for (const line of splitLines(r.stdout)) log.log(u, level, `${id} -- stdout: ${pyReprString(line)}`);
      for (const line of splitLines(r.stderr)) log.log(u, level, `${id} -- stderr: ${pyReprString(line)}`);
    }
    if (rc === 0) {
      log.log(u, LEVEL.DEBUG, `${id} -- returned successfully 0`);
      return true;
    }
    if (rc === null) log.log(u, LEVEL.ERROR, `${id} -- unable to kill PID`);
    else if (rc < 0 || rc > 128) log.log(u, LEVEL.ERROR, `${id} -- killed with ${signalName(rc < 0 ? -rc : rc - 128)} (return code: ${rc})`);
    else {
      log.log(u, LEVEL.ERROR, `${id} -- returned ${rc}`);
      if (rc === 127) {
        const repr = cmd.args.length === 0 ? pyReprString(cmd.script) : this.shown(cmd);
        log.log(u, LEVEL.INFO, `HINT on 127: ${HINT_127.replace('%s', repr)}`);
      }
    }
    return false;
  }
}
