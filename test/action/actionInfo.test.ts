/**
 * The per-ticket tag values, against fail2ban's own `Actions.ActionInfo` (Debian's 1.0.2): every
 * tag for IPv4, IPv6, networks, raw ids, restored tickets with int times, own and jail ban times,
 * with and without merged bans from a (fake) database; and the lazy, once-only lookups.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActionInfo, ptrName, type JailView, type MergedBans } from '../../src/action/actionInfo.js';
import { Ticket } from '../../src/counter/ticket.js';
import { parseIp, type IpAddress } from '../../src/shared/ip.js';
import { NO_PYTHON, PYTHON, runPython } from '../helpers/python.js';

const SKIP = { skip: PYTHON === undefined ? NO_PYTHON : false };
const TAGS = ['ip', 'family', 'ip-rev', 'ip-host', 'fid', 'failures', 'time', 'bantime', 'bancount', 'matches', 'restored', 'ipmatches', 'ipjailmatches', 'ipfailures', 'ipjailfailures', 'raw-ticket'];
const HOSTS: Record<string, string> = { '192.0.2.1': 'one.example.org', '2001:db8::1': 'six.example.org' };

interface Case {
  id: string;
  time: number;
  intTime?: boolean;
  matches: string[];
  data: Record<string, string | number>;
  bancount?: number;
  bantime?: number;
  restored?: boolean;
  /** Merged bans the database returns for [all jails, this jail]. */
  merged?: [MergedBans | null, MergedBans | null];
}

const CASES: Case[] = [
  { id: '192.0.2.1', time: 1795313669, matches: ['a', 'b c'], data: { failures: 3, user: 'bob' }, bancount: 1 },
  { id: '2001:db8::1', time: 1795313669.125, matches: [], data: { failures: 0 }, bantime: 3600, bancount: 2 },
  { id: '10.0.0.0/8', time: 1.5, matches: ['x'], data: { failures: 1 } },
  { id: '2001:db8::/32', time: 1795313669, matches: [], data: { failures: 2 } },
  { id: 'some-user', time: 1795313669, matches: ["it's \"q\"\n"], data: { failures: 7, user: 'x;y' } },
  { id: '198.51.100.7', time: 1795313685, intTime: true, matches: ['old'], data: { failures: 5 }, restored: true, bantime: -1, bancount: 3 },
  {
    id: '192.0.2.1',
    time: 1795313669,
    matches: ['own'],
    data: { failures: 2 },
    merged: [{ matches: ['m1', 'm2', 'own'], failures: 9 }, { matches: ['own', 'j1'], failures: 4 }],
  },
  { id: '192.0.2.2', time: 1795313669, matches: ['own'], data: { failures: 2 }, merged: [null, { matches: ['j'], failures: 1 }] },
];

const PY = String.raw`
from fail2ban.server.actions import Actions
from fail2ban.server.ticket import BanTicket
from fail2ban.server.ipdns import DNSUtils
DNSUtils.ipToName = staticmethod(lambda ip: DATA['hosts'].get(str(ip)))
class FakeDb:
    def __init__(self, merged): self.merged = merged
    def getBansMerged(self, ip=None, jail=None):
        m = self.merged[0 if jail is None else 1]
        if m is None: return None
        t = BanTicket(ip, 0.0, m['matches']); t.setAttempt(m['failures']); return t
class FakeActions:
    def getBanTime(self): return 600
class FakeJail:
    def __init__(self, merged): self.name = 'j'; self.actions = FakeActions(); self.database = FakeDb(merged) if merged else None
out = []
for c in DATA['cases']:
    t = BanTicket(c['id'], int(c['time']) if c.get('intTime') else float(c['time']), c['matches'], c['data'])
    if c.get('bancount') is not None: t.setBanCount(c['bancount'])
    if c.get('bantime') is not None: t.setBanTime(c['bantime'])
    if c.get('restored'): t.restored = True
    ai = Actions.ActionInfo(t, FakeJail(c.get('merged')))
    res = dict((tag, str(ai[tag])) for tag in DATA['tags'])
    res['F'] = dict((k, str(v)) for k, v in ai['F-*'].items())
    out.append(res)
# the empty ticket of start/stop commands
ai = Actions.ActionInfo(BanTicket('', 1795313669.0), FakeJail(None))
out.append(dict((tag, str(ai[tag])) for tag in DATA['tags'] if tag not in ('family',)))
print(json.dumps(out))
`;

const jail: JailView = { name: 'j', banTime: () => 600 };

function build(c: Case, calls: Array<[string, string | null]> = []): ActionInfo {
  const ticket = new Ticket(parseIp(c.id), c.time, c.matches, new Map(Object.entries(c.data)));
  if (c.bancount !== undefined) ticket.setBanCount(c.bancount);
  if (c.bantime !== undefined) ticket.banTime = c.bantime;
  if (c.restored) ticket.restored = true;
  const merged = c.merged;
  const mergedBans = (ip: IpAddress, j: string | null): MergedBans | undefined => {
    calls.push([ip.text, j]);
    return merged?.[j === null ? 0 : 1] ?? undefined;
  };
  return new ActionInfo(ticket, jail, { reverseDns: (ip) => HOSTS[ip] ?? null, ...(merged ? { mergedBans } : {}) }, { intTime: c.intTime ?? false });
}

test('every tag as fail2ban ActionInfo computes it', SKIP, () => {
  const real = runPython<Array<Record<string, string | Record<string, string>>>>(PY, { cases: CASES, tags: TAGS, hosts: HOSTS });
  CASES.forEach((c, i) => {
    const info = build(c);
    const mine: Record<string, string | Record<string, string>> = {};
    for (const tag of TAGS) mine[tag] = info.get(tag) ?? '<undefined>';
    mine.F = Object.fromEntries(info.fdata);
    assert.deepEqual(mine, real[i], `case ${i}: ${c.id}`);
  });
  const empty = ActionInfo.forOperation(jail, 1795313669, 'inet4', { reverseDns: () => null });
  const mine: Record<string, string> = {};
  for (const tag of TAGS) if (tag !== 'family') mine[tag] = empty.get(tag) ?? '<undefined>';
  assert.deepEqual(mine, real[CASES.length]);
  assert.equal(empty.get('family'), 'inet4');
  assert.equal(ActionInfo.forOperation(jail, 1, null).get('family'), 'None');
});

test('expensive tags are looked up lazily and once; a failing lookup falls back to the ticket', () => {
  const calls: Array<[string, string | null]> = [];
  const c = CASES[6] as Case;
  const info = build(c, calls);
  assert.equal(info.get('ip'), '192.0.2.1');
  assert.deepEqual(calls, []);
  assert.equal(info.get('ipfailures'), '9');
  assert.equal(info.get('ipmatches'), 'm1\nm2\nown');
  assert.equal(info.get('ipjailfailures'), '4');
  assert.deepEqual(calls, [['192.0.2.1', null], ['192.0.2.1', 'j']]);
  const broken = new ActionInfo(new Ticket(parseIp('192.0.2.3'), 1, ['own']), jail, {
    mergedBans: () => {
      throw new Error('db gone');
    },
  });
  assert.equal(broken.get('ipmatches'), 'own');
  assert.equal(broken.get('nope'), undefined);
});

test('ptrName: reversed octets and nibbles', () => {
  assert.equal(ptrName(parseIp('192.0.2.10')), '10.2.0.192.');
  assert.equal(ptrName(parseIp('::1')), '1.' + '0.'.repeat(31));
  assert.equal(ptrName(parseIp('not-an-ip')), '');
});
