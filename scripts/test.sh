#!/usr/bin/env bash
# The README's test command (npm test): builds the Collector distribution if it is not up to date,
# type-checks everything (type tests included), then runs every test file with node's test runner.
#   bash scripts/test.sh [file...]          only these test files
#   bash scripts/test.sh --unit [file...]   the fast loop (npm run test:unit): no Collector build and
#                                           no type-check (tsx strips the types); the in-process tests,
#                                           or the files given
#   NODE=/path/to/node bash scripts/test.sh ...   run the tests on another Node (CI: 24, then 22)
# The find, not a glob of `node --test`: it leaves out test files under node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
unit=false
if [ "${1:-}" = --unit ]; then
  unit=true
  shift
fi
# The official OTLP .proto files, the oracle of the record encoder's test (from Maven Central, once).
bash scripts/otlp-proto/resolve.sh
if ! $unit; then
  bash scripts/build-collector.sh
  npm run --silent typecheck
fi
if [ $# -gt 0 ]; then
  files=("$@")
elif $unit; then
  # In-process tests, by folder: everything but test/e2e (real Collectors, daemons, a browser),
  # test/collector (the Go component's tests, which need the Go toolchain) and test/types (the
  # compiler's verdict on the type tests, which npm test's type-check covers).
  mapfile -t files < <(find test -name '*.test.ts' -not -path '*/node_modules/*' -not -path 'test/e2e/*' -not -path 'test/collector/*' -not -path 'test/types/*' | sort)
else
  mapfile -t files < <(find test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
fi
# In a terminal: a dot per test, the failures in full, then the counts. Elsewhere (CI, a pipe): TAP,
# which ends with the runner's counts (named, because Node 24's default there is `spec`).
reporter=(--test-reporter=tap)
[ -t 1 ] && reporter=(--test-reporter=./scripts/terminal-reporter.mjs)
# One file at a time: the end-to-end tests start Collectors and daemons of their own, and the
# in-process tests measure time (event-loop lag, deadlines, silences) that files running side by
# side on a small machine would stretch.
exec "${NODE:-node}" --import tsx --test "${reporter[@]}" --test-concurrency=1 --test-timeout=600000 "${files[@]}"
