/**
 * Which files make up a configuration name (`X.conf`, `X.d/*.conf`, `X.local`, `X.d/*.local`),
 * how `[INCLUDES] before/after` and `.local` companions expand that list, and how the files merge
 * into one ConfigStore. Parsed files and include expansions are cached for the whole read, as
 * fail2ban's shared configuration does.
 */
import { posix } from 'node:path';
import type { FileSystem } from '../../system/fs.js';
import { ConfigError } from '../../shared/errors.js';
import type { ConfigLog } from '../log.js';
import { pyGlob } from './glob.js';
import { decodeUtf8Strict } from './pytext.js';
import { utf8ErrorMessage } from './utf8.js';
import { LoadFileSystem } from './loadFs.js';
import { parseIni, type IniFile } from './parseIni.js';
import { pyDirname, pyIsAbs, pyJoin, pyStripExt } from './pypath.js';
import { ConfigStore, pyStr, type StoredOption } from './store.js';

const CONDITIONAL_SECTION = /^([\p{L}\p{N}_]+)(\?[^\n]+)$/u;
const LOGGER = 'fail2ban.configreader';
const MAX_INCLUDE_DEPTH = 100;

/** The cache shared by every reader of one configuration load. */
export class ConfigFiles {
  private readonly parsed = new Map<string, IniFile | null>();
  private readonly includeCache = new Map<string, string[]>();
  /** Stores by configuration name (`jail`, `fail2ban`, `filter.d/sshd`, …), each read once. */
  readonly stores = new Map<string, { store: ConfigStore; read: boolean }>();

  /** The file system, with answers remembered for this load. */
  readonly fs: FileSystem;

  constructor(
    fs: FileSystem,
    readonly basedir: string,
    readonly log: ConfigLog,
  ) {
    this.fs = new LoadFileSystem(fs);
  }

  private isFile(p: string): boolean {
    return this.fs.stat(p)?.isFile === true;
  }

  /** One file parsed on its own; null if it cannot be opened (Python skips those silently). */
  parseFile(path: string): IniFile | null {
    const cached = this.parsed.get(path);
    if (cached !== undefined) return cached;
    const bytes = this.fs.stat(path)?.isFile ? this.fs.readFile(path) : undefined;
    if (bytes === undefined) return null;
    const text = decodeUtf8Strict(bytes);
    if (text === undefined) {
      const python = utf8ErrorMessage(bytes) ?? "'utf-8' codec can't decode bytes";
      throw new ConfigError('E_DECODE', `${path} is not valid UTF-8 (${python}); fail2ban ignores such a file`, { file: path }, { pythonMessage: python });
    }
    const file = parseIni(text, path);
    this.parsed.set(path, file);
    return file;
  }

  private withLocal(files: readonly string[]): string[] {
    const out: string[] = [];
    for (const f of files) {
      out.push(f);
      const local = pyStripExt(f) + '.local';
      if (!files.includes(local) && this.isFile(local)) out.push(local);
    }
    return out;
  }

  /** `_getIncludes`: the files to read for `files`, includes expanded, in merge order. */
  expandIncludes(files: readonly string[], seen: readonly string[] = []): string[] {
    if (seen.length > MAX_INCLUDE_DEPTH) {
      // fail2ban compares include paths as written, so a loop through "../" never repeats a path
      // and Python stops at its recursion limit; portcullis stops here, with the same outcome.
      const chain = [...new Set(seen.map((f) => posix.normalize(f)))];
      const last = posix.normalize(seen[seen.length - 1] ?? '');
      throw new ConfigError(
        'E_INCLUDE_DEPTH',
        `[INCLUDES] nest more than ${MAX_INCLUDE_DEPTH} files deep: ${chain.join(' -> ')} include each other (a loop written with different paths, such as "../")`,
        { file: last, section: 'INCLUDES' },
        { pythonMessage: 'maximum recursion depth exceeded while calling a Python object' },
      );
    }
    const expanded = this.withLocal(files);
    const key = expanded.join('\u0001');
    const cached = this.includeCache.get(key);
    if (cached) return cached;
    const out = expanded.flatMap((f) => this.expandOne(f, seen));
    this.includeCache.set(key, out);
    return out;
  }

  private expandOne(resource: string, seen: readonly string[]): string[] {
    let file: IniFile | null;
    try {
      file = this.parseFile(resource);
    } catch (e) {
      if (e instanceof ConfigError && e.code === 'E_DECODE') {
        this.log.log('error', 'fail2ban.configparserinc', `Error decoding config file '${resource}': ${e.pythonMessage}`);
        return [];
      }
      throw e;
    }
    if (!file) return [];
    const includes = file.sections.get('INCLUDES');
    const lists: Record<'before' | 'after', string[]> = { before: [], after: [] };
    if (includes) {
      const single = new ConfigStore();
      single.defaults.clear();
      for (const [k, v] of file.defaults) single.defaults.set(k, v);
      single.sections.set('INCLUDES', includes);
      for (const which of ['before', 'after'] as const) {
        if (!includes.has(which) && !file.defaults.has(which)) continue;
        const value = pyStr(single.get('INCLUDES', which));
        for (const entry of value.split('\n')) {
          const r = pyIsAbs(entry) ? entry : pyJoin(pyDirname(resource), entry);
          if (seen.includes(r)) continue;
          lists[which].push(...this.expandIncludes([r], [...seen, resource]));
        }
      }
    }
    return [...lists.before, resource, ...lists.after];
  }

  /** Merges the files (includes expanded) into `store`; returns the files actually read. */
  readInto(store: ConfigStore, files: readonly string[]): string[] {
    const read: string[] = [];
    for (const path of this.expandIncludes(files)) {
      const file = this.parseFile(path);
      if (!file) continue;
      read.push(path);
      for (const [k, v] of file.defaults) store.defaults.set(k, v);
      for (const [rawName, section] of file.sections) mergeSection(store, rawName, section);
    }
    return read;
  }

  /**
   * `ConfigReaderUnshared.read(name)`: the candidate files of `name` under basedir, merged.
   * Returns false (after logging, as fail2ban does) when none can be read.
   */
  readName(store: ConfigStore, name: string): boolean {
    if (!this.fs.stat(this.basedir)) {
      throw new ConfigError('E_NO_BASEDIR', `Base configuration directory ${this.basedir} does not exist `, { file: this.basedir });
    }
    const base = pyJoin(this.basedir, name);
    const candidates = [
      `${base}.conf`,
      ...pyGlob(this.fs, `${base}.d/*.conf`).sort(),
      `${base}.local`,
      ...pyGlob(this.fs, `${base}.d/*.local`).sort(),
    ].filter((f) => this.fs.stat(f) !== undefined);
    if (candidates.length === 0) {
      this.log.log('error', LOGGER, `Found no accessible config files for '${name}' under ${this.basedir}`);
      return false;
    }
    const read = this.readInto(store, candidates);
    const missed = candidates.filter((c) => !read.includes(c));
    if (missed.length > 0) this.log.log('error', LOGGER, `Could not read config files: ${missed.join(', ')}`);
    if (read.length > 0) return true;
    this.log.log('error', LOGGER, `Found no accessible config files for '${name}' under ${this.basedir}`);
    return false;
  }

  /** The shared store for a configuration name, read on first use; `read` false if no file. */
  storeFor(name: string): { store: ConfigStore; read: boolean } {
    let entry = this.stores.get(name);
    if (!entry) {
      const store = new ConfigStore();
      entry = { store, read: this.readName(store, name) };
      this.stores.set(name, entry);
    }
    return entry;
  }
}

function mergeSection(store: ConfigStore, rawName: string, section: ReadonlyMap<string, StoredOption>): void {
  let name = rawName;
  let s = new Map(section);
  const cond = CONDITIONAL_SECTION.exec(rawName);
  if (cond) {
    name = cond[1] ?? rawName;
    const suffix = cond[2] ?? '';
    s = new Map([...section].map(([k, v]) => [k + suffix, v]));
  }
  const existing = store.sections.get(name);
  if (existing) {
    const replaced = new Map([...existing].filter(([k]) => s.has(k)));
    store.mergeSection(`KNOWN/${name}`, replaced);
    for (const [k, v] of s) existing.set(k, v);
  } else {
    store.sections.set(name, s);
  }
}
