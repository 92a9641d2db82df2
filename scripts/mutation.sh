#!/usr/bin/env bash
# Mutation testing (StrykerJS) of one state-changing module against its focused tests.
# Not part of npm test or CI: each module takes minutes. See docs/DEV.md "Mutation testing".
#   bash scripts/mutation.sh MODULE [stryker args...]
#   MODULE: fs, fs-host, files, host, runtime, install, netlink (stryker/modules.mjs)
#   e.g. bash scripts/mutation.sh fs --mutate 'src/util/fs.ts:296-412'
#        bash scripts/mutation.sh fs --force      (ignore the incremental file: every mutant again)
# Reports: reports/mutation/MODULE.{json,html}; the clear-text table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n '2,8p' "$0" >&2; exit 2; }
module="$1"; shift
mkdir -p reports/mutation
LBCTL_MUTATION_MODULE="$module" exec npx stryker run stryker/stryker.config.mjs "$@"
