#!/usr/bin/env bash
# Regenerates src/accounts/common-passwords.txt: the ranked common-password list of the npm
# package @zxcvbn-ts/language-common (MIT), keeping entries of 8 or more characters (shorter
# ones fail the length rule anyway). Sign-in and password changes refuse any of them.
set -euo pipefail
VERSION="${ZXCVBN_COMMON_VERSION:-4.1.3}"
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "@zxcvbn-ts/language-common@${VERSION}" >/dev/null
tar -xzf zxcvbn-ts-language-common-*.tgz
python3 - "$root/src/accounts/common-passwords.txt" "$VERSION" <<'PY'
import json, sys
out, version = sys.argv[1], sys.argv[2]
words = json.load(open("package/src/passwords.json"))
keep = [w for w in words if len(w) >= 8]
with open(out, "w") as f:
    f.write(f"# Common passwords of 8+ characters, from @zxcvbn-ts/language-common {version} (MIT).\n")
    f.write("# Regenerate with scripts/refresh-common-passwords.sh.\n")
    for w in keep:
        f.write(w + "\n")
print(f"{len(keep)} passwords written")
PY
