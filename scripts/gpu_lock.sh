#!/usr/bin/env bash
# Compile a torch package's requirements.lock from its requirements.in and overrides.txt.
#
#   scripts/gpu_lock.sh PKG_DIR [UV_ARGS...]    e.g. --upgrade-package transformers
#
# Every torch package (libs/torch-engine, the GPU providers) installs from such a lock. It
# names every distribution at one version, so it is installed with `--no-deps`
# (scripts/gpu_env.sh, services/providers/Dockerfile.gpu) and makes the same environment
# wherever it is installed.
# - requirements.in: the package's direct third-party pins (`-r` another package's .in to
#   share its pins). Our libs and the package itself are added here as editable sources, so
#   their declared dependencies are locked too; they are left out of the lock, being
#   installed editable (tests) or from the source tree (images).
# - overrides.txt: pins that replace the packages' own (chatterbox-tts pins torch==2.6.0),
#   at least torch's CPU wheel from /opt/wheels. torch is written without its local label,
#   so the same lock serves the CPU tests and the CUDA images.
# The lock already there is the resolver's preference: a re-lock moves only what it must.
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=${1:?usage: gpu_lock.sh PKG_DIR [UV_ARGS...]}
shift
links=${PIP_FIND_LINKS:-/opt/wheels}
uv() { if command -v uv >/dev/null 2>&1; then command uv "$@"; else python3.11 -m uv "$@"; fi; }

sources=$(mktemp --suffix=.txt)
trap 'rm -f "$sources"' EXIT
for dir in libs/*/ "$pkg/"; do
  [[ -f $dir/pyproject.toml ]] && echo "-e $PWD/${dir%/}"
done | sort -u >"$sources"
(
  cd "$pkg"
  uv pip compile requirements.in "$sources" --override overrides.txt --find-links "$links" \
    --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
    --no-header --no-annotate --quiet --output-file requirements.lock "$@"
  pins=$(grep -v '^-e ' requirements.lock | sed -E 's/^torch==([0-9.]+)\+cpu$/torch==\1/')
  {
    echo "# Compiled by scripts/gpu_lock.sh from requirements.in + overrides.txt; install with"
    echo "# --no-deps (it pins every distribution; torch first, where CUDA is wanted)."
    echo "$pins"
  } >requirements.lock
)
echo "$pkg/requirements.lock: $(grep -c '==' "$pkg/requirements.lock") pins"
