/**
 * The client's Beautifier, side by side with fail2ban 1.0.2's own (`Beautifier(cmd).beautify(r)`
 * run by the system Python) for every command branch × many reply shapes, the real ones the
 * server sends and wrong ones that take fail2ban's "Beautifier error" fallback.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { beautify, beautifyError, beautifyOutcome, BeautifyErrorFailed } from '../../src/cli/beautifier.js';
import { PyDict, PyException, PyFloat, PyTuple, pyRepr, type PyValue } from '../../src/shared/pyvalue.js';
import { NO_PYTHON, PYTHON, runPython } from '../helpers/python.js';

const T = (...items: PyValue[]): PyTuple => new PyTuple(items);
const F = (x: number): PyFloat => new PyFloat(x);
const exc = (name: string, ...args: PyValue[]): PyException => new PyException(name.endsWith('JailException') ? 'fail2ban.exceptions' : 'builtins', name, args);

/** `Jail.status()` as the server returns it: filter and actions parts. */
const jailStatus = (banned: PyValue[], files: PyValue = ['/srv/f2b/t1.log']): PyValue => [
  T('Filter', [T('Currently failed', 0), T('Total failed', 3), T('File list', files)]),
  T('Actions', [T('Currently banned', banned.length), T('Total banned', banned.length), T('Banned IP list', banned)]),
];
const shortStatus: PyValue = [T('Filter', [T('Currently failed', 1), T('Total failed', 1), T('Journal matches', ['_SYSTEMD_UNIT=sshd.service', '+', '_COMM=sshd'])]), T('Actions', [T('Currently banned', 0), T('Total banned', 0)])];
const cymruStatus: PyValue = [
  T('Filter', [T('Currently failed', 0), T('Total failed', 0), T('File list', [])]),
  T('Actions', [T('Currently banned', 1), T('Total banned', 1), T('Banned IP list', ['192.0.2.10']), T('Banned ASN list', ['error']), T('Banned Country list', ['error']), T('Banned RIR list', ['error'])]),
];

const RESPONSES: readonly PyValue[] = [
  null, 'pong', '', 'Server ready', 'a b', "it's", 'line\nnext', 'é ü', 0, 7, -3, 86400, 10n ** 30n, true, false, F(1.5), F(86400), F(-0.5),
  [], ['a'], ['/a', '/b', '/c'], ['192.0.2.0/24', '10.0.0.1'], [1, 2], ['a', 1], [null], [['a', 'b'], ['c']], [['_SYSTEMD_UNIT=sshd.service'], ['_COMM=sshd', '+', 'x']],
  T(), T('a'), T('a', 'b'), T(null, 'Default Detectors'), T('^%%Y-%%m-%%d', '^%Y-%m-%d'), T('a', 'b', 'c'), T(null, T('x', 'y')), T(null, T('x')),
  new PyDict([]), new PyDict([['k', 1]]), [new PyDict([['t1', ['192.0.2.10']]]), new PyDict([['t2', []]])],
  [T('Number of jail', 2), T('Jail list', 't1, t2')], [T('Number of jail', 0), T('Jail list', '')], [T('Jail list', ['t1', 't2'])],
  jailStatus(['192.0.2.10']), jailStatus([]), jailStatus(['192.0.2.10', '2001:db8::1'], ['/a', '/b']), shortStatus, cymruStatus,
  [T('x')], [T('x', 5, 6)], [T('Filter', [])], [T('Filter', 'ab')], [T('Filter', [T('a', F(2.5)), T('b', [true, null])])], ['ab', 'cd'],
  ['192.0.2.10 \t2026-11-22 02:14:29 + 30 = 2026-11-22 02:14:59', '192.0.2.11 \t2026-11-22 02:14:30 + 30 = 2026-11-22 02:15:00'],
  ['<ip> . x', '^fail <HOST>$'], ['192.0.2.21', 100, 300], 'INFO', 20, 25, 5, 18, 13, 55, F(20),
  exc('ValueError', 'x'), T(5), T(F(2.5)), T(1, 2), T(['t1']),
];

const COMMANDS: ReadonlyArray<readonly PyValue[]> = [
  [], ['ping'], ['ping', '5'], ['version'], ['start'], ['start', 't5'], ['stop'], ['stop', 't5'], ['add', 't5', 'polling'], ['flushlogs'], ['echo', 'hello', 'world'],
  ['status'], ['status', 't1'], ['status', 't1', 'short'], ['status', 't1', 'cymru'], ['status', '--all'],
  ['get', 'syslogsocket'], ['set', 'syslogsocket', 'auto'], ['get', 'logtarget'], ['set', 'logtarget', 'STDOUT'], ['get', 'loglevel'], ['set', 'loglevel', '20'],
  ['get', 'dbfile'], ['set', 'dbfile', ':memory:'], ['get', 'dbpurgeage'], ['set', 'dbpurgeage', '1d'], ['get', 'dbmaxmatches'],
  ['get', 't1', 'logpath'], ['set', 't1', 'addlogpath', '/a'], ['set', 't1', 'dellogpath', '/a'], ['get', 't1', 'logencoding'], ['set', 't1', 'logencoding', 'UTF-8'],
  ['get', 't1', 'journalmatch'], ['set', 't1', 'addjournalmatch', '_COMM=sshd'], ['set', 't1', 'deljournalmatch', '_COMM=sshd'], ['get', 't1', 'datepattern'], ['set', 't1', 'datepattern', '^%Y'],
  ['get', 't1', 'ignoreip'], ['set', 't1', 'addignoreip', '10.0.0.1'], ['set', 't1', 'delignoreip', '10.0.0.1'],
  ['get', 't1', 'failregex'], ['set', 't1', 'addfailregex', 'x'], ['set', 't1', 'delfailregex', '0'], ['get', 't1', 'ignoreregex'], ['set', 't1', 'addignoreregex', 'y'], ['set', 't1', 'delignoreregex', '0'],
  ['get', 't1', 'actions'], ['get', 't1', 'actionproperties', 'rec'], ['get', 't1', 'actionproperties'], ['get', 't1', 'actionmethods', 'rec'], ['get', 't1', 'actionmethods'],
  ['get', 't1', 'banip'], ['get', 't1', 'banip', ','], ['get', 't1', 'banip', '--with-time'], ['set', 't1', 'banip', '192.0.2.21'], ['set', 't1', 'unbanip', '192.0.2.21'],
  ['get', 't1', 'banned'], ['get', 't1', 'banned', '192.0.2.10'], ['banned'], ['unban', '--all'], ['get', 't1', 'maxretry'], ['set', 't1', 'idle', 'on'], ['get', 't1', 'bantime.increment'],
  ['set', 't1', 'ignorecache', 'key=<ip>'], ['reload', '--all', [], [['set', 'loglevel', 'INFO']]], ['server-status'], ['server-stream', []], ['get', 't1', 'action', 'rec', 'actionban'],
  ['get', 'dbfile', 'logpath'], ['logpath', 'x', 'logpath'],
];

const EXCEPTIONS: readonly PyException[] = [
  exc('UnknownJailException', 'nojail'), exc('UnknownJailException', '--all'), exc('IndexError', 'list index out of range'), exc('DuplicateJailException', 't1'),
  exc('Exception', 'Invalid command'), exc('Exception', 'Invalid command (no get action or not yet implemented)'), exc('ValueError', 'a', 3), exc('KeyError', 'k'), exc('KeyError'),
  exc('KeyError', 'a', 'b'), exc('Exception'), exc('NameError', "name 'noduplicates' is not defined"), exc('ValueError', "not banned: ['X']"),
  exc('Exception', "No failure-id group in '^XX'"), exc('TypeError', ['x', 1]), exc('UnknownJailException', 5), exc('UnknownJailException'), exc('DuplicateJailException', null),
];

const ORACLE = `
import logging
from fail2ban.client.beautifier import Beautifier
from fail2ban.exceptions import UnknownJailException, DuplicateJailException
NS = {'UnknownJailException': UnknownJailException, 'DuplicateJailException': DuplicateJailException}
class Count(logging.Handler):
    n = 0
    def emit(self, record):
        if record.levelno >= logging.WARNING: self.n += 1
h = Count()
lg = logging.getLogger('fail2ban'); lg.addHandler(h); lg.propagate = False
out = []
for cmd, resp in DATA['pairs']:
    h.n = 0
    text = str(Beautifier(eval(cmd, NS)).beautify(eval(resp, NS)))
    out.append([text, h.n > 0])
errs = []
for e in DATA['errors']:
    try: errs.append(['ok', str(Beautifier(['status', 'x']).beautifyError(eval(e, NS)))])
    except Exception as x: errs.append(['raise', str(x)])
print(json.dumps({'out': out, 'errs': errs}))
`;

const PAIRS: Array<readonly [readonly PyValue[], PyValue]> = COMMANDS.flatMap((c) => RESPONSES.map((r) => [c, r] as const));

describe('Beautifier side by side with fail2ban 1.0.2', { skip: PYTHON === undefined ? NO_PYTHON : false }, () => {
  const real = PYTHON === undefined ? undefined : runPython<{ out: Array<[string, boolean]>; errs: Array<[string, string]> }>(ORACLE, {
    pairs: PAIRS.map(([c, r]) => [pyRepr(c), pyRepr(r)]),
    errors: EXCEPTIONS.map(pyRepr),
  });

  test(`beautify: ${PAIRS.length} (command, reply) pairs print byte for byte as fail2ban's, fallback included`, () => {
    assert.ok(real);
    const mismatches: string[] = [];
    let fallbacks = 0;
    PAIRS.forEach(([c, r], i) => {
      const [text, failed] = real.out[i] ?? ['<missing>', false];
      const ours = beautifyOutcome(c, r);
      if (failed) fallbacks++;
      if (ours.text !== text || ours.failed !== failed) mismatches.push(`${pyRepr(c)} ${pyRepr(r)}: ours ${JSON.stringify(ours)} real ${JSON.stringify({ text, failed })}`);
    });
    assert.deepEqual(mismatches.slice(0, 20), []);
    // Both paths are exercised: normal texts and fail2ban's "Beautifier error" fallback.
    assert.ok(fallbacks > 500 && fallbacks < PAIRS.length - 500, `fallbacks: ${fallbacks} of ${PAIRS.length}`);
  });

  test(`beautifyError: ${EXCEPTIONS.length} exceptions, including the ones fail2ban's own method trips over`, () => {
    assert.ok(real);
    EXCEPTIONS.forEach((e, i) => {
      const [kind, text] = real.errs[i] ?? ['<missing>', ''];
      if (kind === 'ok') assert.equal(beautifyError(e), text, pyRepr(e));
      else assert.throws(() => beautifyError(e), (x: unknown) => x instanceof BeautifyErrorFailed && x.message === text, pyRepr(e));
    });
  });
});

describe('Beautifier: the observed outputs of spec §6.4, verbatim', () => {
  const cases: ReadonlyArray<readonly [readonly string[], PyValue, string]> = [
    [['ping'], 'pong', 'Server replied: pong'],
    [['version'], '1.0.2', '1.0.2'],
    [['status'], [T('Number of jail', 2), T('Jail list', 't1, t2')], 'Status\n|- Number of jail:\t2\n`- Jail list:\tt1, t2'],
    [
      ['status', 't1'],
      jailStatus(['192.0.2.10']),
      'Status for the jail: t1\n|- Filter\n|  |- Currently failed:\t0\n|  |- Total failed:\t3\n|  `- File list:\t/srv/f2b/t1.log\n`- Actions\n   |- Currently banned:\t1\n   |- Total banned:\t1\n   `- Banned IP list:\t192.0.2.10',
    ],
    [['status', 't1'], jailStatus([]), 'Status for the jail: t1\n|- Filter\n|  |- Currently failed:\t0\n|  |- Total failed:\t3\n|  `- File list:\t/srv/f2b/t1.log\n`- Actions\n   |- Currently banned:\t0\n   |- Total banned:\t0\n   `- Banned IP list:\t'],
    [['banned'], [new PyDict([['t1', ['192.0.2.10']]]), new PyDict([['t2', []]])], "[{'t1': ['192.0.2.10']}, {'t2': []}]"],
    [['banned', '192.0.2.10', '192.0.2.99'], [['t1'], []], "[['t1'], []]"],
    [['get', 't1', 'banned'], ['192.0.2.10'], "['192.0.2.10']"],
    [['get', 't1', 'banned', '192.0.2.10', '192.0.2.11'], [1, 0], '[1, 0]'],
    [['get', 't1', 'banip', ','], ['a', 'b', 'c'], 'a,b,c'],
    [['get', 't1', 'banip', '--with-time'], ['192.0.2.10 \t2026-11-22 02:14:29 + 30 = 2026-11-22 02:14:59'], '192.0.2.10 \t2026-11-22 02:14:29 + 30 = 2026-11-22 02:14:59'],
    [['set', 't2', 'banip', '192.0.2.21', '192.0.2.22'], 2, '2'],
    [['unban', '--all'], 2, '2'],
    [['stop'], null, 'Shutdown successful'],
    [['stop', 't5'], null, 'Jail stopped'],
    [['start', 't5'], null, 'Jail started'],
    [['add', 't5', 'polling'], 't5', 'Added jail t5'],
    [['flushlogs'], 'rolled over', 'logs: rolled over'],
    [['echo', 'hello', 'world'], ['hello', 'world'], 'hello world'],
    [['get', 'loglevel'], 'INFO', "Current logging level is 'INFO'"],
    [['get', 'logtarget'], '/srv/f2b/f2b.log', 'Current logging target is:\n`- /srv/f2b/f2b.log'],
    [['get', 'syslogsocket'], 'auto', 'Current syslog socket is:\n`- auto'],
    [['get', 'dbfile'], null, 'Database currently disabled'],
    [['get', 'dbpurgeage'], 86400, 'Current database purge age is:\n`- 86400seconds'],
    [['get', 't1', 'logpath'], ['a', 'b'], 'Current monitored log file(s):\n|- a\n`- b'],
    [['get', 't1', 'logpath'], [], 'No file is currently monitored'],
    [['get', 't1', 'failregex'], ['x', 'y'], 'The following regular expression are defined:\n|- [0]: x\n`- [1]: y'],
    [['get', 't1', 'ignoreip'], ['192.0.2.0/24', '10.0.0.1'], 'These IP addresses/networks are ignored:\n|- 192.0.2.0/24\n`- 10.0.0.1'],
    [['get', 't1', 'actions'], ['rec'], 'The jail t1 has the following actions:\nrec'],
    [['get', 't1', 'datepattern'], T(null, 'Default Detectors'), 'Current date pattern set to: Default Detectors'],
    [['get', 't1', 'datepattern'], T('^%%Y-%%m-%%d', '^%Y-%m-%d'), 'Current date pattern set to: ^%%Y-%%m-%%d (^%Y-%m-%d)'],
    [['get', 't1', 'logencoding'], 'UTF-8', 'Current log encoding is set to:\nUTF-8'],
    [['get', 't1', 'journalmatch'], [], 'No journal match filter set'],
    [['get', 't1', 'ignoreself'], false, 'False'],
    [['get', 't1', 'prefregex'], '', ''],
    [['set', 't1', 'idle', 'on'], true, 'True'],
    [['set', 't1', 'ignorecache', 'key=<ip>'], ['<ip>', 100, 300], "['<ip>', 100, 300]"],
    [['reload', '--all', '[]', '[]'], 'OK', 'OK'],
  ];
  for (const [cmd, response, expected] of cases) {
    test(`${cmd.join(' ')} → ${JSON.stringify(expected).slice(0, 60)}`, () => assert.equal(beautify(cmd, response), expected));
  }
  test('errors', () => {
    assert.equal(beautifyError(exc('UnknownJailException', 'nojail')), "Sorry but the jail 'nojail' does not exist");
    assert.equal(beautifyError(exc('IndexError', 'list index out of range')), 'Sorry but the command is invalid');
    assert.equal(beautifyError(exc('DuplicateJailException', 't1')), "The jail 't1' already exists");
    assert.equal(beautifyError(exc('Exception', 'Invalid command')), 'Invalid command');
    assert.equal(beautifyError(exc('Exception', "No failure-id group in '^XX'")), "No failure-id group in '^XX'");
  });
});
