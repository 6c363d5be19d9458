#!/bin/sh
# Builds apps/web (next build) when its sources or the lockfile changed since the last build.
# The stamp is a hash of every source file of the web app plus pnpm-lock.yaml; when it matches
# .next/.runbox-build-stamp and a build is there, nothing runs (a few milliseconds).
set -eu

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
WEB="$ROOT/apps/web"
[ -f "$WEB/package.json" ] || exit 0
[ "${RUNBOX_WEB:-next}" = none ] && exit 0

stamp_file="$WEB/.next/.runbox-build-stamp"
stamp=$(
  cd "$WEB" &&
    find src public package.json next.config.ts tsconfig.json page-handler.ts -type f 2>/dev/null |
    LC_ALL=C sort | xargs cat "$ROOT/pnpm-lock.yaml" | sha256sum | cut -d' ' -f1
)
if [ -f "$stamp_file" ] && [ -f "$WEB/.next/BUILD_ID" ] && [ "$(cat "$stamp_file")" = "$stamp" ]; then
  exit 0
fi

printf 'runbox: building the web app (next build)\n' >&2
started=$(date +%s)
(cd "$WEB" && NEXT_TELEMETRY_DISABLED=1 "$WEB/node_modules/.bin/next" build >&2)
printf '%s\n' "$stamp" >"$stamp_file"
printf 'runbox: web app built in %ss\n' "$(($(date +%s) - started))" >&2
