/**
 * `portcullis demo`: what a newcomer runs to see portcullis work. In a throw-away lab (a network
 * namespace with a real sshd, see system/demoLab.ts) portcullis' server runs the built-in
 * configuration; the host logs in, an attacker fails its password three times and is banned live
 * (the failures counted, the address in the firewall, the connection refused by the kernel), then
 * unbanned; everything is removed afterwards — also on an error or Ctrl-C. One line per event
 * with the time since the start. Pure apart from the lab and the clock.
 */
import type { Clock } from '../system/clock.js';
import type { DemoLab, SshOutcome } from '../system/demoLab.js';
import { DemoLabError } from '../system/demoLab.js';

export const EX_SOFTWARE = 70;
export const EX_INTERRUPTED = 130;

export interface DemoIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly clock: Clock;
}

export interface DemoOptions {
  /** How long the address may take to reach the firewall after the last failure. */
  readonly banTimeoutMs?: number;
  /** How long a failure may take to be counted. */
  readonly countTimeoutMs?: number;
}

const MAXRETRY = 3;

/** An expected failure of the story: a sentence and its sysexits code. */
class DemoFailure extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

const attempt = (outcome: SshOutcome, message: string): string =>
  outcome === 'accepted' ? 'accepted' : outcome === 'refused' ? `${message} (the kernel rejects the connection)` : message;

/** Runs the demo; resolves to the exit code (0, 69/77 when the lab cannot be built, 70, 130 on Ctrl-C). */
export async function runDemo(io: DemoIo, lab: DemoLab, opts: DemoOptions = {}): Promise<number> {
  const t0 = io.clock.nowMs();
  const say = (text: string): void => io.stdout(`[${((io.clock.nowMs() - t0) / 1000).toFixed(1).padStart(5)}s] ${text}\n`);
  let interrupt = (): void => undefined;
  const interrupted = new Promise<never>((_, reject) => (interrupt = () => reject(new DemoFailure(EX_INTERRUPTED, 'interrupted: removing everything the demo started'))));
  interrupted.catch(() => undefined);
  const off = lab.onInterrupt(() => interrupt());
  const step = <T>(p: Promise<T>): Promise<T> => {
    p.catch(() => undefined);
    return Promise.race([p, interrupted]);
  };
  let code = 0;
  let built = false;
  try {
    io.stdout("portcullis demo: a real sshd, an attacker and portcullis' built-in configuration in a throw-away network namespace.\n");
    await step(lab.check());
    built = true;
    await step(story(lab, say, step, io.clock, opts));
  } catch (e) {
    code = e instanceof DemoFailure || e instanceof DemoLabError ? e.exitCode : EX_SOFTWARE;
    io.stderr(`portcullis demo: ${e instanceof Error ? e.message : String(e)}\n`);
    const log = code === EX_INTERRUPTED ? '' : lab.serverLog();
    if (log !== '') io.stderr(`The server's last lines:\n${log.replace(/^/gm, '  ')}\n`);
  }
  if (built) say('cleaning up');
  try {
    for (const done of await lab.cleanup()) say(`  ${done}`);
  } catch (e) {
    io.stderr(`portcullis demo: cleaning up failed: ${e instanceof Error ? e.message : String(e)}\n`);
    code ||= EX_SOFTWARE;
  } finally {
    off();
  }
  if (code === 0) io.stdout('Done: nothing of the demo is left. To protect this machine: sudo portcullis start (see portcullis --help).\n');
  return code;
}

type Say = (text: string) => void;
type Step = <T>(p: Promise<T>) => Promise<T>;

async function story(lab: DemoLab, say: Say, step: Step, clock: Clock, opts: DemoOptions): Promise<void> {
  const { namespace, dir } = await step(lab.createNamespace());
  say(`built network namespace ${namespace}, work directory ${dir}`);
  say(`rsyslogd writes the auth log: ${await step(lab.startSyslog())}`);
  const sshd = await step(lab.startSshd());
  say(`sshd listens on 127.0.0.1 port ${sshd.port} (user ${sshd.user}, password logins)`);
  const server = await step(lab.startServer());
  say(`portcullis server runs the built-in configuration with ${server.jailLocal}: ${server.settings}`);
  await expectLogin(lab, say, step, 'host', 'right', 'accepted', `host ${lab.host} logs in with the right password`, ' (the host itself is never banned: ignoreself)');
  const until = waiter(lab, step, clock);
  for (let i = 1; i <= MAXRETRY; i++) {
    await expectLogin(lab, say, step, 'attacker', 'wrong', 'denied', `attacker ${lab.attacker}, wrong password ${i}`);
    const failedAt = clock.nowMs();
    if (i === MAXRETRY) {
      const inSet = async (): Promise<boolean> => (await lab.firewallSet()).includes(lab.attacker);
      await until(inSet, opts.banTimeoutMs ?? 15000, `the ban did not come: ${lab.attacker} was not in the firewall ${(opts.banTimeoutMs ?? 15000) / 1000} s after its ${MAXRETRY}rd failure`);
      say(`BANNED: ${lab.attacker} is in the nft set inet f2b-table addr-set-sshd ${clock.nowMs() - failedAt} ms after ssh reported its ${MAXRETRY}rd failure`);
    } else {
      let total = 0;
      await until(async () => (total = (await lab.jail()).failedTotal) >= i, opts.countTimeoutMs ?? 15000, `portcullis did not count failure ${i} (Total failed: ${total})`);
      say(`  portcullis counts: Total failed ${total}`);
    }
  }
  const j = await step(lab.jail());
  say(`portcullis status sshd: Total failed ${j.failedTotal}, Currently banned ${j.bannedCurrent}, Banned IP list ${j.bannedList.join(' ') || '-'}`);
  await expectLogin(lab, say, step, 'attacker', 'wrong', 'refused', `attacker ${lab.attacker} tries again`);
  await expectLogin(lab, say, step, 'host', 'right', 'accepted', `host ${lab.host} still logs in`);
  const out = await step(lab.unban(lab.attacker));
  say(`portcullis unban ${lab.attacker}${out === '' ? '' : `: ${out.split('\n').join(' / ')}`}`);
  await until(async () => !(await lab.firewallSet()).includes(lab.attacker), 15000, `${lab.attacker} stayed in the firewall after the unban`);
  say(`  ${lab.attacker} is no longer in the firewall`);
  await expectLogin(lab, say, step, 'attacker', 'wrong', 'denied', `attacker ${lab.attacker} tries again, reaches the password prompt`);
}

/** Polls `done` through the lab's sleep until it holds, or fails with `failure` after `timeoutMs`. */
function waiter(lab: DemoLab, step: Step, clock: Clock): (done: () => Promise<boolean>, timeoutMs: number, failure: string) => Promise<void> {
  return async (done, timeoutMs, failure) => {
    const end = clock.nowMs() + timeoutMs;
    while (!(await step(done()))) {
      if (clock.nowMs() > end) throw new DemoFailure(EX_SOFTWARE, failure);
      await step(lab.sleep(5));
    }
  };
}

async function expectLogin(lab: DemoLab, say: Say, step: Step, from: 'host' | 'attacker', pw: 'right' | 'wrong', expected: SshOutcome, what: string, note = ''): Promise<void> {
  const r = await step(lab.ssh(from, pw));
  say(`${what}: ${attempt(r.outcome, r.message)}${note}`);
  if (r.outcome !== expected) throw new DemoFailure(EX_SOFTWARE, `expected "${expected}" (${what}), got "${r.outcome}": ${r.message}`);
}
