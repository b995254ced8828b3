#!/usr/bin/env bash
# The wheelhouse `make test-cuda` installs from on a GPU machine with no network.
#
#   scripts/gpu_wheels.sh       (re)fill .gpu-wheels/ (ignored); prints its size and the tree's
#
# It holds what the torch packages in GPU_WHEELS_PACKAGES (default: those in
# scripts/gpu-wheels-packages.txt) pin (their requirements.lock, the
# test tools, the build backend), for Linux x86-64 and each CPython in GPU_WHEELS_PYTHONS
# (default 3.12, the GPU image's python3), less what the GPU image already has
# (scripts/gpu-preinstalled.txt: CUDA torch, transformers, their CUDA libraries and the rest of
# that image; GPU_WHEELS_PRELOADED= keeps everything, for a bare CUDA machine).
# .gpu-wheels/packages.txt names the packages it serves; make test-cuda runs those.
#
# A device run carries 64 MiB with the tree. The default packages take about 50 MiB, 35 of
# them PyAV (chorus-audio). Chatterbox and NeuTTS add Resemble's Perth watermark model
# (34 MB) each: with PyAV, more than one run carries, so neither is in by default.
set -euo pipefail
cd "$(dirname "$0")/.."

WHEELS=${GPU_WHEELS_DIR:-.gpu-wheels}
PACKAGES=${GPU_WHEELS_PACKAGES:-$(grep -v '^#' scripts/gpu-wheels-packages.txt)}
PYTHONS=${GPU_WHEELS_PYTHONS:-3.12}
PRELOADED=${GPU_WHEELS_PRELOADED-scripts/gpu-preinstalled.txt}
CARRY_MIB=64

# manylinux tags up to the GPU image's glibc (Ubuntu 24.04: 2.39); pip matches them exactly.
platforms=(--platform manylinux1_x86_64 --platform manylinux2014_x86_64)
for minor in $(seq 17 39); do platforms+=(--platform "manylinux_2_${minor}_x86_64"); done

# The pins to fetch, one line each: the packages' locks and the test tools (not the type
# checker's), less the distributions named in $PRELOADED (names as PEP 503 normalises them);
# then the build backend, whole.
pins() {
  local pkg
  for pkg in $PACKAGES; do
    [[ -f $pkg/requirements.lock ]] || { echo "gpu-wheels: $pkg/requirements.lock is missing" >&2; return 1; }
    grep -h '==' "$pkg/requirements.lock"
  done | cat - scripts/gpu-test-requirements.txt | grep '==' |
    python3 -c '
import re, sys
norm = lambda name: re.sub(r"[-_.]+", "-", name).lower()
skip = set()
if sys.argv[1]:
    skip = {norm(line.strip()) for line in open(sys.argv[1]) if line.strip() and line[0] != "#"}
for line in sys.stdin:
    if norm(line.split("==")[0]) not in skip:
        print(line.strip())
' "$PRELOADED"
  grep -h '==' scripts/gpu-build-requirements.txt
}

# One pip call per round of pins that name each distribution once (two locks may pin two
# versions of one). A pin with no wheel for that Python is built here from its source
# distribution (pure-Python ones; pip names it), and the round goes on without it.
download_round() {
  local python=$1 round=$2 log missing
  log=$(mktemp)
  until python3 -m pip download --quiet --no-deps --only-binary=:all: --implementation cp \
    --python-version "$python" "${platforms[@]}" --dest "$WHEELS" -r "$round" 2>"$log"; do
    missing=$(grep -Eo 'No matching distribution found for [^ ]+' "$log" | awk '{print $NF}')
    if [[ -z $missing ]] || ! python3 -m pip wheel --quiet --no-deps --wheel-dir "$WHEELS" \
      "$missing" 2>/dev/null; then
      cat "$log" >&2
      echo "gpu-wheels: no wheel of ${missing:-a pin} for CPython $python on Linux x86-64" >&2
      rm -f "$log"
      return 1
    fi
    grep -vxF "$missing" "$round" >"$round.next" || true
    mv "$round.next" "$round"
  done
  rm -f "$log"
}

mib() { echo $((($1 + 1048575) / 1048576)); }

rounds=$(mktemp -d)
trap 'rm -rf "$rounds"' EXIT
pins | sort -u | awk -F'==' -v dir="$rounds" '{ print > (dir "/" ++seen[tolower($1)]) }'
# A fresh folder: wheels of packages no longer chosen would only take the carry's room.
rm -rf "$WHEELS"
mkdir -p "$WHEELS"
for python in $PYTHONS; do
  for round in "$rounds"/[0-9]*; do
    cp "$round" "$rounds/left"
    download_round "$python" "$rounds/left" || exit 1
  done
done
printf '%s\n' $PACKAGES >"$WHEELS/packages.txt"

wheels=$(du -sb "$WHEELS" | cut -f1)
tree=$(git ls-files -z --cached --others --exclude-standard | du -cb --files0-from=- | tail -1 | cut -f1)
echo "gpu-wheels: $(cat "$rounds"/[0-9]* | wc -l) pins for CPython $PYTHONS in $WHEELS:" \
  "$(mib "$wheels") MiB, with the tree's $(mib "$tree") MiB of the $CARRY_MIB a device run carries"
if (($(mib "$wheels") + $(mib "$tree") > CARRY_MIB)); then
  echo "gpu-wheels: too big to carry; name fewer packages in GPU_WHEELS_PACKAGES" >&2
  exit 1
fi
