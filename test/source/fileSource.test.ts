import assert from 'node:assert/strict';
import { appendFileSync, closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, describe, test } from 'node:test';
import { FileSource, LogFileError, type FileBackend, type FileSourceOptions, type PositionStore } from '../../src/source/index.js';
import { LEVEL } from '../../src/system/log.js';
import { MemoryLog } from '../../src/testing/memoryLog.js';

const root = mkdtempSync(join(tmpdir(), 'pc-fs-'));
after(() => rmSync(root, { recursive: true, force: true }));
/** Every source a test made is stopped after it, even when an assertion failed (watchers would keep the process alive). */
const live = new Set<FileSource>();
afterEach(() => {
  for (const s of live) s.stop();
  live.clear();
});
function track(src: FileSource): FileSource {
  live.add(src);
  return src;
}
let n = 0;
function freshDir(): string {
  const d = join(root, `d${++n}`);
  mkdirSync(d);
  return d;
}

async function waitFor(cond: () => boolean, what: string, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** The port as fail2ban's database implements it (`_addLog`/`updateLog`), in memory. */
class MemoryPositions implements PositionStore {
  readonly rows = new Map<string, { hash: string | null; pos: number }>();
  updates = 0;
  addLog(jail: string, path: string, hash: string | null, pos: number | null): number | undefined {
    const key = `${jail}\0${path}`;
    const row = this.rows.get(key);
    if (!row) {
      if (pos || hash !== null) this.rows.set(key, { hash, pos: pos ?? 0 });
      return undefined;
    }
    return hash !== null && hash !== row.hash ? undefined : row.pos;
  }
  updateLog(jail: string, path: string, hash: string, pos: number): void {
    this.updates++;
    this.rows.set(`${jail}\0${path}`, { hash, pos });
  }
}

interface Received {
  lines: string[];
  batches: { path: string; count: number; inOperation: boolean }[];
}

function source(extra: Partial<FileSourceOptions> & { backend?: FileBackend }): { src: FileSource; got: Received } {
  const got: Received = { lines: [], batches: [] };
  const src = track(new FileSource({
    jail: 'test',
    pollIntervalMs: 50,
    onLines: (path, lines, inOperation) => {
      got.lines.push(...lines);
      got.batches.push({ path, count: lines.length, inOperation });
    },
    ...extra,
  }));
  return { src, got };
}

type Rotation = 'rename' | 'copytruncate' | 'truncate' | 'delete';
const TOTAL = 600;
const ROTATE_AT = 300;

/**
 * A writer that keeps its descriptor open (like rsyslog) appends `line <i>`; at ROTATE_AT the
 * file is rotated the given way while the writer goes on:
 *  rename:       rename to .1, create the new file at once (logrotate `create`), the writer
 *                writes 5 more lines to the old file before it reopens (its HUP comes later);
 *  copytruncate: copy to .1, truncate in place, the writer goes on with the same descriptor;
 *  truncate:     truncate in place; the unread part of a truncated file is gone for everyone,
 *                so the writer first waits until the reader has caught up;
 *  delete:       unlink, 5 more lines to the deleted file, the path absent for 100 ms, then
 *                the writer creates it again.
 */
async function writeWithRotation(path: string, rotation: Rotation, got: Received): Promise<void> {
  let fd = openSync(path, 'a');
  let reopenAt = -1;
  for (let i = 0; i < TOTAL; i++) {
    if (i === ROTATE_AT) {
      if (rotation === 'rename') {
        renameSync(path, path + '.1');
        writeFileSync(path, '');
        reopenAt = i + 5;
      } else if (rotation === 'copytruncate') {
        copyFileSync(path, path + '.1');
        truncateSync(path, 0);
      } else if (rotation === 'truncate') {
        await waitFor(() => got.lines.length === i, 'the reader before truncating');
        truncateSync(path, 0);
      } else {
        unlinkSync(path);
        reopenAt = i + 5;
      }
    }
    if (i === reopenAt) {
      closeSync(fd);
      if (rotation === 'delete') await sleep(100);
      fd = openSync(path, 'a');
    }
    writeSync(fd, `line ${i}\n`);
    if (i % 2 === 0) await sleep(1);
  }
  closeSync(fd);
}

describe('rotation while a writer appends: every line exactly once, in order', () => {
  for (const backend of ['pyinotify', 'polling'] as const) {
    for (const rotation of ['rename', 'copytruncate', 'truncate', 'delete'] as const) {
      test(`${backend}: ${rotation}`, async () => {
        const path = join(freshDir(), 'app.log');
        writeFileSync(path, '');
        const log = new MemoryLog();
        const { src, got } = source({ backend, log });
        src.addLogPath(path);
        src.start();
        try {
          await writeWithRotation(path, rotation, got);
          await waitFor(() => got.lines.length >= TOTAL, `${TOTAL} lines (have ${got.lines.length})`);
          await sleep(150); // anything extra (a repeat) would arrive now
          assert.deepEqual(got.lines, Array.from({ length: TOTAL }, (_, i) => `line ${i}`));
          assert.equal(src.counters().rotations, 1);
          assert.equal(src.counters().lines, TOTAL);
          assert.ok(log.messages(LEVEL.MSG).some((m) => m.startsWith(`Log rotation detected for ${path}, reason: (`)));
          if (rotation === 'delete' && backend === 'pyinotify') {
            assert.ok(log.records.some((r) => r.name === 'fail2ban.filterpyinotify' && r.level === LEVEL.MSG &&
              r.message.startsWith(`Log absence detected (possibly rotation) for ${path}, reason: `)));
          }
        } finally {
          src.stop();
        }
      });
    }
  }
});

describe('positions', () => {
  test('restart resumes at the next line; a rotated file starts at 0; tail starts at the end', async () => {
    const path = join(freshDir(), 'app.log');
    writeFileSync(path, 'a 1\na 2\na 3\n');
    const store = new MemoryPositions();
    const first = source({ positions: store });
    first.src.addLogPath(path);
    first.src.start();
    await waitFor(() => first.got.lines.length === 3, 'first lines');
    first.src.stop();
    assert.equal(store.rows.get(`test\0${path}`)?.pos, 12, 'stop wrote the position');

    appendFileSync(path, 'a 4\n');
    const log = new MemoryLog();
    const second = source({ positions: store, log });
    second.src.addLogPath(path);
    assert.ok(log.messages().includes(`Added logfile: '${path}' (pos = 12, hash = ${store.rows.get(`test\0${path}`)?.hash})`));
    second.src.start();
    await waitFor(() => second.got.lines.length === 1, 'the next line');
    assert.deepEqual(second.got.lines, ['a 4']);
    second.src.stop();

    writeFileSync(path, 'b 1 (a new file)\nb 2\nb 3\nb 4\nb 5\n'); // longer than the saved position
    const third = source({ positions: store });
    third.src.addLogPath(path);
    third.src.start();
    await waitFor(() => third.got.lines.length === 5, 'the whole rotated file');
    assert.deepEqual(third.got.lines, ['b 1 (a new file)', 'b 2', 'b 3', 'b 4', 'b 5']);
    third.src.stop();

    appendFileSync(path, 'b 6\n');
    const fourth = source({ positions: store });
    fourth.src.addLogPath(path, true);
    fourth.src.start();
    appendFileSync(path, 'b 7\n');
    await waitFor(() => fourth.got.lines.length === 1, 'the appended line');
    await sleep(50);
    assert.deepEqual(fourth.got.lines, ['b 7'], 'tail ignores the saved position and the old content');
    assert.equal(fourth.got.batches[0]?.inOperation, true);
    fourth.src.stop();
  });

  test('positions are written after delivery, every N reads, and on delLogPath', async () => {
    const path = join(freshDir(), 'app.log');
    writeFileSync(path, '');
    const store = new MemoryPositions();
    let seenAtDelivery: number | undefined = -1;
    const src = track(new FileSource({
      jail: 'j', positions: store, positionFlushReads: 3,
      onLines: () => {
        seenAtDelivery = store.rows.get(`j\0${path}`)?.pos;
      },
    }));
    src.addLogPath(path);
    src.start();
    for (let i = 1; i <= 6; i++) {
      appendFileSync(path, `x${i}\n`);
      await waitFor(() => seenAtDelivery !== -1, `line ${i}`);
      assert.notEqual(seenAtDelivery, i * 3, 'not written before the lines were delivered');
      seenAtDelivery = -1;
    }
    assert.ok(store.updates >= 1 && store.updates <= 3, `written every 3 reads (${store.updates})`);
    appendFileSync(path, 'x7\n');
    await waitFor(() => seenAtDelivery !== -1, 'line 7');
    src.delLogPath(path);
    assert.equal(store.rows.get(`j\0${path}`)?.pos, 21);
    src.stop();
  });
});

describe('following', () => {
  test('inotify: an appended line arrives quickly (latency reported, not asserted)', async (t) => {
    const path = join(freshDir(), 'app.log');
    writeFileSync(path, 'old\n');
    let arrived = 0n;
    const { src, got } = source({ backend: 'auto', safetyPollMs: 60_000 });
    const lines = (): number => got.lines.length;
    const orig = got.lines.push.bind(got.lines);
    got.lines.push = (...items: string[]): number => {
      arrived = process.hrtime.bigint();
      return orig(...items);
    };
    src.addLogPath(path);
    src.start();
    await waitFor(() => lines() === 1, 'the initial read');
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = process.hrtime.bigint();
      appendFileSync(path, `new ${i}\n`);
      await waitFor(() => lines() === 2 + i, `line ${i}`);
      latencies.push(Number(arrived - t0) / 1e6);
      await sleep(10);
    }
    latencies.sort((a, b) => a - b);
    assert.deepEqual(got.lines.slice(1), Array.from({ length: 20 }, (_, i) => `new ${i}`));
    t.diagnostic(`inotify latency append → onLines, ms: median ${latencies[10]?.toFixed(3)}, max ${latencies[19]?.toFixed(3)}`);
    src.stop();
  });

  test('inOperation: head → false until the end was reached once; an empty file\'s first batch still false', async () => {
    const d = freshDir();
    const full = join(d, 'full.log');
    const empty = join(d, 'empty.log');
    writeFileSync(full, 'f1\nf2\n');
    writeFileSync(empty, '');
    const { src, got } = source({});
    src.addLogPath(full);
    src.addLogPath(empty);
    src.start();
    await waitFor(() => got.lines.length === 2, 'backlog');
    appendFileSync(empty, 'e1\n');
    await waitFor(() => got.lines.length === 3, 'first line of the empty file');
    appendFileSync(empty, 'e2\n');
    appendFileSync(full, 'f3\n');
    await waitFor(() => got.lines.length === 5, 'more lines');
    const byLine = (p: string): boolean[] => got.batches.filter((b) => b.path === p).map((b) => b.inOperation);
    assert.deepEqual(byLine(full), [false, true]);
    assert.deepEqual(byLine(empty), [false, true]);
    src.stop();
  });

  test('head mode with initialSeek skips lines older than the start time', async () => {
    const path = join(freshDir(), 'app.log');
    writeFileSync(path, Array.from({ length: 1000 }, (_, i) => `t=${i} m\n`).join(''));
    const { src, got } = source({
      initialSeek: { startTime: () => 990, dateOf: (l) => (/^t=(\d+)/.exec(l) ? Number(/^t=(\d+)/.exec(l)?.[1]) : null) },
    });
    src.addLogPath(path);
    src.start();
    await waitFor(() => got.lines.length >= 10, 'the recent lines');
    await sleep(30);
    assert.deepEqual(got.lines, Array.from({ length: 10 }, (_, i) => `t=${990 + i} m`));
    src.stop();
  });

  for (const backend of ['pyinotify', 'polling'] as const) {
    test(`${backend}: a file that appears later matching a glob; a removed file is no longer read`, async () => {
      const d = freshDir();
      writeFileSync(join(d, 'a.log'), 'a1\n');
      writeFileSync(join(d, 'skip.txt'), 'no\n');
      const log = new MemoryLog();
      const { src, got } = source({ backend, log });
      assert.deepEqual(src.addLogPattern(join(d, '*.log')), [join(d, 'a.log')]);
      src.start();
      await waitFor(() => got.lines.length === 1, 'a.log');
      writeFileSync(join(d, 'b.log'), 'b1\nb2\n');
      await waitFor(() => got.lines.length === 3, 'the new b.log');
      assert.deepEqual(src.getLogPaths().sort(), [join(d, 'a.log'), join(d, 'b.log')]);
      src.delLogPath(join(d, 'a.log'));
      assert.ok(log.messages().includes(`Removed logfile: '${join(d, 'a.log')}'`));
      appendFileSync(join(d, 'a.log'), 'a2 (not followed any more)\n');
      appendFileSync(join(d, 'b.log'), 'b3\n');
      await waitFor(() => got.lines.length === 4, 'b3');
      await sleep(120);
      assert.deepEqual(got.lines, ['a1', 'b1', 'b2', 'b3']);
      assert.deepEqual(src.getLogPaths(), [join(d, 'b.log')]);
      src.stop();
    });
  }

  test('a huge append is read in batches; a partial line is completed later', async () => {
    const path = join(freshDir(), 'app.log');
    writeFileSync(path, '');
    const { src, got } = source({ readBytes: 64 * 1024 });
    src.addLogPath(path);
    src.start();
    const lines = Array.from({ length: 50_000 }, (_, i) => `line ${i} ${'p'.repeat(i % 50)}`);
    appendFileSync(path, lines.join('\n') + '\nhalf');
    await waitFor(() => got.lines.length === lines.length, 'all lines');
    assert.ok(got.batches.length > 10, 'many batches');
    appendFileSync(path, ' done\n');
    await waitFor(() => got.lines.length === lines.length + 1, 'the completed line');
    assert.equal(got.lines[lines.length], 'half done');
    assert.deepEqual(got.lines.slice(0, lines.length), lines);
    src.stop();
  });

  test('addLogPath of a missing file: fail2ban\'s error; twice: an error logged, nothing added', () => {
    const d = freshDir();
    const log = new MemoryLog();
    const { src } = source({ log });
    const missing = join(d, 'missing.log');
    assert.throws(() => src.addLogPath(missing), (e: unknown) => e instanceof LogFileError && e.message === `[Errno 2] No such file or directory: '${missing}'`);
    const path = join(d, 'x.log');
    writeFileSync(path, '');
    src.addLogPath(path);
    src.addLogPath(path);
    assert.deepEqual(log.messages(), [`Added logfile: '${path}' (pos = 0, hash = )`, `${path} already exists`]);
    src.stop();
  });
});
