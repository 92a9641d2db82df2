#!/usr/bin/env bash
# CPU profiles of the per-rule work of whole `lbctl restore` processes, inside the kernel lab:
#   bash test/lab/run.sh --out DIR -- bash bench/profile-rules.sh DIR [CHECKOUT] [SERVERS]
# writes DIR/restore.cpuprofile (into an empty table) and DIR/noop.cpuprofile (the same file
# again: read + plan, no writes). Summarise with node bench/cpuprofile-summary.mjs FILE.
set -u
out=$1 dir=${2:-$(cd "$(dirname "$0")/.." && pwd)} n=${3:-2000}
svcs=$(( n / 10 ))
node -e 'const n=+process.argv[2],L=[];for(let s=0;s<n;s++){const v=`10.200.${(s>>8)&255}.${s&255}:80`;L.push(`-A -t ${v} -s wrr`);for(let d=0;d<10;d++)L.push(`-a -t ${v} -r 10.99.${s&255}.${d+1}:8080 -m -w ${1+(d%4)}`);}require("fs").writeFileSync(process.argv[1],L.join("\n")+"\n")' "$out/r$n.txt" "$svcs"
ipvsadm -C
node --cpu-prof --cpu-prof-dir="$out" --cpu-prof-name=restore.cpuprofile "$dir/bin/run.js" restore "$out/r$n.txt" >/dev/null || echo "restore rc $?"
node --cpu-prof --cpu-prof-dir="$out" --cpu-prof-name=noop.cpuprofile "$dir/bin/run.js" restore "$out/r$n.txt" >/dev/null || echo "noop rc $?"
echo "table: $(ipvsadm -Sn | wc -l) lines"
ipvsadm -C
