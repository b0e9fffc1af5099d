# shellcheck shell=bash
# Sourced by scripts/start and scripts/test: installs exactly what uv.lock pins into .venv.
# Needs only Python 3.11+ with venv; uv itself is installed into .tools/ from PyPI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "error: Python 3.11 or newer is needed (found: $("$PYTHON" --version 2>&1 || echo none))." >&2
  echo "       Set PYTHON=/path/to/python3.11 to choose one." >&2
  exit 2
fi

UV_VERSION=0.13.8
if [ ! -x .tools/bin/uv ] || [ "$(.tools/bin/uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  echo "installing uv $UV_VERSION into .tools/ ..." >&2
  "$PYTHON" -m venv .tools
  .tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

# Never download a Python build: use the interpreter this machine has.
export UV_PYTHON_DOWNLOADS=never
.tools/bin/uv sync --frozen --quiet --python "$PYTHON"
