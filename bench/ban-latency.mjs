#!/usr/bin/env node
// Ban latency and flood, Debian's fail2ban-server vs portcullis' fail2ban-server, each in a
// private network namespace with the same configuration (bench/lib-ban.mjs writeTree: the stock
// sshd filter, the stock nftables-multiport action, backend auto, maxretry 3). Run it through
// bench/ban-latency.sh (checks, machine line); every parameter is an environment variable:
//
//   LATENCY_N=30        attackers per side for the time to ban (0: skip)
//   ATTACKERS=2000      attackers in the flood, both sides (0: skip)
//   BENIGN              addresses with maxretry-1 failures in the flood (default ATTACKERS/2);
//                       plus one non-matching line per attacker
//   BIG_ATTACKERS=100000  the big flood, portcullis only (0: skip)
//   SKIP_REAL=1         portcullis only
//   FLOOD_DEADLINE=300  seconds for the last ban of the flood (per side)
//   BIG_DEADLINE=3600   seconds for the last ban of the big flood
//   PC_ROOT             portcullis' root (bin/fail2ban-server, dist/), default this repository
//   KEEP_TMP=1          keep the server directories; JSON_OUT=FILE raw figures as JSON
//
// 1. Time to ban: both servers run side by side; per attacker and side (interleaved, the side
//    that goes first alternates) two failures are written and counted (`status`), then, after a
//    pause, the third: latency = arrival of its `add element` line from `nft monitor` minus the
//    write, both on this process' performance.now(). A first ban per side, which includes the
//    action's on-demand actionstart, is reported apart.
// 2. Flood: a fresh server per run; ATTACKERS x 3 failures, BENIGN x 2, ATTACKERS noise lines,
//    appended in one write; time from the write to the last attacker's element in the monitor,
//    the server's CPU (utime+stime, and its children's cutime+cstime: the shells and nft) over
//    that interval, VmHWM; then (once `Total failed` has counted every failure) `nft list set`
//    must hold every attacker and no benign address.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import * as L from './lib-ban.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const int = (name, dflt) => {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  if (!/^\d+$/.test(v)) throw new Error(`${name} must be a non-negative integer (got '${v}')`);
  return Number(v);
};
const LATENCY_N = int('LATENCY_N', 30);
const ATTACKERS = int('ATTACKERS', 2000);
const BENIGN = int('BENIGN', Math.floor(ATTACKERS / 2));
const BIG = int('BIG_ATTACKERS', 100000);
const FLOOD_DEADLINE = int('FLOOD_DEADLINE', 300);
const BIG_DEADLINE = int('BIG_DEADLINE', 3600);
const SIDES = process.env.SKIP_REAL === '1' ? ['ours'] : ['real', 'ours'];
const PC_ROOT = process.env.PC_ROOT || REPO;
const NAME = { real: 'fail2ban 1.0.2', ours: 'portcullis' };
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'portcullis-bench-ban.'));
if (process.env.KEEP_TMP === '1') console.error(`keeping ${TMP}`);
else L.onCleanup(() => fs.rmSync(TMP, { recursive: true, force: true }));
const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);
const results = { latency: {}, first: {}, flood: [], backend: {} };

/** A namespace, a configuration tree, a running server and its monitor. */
async function bringUp(side, tag) {
  const dir = path.join(TMP, tag);
  L.writeTree(dir);
  const ns = L.createNs(tag.slice(0, 12));
  const mon = new L.Monitor(ns);
  const server = await L.startServer(side, ns, dir, PC_ROOT);
  await L.sleep(300); // let the monitor subscribe and the jail start reading
  results.backend[side] = L.backendOf(dir);
  const down = async () => {
    await server.stop();
    mon.stop();
    ns.remove();
  };
  return { side, dir, ns, mon, server, log: path.join(dir, 'auth.log'), down };
}

async function waitFailed(u, target, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const n = await L.totalFailed(u.dir);
    if (n >= target) return n;
    if (Date.now() > until) throw new Error(`${u.side}: Total failed stayed at ${n}, expected ${target}`);
    await L.sleep(50);
  }
}

/** Two failures, counted; a pause; the third: ms from its write to the element in the set. */
async function oneBan(u, ip, counted) {
  fs.appendFileSync(u.log, L.failLine(ip) + L.failLine(ip));
  await waitFailed(u, counted + 2, 60000);
  await L.sleep(250);
  const t0 = performance.now();
  fs.appendFileSync(u.log, L.failLine(ip));
  const t1 = await u.mon.until(() => u.mon.seen.has(ip), 60000);
  if (t1 === null) throw new Error(`${u.side}: ${ip} not in the set 60 s after its third failure`);
  return u.mon.seen.get(ip) - t0;
}

async function latencyPhase() {
  const ups = [];
  for (const side of SIDES) ups.push(await bringUp(side, `lat-${side}`));
  const counted = Object.fromEntries(SIDES.map((s) => [s, 0]));
  for (const s of SIDES) results.latency[s] = [];
  try {
    for (let i = 0; i <= LATENCY_N; i++) {
      const order = i % 2 === 0 ? ups : [...ups].reverse();
      for (const u of order) {
        const ms = await oneBan(u, L.latencyIp(i), counted[u.side]);
        counted[u.side] += 3;
        if (i === 0) results.first[u.side] = ms;
        else results.latency[u.side].push(ms);
      }
      if (i % 10 === 0) log(`latency: ${i}/${LATENCY_N}`);
    }
  } finally {
    for (const u of ups) await u.down();
  }
}

function floodText(attackers, benign) {
  const pre = L.prefix();
  const parts = [];
  for (let r = 0; r < 3; r++) {
    for (let i = 0; i < attackers; i++) {
      parts.push(L.failLine(L.attackerIp(i), pre));
      if (r < 2 && i < benign) parts.push(L.failLine(L.benignIp(i), pre));
      if (r === 2) parts.push(L.noiseLine(pre));
    }
  }
  return { text: parts.join(''), lines: parts.length };
}

async function floodRun(side, attackers, benign, deadlineS) {
  const u = await bringUp(side, `flood-${side}-${attackers}`);
  try {
    const { text, lines } = floodText(attackers, benign);
    const want = Array.from({ length: attackers }, (_, i) => L.attackerIp(i));
    let missing = attackers;
    let idx = 0;
    const allSeen = () => {
      while (idx < want.length && u.mon.seen.has(want[idx])) idx++;
      if (idx < want.length) return false;
      missing = 0;
      return true;
    };
    const mem0 = L.memOf(u.server.pid);
    const cpu0 = L.cpuOf(u.server.pid);
    log(`flood ${NAME[side]}: ${attackers} attackers, ${benign} benign, ${lines} lines, ${(text.length / 1e6).toFixed(1)} MB`);
    const t0 = performance.now();
    fs.appendFileSync(u.log, text);
    const tw = performance.now();
    const t1 = await u.mon.until(allSeen, deadlineS * 1000);
    const cpu1 = L.cpuOf(u.server.pid);
    const last = t1 === null ? null : want.reduce((m, ip) => Math.max(m, u.mon.seen.get(ip)), 0) - t0;
    if (t1 === null) missing = want.filter((ip) => !u.mon.seen.has(ip)).length;
    // every failure counted (so the benign ones have been seen too) before the set is checked
    const failed = await waitFailed(u, attackers * 3 + benign * 2, 120000).catch((e) => String(e.message));
    const mem1 = L.memOf(u.server.pid);
    const inSet = new Set(L.setElements(u.ns));
    const r = {
      side,
      attackers,
      benign,
      lines,
      bytes: text.length,
      writeMs: tw - t0,
      lastBanMs: last,
      deadlineS,
      cpuSelf: cpu1.self - cpu0.self,
      cpuChildren: cpu1.children - cpu0.children,
      rssBeforeKiB: mem0.rss,
      hwmKiB: mem1.hwm,
      totalFailed: failed,
      missingInMonitor: missing,
      missingInSet: want.filter((ip) => !inSet.has(ip)).length,
      benignBanned: Array.from({ length: benign }, (_, i) => L.benignIp(i)).filter((ip) => inSet.has(ip)).length,
      setSize: inSet.size,
    };
    log(`flood ${NAME[side]}: last ban ${last === null ? 'TIMEOUT' : (last / 1000).toFixed(2) + ' s'}, set ${r.setSize}, missing ${r.missingInSet}, benign banned ${r.benignBanned}`);
    results.flood.push(r);
  } finally {
    await u.down();
  }
}

// --- report ----------------------------------------------------------------------------------
const ms = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : 'n/a');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? (a / b).toFixed(2) : 'n/a');
function report(machine) {
  const out = [];
  const lat = results.latency;
  if (LATENCY_N > 0) {
    out.push(`Time to ban: line reaching maxretry -> \`add element\` in nft monitor, ${LATENCY_N} attackers per side, interleaved.`, '');
    out.push(`| metric | ${SIDES.map((s) => NAME[s]).join(' | ')} |${SIDES.length === 2 ? ' ratio (fail2ban/portcullis) |' : ''}`);
    out.push(`|---|${SIDES.map(() => '---:|').join('')}${SIDES.length === 2 ? '---:|' : ''}`);
    const row = (name, f) => {
      const v = SIDES.map((s) => f(s));
      out.push(`| ${name} | ${v.map(ms).join(' | ')} |${SIDES.length === 2 ? ` ${ratio(v[0], v[1])} |` : ''}`);
    };
    row('median', (s) => L.median(lat[s]));
    row('p90', (s) => L.pct(lat[s], 90));
    row('max', (s) => Math.max(...lat[s]));
    row('min', (s) => Math.min(...lat[s]));
    row('first ban (incl. on-demand actionstart), not in the above', (s) => results.first[s]);
    out.push('');
  }
  if (results.flood.length > 0) {
    out.push('Flood: one write of ATTACKERS x 3 failures + BENIGN x 2 failures + ATTACKERS non-matching lines; time from the write to the last attacker in nft monitor.', '');
    out.push('| server | attackers | benign (2 failures) | lines | last ban after the write | server CPU (self) | children CPU (shells, nft) | peak RSS (VmHWM) | all attackers banned | benign banned |');
    out.push('|---|---:|---:|---:|---:|---:|---:|---:|---|---:|');
    for (const r of results.flood) {
      const last = r.lastBanMs === null ? `> ${r.deadlineS} s (deadline)` : `${(r.lastBanMs / 1000).toFixed(2)} s`;
      out.push(
        `| ${NAME[r.side]} | ${r.attackers.toLocaleString('en')} | ${r.benign.toLocaleString('en')} | ${r.lines.toLocaleString('en')} | ${last} | ` +
          `${r.cpuSelf.toFixed(2)} s | ${r.cpuChildren.toFixed(2)} s | ${(r.hwmKiB / 1024).toFixed(1)} MiB | ` +
          `${r.missingInSet === 0 ? 'yes' : `no (${r.missingInSet} missing)`} | ${r.benignBanned} |`,
      );
    }
    const f = (side) => results.flood.find((r) => r.side === side && r.attackers === ATTACKERS);
    if (f('real') && f('ours')) {
      out.push('', `Flood ratio (fail2ban/portcullis), ${ATTACKERS} attackers: time ${ratio(f('real').lastBanMs, f('ours').lastBanMs)}, ` +
        `CPU self+children ${ratio(f('real').cpuSelf + f('real').cpuChildren, f('ours').cpuSelf + f('ours').cpuChildren)}, peak RSS ${ratio(f('real').hwmKiB, f('ours').hwmKiB)}.`);
    }
    const real = f('real');
    if (BIG > 0 && real?.lastBanMs) {
      const rate = real.attackers / (real.lastBanMs / 1000);
      out.push(`${BIG.toLocaleString('en')} attackers: portcullis only; fail2ban banned ${rate.toFixed(0)}/s in its flood, so it would need about ${(BIG / rate / 60).toFixed(0)} minutes.`);
    }
    out.push('');
  }
  out.push(`Jail backend (from the servers' logs): ${SIDES.map((s) => `${NAME[s]} ${results.backend[s] ?? '?'}`).join(', ')}.`);
  out.push(machine);
  return out.join('\n');
}

const machine = process.env.MACHINE_LINE ?? `Machine: ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? '?'}; node ${process.version}.`;
const started = performance.now();
let rc = 0;
try {
  if (LATENCY_N > 0) await latencyPhase();
  if (ATTACKERS > 0) for (const side of SIDES) await floodRun(side, ATTACKERS, BENIGN, FLOOD_DEADLINE);
  if (BIG > 0) await floodRun('ours', BIG, Math.floor(BIG / 2), BIG_DEADLINE);
} catch (e) {
  console.error(`ABORT: ${e.stack ?? e}`);
  rc = 1;
} finally {
  L.cleanupAll();
}
for (const r of results.flood) if (r.lastBanMs === null || r.missingInSet > 0 || r.benignBanned > 0 || typeof r.totalFailed !== 'number') rc = rc || 1;
console.log(report(`${machine} Whole run: ${((performance.now() - started) / 1000).toFixed(0)} s.`));
if (process.env.JSON_OUT) fs.writeFileSync(process.env.JSON_OUT, JSON.stringify(results, null, 1));
process.exit(rc);
