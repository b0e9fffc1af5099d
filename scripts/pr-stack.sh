#!/usr/bin/env bash
# The ephemeral stack of a pull request, pr-$PR_NUMBER, in the PR state container:
#   up     create it if needed, (re)write its configuration from dev's on every run (so a
#          later push has the same configuration as the first) while keeping its own secrets
#          key (scripts/pr_config.py), deploy it with deploy.sh
#   down   destroy it and remove the stack
#   sweep  destroy every pr-* stack whose resource group's "expires" tag has passed
set -euo pipefail
cd "$(dirname "$0")/.."
action="${1:?usage: scripts/pr-stack.sh up|down|sweep}"

PYTHON="${PYTHON:-.venv/bin/python}"

# A fresh checkout has no Pulumi.<stack>.yaml: restore the one of the stack's last deployment
# (its secrets provider and key, its configuration). A stack never deployed has none yet.
own_settings() {
  if ! pulumi config refresh --force --stack "$1" --non-interactive >/dev/null 2>&1; then
    echo "pr-stack: $1 has no deployment to take its settings from (a new stack)" >&2
  fi
}

destroy() {
  pulumi destroy --yes --stack "$1" --non-interactive --skip-preview
  pulumi stack rm --yes --stack "$1" --non-interactive
}

case "$action" in
  up)
    : "${PR_NUMBER:?set PR_NUMBER}"
    stack="pr-$PR_NUMBER"
    pulumi stack select --create --stack "$stack" --non-interactive \
      ${PULUMI_SECRETS_PROVIDER:+--secrets-provider "$PULUMI_SECRETS_PROVIDER"}
    own_settings "$stack"
    # dev's configuration (plain: scripts/pr_config.py refuses secure values), with this
    # stack's own secrets key; the stack-specific keys are set after it.
    "$PYTHON" scripts/pr_config.py "$stack"
    STACK="$stack" bash scripts/deploy.sh
    ;;
  down)
    : "${PR_NUMBER:?set PR_NUMBER}"
    stack="pr-$PR_NUMBER"
    if pulumi stack select --stack "$stack" --non-interactive 2>/dev/null; then
      own_settings "$stack"
      destroy "$stack"
    else
      echo "pr-stack: $stack does not exist" >&2
    fi
    ;;
  sweep)
    today=$(date -u +%F)
    for stack in $(pulumi stack ls --json | python3 -c '
import json, sys
print(" ".join(s["name"] for s in json.load(sys.stdin) if s["name"].startswith("pr-")))'); do
      expires=$(az group list --tag "pull-request=${stack#pr-}" \
        --query "[0].tags.expires" -o tsv 2>/dev/null || true)
      if [[ -z "$expires" || "$expires" < "$today" ]]; then
        echo "pr-stack: $stack expired (${expires:-no resource group}); destroying" >&2
        own_settings "$stack"
        destroy "$stack"
      fi
    done
    ;;
  *) echo "usage: scripts/pr-stack.sh up|down|sweep" >&2; exit 2 ;;
esac
