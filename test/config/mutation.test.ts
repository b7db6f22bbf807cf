/**
 * The reader fed with mutated stock files (random deletions, duplications, truncations, bytes):
 * never a crash or a hang; always either a result or a located error.
 *
 * Every case starts from a copy of Debian's stock /etc/fail2ban (fail2ban 1.0.2) with a handful of
 * jails enabled by `jail.d/zz-test.local`, then mutates one or two of the files the enabled jails
 * really read. Cases come from a seeded PRNG (mulberry32): the same seed always makes the same
 * trees. Set PORTCULLIS_MUTATION_SEED to explore other trees, PORTCULLIS_MUTATION_CASES and
 * PORTCULLIS_MUTATION_DIFF to change how many cases run in process and against the real client,
 * PORTCULLIS_MUTATION_ONLY=<index> to rerun a single case.
 *
 * - In process (in a worker thread, so that a hang is caught and reported rather than blocking the
 *   runner): `readConfigStream` returns a stream or a PortcullisError with a message;
 *   `checkConfiguration` returns, and each of its errors that comes from a ConfigError is located in
 *   a file of the tree (syntax errors also to a line).
 * - Differential: for some of the trees, `fail2ban-client -c DIR -d` and our
 *   `bin/fail2ban-client -c DIR -d` print the same stdout and exit with the same code. This part
 *   fails when the real client is missing unless PORTCULLIS_NO_ORACLE=1.
 *
 * Trees of failing cases are kept (their paths are printed); the others are removed.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { checkConfiguration, CollectingLog, Configurator, readConfigStream } from '../../src/config/index.js';
import { ConfigError, PortcullisError } from '../../src/shared/errors.js';
import { NodeFileSystem } from '../../src/system/nodeFs.js';
import { mulberry32 } from '../helpers/random.js';

// ---------------------------------------------------------------------------------------------
// Parameters.

const STOCK_DIR = '/etc/fail2ban';
const REAL_CLIENT = '/usr/bin/fail2ban-client';
const DEFAULT_SEED = 0x5eed_f2b1;

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

const SEED = envInt('PORTCULLIS_MUTATION_SEED', DEFAULT_SEED) >>> 0;
const CASES = envInt('PORTCULLIS_MUTATION_CASES', 300);
const DIFF_CASES = envInt('PORTCULLIS_MUTATION_DIFF', 25);
const ONLY = process.env['PORTCULLIS_MUTATION_ONLY'] ? envInt('PORTCULLIS_MUTATION_ONLY', 0) : undefined;
/** No progress on one case for this long counts as a hang. */
const CASE_TIMEOUT_MS = 20_000;
const SPAWN_TIMEOUT_MS = 60_000;
/** Memory limit of each client run by the differential part, and of the in-process worker. */
const MEMORY_CAP_MB = 4096;

/** The files the enabled jails read, and the targets of the mutations. */
const TARGETS = [
  'jail.conf',
  'paths-common.conf',
  'paths-debian.conf',
  'fail2ban.conf',
  'filter.d/sshd.conf',
  'filter.d/common.conf',
  'filter.d/postfix.conf',
  'filter.d/dovecot.conf',
  'action.d/iptables.conf',
  'action.d/iptables-multiport.conf',
  'action.d/nftables.conf',
  'action.d/sendmail-common.conf',
] as const;

/** Enables stock jails; between them they read every file of TARGETS. */
function testJails(emptyLog: string): string {
  const jail = (name: string, extra: string[] = []): string =>
    [`[${name}]`, 'enabled = true', 'backend = polling', `logpath = ${emptyLog}`, ...extra, ''].join('\n');
  return [
    '# Written by test/config/mutation.test.ts.',
    '',
    jail('sshd'),
    jail('postfix', ['action = %(action_mwl)s']),
    jail('dovecot', ['banaction = nftables-multiport']),
    jail('nginx-http-auth'),
    jail('recidive'),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// PRNG and mutations.


class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

function caseSeed(index: number): number {
  return (SEED ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0;
}

const NL = 0x0a;

function splitLines(buf: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = buf.indexOf(NL); i !== -1; i = buf.indexOf(NL, start)) {
    lines.push(buf.subarray(start, i));
    start = i + 1;
  }
  lines.push(buf.subarray(start));
  return lines;
}

function joinLines(lines: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  lines.forEach((l, i) => {
    if (i > 0) parts.push(Buffer.from([NL]));
    parts.push(l);
  });
  return Buffer.concat(parts);
}

function isContent(line: Buffer): boolean {
  const text = line.toString('latin1').trim();
  return text !== '' && !text.startsWith('#') && !text.startsWith(';');
}

/** A line index; most of the time one holding a section header or an option, not a comment. */
function pickLine(rng: Rng, lines: readonly Buffer[]): number {
  const content = lines.flatMap((l, i) => (isContent(l) ? [i] : []));
  return content.length > 0 && rng.chance(0.85) ? rng.pick(content) : rng.int(lines.length);
}

function show(line: Buffer | undefined): string {
  if (line === undefined) return '<none>';
  const text = JSON.stringify(line.toString('latin1'));
  return text.length > 70 ? `${text.slice(0, 67)}…"` : text;
}

/** Byte strings inserted by the `bytes` mutation. */
const TOKENS: ReadonlyArray<readonly [string, Buffer]> = [
  ['NUL', Buffer.from([0x00])],
  ['0xff', Buffer.from([0xff])],
  ['0xc3 (cut UTF-8)', Buffer.from([0xc3])],
  ['[', Buffer.from('[')],
  [']', Buffer.from(']')],
  ['%', Buffer.from('%')],
  ['%(', Buffer.from('%(')],
  ['%(x)s', Buffer.from('%(x)s')],
  ['<', Buffer.from('<')],
  ['>', Buffer.from('>')],
  ['=', Buffer.from('=')],
  [':', Buffer.from(':')],
  [';', Buffer.from(';')],
  ['space+;', Buffer.from(' ;')],
  ['#', Buffer.from('#')],
  ['\\n', Buffer.from('\n')],
  ['\\r', Buffer.from('\r')],
  ['\\r\\n', Buffer.from('\r\n')],
  ['space', Buffer.from(' ')],
  ['tab', Buffer.from('\t')],
  ['\\v', Buffer.from('\v')],
  ['\\f', Buffer.from('\f')],
  ['U+00A0', Buffer.from('\u00a0')],
  ['U+2028', Buffer.from('\u2028')],
  ['U+2029', Buffer.from('\u2029')],
  ['U+0085', Buffer.from('\u0085')],
  ['é', Buffer.from('é')],
  ['x', Buffer.from('x')],
  ['"', Buffer.from('"')],
  ['\\', Buffer.from('\\')],
];
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

type MutationOp = (rng: Rng, buf: Buffer) => { out: Buffer; detail: string };

const OPS: Record<string, MutationOp> = {
  delete(rng, buf) {
    const lines = splitLines(buf);
    if (rng.chance(0.3)) {
      const start = pickLine(rng, lines);
      const n = 1 + rng.int(8);
      const removed = lines.splice(start, n);
      return { out: joinLines(lines), detail: `deleted lines ${start + 1}-${start + removed.length} (first ${show(removed[0])})` };
    }
    const n = 1 + rng.int(4);
    const gone: string[] = [];
    for (let k = 0; k < n && lines.length > 1; k++) {
      const i = pickLine(rng, lines);
      gone.push(`${i + 1} ${show(lines[i])}`);
      lines.splice(i, 1);
    }
    return { out: joinLines(lines), detail: `deleted line(s) (numbered after earlier deletions) ${gone.join(', ')}` };
  },
  duplicate(rng, buf) {
    const lines = splitLines(buf);
    const i = pickLine(rng, lines);
    const line = lines[i] ?? Buffer.alloc(0);
    const at = rng.chance(0.5) ? i + 1 : rng.int(lines.length + 1);
    lines.splice(at, 0, line);
    return { out: joinLines(lines), detail: `copied line ${i + 1} ${show(line)} to line ${at + 1}` };
  },
  truncate(rng, buf) {
    const at = rng.int(buf.length + 1);
    const line = splitLines(buf.subarray(0, at)).length;
    return { out: buf.subarray(0, at), detail: `truncated to ${at} of ${buf.length} bytes (inside line ${line})` };
  },
  bytes(rng, buf) {
    if (rng.chance(0.1)) return { out: Buffer.concat([BOM, buf]), detail: 'inserted a UTF-8 BOM at the start' };
    let at: number;
    if (rng.chance(0.5)) {
      const lines = splitLines(buf);
      const i = pickLine(rng, lines);
      const lineStart = lines.slice(0, i).reduce((n, l) => n + l.length + 1, 0);
      at = lineStart + (rng.chance(0.5) ? 0 : rng.int((lines[i]?.length ?? 0) + 1));
    } else at = rng.int(buf.length + 1);
    const n = 1 + rng.int(3);
    const tokens = Array.from({ length: n }, () => rng.pick(TOKENS));
    const line = splitLines(buf.subarray(0, at)).length;
    return {
      out: Buffer.concat([buf.subarray(0, at), ...tokens.map(([, b]) => b), buf.subarray(at)]),
      detail: `inserted ${tokens.map(([name]) => name).join(' + ')} at byte ${at} (line ${line})`,
    };
  },
  swap(rng, buf) {
    const lines = splitLines(buf);
    const i = pickLine(rng, lines);
    const j = rng.chance(0.5) ? Math.min(i + 1, lines.length - 1) : pickLine(rng, lines);
    const a = lines[i] ?? Buffer.alloc(0);
    const b = lines[j] ?? Buffer.alloc(0);
    lines[i] = b;
    lines[j] = a;
    return { out: joinLines(lines), detail: `swapped lines ${i + 1} ${show(a)} and ${j + 1} ${show(b)}` };
  },
  indent(rng, buf) {
    const lines = splitLines(buf);
    const indented = lines.flatMap((l, i) => (isContent(l) && /^[ \t]/.test(l.toString('latin1')) ? [i] : []));
    if (indented.length > 0 && rng.chance(0.4)) {
      const i = rng.pick(indented);
      const before = lines[i] ?? Buffer.alloc(0);
      lines[i] = Buffer.from(before.toString('latin1').replace(/^[ \t]+/, ''), 'latin1');
      return { out: joinLines(lines), detail: `removed the indentation of line ${i + 1} ${show(before)}` };
    }
    const i = pickLine(rng, lines);
    const pad = rng.pick([' ', '  ', '\t', '    ', '        ']);
    const before = lines[i] ?? Buffer.alloc(0);
    lines[i] = Buffer.concat([Buffer.from(pad), before]);
    return { out: joinLines(lines), detail: `indented line ${i + 1} ${show(before)} by ${JSON.stringify(pad)}` };
  },
};
const OP_NAMES = Object.keys(OPS);

// ---------------------------------------------------------------------------------------------
// Trees.

/**
 * The stock configuration, copied once per run with fs.cpSync into a template; each case links
 * the template's files into a fresh directory (hard links: the same tree, written ten times
 * faster than a copy) and replaces the files it mutates by new ones (never writing through a link).
 */
interface Template {
  readonly root: string;
  readonly confDir: string;
  /** Relative paths, parents first; `dir` for a directory. */
  readonly entries: ReadonlyArray<{ readonly rel: string; readonly dir: boolean }>;
}

let template: Template | undefined;

function stockTemplate(): Template {
  if (template) return template;
  const root = nodeFs.mkdtempSync(path.join(tmpdir(), 'portcullis-mut-stock-'));
  const confDir = path.join(root, 'fail2ban');
  nodeFs.cpSync(STOCK_DIR, confDir, { recursive: true });
  const entries: Array<{ rel: string; dir: boolean }> = [];
  const walk = (rel: string): void => {
    for (const d of nodeFs.readdirSync(path.join(confDir, rel), { withFileTypes: true })) {
      const r = rel === '' ? d.name : `${rel}/${d.name}`;
      entries.push({ rel: r, dir: d.isDirectory() });
      if (d.isDirectory()) walk(r);
    }
  };
  walk('');
  template = { root, confDir, entries };
  return template;
}

function removeTemplate(): void {
  if (template) nodeFs.rmSync(template.root, { recursive: true, force: true });
  template = undefined;
}

/** Replaces `file` (maybe a hard link to the template) by a new file holding `data`. */
function replaceFile(file: string, data: Uint8Array | string): void {
  nodeFs.rmSync(file, { force: true });
  nodeFs.writeFileSync(file, data);
}

interface MutatedTree {
  readonly index: number;
  readonly seed: number;
  /** The temp dir holding everything of this case. */
  readonly root: string;
  /** The configuration directory (`-c`). */
  readonly confDir: string;
  readonly mutations: readonly string[];
}

function describe(tree: MutatedTree): string {
  return `seed=${SEED} (0x${SEED.toString(16)}) case=${tree.index} case-seed=${tree.seed}; rerun with PORTCULLIS_MUTATION_SEED=${SEED} PORTCULLIS_MUTATION_ONLY=${tree.index}\n  mutations:\n${tree.mutations.map((m) => `    - ${m}`).join('\n')}\n  tree kept at ${tree.root}`;
}

/** Builds the mutated tree of case `index` (deterministic in SEED and index); unmutated if not `mutate`. */
function makeTree(index: number, mutate = true): MutatedTree {
  const seed = caseSeed(index);
  const rng = new Rng(seed);
  const root = nodeFs.mkdtempSync(path.join(tmpdir(), `portcullis-mut-${index}-`));
  const confDir = path.join(root, 'fail2ban');
  nodeFs.mkdirSync(confDir);
  const tpl = stockTemplate();
  for (const { rel, dir } of tpl.entries) {
    const p = path.join(confDir, rel);
    if (dir) nodeFs.mkdirSync(p);
    else nodeFs.linkSync(path.join(tpl.confDir, rel), p);
  }
  const emptyLog = path.join(root, 'empty.log');
  nodeFs.writeFileSync(emptyLog, '');
  nodeFs.mkdirSync(path.join(confDir, 'jail.d'), { recursive: true });
  replaceFile(path.join(confDir, 'jail.d', 'zz-test.local'), testJails(emptyLog));

  if (!mutate) return { index, seed, root, confDir, mutations: ['none (the stock tree with the test jails)'] };
  const files = [rng.pick(TARGETS)];
  if (rng.chance(0.3)) {
    const second = rng.pick(TARGETS);
    if (!files.includes(second)) files.push(second);
  }
  const mutations: string[] = [];
  for (const rel of files) {
    const p = path.join(confDir, rel);
    const op = rng.pick(OP_NAMES);
    const { out, detail } = (OPS[op] as MutationOp)(rng, nodeFs.readFileSync(p));
    replaceFile(p, out);
    mutations.push(`${rel}: ${op}: ${detail}`);
  }
  return { index, seed, root, confDir, mutations };
}

function removeTree(tree: MutatedTree): void {
  nodeFs.rmSync(tree.root, { recursive: true, force: true });
}

function caseIndices(count: number): number[] {
  if (ONLY !== undefined) return [ONLY];
  return Array.from({ length: count }, (_, i) => i);
}

// ---------------------------------------------------------------------------------------------
// The in-process reader, run in a worker thread.

const WORKER_ROLE = 'portcullis-mutation-reader';

interface ThrownInfo {
  readonly name: string;
  readonly message: string;
  readonly stack: string;
}

type StreamOutcome =
  | { readonly kind: 'stream'; readonly commands: number }
  | { readonly kind: 'error'; readonly portcullis: boolean; readonly config: boolean; readonly code: string; readonly message: string; readonly location: unknown }
  | { readonly kind: 'empty' }
  | { readonly kind: 'not-array'; readonly type: string }
  | ({ readonly kind: 'threw' } & ThrownInfo);

interface ProblemInfo {
  readonly severity: string;
  readonly code: string;
  readonly message: string;
  readonly location: { file: string; line?: number; jail?: string; section?: string; option?: string } | undefined;
}

type CheckOutcome = { readonly kind: 'checked'; readonly problems: readonly ProblemInfo[] } | ({ readonly kind: 'threw' } & ThrownInfo);

interface ReaderOutcome {
  readonly stream: StreamOutcome;
  readonly check: CheckOutcome;
}

function thrown(e: unknown): ThrownInfo {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack ?? '' };
  return { name: typeof e, message: String(e), stack: '' };
}

function readTree(confDir: string, phase: (name: string) => void = () => {}): ReaderOutcome {
  phase('readConfigStream');
  let stream: StreamOutcome;
  try {
    const r = readConfigStream(new Configurator(new NodeFileSystem(), confDir, new CollectingLog()), {
      overrides: new Map(),
      ignoreWrong: true,
      allowNoFiles: true,
    });
    if (r.stream !== undefined) {
      stream = Array.isArray(r.stream) ? { kind: 'stream', commands: r.stream.length } : { kind: 'not-array', type: typeof r.stream };
    } else if (r.error !== undefined) {
      const e: unknown = r.error;
      stream = {
        kind: 'error',
        portcullis: e instanceof PortcullisError,
        config: e instanceof ConfigError,
        code: e instanceof PortcullisError ? e.code : '',
        message: e instanceof Error ? e.message : String(e),
        location: e instanceof ConfigError ? e.location : undefined,
      };
    } else stream = { kind: 'empty' };
  } catch (e) {
    stream = { kind: 'threw', ...thrown(e) };
  }
  let check: CheckOutcome;
  phase('checkConfiguration');
  try {
    const c = checkConfiguration(new NodeFileSystem(), confDir);
    check = {
      kind: 'checked',
      problems: c.problems.map((p) => ({
        severity: p.severity,
        code: p.code,
        message: p.message,
        location: p.location === undefined ? undefined : { ...p.location },
      })),
    };
  } catch (e) {
    check = { kind: 'threw', ...thrown(e) };
  }
  return { stream, check };
}

function runWorker(): void {
  const port = parentPort;
  if (!port) return;
  port.on('message', (msg: { id: number; confDir: string }) => {
    const outcome = readTree(msg.confDir, (phase) => port.postMessage({ id: msg.id, phase }));
    port.postMessage({ id: msg.id, outcome });
  });
}

/** Runs readTree in a worker; a case that takes too long terminates the worker (a hang). */
class ReaderPool {
  private worker: Worker | undefined;
  private nextId = 0;

  private spawn(): Worker {
    const w = new Worker(fileURLToPath(import.meta.url), {
      workerData: { role: WORKER_ROLE },
      resourceLimits: { maxOldGenerationSizeMb: MEMORY_CAP_MB },
    });
    return w;
  }

  async read(confDir: string): Promise<ReaderOutcome | { hang: string } | { died: string }> {
    const worker = (this.worker ??= this.spawn());
    const id = this.nextId++;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      let phase = 'the worker';
      const onMessage = (msg: { id: number; phase?: string; outcome?: ReaderOutcome }): void => {
        if (msg.id !== id) return;
        if (msg.phase !== undefined) {
          phase = msg.phase;
          return;
        }
        if (msg.outcome === undefined) return;
        done();
        resolve(msg.outcome);
      };
      const onError = (e: Error): void => {
        done();
        this.worker = undefined;
        resolve({ died: `${e.name}: ${e.message}` });
      };
      const onExit = (code: number): void => {
        done();
        this.worker = undefined;
        resolve({ died: `worker exited with code ${code}` });
      };
      const timer = setTimeout(() => {
        done();
        this.worker = undefined;
        void worker.terminate();
        resolve({ hang: phase });
      }, CASE_TIMEOUT_MS);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage({ id, confDir });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}

// ---------------------------------------------------------------------------------------------
// Judging one in-process outcome.

/** Codes of errors thrown as ConfigError (or a subclass) by the reader. */
const CONFIG_ERROR_CODES = new Set([
  'E_INI_DUPLICATE_OPTION',
  'E_INI_DUPLICATE_SECTION',
  'E_INI_NO_SECTION',
  'E_INI_PARSE',
  'E_DECODE',
  'E_NO_BASEDIR',
  'E_NO_SECTION',
  'E_NO_OPTION',
  'E_INTERPOLATION_MISSING',
  'E_INTERPOLATION_SYNTAX',
  'E_INTERPOLATION_DEPTH',
  'E_INTERPOLATION_NONE',
  'E_NOT_INT',
  'E_LOGLEVEL',
  'E_JAIL_DEF',
  'E_ACTION',
  'E_NO_LOGFILE',
]);
/** Syntax errors: the parser knows the line, so the location must carry it. */
const LINE_CODES = new Set(['E_INI_DUPLICATE_OPTION', 'E_INI_DUPLICATE_SECTION', 'E_INI_NO_SECTION', 'E_INI_PARSE']);

function inside(root: string, file: string): boolean {
  return file === root || file.startsWith(root + path.sep);
}

/** What is wrong with a located error, or undefined. */
function locationFault(root: string, code: string, message: string, location: ProblemInfo['location']): string | undefined {
  if (code === 'E_NO_BASEDIR' && message.includes(root)) return undefined;
  if (!location) return 'has no location';
  if (!location.file || !inside(root, location.file)) return `is located in ${JSON.stringify(location.file)}, not in a file of the tree`;
  if (LINE_CODES.has(code) && !(Number.isInteger(location.line) && (location.line ?? 0) > 0)) return `is a syntax error located without a line (${JSON.stringify(location)})`;
  return undefined;
}

function judge(tree: MutatedTree, outcome: ReaderOutcome): string[] {
  const faults: string[] = [];
  const s = outcome.stream;
  switch (s.kind) {
    case 'stream':
      break;
    case 'threw':
      faults.push(`readConfigStream threw ${s.name}: ${s.message}\n${s.stack}`);
      break;
    case 'empty':
      faults.push('readConfigStream returned neither a stream nor an error');
      break;
    case 'not-array':
      faults.push(`readConfigStream returned a stream that is not an array (${s.type})`);
      break;
    case 'error':
      if (!s.portcullis) faults.push(`readConfigStream returned an error that is not a PortcullisError: ${s.message}`);
      else if (s.message.trim() === '') faults.push(`readConfigStream returned a ${s.code} error with an empty message`);
      else if (LINE_CODES.has(s.code)) {
        const fault = locationFault(tree.root, s.code, s.message, s.location as ProblemInfo['location']);
        if (fault) faults.push(`readConfigStream's ${s.code} error ${fault}: ${s.message}`);
      }
      break;
  }
  const c = outcome.check;
  if (c.kind === 'threw') faults.push(`checkConfiguration threw ${c.name}: ${c.message}\n${c.stack}`);
  else {
    for (const p of c.problems) {
      if (p.code === 'E_INTERNAL') faults.push(`checkConfiguration reports an internal error (a crash caught): ${p.message}`);
      if (p.severity !== 'error' || !CONFIG_ERROR_CODES.has(p.code)) continue;
      const fault = locationFault(tree.root, p.code, p.message, p.location);
      if (fault) faults.push(`checkConfiguration's ${p.code} problem ${fault}: ${p.message}`);
    }
  }
  return faults;
}

// ---------------------------------------------------------------------------------------------
// Differential part.

function projectRoot(): string {
  const fromEnv = process.env['PORTCULLIS_ROOT'];
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(fromEnv);
  // This file runs as <root>/dist/test/config/mutation.test.js.
  return fileURLToPath(new URL('../../../', import.meta.url));
}

interface RunResult {
  readonly status: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error: string | undefined;
}

function run(cmd: string, args: readonly string[]): RunResult {
  const env = { ...process.env };
  delete env['NODE_TEST_CONTEXT'];
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, cwd: tmpdir(), timeout: SPAWN_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error?.message };
}

/** The differing middle of two texts, with a line of context, at most `max` lines a side. */
function shortDiff(expected: string, actual: string, max = 12): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  let top = 0;
  while (top < a.length && top < b.length && a[top] === b[top]) top++;
  let bottom = 0;
  while (bottom < a.length - top && bottom < b.length - top && a[a.length - 1 - bottom] === b[b.length - 1 - bottom]) bottom++;
  const from = Math.max(0, top - 1);
  const side = (lines: string[], sign: string): string[] => {
    const mid = lines.slice(from, lines.length - bottom);
    const shown = mid.slice(0, max).map((l, i) => `${from + i < top ? ' ' : sign} ${l.length > 300 ? l.slice(0, 300) + '…' : l}`);
    if (mid.length > max) shown.push(`  … ${mid.length - max} more line(s)`);
    return shown;
  };
  return [`@@ line ${top + 1} @@`, ...side(a, '-'), ...side(b, '+')].join('\n');
}

/** stderr without what differs between any two runs: timestamps and process ids. */
function normalisedStderr(text: string): string {
  return text.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} /gm, '').replace(/\[\d+\]: /g, '[pid]: ');
}

function firstLines(text: string, n = 6): string {
  const lines = text.split('\n').filter((l) => l !== '');
  return lines.slice(0, n).join('\n    ') + (lines.length > n ? `\n    … ${lines.length - n} more` : '');
}

// ---------------------------------------------------------------------------------------------
// Tests.

function defineTests(): void {
  after(removeTemplate);

  test('mutated stock configurations: the reader returns a result or a located error, never crashes or hangs', { timeout: 600_000 }, async () => {
    const failures: string[] = [];
    const started = Date.now();
    const indices = caseIndices(CASES);
    // Two workers, each taking every other case: trees are built on this thread, read on theirs.
    const lane = async (pool: ReaderPool, mine: readonly number[]): Promise<void> => {
      try {
        for (const index of mine) {
          const tree = makeTree(index);
          const outcome = await pool.read(tree.confDir);
          let faults: string[];
          if ('hang' in outcome) faults = [`${outcome.hang} did not return within ${CASE_TIMEOUT_MS / 1000} s (a hang)`];
          else if ('died' in outcome) faults = [`the reader's worker died: ${outcome.died}`];
          else faults = judge(tree, outcome);
          if (faults.length > 0) failures.push(`${describe(tree)}\n  faults:\n${faults.map((f) => `    * ${f}`).join('\n')}`);
          else removeTree(tree);
        }
      } finally {
        await pool.close();
      }
    };
    await Promise.all([0, 1].map((k) => lane(new ReaderPool(), indices.filter((_, i) => i % 2 === k))));
    failures.sort();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    assert.equal(
      failures.length,
      0,
      `${failures.length} of ${indices.length} mutated trees broke the reader (seed=${SEED}, ${seconds} s):\n\n${failures.slice(0, 10).join('\n\n')}${failures.length > 10 ? `\n\n… and ${failures.length - 10} more` : ''}`,
    );
  });

  const noOracle = process.env['PORTCULLIS_NO_ORACLE'] === '1';
  test(
    'mutated stock configurations: `fail2ban-client -c DIR -d` prints the same as the real one',
    { timeout: 600_000, skip: noOracle ? 'PORTCULLIS_NO_ORACLE=1: no differential run against the real fail2ban-client' : false },
    (t) => {
      assert.ok(
        nodeFs.existsSync(REAL_CLIENT),
        `${REAL_CLIENT} not found: install the Debian fail2ban package (apt-get install fail2ban, version 1.0.2) to run the differential test, or set PORTCULLIS_NO_ORACLE=1 to skip it`,
      );
      const root = projectRoot();
      const ours = path.join(root, 'bin', 'fail2ban-client');
      assert.ok(nodeFs.existsSync(ours), `${ours} not found (project root ${root}; set PORTCULLIS_ROOT to the project root)`);
      assert.ok(nodeFs.existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js')), `${path.join(root, 'dist')} is not built: run npx tsc -p tsconfig.json`);

      // Every CASES/DIFF_CASES-th tree of the in-process run (the same trees: same seed, same index).
      const step = Math.max(1, Math.floor(CASES / Math.max(1, DIFF_CASES)));
      const indices = ONLY !== undefined ? [ONLY] : Array.from({ length: DIFF_CASES }, (_, k) => k * step);
      const failures: string[] = [];
      let stderrDiffs = 0;
      for (const index of [-1, ...indices]) {
        // Case -1: the unmutated tree, so that a general difference shows as such.
        const tree = makeTree(index, index >= 0);
        // Memory capped: a mutation can make `<tag>` substitution grow without bound, and the real
        // client then takes all the memory of the machine (24 GB seen) before the OOM killer stops it.
        const real = run('/bin/sh', ['-c', `ulimit -v ${MEMORY_CAP_MB * 1024} && exec "$0" "$@"`, REAL_CLIENT, '-c', tree.confDir, '-d']);
        const mine = run(process.execPath, [`--max-old-space-size=${MEMORY_CAP_MB}`, ours, '-c', tree.confDir, '-d']);
        const problems: string[] = [];
        if (real.error !== undefined || real.signal !== null) problems.push(`the real client did not finish: ${real.error ?? real.signal}`);
        if (mine.error !== undefined || mine.signal !== null) problems.push(`our client did not finish: ${mine.error ?? mine.signal}`);
        if (real.status !== mine.status) problems.push(`exit code: real ${real.status}, ours ${mine.status}`);
        if (real.stdout !== mine.stdout) problems.push(`stdout differs (- real, + ours):\n${shortDiff(real.stdout, mine.stdout)}`);
        if (problems.length > 0) {
          failures.push(
            `${describe(tree)}\n  ${problems.join('\n  ')}\n  real stderr:\n    ${firstLines(real.stderr)}\n  our stderr:\n    ${firstLines(mine.stderr)}`,
          );
        } else {
          // Not asserted (only stdout and the exit code are): the log lines, for a human to judge.
          const realErr = normalisedStderr(real.stderr);
          const mineErr = normalisedStderr(mine.stderr);
          if (realErr !== mineErr) {
            stderrDiffs++;
            t.diagnostic(`stderr differs (- real, + ours), case ${index} (seed=${SEED}): ${tree.mutations.join('; ')}`);
            for (const line of shortDiff(realErr, mineErr, 6).split('\n')) t.diagnostic(`  ${line}`);
          }
          removeTree(tree);
        }
      }
      if (stderrDiffs > 0) t.diagnostic(`${stderrDiffs} tree(s) with the same stdout and exit code logged differently on stderr (not a failure)`);
      assert.equal(
        failures.length,
        0,
        `${failures.length} of ${indices.length + 1} trees (1 unmutated) read differently from fail2ban-client (seed=${SEED}):\n\n${failures.join('\n\n')}`,
      );
    },
  );
}

if (!isMainThread && (workerData as { role?: unknown } | null)?.role === WORKER_ROLE) runWorker();
else defineTests();
