#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite: typecheck, lint and every test
# (`npm run check`). Debian packages: fail2ban (the side-by-side oracle) with python3-systemd (its
# journal reader), rsyslog (the SYSLOG log target is checked against a real rsyslogd),
# systemd-journal-remote (writes real journal files for the journal backend's tests), nftables and
# iproute2 (the firewall test runs nft in a private network namespace), and a C++ tool chain for
# better-sqlite3, which is compiled from source on Node 20.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGES=(fail2ban python3-systemd rsyslog systemd-journal-remote nftables iproute2 g++ make python3)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
npm ci --no-audit --no-fund
npm run check
