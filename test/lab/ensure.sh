#!/usr/bin/env bash
# Prepares lbctl's kernel lab (idempotent, quiet when already done):
#   - Debian's current linux-image-*-amd64 (apt-get download + dpkg -x, no install scripts), depmod;
#   - a busybox-static initramfs whose /init is test/lab/init.sh plus the few modules it needs
#     before the host's root is reachable (9p over virtio, overlay).
# Everything lives in a cache dir that survives fresh clones on the same machine:
#   LBCTL_LAB_DIR (default /var/cache/lbctl-lab)/<kernel version>_<package version>/
# and LBCTL_LAB_DIR/current.env says which one is current (read by test/lab/run.sh).
# A newer Debian kernel (after apt-get update) gets its own directory; older ones are pruned
# when no lab is running from them.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
LAB="${LBCTL_LAB_DIR:-/var/cache/lbctl-lab}"
say() { if [ -t 2 ]; then printf '\033[1m[lbctl lab]\033[0m %s\n' "$*" >&2; else printf '[lbctl lab] %s\n' "$*" >&2; fi; }
die() { say "error: $*"; exit 1; }

# Tools come from test/deps.sh (which also installs the rest of the test suite's needs).
need_deps=0
for bin in qemu-system-x86_64 busybox depmod modprobe cpio apt-get dpkg flock; do
  command -v "$bin" >/dev/null 2>&1 || [ -x "/usr/sbin/$bin" ] || [ -x "/sbin/$bin" ] || need_deps=1
done
dpkg -s busybox-static >/dev/null 2>&1 || need_deps=1
if [ $need_deps = 1 ]; then bash "$HERE/../deps.sh"; fi
export PATH="$PATH:/usr/sbin:/sbin"

mkdir -p "$LAB" 2>/dev/null && [ -w "$LAB" ] || die "cannot write the lab cache $LAB: run as root or set LBCTL_LAB_DIR"
exec 8>"$LAB/.build.lock"
flock 8 # concurrent test runs share one cache: the first builds, the others wait

# Which kernel: the one Debian's linux-image-amd64 meta package points at right now.
resolve() {
  local meta
  meta=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  [ -n "$meta" ] || return 1
  PKG=$meta
  PKGVER=$(apt-cache policy "$PKG" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')
  [ -n "$PKGVER" ] && [ "$PKGVER" != "(none)" ] || return 1
  KVER=${PKG#linux-image-}
}
# apt-cache takes ~1 s; its answer only changes when the package lists do (apt-get update).
lists_key=$(stat -c %Y /var/lib/apt/lists 2>/dev/null || echo none)
if [ -f "$LAB/resolved" ] && [ "$(sed -n 1p "$LAB/resolved")" = "$lists_key" ]; then
  { read -r _; read -r PKG; read -r PKGVER; } <"$LAB/resolved"
  KVER=${PKG#linux-image-}
elif resolve; then
  printf '%s\n' "$lists_key" "$PKG" "$PKGVER" >"$LAB/resolved"
else
  if [ -f "$LAB/current.env" ]; then
    exit 0 # no package lists (offline?): keep using the lab we have
  fi
  say "updating package lists to find linux-image-amd64 (apt-get update)..."
  apt-get update -qq >&2 || true
  resolve || die "cannot resolve Debian's linux-image-amd64 (apt-cache depends linux-image-amd64): check /etc/apt/sources.list"
fi

ID="${KVER}_${PKGVER}"
DIR="$LAB/$ID"
ROOT="$DIR/root"
# The initramfs is rebuilt when the init script or busybox changes, not only the kernel.
INIT_HASH=$(cat "$HERE/init.sh" "$(command -v busybox)" | sha256sum | cut -c1-16)

if [ ! -f "$DIR/kernel.done" ]; then
  rm -rf "$DIR"
  mkdir -p "$DIR/dl"
  say "downloading kernel $PKG $PKGVER (apt-get download)..."
  fetch() { (cd "$DIR/dl" && apt-get download -qq "$PKG=$PKGVER" >/dev/null 2>&1); }
  if ! fetch; then
    # The mirror drops superseded versions: refresh the lists once and retry.
    say "download failed; refreshing package lists (apt-get update) and retrying..."
    apt-get update -qq >&2 || true
    resolve || die "cannot resolve linux-image-amd64 after apt-get update"
    [ "${KVER}_${PKGVER}" = "$ID" ] || { rm -rf "$DIR"; exec bash "$0"; }
    fetch || die "apt-get download $PKG=$PKGVER failed: check the network and /etc/apt/sources.list"
  fi
  say "unpacking $PKG (dpkg -x, no install scripts)..."
  dpkg -x "$DIR"/dl/*.deb "$DIR/unpack"
  mkdir -p "$ROOT/lib/modules"
  mv "$DIR/unpack/boot/vmlinuz-$KVER" "$DIR/vmlinuz"
  mv "$DIR/unpack/boot/config-$KVER" "$DIR/config"
  mv "$DIR/unpack/lib/modules/$KVER" "$ROOT/lib/modules/$KVER"
  rm -rf "$DIR/unpack" "$DIR/dl"
  say "running depmod for $KVER..."
  depmod -b "$ROOT" "$KVER"
  for m in ip_vs ip_vs_rr ipip veth bridge 9p 9pnet_virtio overlay; do
    modprobe -d "$ROOT" -S "$KVER" --show-depends "$m" >/dev/null 2>&1 || die "kernel $KVER has no module $m"
  done
  echo "$PKG $PKGVER" >"$DIR/kernel.done"
fi

# Under TCG, decompressing the bzImage takes seconds at every boot. Unpack the ELF vmlinux
# inside it once: qemu boots that directly through its PVH entry point (CONFIG_PVH).
if [ ! -f "$DIR/vmlinux.done" ]; then
  if grep -qx 'CONFIG_PVH=y' "$DIR/config" && command -v xz >/dev/null 2>&1; then
    off=$(LC_ALL=C grep -obUa -m1 $'\xfd7zXZ' "$DIR/vmlinuz" | LC_ALL=C sed -n '1s/:.*//p')
    # tail dies of SIGPIPE once xz has read the one stream it needs.
    if [[ "$off" =~ ^[0-9]+$ ]] && { tail -c +$((off + 1)) "$DIR/vmlinuz" || :; } | xz -dc --single-stream >"$DIR/vmlinux.tmp" 2>/dev/null &&
      [ "$(head -c4 "$DIR/vmlinux.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
      mv "$DIR/vmlinux.tmp" "$DIR/vmlinux"
    else
      rm -f "$DIR/vmlinux.tmp"
    fi
  fi
  : >"$DIR/vmlinux.done"
fi

if [ "$(cat "$DIR/initrd.done" 2>/dev/null)" != "$INIT_HASH" ]; then
  say "building the initramfs (busybox-static + test/lab/init.sh)..."
  work="$DIR/initrd.tmp"
  rm -rf "$work"
  mkdir -p "$work"/{bin,dev,proc,sys,host,rw,newroot,modules}
  cp "$(command -v busybox)" "$work/bin/busybox"
  ln -s busybox "$work/bin/sh"
  cp "$HERE/init.sh" "$work/init"
  chmod 755 "$work/init"
  # Early modules in dependency order (modprobe resolves it; duplicates dropped, builtins skipped).
  n=0
  while read -r verb path _; do
    [ "$verb" = insmod ] || continue
    name=$(basename "$path")
    grep -qx "$name" "$work/modules/order" 2>/dev/null && continue
    case "$path" in
      *.xz) xz -dc "$path" >"$work/modules/${name%.xz}"; name=${name%.xz} ;;
      *.zst) zstd -qdc "$path" >"$work/modules/${name%.zst}"; name=${name%.zst} ;;
      *) cp "$path" "$work/modules/$name" ;;
    esac
    echo "$name" >>"$work/modules/order"
    n=$((n + 1))
  done < <(modprobe -d "$ROOT" -S "$KVER" --show-depends -a virtio_pci 9pnet_virtio 9p overlay virtio_console)
  [ "$n" -gt 0 ] || die "no early modules found for $KVER"
  (cd "$work" && find . -print0 | cpio --null -o -H newc --quiet) >"$DIR/initrd.cpio.tmp"
  mv "$DIR/initrd.cpio.tmp" "$DIR/initrd.cpio"
  rm -rf "$work"
  echo "$INIT_HASH" >"$DIR/initrd.done"
fi

kernel="$DIR/vmlinuz"
[ -f "$DIR/vmlinux" ] && kernel="$DIR/vmlinux"
env_new=$(printf 'LAB_ID=%q\nLAB_KVER=%q\nLAB_DIR=%q\nLAB_KERNEL=%q\nLAB_INITRD=%q\nLAB_MODULES=%q\n' \
  "$ID" "$KVER" "$DIR" "$kernel" "$DIR/initrd.cpio" "$ROOT/lib/modules/$KVER")
if [ "$(cat "$LAB/current.env" 2>/dev/null)" != "$env_new" ]; then
  printf '%s\n' "$env_new" >"$LAB/current.env.tmp"
  mv "$LAB/current.env.tmp" "$LAB/current.env"
  say "ready: kernel $KVER ($PKGVER) in $DIR"
fi

# Prune other kernels, unless a lab is running from one (run.sh holds a shared lock on it).
for old in "$LAB"/*/; do
  old=${old%/}
  [ "$old" = "$DIR" ] && continue
  [ -f "$old/kernel.done" ] || [ -d "$old/root" ] || continue
  if flock -n -x "$old/.inuse" true 2>/dev/null; then
    say "removing old kernel lab $(basename "$old")"
    rm -rf "$old"
  fi
done
exit 0
