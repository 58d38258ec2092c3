#!/usr/bin/env bash
# Refreshes the vendored front-end assets in static/vendor/ from the npm registry.
# Nothing is fetched at run time: the service serves only what this script committed.
#
#   bash scripts/vendor-assets.sh            # versions pinned below
#   USWDS_VERSION=3.14.0 bash scripts/vendor-assets.sh
set -euo pipefail

USWDS_VERSION="${USWDS_VERSION:-3.14.0}"
HTMX_VERSION="${HTMX_VERSION:-2.0.4}"

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "@uswds/uswds@${USWDS_VERSION}" "htmx.org@${HTMX_VERSION}" >/dev/null
mkdir uswds htmx
tar -xzf uswds-uswds-*.tgz -C uswds --strip-components=1
tar -xzf htmx.org-*.tgz -C htmx --strip-components=1

dest="$root/static/vendor/uswds"
rm -rf "$dest"
mkdir -p "$dest/css" "$dest/js" "$dest/img"
dist="$work/uswds/dist"
cp "$dist/css/uswds.min.css" "$dest/css/"
cp "$dist/js/uswds.min.js" "$dist/js/uswds-init.min.js" "$dest/js/"
# Copy exactly the fonts and images the stylesheet refers to, plus the ones our pages use.
grep -o 'url([^)]*)' "$dist/css/uswds.min.css" | sed -e 's/^url(//' -e 's/)$//' -e 's/["'"'"']//g' \
  | grep '^\.\./' | sort -u | while read -r ref; do
    rel="${ref#../}"
    mkdir -p "$dest/$(dirname "$rel")"
    cp "$dist/$rel" "$dest/$rel"
  done
for img in us_flag_small.png icon-dot-gov.svg icon-https.svg usa-icons/close.svg favicons/favicon.ico favicons/favicon-192.png; do
  mkdir -p "$dest/img/$(dirname "$img")"
  cp "$dist/img/$img" "$dest/img/$img"
done
cp "$work/uswds/LICENSE.md" "$dest/LICENSE.md"
echo "@uswds/uswds ${USWDS_VERSION}" > "$dest/VERSION"

hdest="$root/static/vendor/htmx"
rm -rf "$hdest"
mkdir -p "$hdest"
cp "$work/htmx/dist/htmx.min.js" "$hdest/"
cp "$work/htmx/LICENSE" "$hdest/LICENSE"
echo "htmx.org ${HTMX_VERSION}" > "$hdest/VERSION"

echo "vendored @uswds/uswds ${USWDS_VERSION} and htmx.org ${HTMX_VERSION} into static/vendor/"
