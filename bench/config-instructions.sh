#!/usr/bin/env bash
# Instruction counts (valgrind callgrind: deterministic, unaffected by other load on the machine)
# of one cold configuration resolve, Debian's fail2ban 1.0.2 vs portcullis, stock tree with every
# jail enabled. Each side is measured twice, importing its reader with and without doing one
# resolve; the difference is the resolve's own cost. portcullis runs as its CLI does (--no-opt).
#
# Usage: bench/config-instructions.sh        (about 2 minutes; needs valgrind and npm run build)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v valgrind >/dev/null || { echo "valgrind is required (apt-get install valgrind)" >&2; exit 1; }
[[ -f "$ROOT/dist/src/config/index.js" ]] || (cd "$ROOT" && npm run build >&2)
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
cp -a /etc/fail2ban "$TMP/conf"; mkdir "$TMP/logs"
for j in $(sed -n 's/^\[\([^]]*\)\][[:space:]]*$/\1/p' "$TMP/conf/jail.conf" | grep -vxE 'INCLUDES|DEFAULT'); do
  : > "$TMP/logs/$j.log"; printf '[%s]\nenabled = true\nbackend = polling\nlogpath = %s\n\n' "$j" "$TMP/logs/$j.log"
done > "$TMP/conf/jail.d/zz-all.local"

cat > "$TMP/pc.mjs" <<JS
import { Configurator, readConfigStream, CollectingLog } from '$ROOT/dist/src/config/index.js';
import { NodeFileSystem } from '$ROOT/dist/src/system/nodeFs.js';
if (process.argv[2] === 'resolve') {
  const r = readConfigStream(new Configurator(new NodeFileSystem(), '$TMP/conf', new CollectingLog()), { overrides: new Map(), ignoreWrong: true, allowNoFiles: true });
  console.log(r.stream.length);
}
JS
cat > "$TMP/f2b.py" <<PY
import sys, logging
sys.path.insert(0, '/usr/lib/python3/dist-packages')
logging.disable(logging.CRITICAL)
from fail2ban.client.configurator import Configurator
if sys.argv[1:] == ['resolve']:
    c = Configurator(); c.setBaseDir('$TMP/conf'); c.readAll(); c.getOptions(None, {}, ignoreWrong=True)
    c.convertToProtocol(allow_no_files=True); print(len(c.getConfigStream()))
PY

count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null --smc-check=all-non-file "$@" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'; }
pc0=$(count node --no-opt "$TMP/pc.mjs" load); pc1=$(count node --no-opt "$TMP/pc.mjs" resolve)
py0=$(count /usr/bin/python3 "$TMP/f2b.py" load); py1=$(count /usr/bin/python3 "$TMP/f2b.py" resolve)
n_pc=$(node --no-opt "$TMP/pc.mjs" resolve); n_py=$(/usr/bin/python3 "$TMP/f2b.py" resolve)
[[ "$n_pc" == "$n_py" ]] || { echo "command counts differ: portcullis $n_pc, fail2ban $n_py" >&2; exit 1; }
python3 - "$py0" "$py1" "$pc0" "$pc1" "$n_py" <<'PY'
import sys
py0, py1, pc0, pc1, n = map(int, sys.argv[1:])
g = lambda x: "%.0f M" % (x / 1e6)
print("Instructions (valgrind callgrind), stock tree with all jails enabled, %d commands each:\n" % n)
print("| | fail2ban 1.0.2 | portcullis | ratio (fail2ban/portcullis) |")
print("|---|---:|---:|---:|")
print("| start-up + import of the reader | %s | %s | %.2f |" % (g(py0), g(pc0), py0 / pc0))
print("| start-up + import + one cold resolve | %s | %s | %.2f |" % (g(py1), g(pc1), py1 / pc1))
print("| the resolve alone (difference) | %s | %s | %.2f |" % (g(py1 - py0), g(pc1 - pc0), (py1 - py0) / (pc1 - pc0)))
PY
