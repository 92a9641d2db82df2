#!/usr/bin/env bash
# Mutation testing (StrykerJS) of one state-changing module against its focused tests.
# Not part of npm test or CI: each module takes minutes. See docs/DEV.md "Mutation testing".
#   bash scripts/mutation.sh MODULE [stryker args...]
#   MODULE: fs, fs-host, files, host, runtime, install, install-host, ipvs-apply, ipvs-plan, netlink
#   (stryker/modules.mjs)
#   e.g. bash scripts/mutation.sh fs --mutate 'src/util/fs.ts:289-424'
#        (one --mutate, one range: a second --mutate replaces the first, and a comma list of
#        ranges instrumented far more than the ranges: 437 mutants for three of provider.ts)
#        bash scripts/mutation.sh fs --force      (every mutant again: needed after changing tests,
#        which the command runner's incremental mode cannot see)
#   LBCTL_MUTATION_BASELINE=1  without the mut-*.test files (the score before them)
#   LBCTL_MUTATION_ONLY_MUT=1  with the mut-*.test files alone (fast; a lower bound)
# Reports: reports/mutation/MODULE.{json,html}; the clear-text table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
module="$1"; shift
mkdir -p reports/mutation
LBCTL_MUTATION_MODULE="$module" exec npx stryker run stryker/stryker.config.mjs "$@"
