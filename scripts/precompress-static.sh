#!/usr/bin/env bash
# Writes the brotli (.br) and gzip (.gz) siblings of the static files that are served
# precompressed: stylesheets, scripts, SVGs and icons of at least 1 KiB (the types and the
# size are `PRECOMPRESSED_TYPES` and `PRECOMPRESSED_MIN_BYTES` in src/web/assets.rs), and
# removes siblings whose original is gone or no longer qualifies. The siblings are
# committed; the test `assets::precompressed_siblings_match_their_originals` fails when one
# is missing, left over or stale. Needs the `brotli` and `gzip` commands (Debian packages
# brotli, gzip).
#
#   bash scripts/precompress-static.sh [static-folder]
set -euo pipefail

dir="${1:-$(cd "$(dirname "$0")/.." && pwd)/static}"
command -v brotli >/dev/null || { echo "needs the brotli command (apt-get install brotli)" >&2; exit 1; }

qualifies() {
  case "$1" in
    *.css | *.js | *.svg | *.ico) [ "$(stat -c %s "$1")" -ge 1024 ] ;;
    *) return 1 ;;
  esac
}

# Siblings left over from files that are gone or no longer qualify.
find "$dir" -type f \( -name '*.br' -o -name '*.gz' \) | while read -r sibling; do
  original="${sibling%.*}"
  if [ ! -f "$original" ] || ! qualifies "$original"; then
    echo "removing $sibling"
    rm -f "$sibling"
  fi
done

find "$dir" -type f ! -name '*.br' ! -name '*.gz' | sort | while read -r file; do
  qualifies "$file" || continue
  # Best compression: this runs once per change of the files, not per request.
  brotli --best --force --output="$file.br" "$file"
  # -n: no name or time stamp inside, so the same file gives the same bytes.
  gzip --best --no-name --stdout "$file" >"$file.gz"
  printf '%8d  %8d br  %8d gz  %s\n' "$(stat -c %s "$file")" "$(stat -c %s "$file.br")" \
    "$(stat -c %s "$file.gz")" "${file#"$dir"/}"
done
