#!/usr/bin/env bash
# Side by side inside the kernel lab: several built checkouts (and node flags) on the same
# whole-process runs, interleaved, so a busy host slows every variant alike.
#   bash test/lab/run.sh --out DIR -- bash bench/ab-lab.sh DIR ROUNDS VARIANT...
# VARIANT = CHECKOUT[@NODEFLAGS] (flags comma-separated), e.g. test-results/base test-results/new@--max-semi-space-size=16
# DIR must hold r2000.txt (ipvsadm-save syntax).
set -u
out=$1 rounds=$2; shift 2
ms() { local t0 t1 rc; t0=$(date +%s%N); "$@" >/dev/null 2>&1; rc=$?; t1=$(date +%s%N); echo "$(( (t1 - t0) / 1000000 ))$([ $rc = 0 ] || echo "(rc$rc)")"; }
for r in $(seq "$rounds"); do
  for v in "$@"; do
    dir=${v%%@*}; flags=; [ "$v" != "$dir" ] && flags=$(echo "${v#*@}" | tr , ' ')
    ipvsadm -C
    a=$(ms node $flags "$dir/bin/run.js" list)
    b=$(ms node $flags "$dir/bin/run.js" restore "$out/r2000.txt")
    c=$(ms node $flags "$dir/bin/run.js" restore "$out/r2000.txt")
    d=$(ms node $flags "$dir/bin/run.js" list)
    e=$(ms node $flags "$dir/bin/run.js" --version)
    echo "round $r $v: list(empty) $a  restore2000 $b  noop2000 $c  list(2000) $d  --version $e"
  done
  ipvsadm -C
  echo "round $r reference: node-e0 $(ms node -e 0)  ipvsadm-restore2000 $(ms sh -c "ipvsadm-restore < $out/r2000.txt")  ipvsadm-Sn(2000) $(ms ipvsadm -Sn)"
done
ipvsadm -C
