#!/usr/bin/env bash
# The ephemeral stack of a pull request, pr-$PR_NUMBER, in the PR state container:
#   up     create it if needed, (re)write its configuration from dev's on every run (so a
#          later push has the same configuration as the first), deploy it with deploy.sh
#   down   destroy it and remove the stack
#   sweep  destroy every pr-* stack whose resource group's "expires" tag has passed
set -euo pipefail
cd "$(dirname "$0")/.."
action="${1:?usage: scripts/pr-stack.sh up|down|sweep}"

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
    # dev's configuration is plain (no secure values: tests/delivery checks it), so a copy is
    # exact; the stack-specific keys are set after it.
    cp Pulumi.dev.yaml "Pulumi.$stack.yaml"
    STACK="$stack" bash scripts/deploy.sh
    ;;
  down)
    : "${PR_NUMBER:?set PR_NUMBER}"
    stack="pr-$PR_NUMBER"
    if pulumi stack select --stack "$stack" --non-interactive 2>/dev/null; then
      cp Pulumi.dev.yaml "Pulumi.$stack.yaml"
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
        cp Pulumi.dev.yaml "Pulumi.$stack.yaml"
        destroy "$stack"
      fi
    done
    ;;
  *) echo "usage: scripts/pr-stack.sh up|down|sweep" >&2; exit 2 ;;
esac
