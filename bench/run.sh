#!/usr/bin/env bash
# Runs lbctl's benchmarks and prints their ratios. The IPVS ones run inside the kernel lab.
#   bash bench/run.sh [startup|ipvs-bulk|haproxy-runtime|failover|failover-nginx|failover-pacemaker|shell|ecmp|all]   (default all)
#   LBCTL_BENCH_QUICK=1 for small sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/deps.sh
npm run -s build && npm run -s build:test
what="${1:-all}"
has() { [ "$what" = all ] || [ "$what" = "$1" ]; }
if has startup; then echo "== on the host"; node build/bench/startup.js; echo "== in the kernel lab"; bash test/lab/run.sh -- node build/bench/startup.js; fi
if has ipvs-bulk && [ -f build/bench/ipvs-bulk.js ]; then bash test/lab/run.sh -- node build/bench/ipvs-bulk.js; fi
if has haproxy-runtime && [ -f build/bench/haproxy-runtime.js ]; then node build/bench/haproxy-runtime.js; fi
if has failover && [ -f build/bench/failover.js ]; then node build/bench/failover.js; fi
if has failover-nginx && [ -f build/bench/failover-nginx.js ]; then node build/bench/failover-nginx.js; fi
if has failover-pacemaker && [ -f build/bench/failover-pacemaker.js ]; then node build/bench/failover-pacemaker.js --tokens 1000,500; fi
if has shell && [ -f build/bench/shell.js ]; then node build/bench/shell.js; fi
if has ecmp && [ -f build/bench/ecmp.js ]; then bash test/lab/run.sh -- node build/bench/ecmp.js; fi
