#!/bin/sh
# /init of the kernel lab's initramfs (busybox-static; built by test/lab/ensure.sh).
# Loads the early modules, mounts the host's / read-only over 9p with a tmpfs overlay on top,
# mounts the writable "out" share and switch_roots into the host's tree. switch_root matters:
# afterwards the kernel's module autoloader finds modprobe, so `ipvsadm` and
# `ip link add type veth` load their modules.
# Stage 2 is test/lab/guest.sh, copied by run.sh into the job directory of the out share.
/bin/busybox --install -s /bin
export PATH=/bin

fail() {
  echo "[lbctl lab] init: $*" >/dev/console
  poweroff -f
  echo o >/proc/sysrq-trigger
  sleep 10
}

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

while read -r m; do
  insmod "/modules/$m" 2>/dev/null || fail "insmod $m failed"
done </modules/order

job=
for arg in $(cat /proc/cmdline); do
  case "$arg" in lbctl.job=*) job=${arg#lbctl.job=} ;; esac
done
[ -n "$job" ] || fail "no lbctl.job= on the kernel command line"

# msize: bigger 9p messages. cache=loose trusts the guest's page cache: much faster under TCG;
# the price is that a host file changed during a run may look stale in the guest.
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro hostroot /host ||
  fail "cannot mount the host root (9p tag hostroot)"
mount -t tmpfs -o mode=755 rw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
  fail "cannot mount the overlay root"
mkdir -p /newroot/.lbctl-lab/out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out /newroot/.lbctl-lab/out ||
  fail "cannot mount the out share (9p tag out)"
[ -f "/newroot/.lbctl-lab/out/$job/guest.sh" ] || fail "job $job not found in the out share"

mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/bash "/.lbctl-lab/out/$job/guest.sh" "/.lbctl-lab/out/$job"
