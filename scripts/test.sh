#!/usr/bin/env bash
# The README's test command (npm test): builds the Collector distribution if it is not up to date,
# type-checks everything (type tests included), then runs every test file with node's test runner.
#   bash scripts/test.sh [file...]     only these test files
#   NODE=/path/to/node bash scripts/test.sh ...   run the tests on another Node (CI: 24, then 22)
# The find, not a glob of `node --test`: it leaves out test files under node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-collector.sh
npx tsc -p tsconfig.json --noEmit
if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(find test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
fi
# In a terminal: a dot per test, the failures in full, then the counts. Elsewhere (CI, a pipe): TAP,
# which ends with the runner's counts (named, because Node 24's default there is `spec`).
reporter=(--test-reporter=tap)
[ -t 1 ] && reporter=(--test-reporter=./scripts/terminal-reporter.mjs)
# One file at a time: the end-to-end tests start Collectors and daemons of their own.
exec "${NODE:-node}" --import tsx --test "${reporter[@]}" --test-concurrency=1 --test-timeout=600000 "${files[@]}"
