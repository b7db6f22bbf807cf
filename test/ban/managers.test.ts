/**
 * Failure counting and the ban list against fail2ban's own FailManager and BanManager (the
 * Python classes of Debian's package, driven with the same random operations): after every
 * operation the same retry counts, the same bans (and refusals: expired, already banned,
 * prolonged), the same unbans in the same order, the same counters and ban ends. Plus the
 * documented cases of the runtime spec §1.2 written out by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BanManager } from '../../src/ban/banManager.js';
import { FailManager } from '../../src/counter/failManager.js';
import { idKey, Ticket } from '../../src/counter/ticket.js';
import { parseIp } from '../../src/shared/ip.js';
import { pyRound } from '../../src/shared/pymath.js';
import { NO_PYTHON, PYTHON, runPython } from '../helpers/python.js';
import { mulberry32 } from '../helpers/random.js';

type Op =
  | { op: 'fail'; id: string; t: number; m: string[] }
  | { op: 'cleanup'; t: number }
  | { op: 'unban'; t: number; max: number }
  | { op: 'bantime'; v: number }
  | { op: 'banip'; id: string; t: number; now: number };

interface Scenario {
  maxretry: number;
  findtime: number;
  maxmatches: number;
  bantime: number;
  ops: Op[];
}

const SCRIPT = `
from fail2ban.server.failmanager import FailManager
from fail2ban.server.banmanager import BanManager
from fail2ban.server.ticket import FailTicket, BanTicket
from fail2ban.server.mytime import MyTime
out = []
for sc in DATA:
    fm = FailManager(); fm.setMaxRetry(sc['maxretry']); fm.setMaxTime(sc['findtime']); fm.maxMatches = sc['maxmatches']
    bm = BanManager(); bm.setBanTime(sc['bantime'])
    res = []
    def ban(ticket, now):
        MyTime.setTime(now)
        reason = {}
        ok = bm.addBanTicket(BanTicket.wrap(ticket), reason=reason)
        return [bool(ok), 'expired' if 'expired' in reason else 'prolong' if 'prolong' in reason else 'already' if 'ticket' in reason else '']
    for op in sc['ops']:
        r = None
        if op['op'] == 'fail':
            t = FailTicket(op['id'], op['t'], op['m'])
            retry = fm.addFailure(t)
            r = [retry]
            if retry >= fm.getMaxRetry():
                try:
                    tb = fm.toBan(t.getID())
                    r.append(ban(tb, op['t']))
                except Exception as e:
                    r.append(type(e).__name__)
        elif op['op'] == 'cleanup':
            fm.cleanup(op['t'])
        elif op['op'] == 'unban':
            r = [str(x.getID()) for x in bm.unBanList(op['t'], op['max'])]
        elif op['op'] == 'bantime':
            bm.setBanTime(op['v'])
        elif op['op'] == 'banip':
            r = ban(BanTicket(op['id'], op['t']), op['now'])
        bl = bm._BanManager__banList
        fl = fm._FailManager__failList
        res.append([r, fm.size(), fm.getFailTotal(), bm.size(), bm.getBanTotal(),
            [[str(k), v.getEndOfBanTime(bm.getBanTime()), v.getBanCount(), v.getBanTime()] for k, v in bl.items()],
            [[str(k), v.getRetry(), v.getAttempt(), v.getTime(), v.getMatches()] for k, v in fl.items()]])
    out.append(res)
print(json.dumps(out))
`;

function ours(sc: Scenario): unknown[] {
  const fm = new FailManager();
  fm.maxRetry = sc.maxretry;
  fm.maxTime = sc.findtime;
  fm.maxMatches = sc.maxmatches;
  const bm = new BanManager();
  bm.banTime = sc.bantime;
  const res: unknown[] = [];
  const ban = (t: Ticket, now: number): [boolean, string] => {
    const r = bm.addBanTicket(t, now);
    if (r === true) return [true, ''];
    return [false, r.reason === 'expired' ? 'expired' : r.prolonged ? 'prolong' : 'already'];
  };
  for (const op of sc.ops) {
    let r: unknown = null;
    if (op.op === 'fail') {
      const t = new Ticket(parseIp(op.id), op.t, op.m);
      const retry = fm.addFailure(t);
      const out: unknown[] = [retry];
      if (retry >= fm.maxRetry) {
        const tb = fm.toBan(idKey(t.id));
        out.push(tb ? ban(tb, op.t) : 'FailManagerEmpty');
      }
      r = out;
    } else if (op.op === 'cleanup') fm.cleanup(op.t);
    else if (op.op === 'unban') r = bm.unBanList(op.t, op.max).map((t) => t.id.text);
    else if (op.op === 'bantime') bm.banTime = op.v;
    else r = ban(new Ticket(parseIp(op.id), op.t), op.now);
    const bans = bm.tickets().map((t) => [t.id.text, t.endOfBan(bm.banTime), t.banCount, t.banTime]);
    const fails = [...Array(fm.size).keys()].length === 0 ? [] : failList(fm);
    res.push([r, fm.size, fm.failTotal, bm.size, bm.banTotal, bans, fails]);
  }
  return res;
}

function failList(fm: FailManager): unknown[] {
  // The fail list in insertion order (what Python's dict iteration gives).
  const list = (fm as unknown as { list: Map<string, Ticket> }).list;
  return [...list.values()].map((t) => [t.id.text, t.retry, t.attempt, t.time, t.matches]);
}

function scenario(r: () => number): Scenario {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const sc: Scenario = {
    maxretry: pick([1, 2, 3, 5]),
    findtime: pick([10, 60, 600]),
    maxmatches: pick([0, 1, 3, 5]),
    bantime: pick([-1, 5, 30, 600]),
    ops: [],
  };
  let t = 1_700_000_000 + Math.floor(r() * 1000);
  let bantime = sc.bantime;
  const ids = ['192.0.2.1', '192.0.2.2', '198.51.100.7', '2001:db8::1', 'user@example', '10.0.0.1'];
  for (let i = 0; i < 120; i++) {
    const x = r();
    // time moves on, mostly a little, sometimes a lot, sometimes back (out-of-order lines)
    const dt = r() < 0.1 ? -Math.floor(r() * 30) : r() < 0.1 ? Math.floor(r() * 1200) : Math.floor(r() * 8);
    t += dt;
    const ft = r() < 0.3 ? t + r() * 0.99 : t; // float times too
    if (x < 0.65) sc.ops.push({ op: 'fail', id: pick(ids), t: ft, m: [`line ${i}`] });
    else if (x < 0.75) sc.ops.push({ op: 'cleanup', t });
    else if (x < 0.88) sc.ops.push({ op: 'unban', t, max: pick([1, 2, 0x7fffffff]) });
    else if (x < 0.93 && bantime !== -1) {
      // only longer bantimes: fail2ban does not recompute its next unban time on a shorter one
      bantime += pick([1, 30, 300]);
      sc.ops.push({ op: 'bantime', v: bantime });
    } else sc.ops.push({ op: 'banip', id: pick(ids), t: t - Math.floor(r() * 40), now: t });
  }
  return sc;
}

test('FailManager and BanManager agree with fail2ban\'s classes on 300 random scenarios', { skip: PYTHON === undefined && NO_PYTHON }, () => {
  const r = mulberry32(20261122);
  const scenarios = Array.from({ length: 300 }, () => scenario(r));
  const expected = runPython<unknown[][]>(SCRIPT, scenarios);
  let bans = 0;
  let unbans = 0;
  scenarios.forEach((sc, i) => {
    const got = ours(sc);
    const want = expected[i] as unknown[];
    for (let k = 0; k < sc.ops.length; k++) {
      assert.deepEqual(got[k], want[k], `scenario ${i} op ${k} ${JSON.stringify(sc.ops[k])}\n${JSON.stringify({ ...sc, ops: sc.ops.slice(0, k + 1) })}`);
    }
    for (const step of want as Array<[unknown]>) {
      const res = step[0];
      if (Array.isArray(res) && Array.isArray(res[1]) && res[1][0] === true) bans++;
      if (Array.isArray(res) && typeof res[0] === 'string') unbans += res.length;
    }
  });
  console.log(`scenarios: ${scenarios.length}, bans: ${bans}, unbans: ${unbans}`);
  assert.ok(bans > 500 && unbans > 100, 'the scenarios exercise bans and unbans');
});

test('spec §1.2 cases: maxretry 3, findtime 600', () => {
  const run = (times: number[], cleanupBefore?: number): number | undefined => {
    const fm = new FailManager();
    fm.maxRetry = 3;
    fm.maxTime = 600;
    const id = parseIp('192.0.2.9');
    for (const t of times) {
      if (cleanupBefore !== undefined && t === cleanupBefore) fm.cleanup(t);
      if (fm.addFailure(new Ticket(id, t)) >= 3) return t;
    }
    return undefined;
  };
  assert.equal(run([0, 10, 20]), 20);
  assert.equal(run([0, 599, 600]), 600);
  assert.equal(run([0, 10, 700]), 700); // retry = round(2/700*600) = 2, +1
  assert.equal(run([0, 10, 700], 700), undefined); // a cleanup first: the count restarts
  assert.equal(run([0, 1000, 1001]), 1001);
  assert.equal(run([100, 50, 60]), 60);
  const fm = new FailManager();
  fm.maxRetry = 7;
  fm.maxMatches = 5;
  const id = parseIp('192.0.2.9');
  for (let i = 0; i < 7; i++) fm.addFailure(new Ticket(id, i, [`l${i}`]));
  assert.deepEqual(fm.toBan()?.matches, ['l2', 'l3', 'l4', 'l5', 'l6']);
});

test('pyRound: halves to even, as Python 3', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001, 3].map(pyRound), [0, 2, 2, 0, -2, 2, 3, 3]);
});

test('BanManager: shortening the jail bantime releases bans at their new end (fail2ban waits for its old next-unban time)', () => {
  const bm = new BanManager();
  bm.banTime = 600;
  assert.equal(bm.addBanTicket(new Ticket(parseIp('192.0.2.1'), 1000), 1000), true);
  assert.equal(bm.nextUnbanTime, 1600);
  bm.banTime = 60;
  assert.equal(bm.nextUnbanTime, 1060);
  assert.deepEqual(bm.unBanList(1061).map((t) => t.id.text), ['192.0.2.1']);
  // permanent bans never expire, and removed ones leave nothing behind
  bm.banTime = -1;
  bm.addBanTicket(new Ticket(parseIp('192.0.2.2'), 1), 2);
  assert.deepEqual(bm.unBanList(4_000_000_000), []);
  assert.ok(bm.remove(idKey(parseIp('192.0.2.2'))));
  assert.equal(bm.size, 0);
});

test('BanManager: the expiry heap stays bounded however often bans are prolonged or removed', () => {
  const bm = new BanManager();
  bm.banTime = -1;
  for (let i = 0; i < 10000; i++) {
    const id = parseIp(`10.0.${i >> 8}.${i & 255}`);
    bm.addBanTicket(new Ticket(id, i), i);
    bm.remove(idKey(id));
  }
  bm.banTime = 100;
  const id = parseIp('192.0.2.1');
  for (let t = 0; t < 10000; t++) bm.addBanTicket(new Ticket(id, t), t); // each one prolongs the ban
  const heap = (bm as unknown as { heap: unknown[] }).heap;
  assert.ok(heap.length <= 2 * bm.size + 65, `heap ${heap.length} entries for ${bm.size} bans`);
  assert.equal(bm.ticketOf(idKey(id))?.endOfBan(100), 9999 + 100);
});
