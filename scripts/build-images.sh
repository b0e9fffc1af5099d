#!/usr/bin/env bash
# Build the release's three images once (CI's `images` job): logdawg-{api,worker,migrator}
# tagged with the commit SHA ($1), which each image also reports on /readyz, saved into one
# archive ($2) that every environment's deploy pushes or promotes unchanged.
set -euo pipefail
sha="${1:?usage: scripts/build-images.sh SHA ARCHIVE}"
archive="${2:?usage: scripts/build-images.sh SHA ARCHIVE}"
[[ "$sha" =~ ^[0-9a-f]{7,40}$ ]] || { echo "error: $sha is not a commit SHA" >&2; exit 2; }
cd "$(dirname "$0")/.."

images=()
for target in api worker migrator; do
  docker build --target "$target" --build-arg "BUILD_SHA=$sha" \
    --tag "logdawg-$target:$sha" --file Dockerfile .
  images+=("logdawg-$target:$sha")
done
docker save --output "$archive" "${images[@]}"
echo "built ${images[*]} into $archive" >&2
