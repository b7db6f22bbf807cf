#!/usr/bin/env bash
# Side-by-side benchmark: how fast a failure line becomes a ban in the kernel, Debian's
# fail2ban-server 1.0.2 vs portcullis' fail2ban-server, in the same run, as ratios.
#
# Usage: bench/ban-latency.sh                          (everything, defaults below)
#        SKIP_REAL=1 BIG_ATTACKERS=0 bench/ban-latency.sh
#
# Environment (all optional):
#   LATENCY_N=30          attackers per side for the time to ban (0: skip that part)
#   ATTACKERS=2000        attackers in the flood, run on both sides (0: skip)
#   BENIGN                addresses with 2 failures (maxretry - 1) in the flood, must not be
#                         banned (default ATTACKERS/2); plus one non-matching line per attacker
#   BIG_ATTACKERS=100000  a second flood, portcullis only (0: skip); fail2ban would need over
#                         20 minutes for it
#   SKIP_REAL=1           portcullis only
#   FLOOD_DEADLINE=300    seconds allowed for the last ban of a flood
#   BIG_DEADLINE=3600     the same for the big flood
#   PC_ROOT               portcullis' root to run (bin/, dist/), default this repository
#   KEEP_TMP=1            keep the servers' directories (configuration, logs, databases)
#   JSON_OUT=FILE         the raw figures as JSON
#
# What runs: each server in its own private network namespace (`ip netns exec NS
# /usr/bin/fail2ban-server -f -x -c DIR -s DIR/f2b.sock -p DIR/f2b.pid`, and `node
# bin/fail2ban-server` with the same arguments), both on the same configuration: one jail with
# Debian's stock sshd filter and the stock nftables-multiport action (copied from /etc/fail2ban
# at run time), backend = auto (python3-pyinotify must be installed, as on a Debian host, so
# that fail2ban uses inotify), maxretry 3, findtime and bantime one day, the database in the
# temporary directory. The log lines are realistic sshd lines (Failed password / Invalid user,
# one sshd pid per line) with the current time.
#
# What is measured (bench/ban-latency.mjs, one Node process that writes the log lines and reads
# `nft monitor new elements` of each namespace, so both timestamps come from one clock):
#   1. time to ban: write two failures, wait until `status` counts them, pause, write the third
#      and take the time; the ban's time is the arrival of `add element inet f2b-table
#      addr-set-bench { IP }` from nft monitor (nft flushes each event). Interleaved per
#      attacker, the side going first alternating. Median, p90 (nearest rank), max, ratio.
#   2. flood: a fresh server; all lines in one write; time to the last attacker's element, the
#      server's CPU seconds over that interval from /proc/PID/stat (utime+stime, and
#      cutime+cstime of its children: the action's shells and nft), peak RSS (VmHWM); then
#      every attacker must be in `nft list set`, no benign address.
# Exit status: 0 all good; 1 a flood missed its deadline, an attacker is missing or a benign
# address was banned, or a server failed; 2 bad usage or a missing prerequisite.
# No timing assertions: it reports, it does not judge.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
PC_ROOT="${PC_ROOT:-$ROOT}"
export PC_ROOT

[[ "$(id -u)" -eq 0 ]] || { echo "needs root (network namespaces, nft)" >&2; exit 2; }
for tool in ip nft getconf; do
  command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 2; }
done
[[ -x /usr/bin/fail2ban-server && -x /usr/bin/fail2ban-client ]] || { echo "Debian's fail2ban is needed (apt-get install fail2ban)" >&2; exit 2; }
/usr/bin/python3 -c 'import pyinotify' 2>/dev/null || { echo "python3-pyinotify is needed (apt-get install python3-pyinotify): fail2ban's backend auto must use inotify" >&2; exit 2; }
[[ -f /etc/fail2ban/filter.d/sshd.conf && -f /etc/fail2ban/action.d/nftables-multiport.conf ]] || { echo "stock sshd filter / nftables-multiport action missing in /etc/fail2ban" >&2; exit 2; }

if [[ ! -f "$PC_ROOT/dist/cli.mjs" ]]; then
  if [[ "$PC_ROOT" != "$ROOT" ]]; then echo "no $PC_ROOT/dist/cli.mjs" >&2; exit 2; fi
  echo "dist/ missing: building with npm run build" >&2
  (cd "$ROOT" && npm run build >&2)
fi

MACHINE_LINE="Machine: $(nproc) cores (nproc), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); node $(node --version); $(/usr/bin/python3 --version 2>&1); $(/usr/bin/fail2ban-server --version 2>/dev/null | head -1); nftables $(nft --version | awk '{print $2}'); $(date -u '+%Y-%m-%d %H:%M:%S UTC'); load average $(cut -d' ' -f1-3 /proc/loadavg) before."
export MACHINE_LINE

rc=0
node "$BENCH_DIR/ban-latency.mjs" || rc=$?
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
exit "$rc"
