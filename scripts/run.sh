#!/usr/bin/env bash
# Installs what portcullis needs, builds it, and runs the main job: check and dump this machine's
# fail2ban configuration (/etc/fail2ban), or portcullis' built-in one when there is none.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
npm run build
status=0
bin/portcullis config check || status=$?
bin/portcullis config dump || true
exit "$status"
