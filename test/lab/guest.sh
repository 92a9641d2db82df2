#!/bin/bash
# Stage 2 of the kernel lab, PID 1 after switch_root (the host's bash, on the overlay root).
# $1 is the job directory written by test/lab/run.sh (NUL-separated files, no shell parsing):
#   argv   the command and its arguments
#   env    KEY=VALUE entries passed through from the host (LBCTL_*, DEBUG, CI)
#   paths  checkout dir, out dir, modules dir, node's bin dir, tty flag (1/0), TERM
# Writes booted (guest uptime when the command starts), then rc (its exit code), and powers off.
set -u
jobdir=$1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# Setup uses bash builtins and the static busybox: each dynamically linked exec costs ~0.1 s
# here (its libraries come over 9p under TCG).
bb=$(type -P busybox) || bb=/bin/busybox
# reboot(2) directly: quieter than sysrq o, which prints its own banner whatever the loglevel.
poweroff_now() { sync; "$bb" poweroff -f 2>/dev/null; echo o >/proc/sysrq-trigger; sleep 60; }
fail() {
  echo "[lbctl lab] guest: $*" >/dev/console
  printf '%s\n' "$*" >"$jobdir/error"
  poweroff_now
}

mapfile -d '' argv <"$jobdir/argv" || fail "cannot read the job's argv"
mapfile -d '' passenv <"$jobdir/env" || fail "cannot read the job's env"
mapfile -d '' paths <"$jobdir/paths" || fail "cannot read the job's paths"
[ ${#argv[@]} -gt 0 ] || fail "empty command"
checkout=${paths[0]} outdir=${paths[1]} moddir=${paths[2]} nodedir=${paths[3]} tty=${paths[4]} term=${paths[5]}

# The kernel's autoloader runs `modprobe`, which looks in /lib/modules/$(uname -r). A bind mount
# (not a symlink) keeps working when the cache is under /tmp, which is replaced just below.
read -r kver </proc/sys/kernel/osrelease
"$bb" rm -f "/lib/modules/$kver" 2>/dev/null
"$bb" mkdir -p "/lib/modules/$kver" /.lbctl-lab/hosttmp
"$bb" mount -o bind "$moddir" "/lib/modules/$kver" || fail "cannot mount $moddir at /lib/modules/$kver"
"$bb" mount -o bind /tmp /.lbctl-lab/hosttmp

"$bb" mount -t tmpfs -o mode=1777 tmpfs /tmp || fail "cannot mount /tmp"
"$bb" mount -t tmpfs -o mode=755 tmpfs /run || fail "cannot mount /run"
"$bb" mkdir -p /dev/pts /dev/shm /run/netns
"$bb" mount -t devpts devpts /dev/pts
"$bb" mount -t tmpfs tmpfs /dev/shm
"$bb" ln -sfn /proc/self/fd /dev/fd
echo lab >/proc/sys/kernel/hostname
"$bb" ip link set lo up

# A checkout or node under the host's /tmp stays visible at its path in the fresh /tmp.
for p in "$checkout" "$nodedir"; do
  case "$p" in
    /tmp/*) "$bb" mkdir -p "$p" && "$bb" mount -o bind "/.lbctl-lab/hosttmp/${p#/tmp/}" "$p" || fail "cannot keep $p visible" ;;
  esac
done

# The out share becomes writable at its host path (the rest of the checkout is overlay: lost).
"$bb" mkdir -p "$outdir" && "$bb" mount -o bind /.lbctl-lab/out "$outdir" || fail "cannot bind the out dir at $outdir"

"$bb" stty -F /dev/console -onlcr 2>/dev/null # no \r\n: the host's terminal adds its own
cd "$checkout" || fail "no checkout at $checkout"
read -r up _ </proc/uptime
printf '%s\n' "$up" >"$jobdir/booted"

env=(PATH="$nodedir:$PATH" HOME=/root TERM="$term" LBCTL_IN_LAB=1 "${passenv[@]}")
if [ "$tty" = 1 ]; then
  "$bb" env -i "${env[@]}" "${argv[@]}" </dev/null
  rc=$?
else
  # The host's stdout is not a terminal: give the command a pipe too, so output matches CI's.
  "$bb" env -i "${env[@]}" "${argv[@]}" </dev/null 2>&1 | "$bb" cat
  rc=${PIPESTATUS[0]}
fi
printf '%s\n' "$rc" >"$jobdir/rc"
poweroff_now
