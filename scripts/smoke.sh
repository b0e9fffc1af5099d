#!/usr/bin/env bash
# Smoke test of a deployed API at BASE_URL ($1): liveness, readiness, and the public sign-in
# configuration the SPA reads first. Exit 1 with the failing check named.
set -euo pipefail
base="${1:?usage: scripts/smoke.sh BASE_URL}"

check() {  # path, what the body must contain
  local body
  if ! body=$(curl -fsS --max-time 10 "$base$1"); then
    echo "smoke: GET $1 failed" >&2
    return 1
  fi
  if [[ "$body" != *"$2"* ]]; then
    echo "smoke: GET $1 did not contain $2" >&2
    return 1
  fi
}

check /healthz '"ok"'
check /readyz '"ok"'
check /api/v1/auth/config '"provider"'
echo "smoke: $base ok" >&2
