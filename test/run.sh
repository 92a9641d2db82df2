#!/usr/bin/env bash
# lbctl's whole test suite: unit + host tests on this machine, then the kernel suite inside
# the qemu kernel lab. Installs what it needs on first run. Ends with "N passed, N failed".
#   LBCTL_TEST_SUITES="unit host kernel"   choose suites
#   LBCTL_TEST_FILTER=regex                 only test files whose name matches
set -uo pipefail
cd "$(dirname "$0")/.."
bash test/deps.sh || exit $?
say() { printf '\033[1m[lbctl test]\033[0m %s\n' "$*" >&2; }

# The "no root" tests run lbctl as user nobody, who must be able to reach this checkout: a clone
# under `mktemp -d` (mode 0700) is not. Open the search (x) bit of such parent directories for the
# run and put their modes back afterwards.
restore_modes=()
dir="$PWD"
while [ "$dir" != / ]; do
  case "$(stat -c %A "$dir")" in
    *[xt]) ;;
    *) restore_modes+=("$(stat -c %a "$dir") $dir"); chmod o+x "$dir"; say "opened o+x on $dir for the unprivileged tests (restored at exit)" ;;
  esac
  dir="$(dirname "$dir")"
done
trap 'for m in "${restore_modes[@]}"; do chmod "${m%% *}" "${m#* }"; done' EXIT

say "building the product (dist/) and the tests (build/)..."
npm run -s build || { say "build failed"; exit 1; }
npm run -s build:test || { say "test build failed"; exit 1; }

SUITES="${LBCTL_TEST_SUITES:-unit host kernel}"
mkdir -p test-results
rm -f test-results/*.tap
pass=0; fail=0; rc=0

files_for() {
  local f
  for f in build/test/"$1"/*.test.js; do
    [ -e "$f" ] || continue
    if [ -n "${LBCTL_TEST_FILTER:-}" ] && ! [[ "$f" =~ $LBCTL_TEST_FILTER ]]; then continue; fi
    echo "$f"
  done
}

count() { # tap file -> add to totals
  local p f
  p=$(grep -E '^# pass ' "$1" | tail -1 | awk '{print $3}'); f=$(grep -E '^# fail ' "$1" | tail -1 | awk '{print $3}')
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
}

for suite in $SUITES; do
  mapfile -t files < <(files_for "$suite")
  [ ${#files[@]} -gt 0 ] || { say "suite $suite: no test files"; continue; }
  tap="test-results/$suite.tap"
  if [ "$suite" = kernel ]; then
    # The Ansible and tier files run many lbctl/ansible processes under TCG: 20 min per file, 1 h in all.
    # The opt-in rolling playbook case (LBCTL_TIER_ROLLING=1, tier-rolling.test.ts) runs two
    # whole roll-outs (past an hour under TCG on a loaded host): 2 h per file, 2.5 h in all, only when asked.
    file_ms=1200000 lab_s=3600
    [ "${LBCTL_TIER_ROLLING:-}" = 1 ] && file_ms=7200000 lab_s=9000
    say "suite kernel: booting the kernel lab (qemu, TCG) and running ${#files[@]} file(s) inside it..."
    bash test/lab/run.sh --out test-results --timeout "${LBCTL_LAB_TIMEOUT:-$lab_s}" -- node --test --test-concurrency=1 --test-timeout=$file_ms \
      --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination="test-results/$suite.tap" "${files[@]}"
    r=$?
  else
    say "suite $suite: ${#files[@]} file(s)..."
    node --test --test-concurrency=1 --test-timeout=300000 --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination="$tap" "${files[@]}"
    r=$?
  fi
  before=$fail
  if [ -f "$tap" ]; then count "$tap"; else say "suite $suite produced no results"; fail=$((fail + 1)); fi
  # A runner or lab that died (timeout, crash) without reporting a failing test still fails the run,
  # and the closing line must say so.
  if [ $r -ne 0 ]; then rc=1; [ $fail -gt $before ] || { say "suite $suite exited $r without a failing test: counted as 1 failure"; fail=$((fail + 1)); }; fi
done

if [ $fail -gt 0 ]; then
  # What failed, with its message, just above the totals: the end of a CI log is what gets read.
  echo; say "failures:"
  node test/tap-failures.mjs test-results/*.tap
fi
echo
echo "lbctl: $pass passed, $fail failed"
[ $fail -eq 0 ] || rc=1
exit $rc
