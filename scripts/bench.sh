#!/bin/sh
# Figures as ratios against a baseline measured in the same run.
set -eu
cd "$(dirname "$0")/.."
for bench in packages/*/bench/*.bench.ts; do
  [ -f "$bench" ] || continue
  echo "== $bench"
  node --expose-gc "$bench"
done
