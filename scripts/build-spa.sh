#!/usr/bin/env bash
# Build the SPA once per commit (the pipeline's `spa` job) into one archive ($1) that every
# environment's deploy uploads unchanged: where the API is comes from the /config.json that
# scripts/deploy.sh writes beside the bundle (scripts/spa_config.py), never from the build.
# The archive is reproducible (sorted, fixed times and owners); its sha256 is printed on
# stdout, and deploy.sh refuses an archive with another one.
set -euo pipefail
archive="${1:?usage: scripts/build-spa.sh ARCHIVE}"
archive=$(realpath -m "$archive")
cd "$(dirname "$0")/../frontend"

{
  npm ci --no-audit --no-fund --loglevel=error
  npm run build
} >&2
rm -f dist/config.json dist/.logdawg-source-hash
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu \
  -cf "$archive" -C dist .
echo "built the SPA into $archive" >&2
sha256sum "$archive" | cut -d' ' -f1
