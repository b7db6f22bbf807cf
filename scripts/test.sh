#!/usr/bin/env bash
# Installs what the tests need (npm packages; Debian's fail2ban as the side-by-side oracle) and
# runs the whole suite: typecheck, lint and every test (`npm run check`).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! [ -x /usr/bin/fail2ban-client ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends fail2ban >/dev/null
fi
npm ci --no-audit --no-fund
npm run check
