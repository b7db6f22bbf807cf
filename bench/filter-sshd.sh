#!/usr/bin/env bash
# Side-by-side benchmark: `fail2ban-regex` running the stock sshd filter over a
# large generated auth.log, Debian's fail2ban 1.0.2 vs portcullis, in the same
# run, as ratios.
#
# Usage: bench/filter-sshd.sh [LINES] [SEED]      (defaults: 1000000 42)
#        REPEAT=5 bench/filter-sshd.sh 200000
#
# Arguments:
#   LINES       lines of log to generate (default 1000000)
#   SEED        seed for the generator (default 42)
#
# Environment:
#   REPEAT_REAL runs of the real fail2ban-regex (default 1: it is slow)
#   REPEAT_OURS runs of portcullis' fail2ban-regex (default 3)
#   REPEAT      if set, overrides both of the above
#   F2B_CONFIG  configuration directory, passed to both tools as `-c DIR`
#               (default: none passed, i.e. the tools' default /etc/fail2ban)
#   KEEP_TMP=1  keep the directory with the outputs and timings (path is printed)
#   PC_REGEX    portcullis' launcher to run (default: bin/fail2ban-regex of this
#               repository; for testing the harness itself)
#
# The log is `python3 ../shared/bench/genlog.py LINES 0.6 SEED` (60 % sshd
# failures, every line dated), generated once per LINES+SEED and cached as
# /tmp/portcullis-bench-genlog/auth-LINES-0.6-SEED.log.
#
# Both tools run `fail2ban-regex [-c DIR] -r -o '<time> <ip>' LOG sshd`, each run
# under GNU time (`%e %U %S %M`: wall, user and system CPU seconds, peak RSS KiB),
# interleaved: real, ours, real, ours, ... (a tool stops once it has done its
# REPEAT runs). Wall time is read with bash's EPOCHREALTIME (GNU time's %e has
# only 10 ms resolution). Reported per tool: median wall, lines/s from it, median
# CPU (user+sys), peak RSS (highest of the runs), and the ratio
# ours lines/s / real lines/s (> 1: portcullis is faster).
# The first output of each tool is compared byte for byte; they must be identical.
#
# Exit status: 0 all good; 1 portcullis failed or the outputs differ;
# 2 the real fail2ban-regex failed or bad usage.
# No timing assertions: it reports, it does not judge.
set -euo pipefail

LINES="${1:-1000000}"
SEED="${2:-42}"
ATTACK=0.6
REPEAT_REAL="${REPEAT:-${REPEAT_REAL:-1}}"
REPEAT_OURS="${REPEAT:-${REPEAT_OURS:-3}}"
# shellcheck source=bench/lib-regex.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-regex.sh"
GENLOG="$ROOT/../shared/bench/genlog.py"

for v in LINES SEED REPEAT_REAL REPEAT_OURS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "$v must be a non-negative integer (got '${!v}')" >&2; exit 2; }
done
[[ "$LINES" -ge 1 && "$REPEAT_REAL" -ge 1 && "$REPEAT_OURS" -ge 1 ]] || { echo "LINES and REPEAT_* must be >= 1" >&2; exit 2; }
require_regex_tools
[[ -f "$GENLOG" ]] || { echo "log generator not found at $GENLOG" >&2; exit 2; }

COMMON_ARGS=()
if [[ -n "${F2B_CONFIG:-}" ]]; then
  [[ -d "$F2B_CONFIG" ]] || { echo "F2B_CONFIG=$F2B_CONFIG is not a directory" >&2; exit 2; }
  COMMON_ARGS+=(-c "$F2B_CONFIG")
fi
COMMON_ARGS+=(-r -o '<time> <ip>')

# --- the log, cached by LINES+SEED -------------------------------------------
CACHE="${TMPDIR:-/tmp}/portcullis-bench-genlog"
mkdir -p "$CACHE"
LOG="$CACHE/auth-$LINES-$ATTACK-$SEED.log"
if [[ ! -s "$LOG" ]]; then
  echo "generating $LOG ($LINES lines, seed $SEED) ..." >&2
  "$PY" "$GENLOG" "$LINES" "$ATTACK" "$SEED" > "$LOG.tmp.$$"
  mv -f "$LOG.tmp.$$" "$LOG"
fi
LOG_BYTES="$(stat -c %s "$LOG")"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/portcullis-bench-sshd.XXXXXX")"
if [[ "${KEEP_TMP:-0}" == 1 ]]; then
  echo "keeping $TMP" >&2
else
  trap 'rm -rf "$TMP"' EXIT
fi

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"

# run TAG I CMD...: one timed run; appends "TAG I rc wall user sys maxrss" to $TMP/runs
run_one() {
  local tag="$1" i="$2"; shift 2
  local out="$TMP/$tag.$i.out" err="$TMP/$tag.$i.err" tf="$TMP/$tag.$i.time"
  local t0 t1 rc=0
  t0="$EPOCHREALTIME"
  "$GNU_TIME" -f '%e %U %S %M' -o "$tf" "$@" < /dev/null > "$out" 2> "$err" || rc=$?
  t1="$EPOCHREALTIME"
  local last; last="$(tail -n 1 "$tf" 2>/dev/null || true)"
  # shellcheck disable=SC2086
  set -- $last
  local wall; wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
  echo "$tag $i $rc $wall ${2:-0} ${3:-0} ${4:-0}" >> "$TMP/runs"
  if [[ "$rc" -ne 0 ]]; then
    return "$rc"
  fi
  # only the first output is kept for the comparison; later ones are discarded
  [[ "$i" -eq 1 ]] || rm -f "$out"
  return 0
}

: > "$TMP/runs"
OURS_FAILED=0
OURS_RC=0
REAL_FAILED=0
MAX_REPEAT=$(( REPEAT_REAL > REPEAT_OURS ? REPEAT_REAL : REPEAT_OURS ))
for (( i = 1; i <= MAX_REPEAT; i++ )); do
  if [[ "$i" -le "$REPEAT_REAL" && "$REAL_FAILED" -eq 0 ]]; then
    echo "run $i: real fail2ban-regex ..." >&2
    run_one real "$i" "$F2B_REGEX" "${COMMON_ARGS[@]}" "$LOG" sshd || REAL_FAILED=$?
  fi
  if [[ "$i" -le "$REPEAT_OURS" && "$OURS_FAILED" -eq 0 ]]; then
    echo "run $i: portcullis fail2ban-regex ..." >&2
    run_one ours "$i" "$OURS" "${COMMON_ARGS[@]}" "$LOG" sshd || { OURS_RC=$?; OURS_FAILED=1; }
  fi
done

if [[ "$REAL_FAILED" -ne 0 ]]; then
  echo "ABORT: the real fail2ban-regex failed (exit $REAL_FAILED):" >&2
  head -20 "$TMP"/real.*.err >&2 || true
  exit 2
fi

# --- comparison -------------------------------------------------------------
IDENTICAL=no
if [[ "$OURS_FAILED" -eq 0 ]]; then
  if cmp -s "$TMP/real.1.out" "$TMP/ours.1.out"; then
    IDENTICAL=yes
  fi
else
  IDENTICAL="n/a (portcullis failed)"
fi
OUT_LINES_REAL="$(wc -l < "$TMP/real.1.out")"
OUT_LINES_OURS="-"
[[ "$OURS_FAILED" -ne 0 ]] || OUT_LINES_OURS="$(wc -l < "$TMP/ours.1.out")"

# --- summary ----------------------------------------------------------------
export LINES SEED LOG LOG_BYTES OURS_FAILED OURS_RC IDENTICAL OUT_LINES_REAL OUT_LINES_OURS LOAD_BEFORE
export REPEAT_REAL REPEAT_OURS F2B_CONFIG="${F2B_CONFIG:-}"
export MACHINE_NPROC="$(nproc)"
export MACHINE_CPU="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
export MACHINE_NODE="$(node --version 2>/dev/null || echo 'node ?')"
export MACHINE_PY="$("$PY" --version 2>&1)"
export MACHINE_F2B="$("$F2B_REGEX" --version 2>/dev/null | head -1)"
export MACHINE_DATE="$(date -u '+%Y-%m-%d %H:%M:%S UTC')"

"$PY" - "$TMP/runs" <<'PYEOF'
import os, statistics, sys
E = os.environ
lines = int(E["LINES"])
runs = {"real": [], "ours": []}
for row in open(sys.argv[1]):
	tag, i, rc, wall, user, sysc, rss = row.split()
	runs[tag].append(dict(rc=int(rc), wall=float(wall), cpu=float(user) + float(sysc), rss=int(rss)))

def stats(tag):
	ok = [r for r in runs[tag] if r["rc"] == 0]
	if not ok:
		return None
	w = statistics.median(r["wall"] for r in ok)
	return dict(n=len(ok), wall=w, lps=lines / w, cpu=statistics.median(r["cpu"] for r in ok),
		rss=max(r["rss"] for r in ok), walls=[r["wall"] for r in ok])

real, ours = stats("real"), stats("ours")
cfg = E["F2B_CONFIG"] or "/etc/fail2ban (default)"
print("fail2ban-regex -r -o '<time> <ip>' LOG sshd: %s lines (%.1f MB, genlog.py seed %s, 60 %% failures), config %s"
	% (format(lines, ","), int(E["LOG_BYTES"]) / 1e6, E["SEED"], cfg))
print("log: %s" % E["LOG"])
print()
def show(name, s, failed_rc=None):
	if s is None:
		print("%-11s FAILED (exit %s)" % (name, failed_rc))
		return
	print("%-11s runs %d, median wall %.2f s (all: %s), %s lines/s, median CPU user+sys %.2f s, peak RSS %.1f MiB"
		% (name, s["n"], s["wall"], " ".join("%.2f" % x for x in s["walls"]), format(round(s["lps"]), ","),
		   s["cpu"], s["rss"] / 1024))
show("fail2ban:", real)
show("portcullis:", ours, E["OURS_RC"])
ratio = "%.2f" % (ours["lps"] / real["lps"]) if ours and real else "n/a"
print("ratio (portcullis lines/s / fail2ban lines/s): %s" % ratio)
print("output lines: fail2ban %s, portcullis %s" % (E["OUT_LINES_REAL"], E["OUT_LINES_OURS"]))
print("outputs identical: %s" % E["IDENTICAL"])
print()

def cell_lps(s): return format(round(s["lps"]), ",") if s else "failed"
def cell_wall(s): return "%.2f s" % s["wall"] if s else "failed"
def cell_cpu(s): return "%.2f s" % s["cpu"] if s else "failed"
def cell_rss(s): return "%.1f MiB" % (s["rss"] / 1024) if s else "failed"
print("Markdown (bench/RESULTS.md):")
print()
print("| log | fail2ban 1.0.2 lines/s | portcullis lines/s | ratio (portcullis/fail2ban) | wall, median (f2b / pc) | CPU user+sys (f2b / pc) | peak RSS (f2b / pc) | outputs identical |")
print("|---|---:|---:|---:|---:|---:|---:|---|")
print("| sshd, %s lines, seed %s | %s | %s | %s | %s / %s | %s / %s | %s / %s | %s |" % (
	format(lines, ","), E["SEED"], cell_lps(real), cell_lps(ours), ratio,
	cell_wall(real), cell_wall(ours), cell_cpu(real), cell_cpu(ours), cell_rss(real), cell_rss(ours),
	E["IDENTICAL"]))
print()
print("Runs: fail2ban %s, portcullis %s, interleaved; lines/s from the median wall time; peak RSS via GNU time %%M (highest run)." % (E["REPEAT_REAL"], E["REPEAT_OURS"]))
print("Machine: %s cores (nproc), %s; node %s; %s; %s; %s; load average %s before, %s after."
	% (E["MACHINE_NPROC"], E["MACHINE_CPU"], E["MACHINE_NODE"], E["MACHINE_PY"], E["MACHINE_F2B"],
	   E["MACHINE_DATE"], E["LOAD_BEFORE"], " ".join(open("/proc/loadavg").read().split()[:3])))
PYEOF

if [[ "$OURS_FAILED" -ne 0 ]]; then
  echo >&2
  echo "portcullis fail2ban-regex FAILED (exit $OURS_RC); its stderr:" >&2
  head -20 "$TMP/ours.1.err" >&2 || true
  exit 1
fi
if [[ "$IDENTICAL" != yes ]]; then
  echo >&2
  echo "outputs differ (diff fail2ban portcullis | head -20):"
  diff "$TMP/real.1.out" "$TMP/ours.1.out" | head -20 || true
  exit 1
fi
exit 0
