#!/usr/bin/env bash
# Runs lbctl's benchmarks and prints their ratios. The IPVS ones run inside the kernel lab.
#   bash bench/run.sh [startup|ipvs-bulk|haproxy-runtime|failover|shell|all]   (default all)
#   LBCTL_BENCH_QUICK=1 for small sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/deps.sh
npm run -s build
what="${1:-all}"
has() { [ "$what" = all ] || [ "$what" = "$1" ]; }
if has startup; then bash test/lab/run.sh -- node dist/bench/startup.js; fi
if has ipvs-bulk && [ -f dist/bench/ipvs-bulk.js ]; then bash test/lab/run.sh -- node dist/bench/ipvs-bulk.js; fi
if has haproxy-runtime && [ -f dist/bench/haproxy-runtime.js ]; then node dist/bench/haproxy-runtime.js; fi
if has failover && [ -f dist/bench/failover.js ]; then node dist/bench/failover.js; fi
if has shell && [ -f dist/bench/shell.js ]; then node dist/bench/shell.js; fi
