/**
 * Python's UTF-8 error texts for configuration files, checked against Python reading the same
 * bytes from a file in text mode (as fail2ban does), including faults past the 8 KiB chunk.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { utf8ErrorMessage } from '../../src/config/ini/utf8.js';
import { makeTree, removeTree } from '../helpers/oracle.js';
import { mulberry32 } from '../helpers/random.js';

const PYTHON = '/usr/bin/python3';


const PIECES = [[0xff], [0xc3], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98], [0xf0, 0x9f, 0x98, 0x41], [0x80], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80], [0xe0, 0x80, 0x80], [0xc3, 0xa9], [0xf0, 0x9f, 0x98, 0x80]];

test('utf8ErrorMessage matches Python iterating the lines of the file in text mode, as configparser does', (t) => {
  if (!fs.existsSync(PYTHON)) {
    t.skip('no /usr/bin/python3');
    return;
  }
  const rand = mulberry32(20261122);
  const dir = makeTree({});
  try {
    const files: string[] = [];
    const contents: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) {
      const size = Math.floor(rand() * (i < 150 ? 200 : 20000));
      const bytes: number[] = [];
      for (let k = 0; k < size; k++) bytes.push(rand() < 0.05 ? 0xc3 : 0x20 + Math.floor(rand() * 90));
      // Keep the 0xc3 above valid by following it with a continuation byte most of the time.
      for (let k = 0; k < bytes.length; k++) if (bytes[k] === 0xc3) bytes.splice(k + 1, 0, 0xa9);
      const piece = PIECES[Math.floor(rand() * PIECES.length)] ?? [];
      const at = Math.floor(rand() * (bytes.length + 1));
      if (rand() < 0.9) bytes.splice(at, 0, ...piece);
      const file = path.join(dir, `f${i}.conf`);
      fs.writeFileSync(file, Uint8Array.from(bytes));
      files.push(file);
      contents.push(Uint8Array.from(bytes));
    }
    const script = `import json,sys
out=[]
for f in json.load(sys.stdin):
    try:
        for _ in open(f, encoding='utf-8'): pass
        out.append(None)
    except UnicodeDecodeError as e:
        out.append(str(e))
print(json.dumps(out))`;
    const r = spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(files), encoding: 'utf8', maxBuffer: 1 << 24 });
    assert.equal(r.status, 0, r.stderr);
    const expected = JSON.parse(r.stdout) as Array<string | null>;
    let faults = 0;
    contents.forEach((bytes, i) => {
      const ours = utf8ErrorMessage(bytes) ?? null;
      if (expected[i] !== null) faults++;
      assert.equal(ours, expected[i], `file ${files[i] ?? ''}`);
    });
    assert.ok(faults > 150, `only ${faults} files had a fault`);
    t.diagnostic(`${contents.length} files, ${faults} with a decoding fault`);
  } finally {
    removeTree(dir);
  }
});
