#!/bin/sh
# Installs the Node-based tools runbox offers inside the sandbox (sandbox-tools/: TypeScript, npm,
# ESLint and their wrappers) into .runbox/sandbox-tools with `npm ci`: a flat node_modules of real
# directories, which the sandbox host binds read-only at /opt/runbox/tools.
# Idempotent: does nothing when the stamp (a hash of sandbox-tools/) matches what is installed.
# Environment: RUNBOX_SANDBOX_TOOLS_DIR overrides the target directory; NPM the npm to use.
set -eu

ROOT=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
SRC="$ROOT/sandbox-tools"
DEST="${RUNBOX_SANDBOX_TOOLS_DIR:-$ROOT/.runbox/sandbox-tools}"
NPM="${NPM:-npm}"

say() { printf 'install-sandbox-tools: %s\n' "$*" >&2; }
die() {
  say "$*"
  exit 1
}

[ -f "$SRC/package-lock.json" ] || die "$SRC/package-lock.json is missing"

# Every file that ends up in the install, in a fixed order (and this script, which shapes it).
inputs="package.json package-lock.json eslint.config.js bin/runbox-eslint bin/runbox-tsc"
# shellcheck disable=SC2086 # $inputs is a list of plain names, split on purpose
stamp=$({ (cd "$SRC" && cat $inputs) && cat "$ROOT/scripts/install-sandbox-tools.sh"; } | sha256sum | cut -d' ' -f1)
stamp_file="$DEST/.runbox-stamp"
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ] && [ -d "$DEST/node_modules" ]; then
  exit 0
fi

command -v "$NPM" >/dev/null 2>&1 || die "npm is needed (set NPM=/path/to/npm)"
say "installing TypeScript, ESLint and npm for the sandbox into $DEST"

# Built beside the target and swapped in whole: a run that binds the old tree keeps it intact.
mkdir -p "$(dirname -- "$DEST")"
build="$DEST.new.$$"
trap 'rm -rf "$build"' EXIT INT TERM
rm -rf "$build"
mkdir -p "$build/bin"
for file in $inputs; do
  cp -p "$SRC/$file" "$build/$file"
done
(cd "$build" && "$NPM" ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
# What no sandboxed run reads, copied into every sandbox host's files otherwise (and into the
# image): npm's manual pages, and TypeScript's translated messages (tsc reads them only for an
# explicit --locale, which the tsc tool never passes).
rm -rf "$build/node_modules/npm/docs" "$build/node_modules/npm/man"
for locale in cs de es fr it ja ko pl pt-br ru tr zh-cn zh-tw; do
  rm -rf "$build/node_modules/typescript/lib/$locale"
done
# The sandbox runs as an unprivileged uid: everything must be readable (and dirs searchable).
chmod -R a+rX,go-w "$build"
printf '%s\n' "$stamp" >"$build/.runbox-stamp"

old="$DEST.old.$$"
[ -e "$DEST" ] && mv "$DEST" "$old"
mv "$build" "$DEST"
rm -rf "$old"
trap - EXIT INT TERM
say "done"
