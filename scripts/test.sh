#!/usr/bin/env bash
# The README's test command (npm test): builds the Collector distribution if it is not up to date,
# type-checks everything (type tests included), then runs every test file with node's test runner.
# Node 20 does not expand globs in `node --test`, hence the find.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-collector.sh
npx tsc -p tsconfig.json --noEmit
mapfile -t files < <(find test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
# One file at a time: the end-to-end tests start Collectors and daemons of their own.
exec node --import tsx --test --test-concurrency=1 --test-timeout=600000 "${files[@]}"
