/** Which files a configuration name reads, in what order (pure, over the in-memory file system). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CollectingLog } from '../../src/config/log.js';
import { ConfigFiles } from '../../src/config/ini/files.js';
import { ConfigStore } from '../../src/config/ini/store.js';
import { fnmatchRegExp, pyGlob } from '../../src/config/ini/glob.js';
import { MemoryFileSystem } from '../../src/testing/memoryFs.js';
import { ConfigError } from '../../src/shared/errors.js';

/** Reads configuration `name` under /c from in-memory `files`. */
function readName(files: Record<string, string>, name: string): { ok: boolean; cf: ConfigFiles; store: ConfigStore; log: CollectingLog } {
  const log = new CollectingLog();
  const cf = new ConfigFiles(new MemoryFileSystem(files), '/c', log);
  const store = new ConfigStore();
  return { ok: cf.readName(store, name), cf, store, log };
}

describe('configuration files', () => {
  test('X.conf, X.d/*.conf (sorted), X.local, X.d/*.local; hidden files are not globbed', () => {
    const files = {
      '/c/jail.conf': '[DEFAULT]\na = conf\n',
      '/c/jail.d/b.conf': '[DEFAULT]\na = d-b\n',
      '/c/jail.d/a.conf': '[DEFAULT]\na = d-a\nx = 1\n',
      '/c/jail.d/.hidden.conf': '[DEFAULT]\na = hidden\n',
      '/c/jail.local': '[DEFAULT]\na = local\n',
      '/c/jail.d/z.local': '[DEFAULT]\na = d-z-local\n',
    };
    const { ok, store, log } = readName(files, 'jail');
    assert.equal(ok, true);
    assert.equal(store.get('DEFAULT', 'a'), 'd-z-local');
    assert.equal(store.get('DEFAULT', 'x'), '1');
    assert.deepEqual(log.entries, []);
  });

  test('[INCLUDES] resolve against the including file, with .local companions; a repeated path stops', () => {
    const files = {
      '/c/filter.d/f.conf': '[INCLUDES]\nbefore = sub/common.conf\nafter = f-after.conf\n[Definition]\nv = f\n',
      '/c/filter.d/sub/common.conf': '[INCLUDES]\nbefore = /c/filter.d/f.conf\n[Definition]\nv = common\nw = common\n',
      '/c/filter.d/sub/common.local': '[Definition]\nw = common-local\n',
      '/c/filter.d/f-after.conf': '[Definition]\nlate = yes\n',
    };
    const { ok, cf, store } = readName(files, 'filter.d/f');
    assert.equal(ok, true);
    assert.deepEqual(cf.expandIncludes(['/c/filter.d/f.conf']), [
      '/c/filter.d/sub/common.conf',
      '/c/filter.d/sub/common.local',
      '/c/filter.d/f.conf',
      '/c/filter.d/f-after.conf',
    ]);
    assert.equal(store.get('Definition', 'v'), 'f');
    assert.equal(store.get('Definition', 'w'), 'common-local');
    assert.equal(store.get('Definition', 'late'), 'yes');
  });

  test('an include loop through ../ paths is a located error, not a stack overflow', () => {
    const files = {
      '/c/filter.d/f.conf': '[INCLUDES]\nbefore = sub/common.conf\n[Definition]\nv = f\n',
      '/c/filter.d/sub/common.conf': '[INCLUDES]\nbefore = ../f.conf\n[Definition]\nv = 1\n',
    };
    const cf = new ConfigFiles(new MemoryFileSystem(files), '/c', new CollectingLog());
    assert.throws(
      () => cf.readName(new ConfigStore(), 'filter.d/f'),
      (e: unknown) => e instanceof ConfigError && e.code === 'E_INCLUDE_DEPTH' && e.pythonMessage === 'maximum recursion depth exceeded while calling a Python object' && (e.location?.file ?? '').startsWith('/c/filter.d/'),
    );
  });

  test('a name with no file reads nothing and says so', () => {
    const { ok, store, log } = readName({ '/c/jail.conf': '[x]\n' }, 'filter.d/none');
    assert.equal(ok, false);
    assert.deepEqual(store.sectionNames(), []);
    assert.deepEqual(log.entries.map((e) => e.message), ["Found no accessible config files for 'filter.d/none' under /c"]);
  });

  test('a redefined option keeps its previous value under KNOWN/', () => {
    const { store } = readName({ '/c/jail.conf': '[s]\nport = 1\n', '/c/jail.local': '[s]\nport = 2\n' }, 'jail');
    assert.equal(store.get('s', 'port'), '2');
    assert.equal(store.get('s', 'x', { vars: { x: '%(known/port)s' } }), '1');
    assert.deepEqual(store.sectionNames(), ['s']);
  });

  test('[Init?family=inet6] merges into [Init] with suffixed keys', () => {
    const { store } = readName({ '/c/action.d/a.conf': '[Init]\nx = 4\n[Init?family=inet6]\nx = 6\n' }, 'action.d/a');
    assert.deepEqual(store.options('Init', false), ['x', 'x?family=inet6']);
  });

  test('glob: *, ?, [..], [!..], no match across "/", hidden names only for a dot pattern', () => {
    const fs = new MemoryFileSystem({ '/l/a1.log': '', '/l/a2.log': '', '/l/b.log': '', '/l/.h.log': '', '/l/sub/c.log': '' });
    assert.deepEqual(pyGlob(fs, '/l/*.log').sort(), ['/l/a1.log', '/l/a2.log', '/l/b.log']);
    assert.deepEqual(pyGlob(fs, '/l/a?.log').sort(), ['/l/a1.log', '/l/a2.log']);
    assert.deepEqual(pyGlob(fs, '/l/[ab]*.log').sort(), ['/l/a1.log', '/l/a2.log', '/l/b.log']);
    assert.deepEqual(pyGlob(fs, '/l/[!a]*.log'), ['/l/b.log']);
    assert.deepEqual(pyGlob(fs, '/l/.*.log'), ['/l/.h.log']);
    assert.deepEqual(pyGlob(fs, '/l/*/c.log'), ['/l/sub/c.log']);
    assert.deepEqual(pyGlob(fs, '/l/none.log'), []);
    assert.equal(fnmatchRegExp('[x').test('[x'), true);
  });
});
