#!/bin/sh
# Every test: types, lint, format, unit + hostile-sandbox + integration tests (vitest), then the
# browser tests (Playwright in Debian's Chromium) against the real server.
set -eu
cd "$(dirname "$0")/.."
mkdir -p .runbox
results=.runbox/test-results.json
e2e_results=.runbox/e2e-results.json
rm -f "$results" "$e2e_results"
status=0
failed_checks=""
# A static check that fails fails the script, and counts as one failed test in the closing line;
# the tests still run, so one run shows everything that is wrong.
check() {
  name=$1
  shift
  echo "== $name"
  if ! "$@"; then
    failed_checks="$failed_checks$name;"
    status=1
  fi
}
check "typecheck" tsc -p tsconfig.json
check "typecheck web" pnpm --filter @runbox/web run -s typecheck
check "typecheck e2e" tsc -p e2e/tsconfig.json
check "typecheck cli" tsc -p packages/cli/tsconfig.json
check "lint" eslint --max-warnings 0 .
check "format" prettier --check .
echo "== tests"
vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
if [ "$#" -eq 0 ]; then
  echo "== browser tests"
  (cd e2e && E2E_JSON="$PWD/../$e2e_results" node_modules/.bin/playwright test) || status=$?
fi
# One closing line in the plain form CI reads: "N passed, N failed".
node -e '
const fs = require("fs");
let passed = 0, failed = 0, skipped = 0;
const unit = process.argv[1], e2e = process.argv[2];
const checks = process.argv[3].split(";").filter(Boolean);
if (checks.length) console.log(`checks failed: ${checks.join(", ")}`);
failed += checks.length;
if (fs.existsSync(unit)) {
  const r = JSON.parse(fs.readFileSync(unit, "utf8"));
  passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
}
if (fs.existsSync(e2e)) {
  const s = JSON.parse(fs.readFileSync(e2e, "utf8")).stats;
  passed += s.expected; failed += s.unexpected + s.flaky; skipped += s.skipped;
}
console.log(`tests: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results" "$e2e_results" "$failed_checks" || true
exit "$status"
