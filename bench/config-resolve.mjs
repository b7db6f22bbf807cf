// In-process configuration resolve with portcullis (no interpreter start-up).
//
// Usage: node bench/config-resolve.mjs CONFDIR [ITERATIONS] [--lockstep]
//
// Each iteration builds a fresh Configurator and runs readConfigStream() the way
// `fail2ban-client -d` does. Prints one JSON line: {"impl", "times_ms": [...], "commands": N}.
// The first iteration is cold (modules are imported beforehand, but nothing is
// JIT-compiled yet); later ones are warm. Needs `npm run build` (dist/).
// With --lockstep, it prints "ready" once imported, then each iteration waits for
// a line on stdin and prints its time (ms) on a line of its own, so a harness can
// interleave it with another implementation iteration by iteration.
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { Configurator, readConfigStream, CollectingLog } = await import(`${root}/dist/src/config/index.js`);
const { NodeFileSystem } = await import(`${root}/dist/src/system/nodeFs.js`);

const lockstep = process.argv.includes('--lockstep');
const args = process.argv.slice(2).filter((a) => a !== '--lockstep');
const confdir = args[0];
if (!confdir) {
  console.error('usage: node bench/config-resolve.mjs CONFDIR [ITERATIONS] [--lockstep]');
  process.exit(2);
}
const iterations = Number(args[1] ?? 15);
const lines = lockstep ? createInterface({ input: process.stdin })[Symbol.asyncIterator]() : undefined;

const times = [];
let commands;
if (lockstep) process.stdout.write('ready\n');
for (let i = 0; i < iterations; i++) {
  if (lines && (await lines.next()).done) {
    console.error('stdin closed early');
    process.exit(1);
  }
  const t0 = process.hrtime.bigint();
  const result = readConfigStream(new Configurator(new NodeFileSystem(), confdir, new CollectingLog()), {
    overrides: new Map(),
    ignoreWrong: true,
    allowNoFiles: true,
  });
  const t1 = process.hrtime.bigint();
  times.push(Number(t1 - t0) / 1e6);
  if (lockstep) process.stdout.write(`${times[times.length - 1]}\n`);
  if (!result.stream) {
    console.error('configuration load failed:', result.error);
    process.exit(1);
  }
  if (commands === undefined) commands = result.stream.length;
  else if (commands !== result.stream.length) {
    console.error(`stream length changed between iterations: ${commands} != ${result.stream.length}`);
    process.exit(1);
  }
}
if (!commands) {
  console.error('empty configuration stream');
  process.exit(1);
}
console.log(JSON.stringify({ impl: 'portcullis', times_ms: times, commands }));
if (lines) process.exit(0); // the readline interface would keep stdin open
