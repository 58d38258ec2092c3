#!/usr/bin/env bash
# The API against its own OpenAPI document: schemathesis (installed into a virtual
# environment under target/) runs every operation of /api/v1/openapi.json against a
# demonstration office on a throwaway built-in database, as a supervisor and as an
# analyst, and fails on any 5xx and on any answer the document does not describe (status,
# content type, headers, body schema), and on schema-invalid requests that are accepted.
#
#   bash scripts/api-conformance.sh [--max-examples N]     (default 30 per operation)
#
# Uses target/debug/icts-review (built by `cargo test`; built here when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
examples=30
while [ $# -gt 0 ]; do
  case "$1" in
    --max-examples) examples=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

venv=target/schemathesis-venv
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$(cut -d= -f3 tests/schemathesis/requirements.txt)"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/schemathesis/requirements.txt
fi
[ -x target/debug/icts-review ] || cargo build --quiet
bin=$PWD/target/debug/icts-review

work=$(mktemp -d /tmp/icts-conformance-XXXXXX)
chmod 755 "$work"
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

data=$work/data
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
export ICTS_DATA_DIR=$data ICTS_LISTEN=127.0.0.1:$port ICTS_PUBLIC_URL=$base ICTS_STATIC_DIR=$PWD/static
"$bin" seed --demo >"$work/seed.log"
password="conformance run passphrase $(date +%s)"
for role in supervisor analyst; do
  printf '%s\n' "$password" | "$bin" user add --email "$role.conformance@example.gov" \
    --name "Conformance $role" --role "$role" --password-stdin >/dev/null
done
"$bin" serve >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fs "$base/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fs "$base/readyz" >/dev/null

token() {
  curl -fs -H 'content-type: application/json' \
    -d "{\"email\": \"$1.conformance@example.gov\", \"password\": \"$password\"}" "$base/api/v1/auth/token" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection
run() {
  "$venv/bin/schemathesis" --no-color run "$base/api/v1/openapi.json" \
    --checks "$checks" --max-examples "$examples" --workers 1 --request-timeout 30 \
    --suppress-health-check all --seed 1 --generation-database none "$@"
}

status=0
for role in supervisor analyst; do
  echo "== schemathesis as $role ($examples examples per operation)"
  # Ending the run's own session (sign-out, or three wrong passwords at the step-up) would
  # turn the rest of the run into 401s: those two go last, with a token of their own.
  run --header "Authorization: Bearer $(token "$role")" \
    --exclude-operation-id delete_token --exclude-operation-id reauth || status=1
  echo "== schemathesis as $role: the operations that end the session"
  run --header "Authorization: Bearer $(token "$role")" \
    --include-operation-id delete_token --include-operation-id reauth || status=1
done
if grep -q ' ERROR ' "$work/serve.log"; then
  echo "the service logged errors during the run:" >&2
  grep ' ERROR ' "$work/serve.log" | head -20 >&2
  status=1
fi
exit $status
