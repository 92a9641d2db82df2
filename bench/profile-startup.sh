#!/usr/bin/env bash
# Where does a whole `lbctl restore FILE` / `lbctl list` process spend its time inside the kernel lab?
# Runs in the guest: bash test/lab/run.sh --out DIR -- bash bench/profile-startup.sh DIR
# Writes strace summaries/timelines and V8 CPU profiles into DIR; prints wall times side by side.
set -euo pipefail
out=${1:?out dir}
cd "$(dirname "$0")/.."
bin=bin/run.js
gen() { node -e '
const n=+process.argv[1]; const L=[];
for (let s=0;s<n/10;s++){const v=`10.${200+(s>>16)}.${(s>>8)&255}.${s&255}:80`;L.push(`-A -t ${v} -s wrr`);
for(let d=0;d<10;d++)L.push(`-a -t ${v} -r 10.99.${s&255}.${d+1}:8080 -m -w ${1+(d%4)}`);}
process.stdout.write(L.join("\n")+"\n")' "$1"; }
gen 2000 >"$out/r2000.txt"; gen 10000 >"$out/r10000.txt"
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); }
rounds=${LBCTL_PROFILE_ROUNDS:-1}
ipvsadm -C
# V8 CPU profiles first (cheap); strace only with LBCTL_PROFILE_STRACE=1 (ptrace under TCG is very slow).
node --cpu-prof --cpu-prof-dir="$out" --cpu-prof-name=list-empty.cpuprofile "$bin" list >/dev/null
node --cpu-prof --cpu-prof-dir="$out" --cpu-prof-name=restore2000.cpuprofile "$bin" restore "$out/r2000.txt" >/dev/null
node --cpu-prof --cpu-prof-dir="$out" --cpu-prof-name=list2000.cpuprofile "$bin" list >/dev/null
node --cpu-prof --cpu-prof-dir="$out" --cpu-prof-name=noop2000.cpuprofile "$bin" restore "$out/r2000.txt" >/dev/null
for i in $(seq "$rounds"); do
  ipvsadm -C
  a=$(ms node -e 0); b=$(ms node "$bin" --version); c=$(ms node "$bin" list)
  d=$(ms node "$bin" restore "$out/r2000.txt")
  c2=$(ms node "$bin" list)
  ipvsadm -C; e=$(ms sh -c "ipvsadm-restore < $out/r2000.txt")
  f=$(ms node "$bin" restore "$out/r2000.txt")
  g=$(ms ipvsadm -Sn)
  echo "round $i: node-e0 ${a}ms  --version ${b}ms  list(empty) ${c}ms  restore2000 ${d}ms  list(2000) ${c2}ms  ipvsadm-restore2000 ${e}ms  noop2000 ${f}ms  ipvsadm-Sn(2000) ${g}ms"
done
if [ "${LBCTL_PROFILE_STRACE:-0}" = 1 ]; then
  strace -f -c -o "$out/strace-c-noop2000.txt" node "$bin" restore "$out/r2000.txt" >/dev/null
  strace -f -tt -T -o "$out/strace-list2000.txt" node "$bin" list >/dev/null
fi
ipvsadm -C
echo done
