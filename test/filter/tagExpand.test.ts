/**
 * Tag expansion against fail2ban's own `Regex._resolveHostTag` and its flag rewrite, for every
 * failregex/prefregex/ignoreregex of the stock tree with all jails enabled, under each usedns.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Configurator, CollectingLog, readConfigStream } from '../../src/config/index.js';
import { NodeFileSystem } from '../../src/system/nodeFs.js';
import { prepareFailRegex } from '../../src/filter/tagExpand.js';
import { makeTree, removeTree } from '../helpers/oracle.js';
import { NO_PYTHON, PYTHON, runPython } from '../helpers/python.js';

const CRAFTED = [
  '^<F-USER>\\S+</F-USER> from <HOST>$',
  '</F-USER> before open <F-USER>x</F-USER>',
  '<F-ID>\\d+</F-ID> <F-PORT>\\w+</F-PORT> <F-ID/> <F-PORT/>',
  '<SKIPLINES>a<SKIPLINES>b',
  '<F-lower>x</F-lower> <USER> <F-ALT_USER1>u</F-ALT_USER1>',
  'x ((?i)LOGIN|PLAIN) y (?:(?i)expn|vrfy) z \\((?i)no)',
  '<ADDR>/<CIDR> <SUBNET> <DNS> <IP4> <IP6> <F-IP4/> <F-IP6/> <F-DNS/> <F-ADDR/> <F-SUBNET/> <F-CIDR/>',
  '<HÖST> <F-Ä> <F-A-B>x</F-A-B>',
];

test('expandFilterTags + scoped flags match fail2ban for every stock regex and usedns', (t) => {
  if (PYTHON === undefined) {
    t.skip(NO_PYTHON);
    return;
  }
  const dir = makeTree({});
  try {
    fs.cpSync('/etc/fail2ban', path.join(dir, 'conf'), { recursive: true });
    const text = fs.readFileSync('/etc/fail2ban/jail.conf', 'utf8');
    const jails = [...text.matchAll(/^\[([^\]\n]+)\]/gm)].map((m) => m[1] ?? '').filter((n) => n !== 'INCLUDES' && n !== 'DEFAULT');
    fs.writeFileSync(path.join(dir, 'conf/jail.d/zz.local'), jails.map((j) => `[${j}]\nenabled = true\nbackend = polling\nlogpath = ${dir}/x.log\n`).join('\n'));
    fs.writeFileSync(path.join(dir, 'x.log'), '');
    const r = readConfigStream(new Configurator(new NodeFileSystem(), path.join(dir, 'conf'), new CollectingLog()), { overrides: new Map(), ignoreWrong: true, allowNoFiles: true });
    const regexes = new Set<string>(CRAFTED);
    for (const cmd of r.stream ?? []) {
      const [verb, , what, value] = cmd;
      if (what !== 'addfailregex' && what !== 'addignoreregex' && what !== 'prefregex') continue;
      for (const v of verb === 'multi-set' ? (value as string[]) : [value as string]) regexes.add(v);
    }
    const inputs = [...regexes].flatMap((re) => ['yes', 'warn', 'no', 'raw'].map((usedns) => ({ re, usedns })));
    const expected = runPython<string[]>(
      `from fail2ban.server.failregex import Regex, R_GLOB2LOCFLAGS
out = []
for d in DATA:
    rx = Regex._resolveHostTag(d['re'], useDns=d['usedns'])
    out.append(R_GLOB2LOCFLAGS[0].sub(R_GLOB2LOCFLAGS[1], rx))
print(json.dumps(out))`,
      inputs,
    );
    inputs.forEach((input, i) => assert.equal(prepareFailRegex(input.re, input.usedns), expected[i], JSON.stringify(input)));
    assert.ok(regexes.size > 200, `only ${regexes.size} regexes`);
    t.diagnostic(`${regexes.size} regexes x 4 usedns values`);
  } finally {
    removeTree(dir);
  }
});
