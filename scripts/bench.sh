#!/bin/sh
# Figures as ratios against a baseline measured in the same run. Every bench file runs, even
# after one failed; each prints its failed sections as it goes (scripts: packages/*/bench), and
# the last line names them all. Exits 1 when any section or file failed.
set -u
cd "$(dirname "$0")/.."
failures=$(mktemp)
trap 'rm -f "$failures"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
for bench in packages/*/bench/*.bench.ts; do
  [ -f "$bench" ] || continue
  echo "== $bench"
  before=$(wc -l <"$failures")
  if RUNBOX_BENCH_FAILURES="$failures" node --expose-gc "$bench"; then
    code=0
  else
    code=$?
  fi
  # A file that failed outside its sections (its set-up, say) counts as failed too.
  if [ "$code" -ne 0 ] && [ "$(wc -l <"$failures")" -eq "$before" ]; then
    echo "$(basename "$bench"): exit $code outside any section" >>"$failures"
  fi
done
count=$(wc -l <"$failures")
if [ "$count" -gt 0 ]; then
  echo "== bench: $count failed: $(paste -sd ';' "$failures" | sed 's/;/; /g')"
  exit 1
fi
echo "== bench: every section ran to its end"
