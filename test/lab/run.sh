#!/usr/bin/env bash
# Runs a command inside lbctl's kernel lab: a Debian kernel with IPVS under qemu (TCG), whose
# root is this machine's / (read-only, tmpfs overlay), so node, ipvsadm and the checkout are there.
#
#   bash test/lab/run.sh [--out DIR] [--mem MB] [--cpus N] [--timeout SECONDS] -- CMD [ARGS...]
#
# CMD runs as root with cwd = the checkout (same absolute path as here) and PATH including this
# machine's node. Its stdout and stderr stream to this script's stdout; kernel messages are off.
# DIR (default: a fresh test-results/lab-* in the checkout) is writable in the guest at the same
# absolute path; everything else the guest writes is discarded at power-off.
# LBCTL_*, DEBUG and CI pass through into the guest, which also sets LBCTL_IN_LAB=1.
# LBCTL_LAB_DIR: the cache (test/lab/ensure.sh); LBCTL_LAB_MEM, LBCTL_LAB_CPUS, LBCTL_LAB_TIMEOUT:
# defaults of --mem, --cpus, --timeout; LBCTL_LAB_DEBUG=1: show kernel messages;
# LBCTL_LAB_ACCEL=kvm: use KVM instead of TCG where it works.
#
# Exit status: CMD's, or 124 if the lab timed out (LBCTL_LAB_TIMEOUT, default 1800 s), or 125 if
# the guest died before CMD reported one. A summary line with boot and run times goes to stderr.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd -P)"
LAB="${LBCTL_LAB_DIR:-/var/cache/lbctl-lab}"
say() { if [ -t 2 ]; then printf '\033[1m[lbctl lab]\033[0m %s\n' "$*" >&2; else printf '[lbctl lab] %s\n' "$*" >&2; fi; }
usage() { say "usage: bash test/lab/run.sh [--out DIR] [--mem MB] [--cpus N] [--timeout SECONDS] -- CMD [ARGS...]"; exit 2; }

out= mem=${LBCTL_LAB_MEM:-2048} cpus=${LBCTL_LAB_CPUS:-2} limit=${LBCTL_LAB_TIMEOUT:-1800}
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    --mem) [ $# -ge 2 ] || usage; mem=$2; shift 2 ;;
    --cpus) [ $# -ge 2 ] || usage; cpus=$2; shift 2 ;;
    --timeout) [ $# -ge 2 ] || usage; limit=$2; shift 2 ;;
    --) shift; break ;;
    *) say "unknown option '$1'"; usage ;;
  esac
done
[ $# -gt 0 ] || { say "no command given after --"; usage; }
for n in "$mem" "$cpus" "$limit"; do [[ "$n" =~ ^[1-9][0-9]*$ ]] || { say "'$n' is not a positive number"; usage; }; done

bash "$HERE/ensure.sh"
# shellcheck source=/dev/null
source "$LAB/current.env"

default_out=0
if [ -z "$out" ]; then out="$REPO/test-results/lab-$(date +%Y%m%d-%H%M%S)-$$"; default_out=1; fi
mkdir -p "$out"
out="$(cd "$out" && pwd -P)"

# The job travels through the out share as NUL-separated files: no quoting, no shell parsing.
job=".lbctl-lab-job-$$-$RANDOM"
jobdir="$out/$job"
mkdir "$jobdir"
qpid=
cleanup() {
  if [ -n "$qpid" ]; then kill -TERM "$qpid" 2>/dev/null || true; wait "$qpid" 2>/dev/null || true; fi
  rm -rf "$jobdir"
  # A default out dir the command wrote nothing to is clutter.
  if [ $default_out = 1 ]; then rmdir "$out" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'say "interrupted: stopping the lab"; exit 130' INT TERM

printf '%s\0' "$@" >"$jobdir/argv"
: >"$jobdir/env"
while IFS= read -r name; do
  case "$name" in LBCTL_*|DEBUG|CI) printf '%s=%s\0' "$name" "${!name}" >>"$jobdir/env" ;; esac
done < <(compgen -e)
nodebin=$(command -v node || true)
[ -n "$nodebin" ] || { say "node is not on PATH"; exit 125; }
nodedir=$(dirname "$(readlink -f "$nodebin")")
tty=0; [ -t 1 ] && tty=1
printf '%s\0' "$REPO" "$out" "$LAB_MODULES" "$nodedir" "$tty" "${TERM:-dumb}" >"$jobdir/paths"
cp "$HERE/guest.sh" "$jobdir/guest.sh"

# A shared lock on the kernel dir keeps ensure.sh from pruning it while this lab runs.
exec 9>"$(dirname "$LAB_KERNEL")/.inuse"
flock -s 9

# qemu's option parser splits on commas; a literal comma is written twice.
qesc() { printf '%s' "${1//,/,,}"; }
# qboot is a minimal firmware: it reaches the kernel about a second sooner than SeaBIOS.
firmware=()
[ -f /usr/share/qemu/qboot.rom ] && firmware=(-bios qboot.rom)
# The guest is a throwaway test box: no speculation mitigations, no keyboard controller probing.
# LBCTL_LAB_DEBUG=1 shows the kernel's messages (a guest that dies says why).
verbosity="quiet loglevel=0"
[ "${LBCTL_LAB_DEBUG:-}" = 1 ] && verbosity="loglevel=7"
append="console=ttyS0 $verbosity panic=-1 8250.nr_uarts=1 mitigations=off no_timer_check"
append+=" i8042.noaux i8042.nokbd i8042.nopnp lbctl.job=$job"
start=$(date +%s.%N)
# TCG by default: on these machines a KVM guest hangs at boot and -cpu host fails on an MSR.
# Where KVM works, LBCTL_LAB_ACCEL=kvm is several times faster.
accel=(-accel tcg,thread=multi -cpu max)
[ "${LBCTL_LAB_ACCEL:-tcg}" = kvm ] && accel=(-accel kvm -cpu host)
timeout -k 10 "$limit" qemu-system-x86_64 \
  "${accel[@]}" -smp "$cpus" -m "$mem" "${firmware[@]}" \
  -nodefaults -no-user-config -display none -no-reboot \
  -serial stdio -monitor none \
  -kernel "$LAB_KERNEL" -initrd "$LAB_INITRD" -append "$append" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -virtfs "local,path=$(qesc "$out"),mount_tag=out,security_model=none,multidevs=remap" \
  </dev/null &
qpid=$!
set +e
wait "$qpid"
qrc=$?
set -e
qpid=
end=$(date +%s.%N)

total=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
if [ -f "$jobdir/rc" ]; then
  rc=$(cat "$jobdir/rc")
  boot=$(cat "$jobdir/booted" 2>/dev/null || echo 0)
  say "kernel $LAB_KVER: booted in $boot s, total $total s, exit $rc"
  exit "$rc"
fi
if [ "$qrc" = 124 ]; then
  say "error: the lab timed out after $limit s (set LBCTL_LAB_TIMEOUT or --timeout to allow longer)"
  exit 124
fi
reason="qemu exited with status $qrc"
[ -f "$jobdir/error" ] && reason="$(cat "$jobdir/error")"
say "error: the lab guest died before the command reported an exit code: $reason (LBCTL_LAB_DEBUG=1 shows kernel messages)"
exit 125
