#!/usr/bin/env bash
# Property-based API checks: schemathesis generates requests from the OpenAPI document and runs
# every check against the real app (uvicorn) on an embedded PostgreSQL of its own, with a fixed
# seed and a bounded number of cases so it stays fast and repeatable. Called by scripts/test.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(mktemp -d)
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export LOGDAWG_DATA_DIR="$data" LOGDAWG_LOG_FORMAT=text
.venv/bin/uvicorn app.main:create_app --factory --host 127.0.0.1 --port "$port" \
  --no-access-log --log-level warning > "$data/api.log" 2>&1 &
api=$!
cleanup() {
  kill "$api" 2>/dev/null || true
  wait "$api" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$port/readyz" > /dev/null 2>&1 && break
  sleep 0.5
done
root=$(pwd)
# The API's one string format schemathesis cannot invent (a PEM key and certificate).
export SCHEMATHESIS_HOOKS=tests.schemathesis_hooks PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
cd "$data"  # its example cache (.schemathesis/) stays out of the checkout
"$root/.venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" \
  --checks all --seed "${SCHEMATHESIS_SEED:-20261130}" --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-25}" \
  --generation-deterministic --request-timeout 10 \
  --generation-allow-x00 false --generation-codec utf-8 "$@"
# NUL characters and lone surrogates are not generated: the API refuses them on purpose (a 422
# naming the reason, see the README), which tests/integration/api/test_bad_input.py checks.
