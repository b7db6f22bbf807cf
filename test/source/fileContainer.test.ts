import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FileContainer, LogFileError } from '../../src/source/index.js';
import { LEVEL } from '../../src/system/log.js';
import { MemoryLog } from '../../src/testing/memoryLog.js';
import { NO_PYTHON, PYTHON, runPython } from '../helpers/python.js';

const dir = mkdtempSync(join(tmpdir(), 'pc-fc-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(content: string | Buffer): string {
  const p = join(dir, `f${++n}.log`);
  writeFileSync(p, content);
  return p;
}
const sha1 = (s: string | Buffer): string => createHash('sha1').update(s).digest('hex');
const skipPy = { skip: PYTHON === undefined ? NO_PYTHON : false };

/** What fail2ban's own FileContainer does: hash at creation, then lines of each "read" step. */
const PY_CONTAINER = `
from fail2ban.server.filter import FileContainer
import os, shutil
out = {}
c = FileContainer(DATA['path'], 'UTF-8', DATA.get('tail', False))
out['hash'] = c.getHash()
out['pos0'] = c.getPos()
reads = []
for step in DATA.get('steps', [None]):
    if step:
        kind, arg = step
        if kind == 'append':
            with open(arg[0], 'ab') as f: f.write(arg[1].encode())
        elif kind == 'rename':
            os.rename(arg[0], arg[1])
        elif kind == 'create':
            with open(arg[0], 'wb') as f: f.write(arg[1].encode())
    lines = []
    if c.open():
        while True:
            l = c.readline()
            if l is None: break
            lines.append(l)
    c.close()
    reads.append(lines)
out['reads'] = reads
out['pos'] = c.getPos()
out['hash2'] = c.getHash()
print(json.dumps(out))
`;

describe('first-line hash', () => {
  test('SHA-1 of the first line with its newline; empty or unfinished first line → ""', () => {
    const cases: [string, string][] = [
      ['first line\nsecond\n', sha1('first line\n')],
      ['crlf line\r\nnext\r\n', sha1('crlf line\r\n')],
      ['', ''],
      ['no newline yet', ''],
      ['only\n', sha1('only\n')],
    ];
    for (const [content, want] of cases) {
      const c = new FileContainer(file(content));
      assert.equal(c.getHash(), want, JSON.stringify(content));
      c.close();
    }
  });

  test('a first line longer than every buffer is hashed whole', () => {
    const line = 'x'.repeat(200_000) + '\n';
    const c = new FileContainer(file(line + 'b\n'));
    assert.equal(c.getHash(), sha1(line));
    c.close();
  });

  test('hash and position equal fail2ban\'s FileContainer (head and tail)', skipPy, () => {
    const content = 'Jan  1 00:00:01 host sshd[1]: first ü\nJan  1 00:00:02 host second\npartial';
    for (const tail of [false, true]) {
      const path = file(content);
      const py = runPython<{ hash: string; pos0: number; reads: string[][]; pos: number }>(PY_CONTAINER, { path, tail });
      const c = new FileContainer(path, { tail });
      assert.equal(c.getHash(), py.hash);
      assert.equal(c.getHash(), sha1(Buffer.from('Jan  1 00:00:01 host sshd[1]: first ü\n')));
      if (!tail) {
        assert.equal(c.getPos(), py.pos0);
        const r = c.readLines();
        assert.deepEqual(r.lines, py.reads[0]);
        assert.equal(c.getPos(), py.pos, 'position after reading (the partial line stays unread)');
      }
      c.close();
    }
  });
});

describe('reading', () => {
  test('complete lines only; a partial last line is completed later; CRLF stripped', () => {
    const path = file('a\r\nb\npart');
    const c = new FileContainer(path);
    assert.deepEqual(c.readLines().lines, ['a', 'b']);
    assert.deepEqual(c.readLines().lines, []);
    appendFileSync(path, 'ial\r\nc\n');
    assert.deepEqual(c.readLines().lines, ['partial', 'c']);
    assert.equal(c.getPos(), Buffer.byteLength('a\r\nb\npartial\r\nc\n'));
    assert.equal(c.counters.lines, 4);
    c.close();
  });

  test('batches: maxBytes bounds one read, the rest comes on the next', () => {
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i}`);
    const c = new FileContainer(file(lines.join('\n') + '\n'));
    const got: string[] = [];
    let reads = 0;
    for (let r = c.readLines(1000); ; r = c.readLines(1000)) {
      reads++;
      got.push(...r.lines);
      if (r.atEof) break;
    }
    assert.deepEqual(got, lines);
    assert.ok(reads > 5);
    c.close();
  });

  test('invalid UTF-8: replacement characters as Python decodes them, one WARNING per file per day', skipPy, () => {
    const bad = Buffer.concat([Buffer.from('bad \xff\xfe here ', 'latin1'), Buffer.from('é'), Buffer.from('\xc3(\n', 'latin1')]);
    const path = file(Buffer.concat([Buffer.from('ok\n'), bad, bad, Buffer.from('fine\n')]));
    const log = new MemoryLog();
    const c = new FileContainer(path, { log });
    const lines = c.readLines().lines;
    const py = runPython<string>(`print(json.dumps(bytes(DATA).decode('utf-8', 'replace').rstrip('\\r\\n')))`, [...bad]);
    assert.deepEqual(lines, ['ok', py, py, 'fine']);
    assert.equal(c.counters.decodeErrors, 2);
    const warnings = log.records.filter((r) => r.level === LEVEL.WARNING);
    assert.deepEqual(warnings.map((r) => [r.name, r.message]), [
      ['fail2ban.filter', `Error decoding line from '${path}' with 'UTF-8'.`],
      ['fail2ban.filter', "Consider setting logencoding to appropriate encoding for this jail. Continuing to process line ignoring invalid characters: b'bad \\xff\\xfe here \\xc3\\xa9\\xc3(\\n'"],
    ]);
    assert.equal(log.records.filter((r) => r.level === LEVEL.TRACEDEBUG).length, 2, 'the second error at level 7');
    c.close();
  });

  test('latin-1 never errors; an unknown encoding is refused', () => {
    const c = new FileContainer(file(Buffer.from('caf\xe9\n', 'latin1')), { encoding: 'latin-1' });
    assert.deepEqual(c.readLines().lines, ['café']);
    c.close();
    assert.throws(() => new FileContainer(file('x\n'), { encoding: 'no-such-codec' }), /unknown encoding: no-such-codec/);
  });

  test('a 10 MiB line without newline is cut at the cap, counted, warned once; later lines are fine', () => {
    const path = file('before\n');
    const log = new MemoryLog();
    const c = new FileContainer(path, { log });
    assert.deepEqual(c.readLines().lines, ['before']);
    appendFileSync(path, 'é'.repeat(5 * 1024 * 1024)); // 10 MiB of two-byte characters, no newline
    const got: string[] = [];
    for (let r = c.readLines(); !r.atEof; r = c.readLines()) got.push(...r.lines);
    assert.equal(got.length, 0, 'nothing until the line ends');
    appendFileSync(path, 'tail of the long line\nnext 1\nnext 2\n' + 'y'.repeat(70_000) + '\nlast\n');
    for (let r = c.readLines(); ; r = c.readLines()) {
      got.push(...r.lines);
      if (r.atEof) break;
    }
    assert.equal(got.length, 5);
    assert.equal(got[0], 'é'.repeat(32 * 1024), 'cut at 64 KiB on a character boundary');
    assert.deepEqual(got.slice(1, 3), ['next 1', 'next 2']);
    assert.equal(got[3], 'y'.repeat(64 * 1024));
    assert.equal(got[4], 'last');
    assert.equal(c.counters.longLines, 2);
    assert.equal(c.counters.decodeErrors, 0);
    assert.equal(log.messages(LEVEL.WARNING).length, 1, 'one warning per file per day');
    assert.match(log.messages(LEVEL.WARNING)[0] ?? '', /^Line longer than 65536 bytes in '.*' cut at 65536 bytes\.$/);
    c.close();
  });

  test('a missing file: Python\'s error text', skipPy, () => {
    const path = join(dir, 'nope.log');
    const py = runPython<string>(`
try:
    open(DATA, 'rb')
except OSError as e:
    print(json.dumps(str(e)))`, path);
    assert.throws(() => new FileContainer(path), (e: unknown) => e instanceof LogFileError && e.message === py && e.errno === 2);
    assert.equal(py, `[Errno 2] No such file or directory: '${path}'`);
  });

  test('inOperation: false until a read with content reached the end; tail → true at once', () => {
    const head = new FileContainer(file('a\nb\n'));
    assert.equal(head.inOperation, false);
    head.readLines(2);
    assert.equal(head.inOperation, false, 'not at the end yet');
    head.readLines();
    assert.equal(head.inOperation, true);
    head.close();
    const emptyPath = file('');
    const empty = new FileContainer(emptyPath);
    empty.readLines();
    assert.equal(empty.inOperation, false, 'an empty file does not count as reaching the end');
    appendFileSync(emptyPath, 'x\n');
    assert.deepEqual(empty.readLines().lines, ['x']);
    assert.equal(empty.inOperation, true);
    empty.close();
    const tail = new FileContainer(file('old\nold2\npart'), { tail: true });
    assert.equal(tail.inOperation, true);
    assert.equal(tail.getPos(), 9, 'tail starts after the last complete line');
    tail.close();
  });
});

describe('rotation', () => {
  test('rename + create with lines still unread in the old file: fail2ban loses them, we do not', skipPy, () => {
    const path = join(dir, 'rot.log');
    // The real comparison: a read, then append+rename+create without a read in between, then a read.
    writeFileSync(path, 'one\ntwo\n');
    const f2b = runPython<{ reads: string[][] }>(`
from fail2ban.server.filter import FileContainer
import os
p = DATA
c = FileContainer(p, 'UTF-8')
def read():
    lines = []
    if c.open():
        while True:
            l = c.readline()
            if l is None: break
            lines.append(l)
    c.close()
    return lines
r1 = read()
with open(p, 'ab') as f: f.write(b'three\\nfour\\n')
os.rename(p, p + '.1')
with open(p, 'wb') as f: f.write(b'five\\nsix\\n')
r2 = read()
print(json.dumps({'reads': [r1, r2]}))`, path);
    assert.deepEqual(f2b.reads, [['one', 'two'], ['five', 'six']], 'fail2ban: three and four are lost');

    writeFileSync(path, 'one\ntwo\n');
    const log = new MemoryLog();
    const c = new FileContainer(path, { log });
    assert.deepEqual(c.readLines().lines, ['one', 'two']);
    appendFileSync(path, 'three\nfour\nunfinished');
    renameSync(path, path + '.1');
    writeFileSync(path, 'five\nsix\n');
    assert.deepEqual(c.readLines().lines, ['three', 'four', 'unfinished', 'five', 'six']);
    assert.equal(c.counters.rotations, 1);
    assert.equal(c.openKeys().length, 1, 'the old file is closed once the new one has content');
    assert.match(log.messages(LEVEL.MSG).join('\n'), /^Log rotation detected for .*rot\.log, reason: \(9, 8, \d+, \d+, '[0-9a-f]{40}', '[0-9a-f]{40}'\)$/m);
    c.close();
  });

  test('the old file stays open while the new one is empty, and what is written to it is read', () => {
    const path = file('a\n');
    const c = new FileContainer(path);
    c.readLines();
    renameSync(path, path + '.1');
    writeFileSync(path, '');
    assert.deepEqual(c.readLines().lines, []);
    appendFileSync(path + '.1', 'late to the old file\n');
    assert.deepEqual(c.readLines().lines, ['late to the old file']);
    assert.equal(c.openKeys().length, 2);
    appendFileSync(path, 'new\n');
    assert.deepEqual(c.readLines().lines, ['new']);
    assert.equal(c.openKeys().length, 1);
    c.close();
  });

  test('delete, lines to the deleted file, recreate: all read once, missing reported meanwhile', () => {
    const path = file('a\n');
    const c = new FileContainer(path);
    c.readLines();
    appendFileSync(path, 'b\n');
    rmSync(path);
    const r = c.readLines();
    assert.deepEqual(r.lines, ['b']);
    assert.equal(r.missing, true);
    writeFileSync(path, 'c\n');
    const r2 = c.readLines();
    assert.deepEqual(r2.lines, ['c']);
    assert.equal(r2.missing, false);
    c.close();
  });

  test('truncation restarts at 0 without repeating a line', () => {
    const path = file('one\ntwo\nthree\n');
    const c = new FileContainer(path);
    c.readLines();
    truncateSync(path, 0);
    appendFileSync(path, 'x\n');
    assert.deepEqual(c.readLines().lines, ['x']);
    assert.equal(c.counters.rotations, 1);
    c.close();
  });

  test('copytruncate: the unread tail is read from the copy, then the file from 0', () => {
    const path = file('one\ntwo\n');
    const c = new FileContainer(path);
    c.readLines();
    appendFileSync(path, 'three\nfour\n');
    copyFileSync(path, path + '.1');
    truncateSync(path, 0);
    appendFileSync(path, 'five\n');
    assert.deepEqual(c.readLines().lines, ['three', 'four', 'five']);
    assert.equal(c.openKeys().length, 1);
    c.close();
  });

  test('copytruncate, the file grown past the position before the next read: noticed by its first bytes', () => {
    const row = (i: number): string => `line ${String(i).padStart(3, '0')}\n`;
    const rows = (a: number, b: number): string => Array.from({ length: b - a }, (_, k) => row(a + k)).join('');
    const path = file(rows(0, 10));
    const c = new FileContainer(path);
    assert.equal(c.readLines().lines.length, 10);
    appendFileSync(path, rows(10, 12));
    copyFileSync(path, path + '.1');
    truncateSync(path, 0);
    appendFileSync(path, rows(12, 40)); // longer than before, every line the same length
    const want = Array.from({ length: 30 }, (_, k) => row(10 + k).trimEnd());
    assert.deepEqual(c.readLines().lines, want);
    assert.equal(c.counters.rotations, 1);
    c.close();
  });

  test('rewritten in place and grown past the position: noticed by the byte before the position', () => {
    const path = file('aaaa\nbbbb\n');
    const c = new FileContainer(path);
    c.readLines();
    writeFileSync(path, 'zzzzzzz\nyyyyyyyyyy\n');
    assert.deepEqual(c.readLines().lines, ['zzzzzzz', 'yyyyyyyyyy']);
    c.close();
  });
});

describe('seekToTime', () => {
  /** Lines "t=<n> …" every few, with undated lines between. */
  function build(times: number[]): { content: string; starts: number[] } {
    let content = '';
    const starts: number[] = [];
    for (const t of times) {
      starts.push(Buffer.byteLength(content));
      content += `t=${t} message ${'z'.repeat(t % 37)}\n`;
      if (t % 5 === 0) content += '  continuation without a date\n';
    }
    return { content, starts };
  }
  const dateOf = (line: string): number | null => {
    const m = /^t=(\d+)/.exec(line);
    return m ? Number(m[1]) : null;
  };

  test('finds the first line dated ≥ t (compared with a linear scan) for many t and sizes', () => {
    for (const count of [0, 1, 2, 3, 10, 100, 1000]) {
      const times = Array.from({ length: count }, (_, i) => i * 3);
      const { content, starts } = build(times);
      const path = file(content);
      for (const t of [-5, 0, 1, 2, 3, 4, 50, 151, 299, 1500, 2997, 2998, 5000]) {
        const c = new FileContainer(path);
        const pos = c.seekToTime(t, dateOf);
        const idx = times.findIndex((x) => x >= t);
        const want = idx === -1 ? Buffer.byteLength(content) : (starts[idx] ?? -1);
        // An undated line right before the target may be included (reading more is harmless).
        const slack = want - pos;
        assert.ok(slack >= 0 && slack <= 30, `count=${count} t=${t}: pos ${pos}, want ${want}`);
        c.close();
      }
    }
  });

  test('never goes before a restored position; then reads from there', () => {
    const times = Array.from({ length: 100 }, (_, i) => i);
    const { content, starts } = build(times);
    const c = new FileContainer(file(content));
    const restored = starts[60] ?? 0;
    c.setPos(restored);
    assert.equal(c.seekToTime(10, dateOf), restored);
    assert.match(c.readLines().lines[0] ?? '', /^t=60 /);
    c.close();
  });
});
