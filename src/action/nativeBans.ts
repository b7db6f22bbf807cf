/**
 * Transparent acceleration of a command action: when the action's `actionban`/`actionunban`, with
 * their static tags filled in for a family, are one firewall command each that adds and removes
 * `<ip>` to and from a named set or chain (firewall/recognise.ts), bans and unbans of that family
 * are done by the native backend, many addresses per transaction, on the very structure the
 * action's own `actionstart` made (the backend adopts it). Everything else of the action — start
 * (on demand), check, repair, flush, stop, reload, prolong — stays the template's, so the firewall
 * looks exactly as fail2ban would leave it.
 *
 * A failed native change is repaired as a failed command is (`actioncheck`, then `actionrepair`
 * or stop+start) and tried again; if it fails again, the addresses go back to the caller, which
 * runs the template's command for each: nothing is dropped. The action's `native` option (a
 * fail2ban boolean) set to false keeps the action a template.
 */
import type { IpFamily } from '../shared/ip.js';
import { LEVEL, type ServerLog } from '../system/log.js';
import type { ActionInfo, FamilyKey } from './actionInfo.js';
import type { CommandAction } from './commandAction.js';
import type { Firewall, FirewallEntry } from './firewall/firewall.js';
import { recogniseBanCommands, type NativeTarget } from './firewall/recognise.js';

/** The backends of the daemon (shared sessions inside), by what the action's commands do. */
export interface NativeBackends {
  /** A backend for the target's structure in the family; undefined when that kind is not available. */
  firewallFor(target: NativeTarget, family: IpFamily): Firewall | undefined;
}

interface Recognised {
  readonly ban: string;
  readonly unban: string;
  readonly firewall: Firewall | undefined;
}

const OFF = new Set(['false', 'no', 'off', '0']);

export class NativeBans {
  private readonly recognised = new Map<FamilyKey, Recognised>();
  /** The last native failure (shown by `portcullis status`), cleared by the next success. */
  lastError: string | undefined;

  constructor(
    private readonly action: CommandAction,
    private readonly backends: NativeBackends,
    private readonly log: ServerLog,
  ) {}

  /** The backend that bans `family` natively, if any (re-checked whenever the commands change). */
  backendFor(family: FamilyKey): Firewall | undefined {
    return this.recognise(family)?.firewall;
  }

  /** What the action's bans use: the native backend's kind (IPv4 first), else `template`. */
  get kind(): string {
    return this.backendFor('inet4')?.kind ?? this.backendFor('inet6')?.kind ?? 'template';
  }

  /**
   * At the action's start: recognises its ban commands and gets the native tools ready (a
   * persistent `nft -i` / `ipset -` started), so the first ban of an attack does not wait for
   * them. Never fails: a tool that cannot start is reported by the first real change.
   */
  async prepare(): Promise<void> {
    for (const family of ['inet4', 'inet6'] as const) await this.backendFor(family)?.prepare?.().catch(() => undefined);
  }

  /**
   * Bans the tickets natively where the action allows; returns those it did not ban (the caller
   * runs the template's actionban for them).
   */
  async ban(infos: readonly ActionInfo[]): Promise<ActionInfo[]> {
    const left: ActionInfo[] = [];
    for (const [family, group] of byFamily(infos)) {
      const fw = this.backendFor(family);
      if (fw === undefined) {
        left.push(...group);
        continue;
      }
      await this.action.beginBan(family);
      // the stock ipset actions' entry timeout is the action's own (`timeout N` in actionban), known to the backend
      const entries: FirewallEntry[] = group.map((i) => ({ ip: i.ticket.ip }));
      if (await this.apply(family, false, () => fw.ban(entries))) this.action.markBanned(family);
      else left.push(...group);
    }
    return inOrder(infos, left);
  }

  /** Unbans natively where the action allows; returns the tickets left to the template's actionunban. */
  async unban(infos: readonly ActionInfo[]): Promise<ActionInfo[]> {
    const left: ActionInfo[] = [];
    for (const [family, group] of byFamily(infos)) {
      const fw = this.backendFor(family);
      if (fw === undefined) left.push(...group);
      else if (!this.action.holdsBans(family)) continue;
      else if (!(await this.apply(family, true, () => fw.unban(group.map((i) => i.ticket.ip))))) left.push(...group);
    }
    return inOrder(infos, left);
  }

  /** Runs the change; on failure repairs the environment and tries once more. */
  private async apply(family: FamilyKey, unbanning: boolean, change: () => Promise<void>): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        if (attempt > 0 && !(await this.action.repair(family, unbanning))) break;
        await change();
        this.lastError = undefined;
        return true;
      } catch (e) {
        this.lastError = e instanceof Error ? e.message : String(e);
        this.log.log('fail2ban.actions', LEVEL.ERROR, `[${this.action.jail.name}] ${this.action.name}: native ${unbanning ? 'unban' : 'ban'} failed: ${this.lastError}`);
      }
    }
    this.log.log('fail2ban.actions', LEVEL.WARNING, `[${this.action.jail.name}] ${this.action.name}: falling back to the action's own commands`);
    return false;
  }

  private recognise(family: FamilyKey): Recognised | undefined {
    const fam: IpFamily | undefined = family === 'inet4' ? 4 : family === 'inet6' ? 6 : undefined;
    const native = this.action.getProperty('native');
    if (fam === undefined || (typeof native === 'string' && OFF.has(native.trim().toLowerCase())) || native === false) return undefined;
    let ban: string;
    let unban: string;
    try {
      ban = this.action.staticCommand('<actionban>', family);
      unban = this.action.staticCommand('<actionunban>', family);
    } catch {
      return undefined; // a tag error: the template reports it when it runs
    }
    const known = this.recognised.get(family);
    if (known?.ban === ban && known.unban === unban) return known;
    const target = recogniseBanCommands(ban, unban);
    const firewall = target === undefined ? undefined : this.backends.firewallFor(target, fam);
    firewall?.adopt(fam);
    const r = { ban, unban, firewall };
    this.recognised.set(family, r);
    return r;
  }
}

/** The tickets left to the template, in the order they came (families were handled apart). */
function inOrder(all: readonly ActionInfo[], left: readonly ActionInfo[]): ActionInfo[] {
  if (left.length === all.length) return [...all];
  const keep = new Set(left);
  return all.filter((i) => keep.has(i));
}

function byFamily(infos: readonly ActionInfo[]): Map<FamilyKey, ActionInfo[]> {
  const out = new Map<FamilyKey, ActionInfo[]>();
  for (const i of infos) {
    const list = out.get(i.family);
    if (list) list.push(i);
    else out.set(i.family, [i]);
  }
  return out;
}
