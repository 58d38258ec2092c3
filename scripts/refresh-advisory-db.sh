#!/usr/bin/env bash
# Renews .ci/advisory-db.tar.gz, the RustSec advisory database that `cargo deny` checks
# against in CI (the CI machine reaches only package registries, not GitHub). Run it on a
# machine that reaches github.com, and commit the two files it writes.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git clone --quiet --depth 1 https://github.com/rustsec/advisory-db "$tmp/db"
git -C "$tmp/db" archive --format=tar --prefix=advisory-db/ HEAD crates rust LICENSE.txt README.md support.toml \
  | gzip -9 > .ci/advisory-db.tar.gz
git -C "$tmp/db" log -1 --format='%H %cs' > .ci/advisory-db.version
echo "advisory database: $(cat .ci/advisory-db.version)"
