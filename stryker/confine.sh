#!/usr/bin/env bash
# Runs a mutant's test command where it cannot write outside /tmp: a private mount namespace
# with / read-only and a fresh tmpfs on /tmp. For the modules whose code has a real default
# path: a mutant of `opts.root ?? '/'` in src/cluster/install.ts installed the test's files into
# the machine's own /etc (it happened once: 2026-11-30, /etc/haproxy/haproxy.cfg, put back).
# Under it such a mutant meets EROFS and fails its tests. Not root: /etc is not writable anyway.
# /run gets a fresh tmpfs too (it lies on / here): the real CLI of host tests takes its locks in
# /run/lbctl/locks and the daemon checks make scratch namespaces under /run/netns; in this mount
# namespace neither is seen outside, nor are the machine's own /run files touched.
#   bash stryker/confine.sh COMMAND [ARGS...]
set -euo pipefail
if [ "$(id -u)" != 0 ]; then exec "$@"; fi
exec unshare --mount --propagation private -- sh -c 'mount -t tmpfs -o mode=1777 lbctl-mutation-tmp /tmp && mount -t tmpfs -o mode=755 lbctl-mutation-run /run && mount -o remount,bind,ro / && exec "$@"' confine "$@"
