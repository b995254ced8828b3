#!/usr/bin/env bash
# Compile a GPU provider's requirements.lock from its requirements.in and overrides.txt.
#
#   scripts/gpu_lock.sh PKG_DIR
#
# For packages whose own pins cannot be installed beside the torch we run (chatterbox-tts
# pins torch==2.6.0): uv's overrides replace those pins, and the lock, which then names
# every distribution, is installed with `pip --no-deps` (scripts/gpu_env.sh, Dockerfiles).
# torch is resolved as the CPU wheel in /opt/wheels and written without its local label, so
# the same lock serves the CPU tests and the CUDA images. Our own libs are left out: they are
# installed editable (tests) or from the source tree (images).
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=${1:?usage: gpu_lock.sh PKG_DIR}
links=${PIP_FIND_LINKS:-/opt/wheels}
uv() { if command -v uv >/dev/null 2>&1; then command uv "$@"; else python3.11 -m uv "$@"; fi; }
(
  cd "$pkg"
  uv pip compile requirements.in --override overrides.txt --find-links "$links" \
    --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
    --no-header --no-annotate --quiet |
    grep -v '^-e ' | sed -E 's/^torch==([0-9.]+)\+cpu$/torch==\1/' >requirements.lock.new
  {
    echo "# Compiled by scripts/gpu_lock.sh from requirements.in + overrides.txt; install with"
    echo "# pip --no-deps (it pins every distribution; torch first, where CUDA is wanted)."
    cat requirements.lock.new
  } >requirements.lock
  rm requirements.lock.new
)
echo "$pkg/requirements.lock: $(grep -c '==' "$pkg/requirements.lock") pins"
