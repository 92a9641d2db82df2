#!/usr/bin/env bash
# Stryker's buildCommand, run once in the sandbox (cwd) from the mutated sources.
#   bash stryker/build.sh [--bundle] TEST.ts...
# Compiles only the given test files and what they import (tsc follows imports), into build/ as
# npm run build:test would. --bundle also rebuilds dist/ for tests that run bin/run.js.
# Stryker runs the build before it would link node_modules, so link it here (the sandbox is
# <checkout>/.stryker-tmp/sandbox-X/). tsc emits the instrumented files even where the
# instrumentation upsets the type checker: the dry run (all tests green) is what proves the build.
set -uo pipefail
bundle=0
if [ "${1:-}" = --bundle ]; then bundle=1; shift; fi
[ -e node_modules ] || ln -s ../../node_modules node_modules
node scripts/build-validator.mjs >/dev/null || exit 1
printf '{ "extends": "./tsconfig.test.json", "include": [%s] }\n' "$(printf '"%s",' "$@" | sed 's/,$//')" > tsconfig.stryker.json
node node_modules/typescript/bin/tsc -p tsconfig.stryker.json > stryker-tsc.log 2>&1 || echo "stryker build: tsc reported $(grep -c 'error TS' stryker-tsc.log) type error(s), see stryker-tsc.log (emitted anyway)" >&2
if [ $bundle = 1 ]; then node scripts/build.mjs || exit 1; fi
