# Shared by the fail2ban-regex benchmarks (sourced, not run): the tools compared and the checks
# both need. Sets F2B_REGEX, PY, GNU_TIME, BENCH_DIR, ROOT and OURS (PC_REGEX overrides it).
F2B_REGEX=/usr/bin/fail2ban-regex
PY=/usr/bin/python3
GNU_TIME=/usr/bin/time

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
OURS="${PC_REGEX:-$ROOT/bin/fail2ban-regex}"

# Exits 2 unless the real fail2ban-regex and GNU time are there.
require_regex_tools() {
  [[ -x "$F2B_REGEX" ]] || { echo "fail2ban-regex not found at $F2B_REGEX" >&2; exit 2; }
  "$GNU_TIME" -f %M true >/dev/null 2>&1 || { echo "GNU time is needed at $GNU_TIME" >&2; exit 2; }
}
