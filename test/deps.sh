#!/usr/bin/env bash
# Installs what lbctl's tests, demo and benchmarks need on a fresh Debian machine, and says so.
# Idempotent: does nothing (quietly) when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[lbctl setup]\033[0m %s\n' "$*" >&2; }

if [ ! -d node_modules/@oclif/core ] || [ package.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci)..."
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

# Debian packages: binary -> package
declare -A NEED=(
  [qemu-system-x86_64]=qemu-system-x86 [busybox]=busybox-static [depmod]=kmod [cpio]=cpio
  [ipvsadm]=ipvsadm [haproxy]=haproxy [keepalived]=keepalived [socat]=socat [ip]=iproute2
  [curl]=curl [arping]=arping [ping]=iputils-ping [killall]=psmisc [pgrep]=procps [tmux]=tmux
  [iptables]=iptables [nginx]=nginx [corosync]=corosync [pacemakerd]=pacemaker [crm]=crmsh
  [crm_mon]=pacemaker-cli-utils [fence_ipmilan]=fence-agents [vtysh]=frr [ansible-playbook]=ansible-core
  [unshare]=util-linux [nsenter]=util-linux
  [strace]=strace
)
missing=()
for bin in "${!NEED[@]}"; do
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ] && [ ! -x "/sbin/$bin" ]; then missing+=("${NEED[$bin]}"); fi
done
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
dpkg -s resource-agents >/dev/null 2>&1 || missing+=(resource-agents)
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  say "installing Debian packages: ${missing[*]} (apt-get)..."
  if [ "$(id -u)" != 0 ]; then say "need root to install packages: rerun as root"; exit 6; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
# The Debian haproxy/keepalived packages may start services on install; tests run their own.
# The same for nginx, corosync/pacemaker and FRR: tests boot their own per namespace.
for svc in haproxy keepalived nginx pacemaker corosync frr; do
  if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi
done
# Without systemd (containers), Debian's postinst starts nginx itself: stop that one only.
if [ -s /run/nginx.pid ] && [ "$(cat /proc/"$(cat /run/nginx.pid)"/comm 2>/dev/null)" = nginx ]; then
  nginx -s quit >/dev/null 2>&1 || true
fi
