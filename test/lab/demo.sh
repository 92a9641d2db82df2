#!/usr/bin/env bash
# npm run demo: lbctl's main job on an embedded default. This machine's kernel has no IPVS, so it
# boots the kernel lab and, inside it, builds the seed article's LVS-DR cluster with lbctl.
# First run installs what it needs (npm deps, Debian packages, the lab's kernel) and says so.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/deps.sh
printf '\033[1m[lbctl demo]\033[0m building...\n' >&2
npm run -s build
printf '\033[1m[lbctl demo]\033[0m booting the kernel lab (qemu) and running the demo inside it...\n' >&2
exec bash test/lab/run.sh -- node build/test/lab/demo.js
