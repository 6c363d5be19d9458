#!/bin/sh
# Every test: types, lint, then unit, hostile-sandbox and integration tests in vitest.
set -eu
cd "$(dirname "$0")/.."
results=.runbox/test-results.json
mkdir -p .runbox
echo "== typecheck"
tsc -p tsconfig.json
echo "== lint"
eslint --max-warnings 0 .
echo "== tests"
status=0
vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
# One closing line in the plain form CI reads: "N passed, N failed".
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const skipped = r.numPendingTests + r.numTodoTests;
console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results" || true
exit "$status"
