#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite: typecheck, lint and every test
# (`npm run check`). Debian packages: fail2ban (the side-by-side oracle) with python3-systemd (its
# journal reader) and python3-pyinotify (its inotify backend, as on a real Debian host), rsyslog
# (the SYSLOG log target is checked against a real rsyslogd), systemd-journal-remote (writes real
# journal files for the journal backend's tests), nftables, iptables, ipset and iproute2 (the
# firewall backends run in private network namespaces), logrotate (flushlogs after a real
# rotation), openssh-server and sshpass (the end-to-end scenarios ban a real sshd's attacker),
# nginx (basic auth), firewalld and ufw (their actions against the real tools), postfix, dovecot
# and swaks (the mail scenarios), curl and openssl (HTTP requests, certificates and password
# hashes of the scenarios; optional packages on Debian), and a C++ tool chain for better-sqlite3, which is compiled from
# source on Node 20. The packages with services are installed with service starts forbidden
# (policy-rc.d), so that nothing is left listening on the host: each test starts its own, inside
# a private network namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGES=(fail2ban python3-systemd python3-pyinotify rsyslog systemd-journal-remote nftables iptables ipset iproute2 logrotate sshpass swaks curl openssl g++ make python3)
QUIET_PACKAGES=(openssh-server nginx firewalld ufw postfix dovecot-core dovecot-imapd dovecot-pop3d)
missing_of() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}
export DEBIAN_FRONTEND=noninteractive
mapfile -t missing < <(missing_of "${PACKAGES[@]}")
mapfile -t quiet < <(missing_of "${QUIET_PACKAGES[@]}")
if [ "${#missing[@]}" -gt 0 ] || [ "${#quiet[@]}" -gt 0 ]; then apt-get update -qq; fi
if [ "${#missing[@]}" -gt 0 ]; then apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; fi
if [ "${#quiet[@]}" -gt 0 ]; then
  policy=/usr/sbin/policy-rc.d
  if [ -e "$policy" ]; then
    apt-get install -y -qq --no-install-recommends "${quiet[@]}" >/dev/null
  else
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
    apt-get install -y -qq --no-install-recommends "${quiet[@]}" >/dev/null
    rm -f "$policy"
    trap - EXIT
  fi
fi
npm ci --no-audit --no-fund
npm run check
