#!/usr/bin/env bash
# Refreshes the vendored front-end assets (USWDS) in static/vendor/ from the npm registry,
# then their precompressed siblings (scripts/precompress-static.sh). Nothing is fetched at
# run time: the service serves only what this script committed.
#
#   bash scripts/vendor-assets.sh            # version pinned below
#   USWDS_VERSION=3.14.0 bash scripts/vendor-assets.sh
set -euo pipefail

USWDS_VERSION="${USWDS_VERSION:-3.14.0}"

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "@uswds/uswds@${USWDS_VERSION}" >/dev/null
mkdir uswds
tar -xzf uswds-uswds-*.tgz -C uswds --strip-components=1

dest="$root/static/vendor/uswds"
rm -rf "$dest"
mkdir -p "$dest/css" "$dest/js" "$dest/img"
dist="$work/uswds/dist"
cp "$dist/css/uswds.min.css" "$dest/css/"
cp "$dist/js/uswds.min.js" "$dist/js/uswds-init.min.js" "$dest/js/"
# Copy exactly the fonts and images the stylesheet refers to, plus the ones our pages use;
# not the hero image (146 KB), which only `.usa-hero` uses and no page of ours has (the test
# `assets::the_stylesheets_references_resolve` checks both).
grep -o 'url([^)]*)' "$dist/css/uswds.min.css" | sed -e 's/^url(//' -e 's/)$//' -e 's/["'"'"']//g' \
  | grep '^\.\./' | grep -v '^\.\./img/hero\.jpg$' | sort -u | while read -r ref; do
    rel="${ref#../}"
    mkdir -p "$dest/$(dirname "$rel")"
    cp "$dist/$rel" "$dest/$rel"
  done
for img in us_flag_small.png usa-icons/close.svg favicons/favicon.ico; do
  mkdir -p "$dest/img/$(dirname "$img")"
  cp "$dist/img/$img" "$dest/img/$img"
done
cp "$work/uswds/LICENSE.md" "$dest/LICENSE.md"
echo "@uswds/uswds ${USWDS_VERSION}" > "$dest/VERSION"

bash "$root/scripts/precompress-static.sh" "$root/static"

echo "vendored @uswds/uswds ${USWDS_VERSION} into static/vendor/"
