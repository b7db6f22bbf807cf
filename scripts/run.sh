#!/usr/bin/env bash
# The main job: installs portcullis on this machine and starts it protecting it.
#   - installs what it needs (as root: a C++ tool chain for better-sqlite3, nftables when the
#     machine has neither nft nor iptables), builds it, links `portcullis`, `portcullis-client`
#     … into /usr/local/bin;
#   - checks the configuration it will use: this machine's /etc/fail2ban, or portcullis' built-in
#     one (config/) when there is none;
#   - starts the daemon (unless Debian's fail2ban is already running: they would fight over the
#     firewall and the socket) and prints what it protects and how to watch it.
# Run it again at any time: it rebuilds and leaves a running server as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

if [ "$(id -u)" -ne 0 ]; then
  echo "portcullis: run this as root (it installs packages and manages the firewall)" >&2
  exit 77
fi

need=()
for tool in g++ make python3; do command -v "$tool" >/dev/null || need+=("$tool"); done
if ! command -v nft >/dev/null && ! command -v iptables >/dev/null; then need+=(nftables); fi
if [ "${#need[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

npm ci --no-audit --no-fund --loglevel=error
npm run build --silent

for cmd in portcullis fail2ban-client fail2ban-server fail2ban-regex; do
  # portcullis under its own name; the work-alikes as portcullis-client/-server/-regex, so that
  # Debian's own fail2ban-* (if installed) are not shadowed until the admin chooses to
  link="/usr/local/bin/${cmd/fail2ban/portcullis}"
  ln -sfn "$root/bin/$cmd" "$link"
done

conf=/etc/fail2ban
[ -d "$conf" ] || conf="$root/config"
echo "== configuration: $conf"
bin/portcullis config check -c "$conf" || echo "(the jails with errors above are skipped; the others start)"

pidfile=/var/run/fail2ban/fail2ban.pid
if [ -f "$pidfile" ] && grep -qa 'fail2ban-server' "/proc/$(cat "$pidfile")/cmdline" 2>/dev/null \
  && ! grep -qa 'portcullis\|cli.mjs\|bin/fail2ban-server' "/proc/$(cat "$pidfile")/cmdline" 2>/dev/null; then
  echo "portcullis: Debian's fail2ban is running (pid $(cat "$pidfile")); stop it first (systemctl stop fail2ban), then run this again" >&2
  exit 75
fi
if pgrep -f 'python3? .*/fail2ban-server' >/dev/null; then
  echo "portcullis: Debian's fail2ban-server is running; stop it first (systemctl stop fail2ban), then run this again" >&2
  exit 75
fi

echo "== starting"
bin/portcullis start -c "$conf"
echo "Stop it: portcullis stop · see it ban an attacker on a throw-away sshd: portcullis demo"
