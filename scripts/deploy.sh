#!/usr/bin/env bash
# One deployment of STACK at IMAGE_TAG (run by .github/workflows/infra.yml and pr-stack.yml,
# logged in to Azure and Pulumi): apply the stack with the policy pack, build both images in
# the stack's registry, roll them out, and wait until the API is ready on the schema head.
# The API applies migrations when it starts, under a PostgreSQL advisory lock, from inside the
# VNet; the database is not reachable from here. With a staging slot (prod), the new API
# starts there and is swapped in only once ready.
set -euo pipefail
: "${STACK:?set STACK}" "${IMAGE_TAG:?set IMAGE_TAG}"
cd "$(dirname "$0")/.."

pulumi config set --stack "$STACK" imageTag "$IMAGE_TAG" --non-interactive
pulumi up --yes --stack "$STACK" --policy-pack infra/policy --non-interactive --skip-preview
out() { pulumi stack output --stack "$STACK" "$1"; }
group=$(out resource_group)
registry=$(out registry_login_server)
api=$(out api_app_name)
worker=$(out worker_app_name)

for target in api worker; do
  az acr build --registry "${registry%%.*}" --target "$target" \
    --image "logdawg-$target:$IMAGE_TAG" --file Dockerfile .
done

head=$(.venv/bin/python -c 'from app.db.migrate import head_revision; print(head_revision())')
wait_ready() {  # $1: base URL; ready means /readyz answers 200 with this build's revision
  for _ in $(seq 1 60); do
    if curl -fsS "$1/readyz" | grep -q "\"$head\""; then return 0; fi
    sleep 10
  done
  echo "error: $1 did not become ready on revision $head" >&2
  return 1
}

image() { echo "DOCKER|$registry/logdawg-$1:$IMAGE_TAG"; }
az webapp config set -g "$group" -n "$worker" --linux-fx-version "$(image worker)" >/dev/null
if az webapp deployment slot list -g "$group" -n "$api" --query "[?name=='staging']" -o tsv | grep -q .; then
  az webapp config set -g "$group" -n "$api" --slot staging --linux-fx-version "$(image api)" >/dev/null
  az webapp restart -g "$group" -n "$api" --slot staging
  wait_ready "https://$(az webapp show -g "$group" -n "$api" --slot staging --query defaultHostName -o tsv)"
  az webapp deployment slot swap -g "$group" -n "$api" --slot staging --target-slot production
else
  az webapp config set -g "$group" -n "$api" --linux-fx-version "$(image api)" >/dev/null
  az webapp restart -g "$group" -n "$api"
fi
wait_ready "$(out api_url)"
echo "deployed $STACK at $IMAGE_TAG (schema $head)"
