/**
 * What `portcullis start` prints once the server answers: what is protected and how to look at
 * it — per jail the rule (maxretry in findtime → bantime), where it reads (files, journal matches,
 * trapped ports), what bans (each action, native or through its own commands), who is never
 * banned; then the commands to watch it. Everything comes from the running server, so it is
 * what really runs, not what a file says.
 */
import { pyStr, PyTuple, type PyValue } from '../shared/pyvalue.js';
import type { JailStatus } from './portcullisDaemon.js';

/** The running server, as the summary asks it (portcullis' extensions may be unknown: undefined). */
export interface SummarySource {
  jails(): Promise<string[]>;
  /** `status JAIL` of each, parsed (with the action backends where the server tells them). */
  status(names: readonly string[]): Promise<JailStatus[]>;
  ask(cmds: readonly (readonly PyValue[])[]): Promise<PyValue[]>;
  askExtension(cmds: readonly (readonly PyValue[])[]): Promise<PyValue[] | undefined>;
}

export interface JailSummary {
  readonly name: string;
  readonly maxretry: number;
  readonly findtime: number;
  readonly bantime: number;
  readonly files: readonly string[];
  readonly journal: string | null;
  readonly ports: readonly string[];
  /** `name (how)` per action. */
  readonly actions: readonly string[];
  readonly ignoreSelf: boolean;
  readonly ignoreIps: readonly string[];
}

const UNITS: readonly (readonly [number, string])[] = [
  [604800, 'w'],
  [86400, 'd'],
  [3600, 'h'],
  [60, 'm'],
  [1, 's'],
];

/** Seconds as `1w`, `10m`, `1h30m`; negative: permanent. */
export function shortDuration(sec: number): string {
  if (sec < 0) return 'permanent';
  if (sec === 0) return '0s';
  let rest = Math.round(sec);
  const parts: string[] = [];
  for (const [n, u] of UNITS) {
    if (rest >= n) {
      parts.push(`${Math.floor(rest / n)}${u}`);
      rest %= n;
    }
  }
  return parts.slice(0, 2).join('');
}

function list(v: PyValue | undefined): string[] {
  if (Array.isArray(v)) return (v as readonly PyValue[]).map((x) => pyStr(x));
  if (v instanceof PyTuple) return v.items.map((x) => pyStr(x));
  return v === undefined || v === null ? [] : [pyStr(v)];
}

function number(v: PyValue | undefined): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  const n = Number(pyStr(v ?? null));
  return Number.isFinite(n) ? n : 0;
}

const HOW: Readonly<Record<string, string>> = {
  nftables: 'native nftables, batched',
  ipset: 'native ipset, batched',
  iptables: 'native iptables, batched',
  template: "the action's own commands",
};

export async function collectSummary(src: SummarySource): Promise<JailSummary[]> {
  const names = await src.jails();
  const statuses = await src.status(names);
  const out: JailSummary[] = [];
  for (const [i, name] of names.entries()) {
    const st = statuses[i];
    const [maxretry, findtime, bantime, ignoreSelf, ignoreIps, actions] = await src.ask([
      ['get', name, 'maxretry'],
      ['get', name, 'findtime'],
      ['get', name, 'bantime'],
      ['get', name, 'ignoreself'],
      ['get', name, 'ignoreip'],
      ['get', name, 'actions'],
    ]);
    const [trap] = (await src.askExtension([['get', name, 'porttrap']])) ?? [];
    const how = new Map((st?.actions ?? []).map((a) => [a.name, HOW[a.backend] ?? a.backend]));
    out.push({
      name,
      maxretry: number(maxretry),
      findtime: number(findtime),
      bantime: number(bantime),
      files: st?.files ?? [],
      journal: st?.journal ?? null,
      ports: list(trap),
      actions: list(actions).map((a) => (how.has(a) ? `${a} (${how.get(a) ?? ''})` : a)),
      ignoreSelf: ignoreSelf === true || pyStr(ignoreSelf ?? null) === 'True',
      ignoreIps: list(ignoreIps),
    });
  }
  return out;
}

/** The summary as text (`dir`: the configuration read, `socket`: where the server answers). */
export function formatSummary(jails: readonly JailSummary[], dir: string, socket: string): string {
  const lines: string[] = [];
  if (jails.length === 0) {
    lines.push(`portcullis is running but protects nothing: no jail is enabled in ${dir}`);
    lines.push('  enable one in jail.local, e.g. "[sshd]" then "enabled = true", and run: portcullis reload');
  } else {
    lines.push(`portcullis is protecting this machine with ${jails.length} jail${jails.length === 1 ? '' : 's'} (configuration ${dir})`);
  }
  const width = Math.max(0, ...jails.map((j) => j.name.length)) + 2;
  const pad = ' '.repeat(width + 2);
  for (const j of jails) {
    const failures = `${j.maxretry} failure${j.maxretry === 1 ? '' : 's'}`;
    lines.push(`  ${j.name.padEnd(width)}${failures} within ${shortDuration(j.findtime)} → banned ${j.bantime < 0 ? 'for good' : `for ${shortDuration(j.bantime)}`}`);
    const reads: string[] = [];
    if (j.files.length > 0) reads.push(j.files.join(', '));
    if (j.journal !== null) reads.push(j.journal === '' ? 'the journal' : `the journal (${j.journal})`);
    if (j.ports.length > 0) reads.push(`connections to TCP ${j.ports.join(', ')} (port trap)`);
    lines.push(`${pad}watches ${reads.length > 0 ? reads.join('; ') : 'nothing yet (no log file found)'}`);
    lines.push(`${pad}bans with ${j.actions.length > 0 ? j.actions.join(', ') : 'no action (failures are only counted and logged)'}`);
    const never = [...(j.ignoreSelf ? ["this machine's own addresses"] : []), ...j.ignoreIps];
    if (never.length > 0) lines.push(`${pad}never bans ${never.join(', ')}`);
  }
  lines.push(`See what it does: portcullis status [JAIL], portcullis bans (fail2ban-client -s ${socket} status works too)`);
  return `${lines.join('\n')}\n`;
}
