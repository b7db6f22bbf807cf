#!/usr/bin/env bash
# Side-by-side ReDoS probe: every stock filter run by `fail2ban-regex` over a few
# pathological single-line logs, Debian's fail2ban 1.0.2 vs portcullis.
#
# Usage: bench/filter-redos.sh [SIZE]               (default SIZE=100000 bytes)
#        SIDE=real bench/filter-redos.sh
#        FILTERS="sshd postfix" KINDS="a spaces" bench/filter-redos.sh 20000
#
# Arguments:
#   SIZE        length in bytes of each pathological line, syslog prefix
#               included, newline excluded (default 100000)
#
# Environment:
#   SIDE        real | ours | both (default both): which tool(s) to run
#   FILTERS     space-separated filter names to run (default: every
#               filter.d/*.conf except names ending in common.conf)
#   KINDS       space-separated line kinds (default: all of them):
#                 a       'aaaa...'
#                 spaces  '    ...'
#                 xsp     'x x x ...'
#                 dots    '1.1.1.1...'
#                 colons  '::::...'
#                 random  random printable ASCII (fixed seed 1)
#   TIMEOUT     per-run limit in seconds (default 120), via `timeout`
#   BASELINE=0  skip the baseline run (one short ordinary line per filter, to
#               show each tool's start-up + filter load; default 1)
#   F2B_CONFIG  configuration directory (default /etc/fail2ban); the filter list
#               comes from its filter.d/, and it is passed as `-c DIR` only when set
#   PC_REGEX    portcullis' launcher (default bin/fail2ban-regex of this repository)
#   OUTDIR      where the per-run results go (default: a new /tmp directory, kept
#               and printed at the end)
#
# Each line is `Mar  3 00:00:00 server1 sshd[123]: ` followed by filler up to
# SIZE bytes; the files are made once per SIZE and cached under
# /tmp/portcullis-bench-redos-SIZE/. Every run is
#   timeout -k 5 TIMEOUT TOOL [-c DIR] -r -o id FILE FILTER   (stdout discarded)
# under GNU time, wall time from bash's EPOCHREALTIME; real and ours interleaved
# per (filter, line) when SIDE=both. A run is "timeout" if it hit the limit,
# "error" on any other non-zero exit (portcullis today: exit 255, not
# implemented yet). Per tool and filter, the worst wall time across the line kinds
# (the baseline excluded) is reported: the 15 slowest filters per tool, the worst
# run overall, the worst per line kind, and the total wall time.
# Results: OUTDIR/runs.tsv (side filter kind status rc wall_s cpu_s maxrss_kib).
# No timing assertions: it reports, it does not judge. Exit status 0 unless the
# harness itself fails.
set -euo pipefail

SIZE="${1:-100000}"
SIDE="${SIDE:-both}"
TIMEOUT="${TIMEOUT:-120}"
BASELINE="${BASELINE:-1}"
ALL_KINDS="a spaces xsp dots colons random"
KINDS="${KINDS:-$ALL_KINDS}"
# shellcheck source=bench/lib-regex.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-regex.sh"
CONF="${F2B_CONFIG:-/etc/fail2ban}"

[[ "$SIZE" =~ ^[0-9]+$ && "$SIZE" -ge 64 ]] || { echo "SIZE must be an integer >= 64" >&2; exit 2; }
[[ "$TIMEOUT" =~ ^[0-9]+$ && "$TIMEOUT" -ge 1 ]] || { echo "TIMEOUT must be an integer >= 1" >&2; exit 2; }
case "$SIDE" in real|ours|both) ;; *) echo "SIDE must be real, ours or both" >&2; exit 2 ;; esac
for k in $KINDS; do
  [[ " $ALL_KINDS " == *" $k "* ]] || { echo "unknown kind '$k' (known: $ALL_KINDS)" >&2; exit 2; }
done
[[ -d "$CONF/filter.d" ]] || { echo "no filter.d in $CONF" >&2; exit 2; }
require_regex_tools

CONF_ARGS=()
[[ -z "${F2B_CONFIG:-}" ]] || CONF_ARGS=(-c "$F2B_CONFIG")

SIDES=()
[[ "$SIDE" == ours ]] || SIDES+=(real)
[[ "$SIDE" == real ]] || SIDES+=(ours)

# --- filters -----------------------------------------------------------------
if [[ -n "${FILTERS:-}" ]]; then
  read -r -a FILTER_LIST <<< "$FILTERS"
  for f in "${FILTER_LIST[@]}"; do
    [[ -f "$CONF/filter.d/$f.conf" ]] || { echo "no filter $CONF/filter.d/$f.conf" >&2; exit 2; }
  done
else
  mapfile -t FILTER_LIST < <(cd "$CONF/filter.d" && ls -1 -- *.conf | sed 's/\.conf$//' | grep -v 'common$' | LC_ALL=C sort)
fi
[[ "${#FILTER_LIST[@]}" -gt 0 ]] || { echo "no filters to run" >&2; exit 2; }

# --- pathological inputs, cached per SIZE -------------------------------------
DATA="${TMPDIR:-/tmp}/portcullis-bench-redos-$SIZE"
mkdir -p "$DATA"
"$PY" - "$DATA" "$SIZE" <<'PYEOF'
import os, random, sys
data, size = sys.argv[1], int(sys.argv[2])
prefix = "Mar  3 00:00:00 server1 sshd[123]: "
rnd = random.Random(1)
fill = {
	"a": lambda n: "a" * n,
	"spaces": lambda n: " " * n,
	"xsp": lambda n: ("x " * (n // 2 + 1))[:n],
	"dots": lambda n: ("1." * (n // 2 + 1))[:n],
	"colons": lambda n: ":" * n,
	"random": lambda n: "".join(chr(rnd.randint(32, 126)) for _ in range(n)),
}
for kind, f in fill.items():
	path = os.path.join(data, kind + ".log")
	line = prefix + f(size - len(prefix))  # always called, so "random" does not depend on the cache
	if os.path.exists(path) and os.path.getsize(path) == size + 1:
		continue
	with open(path + ".tmp", "w") as fh:
		fh.write(line + "\n")
	os.replace(path + ".tmp", path)
# baseline: one short ordinary line (start-up + filter load, nothing pathological)
with open(os.path.join(data, "baseline.log"), "w") as fh:
	fh.write(prefix + "Connection closed by 192.0.2.1 port 22 [preauth]\n")
PYEOF

RUN_KINDS=()
[[ "$BASELINE" == 0 ]] || RUN_KINDS+=(baseline)
read -r -a K <<< "$KINDS"
RUN_KINDS+=("${K[@]}")

OUTDIR="${OUTDIR:-$(mktemp -d "${TMPDIR:-/tmp}/portcullis-bench-redos.XXXXXX")}"
mkdir -p "$OUTDIR"
TSV="$OUTDIR/runs.tsv"
printf 'side\tfilter\tkind\tstatus\trc\twall_s\tcpu_s\tmaxrss_kib\n' > "$TSV"
: > "$OUTDIR/errors.txt"

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
START="$EPOCHREALTIME"
N_RUNS=$(( ${#FILTER_LIST[@]} * ${#RUN_KINDS[@]} * ${#SIDES[@]} ))
echo "$N_RUNS runs: ${#FILTER_LIST[@]} filters x ${#RUN_KINDS[@]} lines (${RUN_KINDS[*]}) x ${SIDES[*]}; timeout ${TIMEOUT}s; results in $OUTDIR" >&2

# run_one SIDE FILTER KIND: one timed run, one row in runs.tsv
run_one() {
  local side="$1" filter="$2" kind="$3" tool
  [[ "$side" == real ]] && tool="$F2B_REGEX" || tool="$OURS"
  local tf="$OUTDIR/time.tmp" ef="$OUTDIR/stderr.tmp" t0 t1 rc=0 status wall
  t0="$EPOCHREALTIME"
  "$GNU_TIME" -f '%e %U %S %M' -o "$tf" \
    timeout -k 5 "$TIMEOUT" "$tool" "${CONF_ARGS[@]}" -r -o id "$DATA/$kind.log" "$filter" \
    < /dev/null > /dev/null 2> "$ef" || rc=$?
  t1="$EPOCHREALTIME"
  wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
  local u=0 s=0 m=0
  read -r _ u s m < <(tail -n 1 "$tf" 2>/dev/null || echo "0 0 0 0") || true
  if [[ "$rc" -eq 0 ]]; then
    status=ok
  elif [[ "$rc" -eq 124 || "$rc" -eq 137 ]]; then
    status=timeout
  else
    status=error
    printf '%s %s %s: exit %s: %s\n' "$side" "$filter" "$kind" "$rc" "$(head -c 300 "$ef" | tr '\n' ' ')" >> "$OUTDIR/errors.txt"
  fi
  local cpu; cpu="$(awk -v a="${u:-0}" -v b="${s:-0}" 'BEGIN { printf "%.2f", a + b }')"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$side" "$filter" "$kind" "$status" "$rc" "$wall" "$cpu" "${m:-0}" >> "$TSV"
  if [[ "$status" == timeout || "${wall%%.*}" -ge 5 ]]; then
    printf '  %-5s %-28s %-8s %-7s %8.2f s\n' "$side" "$filter" "$kind" "$status" "$wall" >&2
  fi
}

n=0
for filter in "${FILTER_LIST[@]}"; do
  n=$(( n + 1 ))
  printf '[%d/%d] %s\n' "$n" "${#FILTER_LIST[@]}" "$filter" >&2
  for kind in "${RUN_KINDS[@]}"; do
    for side in "${SIDES[@]}"; do
      run_one "$side" "$filter" "$kind"
    done
  done
  for side in "${SIDES[@]}"; do
    errs="$(awk -F'\t' -v s="$side" -v f="$filter" '$1 == s && $2 == f && $4 == "error"' "$TSV" | wc -l)"
    [[ "$errs" -eq 0 ]] || printf '  %-5s %-28s %d error(s), see errors.txt\n' "$side" "$filter" "$errs" >&2
  done
done
rm -f "$OUTDIR/time.tmp" "$OUTDIR/stderr.tmp"

# --- summary ----------------------------------------------------------------
export SIZE TIMEOUT LOAD_BEFORE START CONF OUTDIR KINDS
export ELAPSED="$(awk -v a="$START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')"
export MACHINE_NPROC="$(nproc)"
export MACHINE_CPU="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
export MACHINE_NODE="$(node --version 2>/dev/null || echo '?')"
export MACHINE_PY="$("$PY" --version 2>&1)"
export MACHINE_F2B="$("$F2B_REGEX" --version 2>/dev/null | head -1)"
export MACHINE_DATE="$(date -u '+%Y-%m-%d %H:%M:%S UTC')"

"$PY" - "$TSV" <<'PYEOF'
import csv, os, statistics, sys
E = os.environ
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
for r in rows:
	r["wall"] = float(r["wall_s"])
NAMES = {"real": "fail2ban 1.0.2", "ours": "portcullis"}
sides = [s for s in ("real", "ours") if any(r["side"] == s for r in rows)]
kinds = [k for k in E["KINDS"].split()]

def per_filter(side):
	"""filter -> dict(worst wall, worst kind, status, baseline wall)"""
	out = {}
	for r in rows:
		if r["side"] != side:
			continue
		d = out.setdefault(r["filter"], dict(wall=0.0, kind="-", status="ok", base=None, statuses=set()))
		if r["kind"] == "baseline":
			d["base"] = r["wall"]
			d["statuses"].add(r["status"])
			continue
		d["statuses"].add(r["status"])
		if r["wall"] > d["wall"]:
			d["wall"], d["kind"] = r["wall"], r["kind"]
	for d in out.values():
		d["status"] = "timeout" if "timeout" in d["statuses"] else "error" if "error" in d["statuses"] else "ok"
	return out

def fmt_status(d):
	if d["status"] == "timeout":
		return "timeout"
	return d["status"]

print("ReDoS probe: %s-byte single lines (%s), timeout %s s, filters from %s/filter.d"
	% (format(int(E["SIZE"]), ","), ", ".join(kinds), E["TIMEOUT"], E["CONF"]))
print()
for side in sides:
	pf = per_filter(side)
	mine = [r for r in rows if r["side"] == side]
	n_to = sum(r["status"] == "timeout" for r in mine)
	n_err = sum(r["status"] == "error" for r in mine)
	total = sum(r["wall"] for r in mine)
	bases = [d["base"] for d in pf.values() if d["base"] is not None]
	print("## %s: %d filters, %d runs (%d ok, %d error, %d timeout), total wall %.1f s"
		% (NAMES[side], len(pf), len(mine), len(mine) - n_to - n_err, n_err, n_to, total))
	if bases:
		print("baseline (one short ordinary line: start-up + filter load): median %.2f s, max %.2f s"
			% (statistics.median(bases), max(bases)))
	if n_err == len(mine):
		print("every run failed (error); first message: %s" % (open(os.path.join(E["OUTDIR"], "errors.txt")).readline().strip() or "-"))
		print()
		continue
	order = sorted(pf.items(), key=lambda kv: (kv[1]["status"] != "timeout", -kv[1]["wall"]))
	print()
	print("Top 15 slowest filters (worst wall across the pathological lines):")
	print()
	print("| # | filter | worst wall | on line | baseline | worst - baseline | status |")
	print("|---:|---|---:|---|---:|---:|---|")
	for i, (f, d) in enumerate(order[:15], 1):
		print("| %d | %s | %s | %s | %s | %s | %s |" % (i, f,
			">= %s s (timeout)" % E["TIMEOUT"] if d["status"] == "timeout" else "%.2f s" % d["wall"],
			d["kind"], "%.2f s" % d["base"] if d["base"] is not None else "-",
			"%+.2f s" % (d["wall"] - d["base"]) if d["base"] is not None and d["status"] != "timeout" else "-",
			fmt_status(d)))
	patho = [r for r in mine if r["kind"] != "baseline"]
	if patho:
		w = max(patho, key=lambda r: (r["status"] == "timeout", r["wall"]))
		print()
		print("Worst run overall: %s on '%s' line: %.2f s (%s)" % (w["filter"], w["kind"], w["wall"], w["status"]))
	print()
	print("Worst per line kind: " + "; ".join(
		"%s %.2f s (%s)" % (k, m["wall"], m["filter"]) for k in kinds
		for m in [max((r for r in patho if r["kind"] == k), key=lambda r: r["wall"], default=None)] if m))
	errs = sorted({r["filter"] for r in mine if r["status"] == "error"})
	if errs:
		print("Filters with errors: %s" % " ".join(errs))
	print()

if len(sides) == 2:
	real, ours = per_filter("real"), per_filter("ours")
	slower = []
	for f in sorted(set(real) & set(ours)):
		a, b = real[f], ours[f]
		if b["status"] == "timeout" and a["status"] != "timeout":
			slower.append((f, a, b, float("inf")))
		elif b["status"] == "ok" and a["status"] == "ok" and b["wall"] > 1.0 and b["wall"] > 2 * a["wall"]:
			slower.append((f, a, b, b["wall"] / a["wall"]))
	print("## portcullis notably slower than fail2ban (worst wall > 2x and > 1 s, or timeout only on portcullis): %d" % len(slower))
	for f, a, b, x in sorted(slower, key=lambda t: -t[3]):
		print("  %-28s fail2ban %.2f s (%s)  portcullis %s (%s)" % (f, a["wall"], a["kind"],
			"timeout" if b["status"] == "timeout" else "%.2f s" % b["wall"], b["kind"]))
	print()

print("Results: %s/runs.tsv (errors: %s/errors.txt); elapsed %s s." % (E["OUTDIR"], E["OUTDIR"], E["ELAPSED"]))
print("Machine: %s cores (nproc), %s; node %s; %s; %s; %s; load average %s before, %s after."
	% (E["MACHINE_NPROC"], E["MACHINE_CPU"], E["MACHINE_NODE"], E["MACHINE_PY"], E["MACHINE_F2B"],
	   E["MACHINE_DATE"], E["LOAD_BEFORE"], " ".join(open("/proc/loadavg").read().split()[:3])))
PYEOF
