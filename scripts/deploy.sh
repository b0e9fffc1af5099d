#!/usr/bin/env bash
# One release of STACK at IMAGE_TAG (a commit SHA), in the order that keeps it safe:
#
#   images   push the images built by CI (IMAGES_TAR), or, with PROMOTE_FROM=<registry>,
#            import the very same images by digest from that registry (dev -> prod); skipped
#            for an image the stack's registry already holds
#   up       pulumi up with the policy pack (the apps' running image is not Pulumi's to change)
#   migrate  start the database job inside the VNet and wait for it: it creates the apps'
#            database principals and applies the migrations as the owner
#   roll out the worker, then the API, straight to production, without a staging slot; with
#            one (prod): the API to staging, wait until its /readyz reports this SHA and the
#            schema head, smoke-test it, then the worker, swap, check production again, and
#            on failure swap back and put the worker back on the image it ran before
#   spa      upload the SPA built once by the pipeline (SPA_TAR, checked against SPA_DIGEST)
#            to the stack's Static Web App, with this stack's /config.json beside the bundle
#
# Run by .github/workflows/pipeline.yml, logged in to Azure (OIDC) and to the stack's Pulumi
# backend. scripts/pipeline_dry_run.py plays it with recording stand-ins for az, pulumi and
# docker, and a local HTTP server in place of the apps.
set -euo pipefail
: "${STACK:?set STACK (dev, prod or pr-<number>)}" "${IMAGE_TAG:?set IMAGE_TAG (the commit SHA)}"
cd "$(dirname "$0")/.."

IMAGES=(api worker migrator)
READY_ATTEMPTS="${READY_ATTEMPTS:-60}"
READY_INTERVAL="${READY_INTERVAL:-10}"
PYTHON="${PYTHON:-.venv/bin/python}"

log() { echo "deploy[$STACK]: $*" >&2; }
fail() { log "error: $*"; exit 1; }
out() { pulumi stack output --stack "$STACK" "$1"; }

ensure_registry() {
  # A new stack has no registry yet: create the resource group and the registry (and a PR
  # stack's name suffix) first, so no app is ever declared on an image that is not there.
  if out registry_login_server >/dev/null 2>&1; then return 0; fi
  log "new stack: creating its registry before anything that pulls from it"
  local urn="urn:pulumi:$STACK::logdawg-cloud"
  local targets=(--target "$urn::azure-native:resources:ResourceGroup::rg"
    --target "$urn::logdawg:infra:Registry::images"
    --target "$urn::logdawg:infra:Registry\$azure-native:containerregistry:Registry::images-acr")
  if [[ "$STACK" == pr-* ]]; then
    targets+=(--target "$urn::random:index/randomString:RandomString::suffix")
  fi
  pulumi up --yes --stack "$STACK" --non-interactive --skip-preview \
    --policy-pack infra/policy "${targets[@]}"
}

push_images() {
  local registry name
  registry=$(out registry_login_server)
  name="${registry%%.*}"
  for image in "${IMAGES[@]}"; do
    local repo="logdawg-$image"
    if az acr repository show --name "$name" --image "$repo:$IMAGE_TAG" >/dev/null 2>&1; then
      log "$repo:$IMAGE_TAG is already in $name"
      continue
    fi
    if [[ -n "${PROMOTE_FROM:-}" ]]; then
      # The image tested in dev, byte for byte: imported by digest, never rebuilt.
      local digest
      digest=$(az acr repository show --name "$PROMOTE_FROM" --image "$repo:$IMAGE_TAG" \
        --query digest -o tsv)
      [[ "$digest" == sha256:* ]] || fail "$PROMOTE_FROM has no $repo:$IMAGE_TAG to promote"
      az acr import --name "$name" --source "$PROMOTE_FROM.azurecr.io/$repo@$digest" \
        --image "$repo:$IMAGE_TAG"
    else
      : "${IMAGES_TAR:?set IMAGES_TAR (the images CI built) or PROMOTE_FROM}"
      if [[ -z "${_loaded:-}" ]]; then
        docker load --input "$IMAGES_TAR"
        az acr login --name "$name"
        _loaded=1
      fi
      docker tag "$repo:$IMAGE_TAG" "$registry/$repo:$IMAGE_TAG"
      docker push "$registry/$repo:$IMAGE_TAG"
    fi
  done
}

apply() {
  pulumi config set --stack "$STACK" imageTag "$IMAGE_TAG" --non-interactive
  pulumi up --yes --stack "$STACK" --policy-pack infra/policy --non-interactive --skip-preview
}

migrate() {
  local group job execution status
  group=$(out resource_group)
  job=$(out migrate_job_name)
  execution=$(az containerapp job start --resource-group "$group" --name "$job" \
    --query name -o tsv)
  log "database job $job: execution $execution"
  for _ in $(seq 1 "$READY_ATTEMPTS"); do
    status=$(az containerapp job execution show --resource-group "$group" --name "$job" \
      --job-execution-name "$execution" --query properties.status -o tsv)
    case "$status" in
      Succeeded) log "database migrated"; return 0 ;;
      Failed | Stopped | Degraded)
        fail "database job $execution ended $status: nothing was rolled out (see its logs in Log Analytics)" ;;
    esac
    sleep "$READY_INTERVAL"
  done
  fail "database job $execution did not finish"
}

head_revision() {
  "$PYTHON" -c 'from app.db.migrate import head_revision; print(head_revision())'
}

# ready URL: /readyz answers 200 and reports this build's SHA and the schema head.
ready() {
  local body
  body=$(curl -fsS --max-time 10 "$1/readyz" 2>/dev/null) || return 1
  BODY="$body" HEAD="$HEAD" SHA="$IMAGE_TAG" "$PYTHON" -c '
import json, os, sys
ready = json.loads(os.environ["BODY"])
sys.exit(0 if ready.get("build_sha") == os.environ["SHA"]
         and ready.get("revision") == os.environ["HEAD"] else 1)'
}

wait_ready() {
  for _ in $(seq 1 "$READY_ATTEMPTS"); do
    if ready "$1"; then log "$1 is ready on $IMAGE_TAG (schema $HEAD)"; return 0; fi
    sleep "$READY_INTERVAL"
  done
  log "$1 did not become ready on $IMAGE_TAG (schema $HEAD)"
  return 1
}

set_fx() {  # app, linux-fx-version, [slot]
  local args=(--resource-group "$GROUP" --name "$1")
  [[ -n "${3:-}" ]] && args+=(--slot "$3")
  az webapp config set "${args[@]}" --linux-fx-version "$2" >/dev/null
  az webapp restart "${args[@]}"
}

set_image() {  # app, image, [slot]
  set_fx "$1" "DOCKER|$REGISTRY/logdawg-$2:$IMAGE_TAG" "${3:-}"
}

roll_out() {
  GROUP=$(out resource_group)
  REGISTRY=$(out registry_login_server)
  HEAD=$(head_revision)
  local api worker api_url staging_url previous_worker
  api=$(out api_app_name)
  worker=$(out worker_app_name)
  api_url=$(out api_url)
  staging_url=$(out api_staging_url)
  if [[ -z "$staging_url" ]]; then
    set_image "$worker" worker
    set_image "$api" api
    wait_ready "$api_url" || fail "the API did not become ready"
    scripts/smoke.sh "$api_url" || fail "smoke test failed on $api_url"
    return 0
  fi
  # The worker has no slot: it moves only once staging has proven the release, and goes back
  # with the API if production fails after the swap.
  previous_worker=$(az webapp config show --resource-group "$GROUP" --name "$worker" \
    --query linuxFxVersion --output tsv)
  set_image "$api" api staging
  wait_ready "$staging_url" || fail "staging did not become ready: production untouched"
  scripts/smoke.sh "$staging_url" || fail "smoke test failed on staging: production untouched"
  set_image "$worker" worker
  az webapp deployment slot swap --resource-group "$GROUP" --name "$api" --slot staging \
    --target-slot production
  if wait_ready "$api_url" && scripts/smoke.sh "$api_url"; then
    log "swapped in"
    return 0
  fi
  log "post-swap check failed: swapping back"
  az webapp deployment slot swap --resource-group "$GROUP" --name "$api" --slot staging \
    --target-slot production
  if [[ -n "$previous_worker" ]]; then
    set_fx "$worker" "$previous_worker"
  fi
  fail "release $IMAGE_TAG was swapped back; production runs the previous release"
}

deploy_spa() {
  if [[ -z "${SPA_TAR:-}" ]]; then
    log "no SPA_TAR (the pipeline's SPA build): the SPA is left as it is"
    return 0
  fi
  local digest group name api_url site token
  # The one build of this commit, byte for byte: the pipeline's `spa` job printed its digest.
  digest=$(sha256sum "$SPA_TAR" | cut -d' ' -f1)
  if [[ -n "${SPA_DIGEST:-}" && "$digest" != "$SPA_DIGEST" ]]; then
    fail "$SPA_TAR is sha256:$digest, not the sha256:$SPA_DIGEST the spa job built"
  fi
  group=$(out resource_group)
  name=$(out spa_name)
  api_url=$(out api_url)
  site=$(mktemp -d)
  tar -xf "$SPA_TAR" -C "$site"
  # This stack's part, beside the bundle: /config.json names the API, the CSP allows it.
  "$PYTHON" scripts/spa_config.py "$site" "$api_url" || fail "the SPA could not be configured"
  # The deployment token is read now and never stored.
  token=$(az staticwebapp secrets list --name "$name" --resource-group "$group" \
    --query properties.apiKey -o tsv)
  [[ -n "$token" ]] || fail "no deployment token for the Static Web App $name"
  if [[ -n "${GITHUB_ACTIONS:-}" ]]; then echo "::add-mask::$token"; fi
  SWA_CLI_DEPLOYMENT_TOKEN="$token" npx --yes @azure/static-web-apps-cli@2.0.2 deploy \
    "$site" --env production
  rm -rf "$site"
  log "SPA sha256:$digest deployed to $name, calling $api_url"
}

# `az containerapp` is a CLI extension: install it without a prompt when first used.
az config set extension.use_dynamic_install=yes_without_prompt >/dev/null

steps="${STEPS:-images up migrate roll-out spa}"
for step in $steps; do
  case "$step" in
    images) ensure_registry; push_images ;;
    up) apply ;;
    migrate) migrate ;;
    roll-out) roll_out ;;
    spa) deploy_spa ;;
    *) fail "unknown step $step" ;;
  esac
done
log "deployed $IMAGE_TAG"
