#!/usr/bin/env bash
# Environments for the torch packages (libs/torch-engine and the GPU providers), which stay
# out of the uv workspace so the main .venv never gets torch.
#
#   scripts/gpu_env.sh packages      list the torch packages
#   scripts/gpu_env.sh env PKG_DIR   create (or reuse) PKG_DIR's environment; prints its path
#   scripts/gpu_env.sh test [PKG_DIR...]   run every (or these) torch package's tests on CPU,
#                                    one line each: "NAME: N passed (S s)"; exits non-zero on a
#                                    failure or no tests (on CHORUS_TORCH_DEVICE when set)
#
# The packages are the `[tool.uv.workspace] exclude` entries of pyproject.toml that exist.
# Each has a requirements.lock naming every distribution it needs (scripts/gpu_lock.sh);
# packages with the same lock share one environment under .venv-gpu/, made by uv. torch is
# the CPU build: the wheel in PIP_FIND_LINKS (/opt/wheels) when there is one, else from
# PyTorch's CPU index.
# GPU_ENV_TORCH=preinstalled (make test-cuda, offline on a GPU machine): the environments are
# under .venv-cuda/, made with GPU_ENV_PYTHON and seeing its own packages (the CUDA torch and
# transformers it has); pip installs only the pins it lacks, from the wheelhouse .gpu-wheels/
# (scripts/gpu_wheels.sh), with no index.
# GPU_ENV_IMAGE_PINS=FILE (make test-gpu-image): on CPU, under .venv-gpu-image/, each
# environment takes FILE's version of any distribution its lock pins too, over the lock's:
# the GPU image's transformers and Hugging Face libraries, which make test-cuda keeps
# (scripts/gpu-image-pins.txt), so that a lock moved ahead of the image fails here first.
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT=$PWD
PYTHON=${GPU_ENV_PYTHON:-python3.11}
TEST_REQS=scripts/gpu-test-requirements.txt
LINT_REQS=scripts/gpu-lint-requirements.txt
BUILD_REQS=scripts/gpu-build-requirements.txt
TORCH=${GPU_ENV_TORCH:-cpu}
WHEELS=${GPU_WHEELS_DIR:-$ROOT/.gpu-wheels}
IMAGE_PINS=${GPU_ENV_IMAGE_PINS:-}
ENVS=$ROOT/.venv-gpu
[[ -n $IMAGE_PINS ]] && ENVS=$ROOT/.venv-gpu-image
[[ $TORCH == preinstalled ]] && ENVS=$ROOT/.venv-cuda

uv() { if command -v uv >/dev/null 2>&1; then command uv "$@"; else "$PYTHON" -m uv "$@"; fi; }

# pip's install into one environment: uv's, or offline from the wheelhouse with the
# environment's own pip (the interpreter's, which it sees) where no uv and no network are.
install_into() {
  local python=$1
  shift
  if [[ $TORCH == preinstalled ]]; then
    # The build backend is in the environment (install_preinstalled): no isolated one to fill.
    "$python" -m pip install --quiet --no-index --find-links "$WHEELS" --no-cache-dir \
      --no-build-isolation "$@" >&2
  else
    uv pip install --quiet --python "$python" "$@" >&2
  fi
}

# Our libs, installed editable into every environment.
lib_dirs() {
  local dir
  for dir in libs/*/; do
    dir=${dir%/}
    [[ -f $dir/pyproject.toml && $dir != libs/torch-engine ]] && echo "$dir"
  done
  echo libs/torch-engine
}

packages() {
  python3 - <<'PY'
import glob, tomllib
with open("pyproject.toml", "rb") as f:
    excluded = tomllib.load(f)["tool"]["uv"]["workspace"].get("exclude", [])
for pattern in excluded:
    for path in sorted(glob.glob(pattern)):
        print(path)
PY
}

# torch alone first: the CPU wheel of the pinned version, from PIP_FIND_LINKS when it has one
# (as /opt/wheels here), else from PyTorch's CPU index. The rest then finds it installed.
install_torch() {
  local python=$1 version=$2 links=${PIP_FIND_LINKS:-/opt/wheels}
  if compgen -G "$links/torch-$version+cpu-*.whl" >/dev/null; then
    uv pip install --quiet --python "$python" --find-links "$links" "torch==$version" >&2
  else
    uv pip install --quiet --python "$python" --index-url https://download.pytorch.org/whl/cpu \
      "torch==$version" >&2
  fi
}

# A package's requirements.lock (scripts/gpu_lock.sh) names every distribution: torch first
# (the CPU build), then the lock without dependency resolution, then the test and type-check
# tools.
# torchaudio is used for its Python parts only; its compiled extension, built against
# another torch, fails to load, and once removed torchaudio takes it as absent.
install_lock() {
  local python=$1/bin/python lock=$2
  install_torch "$python" "$(sed -n 's/^torch==//p' "$lock")"
  uv pip install --quiet --python "$python" --no-deps -r "$lock" >&2
  uv pip install --quiet --python "$python" -r "$TEST_REQS" -r "$LINT_REQS" >&2
  rm -f "$1"/lib/python3*/site-packages/torchaudio/lib/*.so
  [[ -z $IMAGE_PINS ]] || install_image_pins "$python" "$lock"
}

# The image's version of each distribution the lock pins too (GPU_ENV_IMAGE_PINS).
install_image_pins() {
  local python=$1 lock=$2 pins
  pins=$("$python" - "$lock" "$IMAGE_PINS" <<'PY'
import re
import sys


def pins(path: str) -> dict[str, str]:
    found = {}
    for line in open(path):
        line = line.split("#")[0].strip()
        if "==" in line:
            found[re.sub(r"[-_.]+", "-", line.split("==")[0]).lower()] = line
    return found


locked = pins(sys.argv[1])
print("\n".join(line for name, line in pins(sys.argv[2]).items() if name in locked))
PY
  )
  [[ -z $pins ]] || uv pip install --quiet --python "$python" --no-deps $pins >&2
}

# An environment on GPU_ENV_PYTHON's own packages: a path file puts its site-packages after the
# environment's own, so what is installed here wins and the rest (CUDA torch, transformers and
# what they pin) is the machine's. A venv made from a venv does not see its parent's packages,
# which --system-site-packages would not fix.
install_preinstalled() {
  local env=$1 lock=$2 site
  site=$("$env/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
  "$PYTHON" -c 'import site; print("\n".join(site.getsitepackages()))' >"$site/preinstalled.pth"
  # The pins whose distribution the machine lacks (any version of one it has is kept).
  "$env/bin/python" - "$lock" "$TEST_REQS" >"$env/missing.txt" <<'PY'
import sys
from importlib.metadata import PackageNotFoundError, distribution

for path in sys.argv[1:]:
    for line in open(path):
        if "==" not in line or line.startswith("#"):
            continue
        try:
            distribution(line.split("==")[0])
        except PackageNotFoundError:
            print(line.strip())
PY
  install_into "$env/bin/python" --no-deps -r "$env/missing.txt" -r "$BUILD_REQS"
}

# The environment of one package, made from its requirements.lock, then our packages
# installed editable on top without dependencies (the lock pins all of theirs). Packages
# with the same lock share one environment.
env_for() {
  local pkg=$1 lock=$1/requirements.lock key env
  [[ -f $lock ]] || { echo "gpu_env: $lock is missing (scripts/gpu_lock.sh $pkg)" >&2; return 1; }
  key=$(cat "$lock" "$TEST_REQS" "$LINT_REQS" ${IMAGE_PINS:+"$IMAGE_PINS"} | sha256sum | cut -c1-12)
  env=$ENVS/$key
  if [[ ! -f $env/.requirements-installed ]]; then
    echo "gpu_env: creating $env for $pkg" >&2
    rm -rf "$env"
    if [[ $TORCH == preinstalled ]]; then
      # No pip of its own: the machine's (which it sees) installs into it.
      "$PYTHON" -m venv --without-pip "$env"
      install_preinstalled "$env" "$lock"
    else
      uv venv --quiet --python "$PYTHON" "$env"
      install_lock "$env" "$lock"
      if ! "$env/bin/python" -c 'import sys, torch; sys.exit(torch.version.cuda is not None)'; then
        echo "gpu_env: $env got a CUDA build of torch; expected the CPU wheel" >&2
        return 1
      fi
    fi
    touch "$env/.requirements-installed"
  fi
  # Each installed with the pyproject.toml it had then: its entry points (the provider's
  # command and engine) are read from that, so a changed file installs the package again.
  local -a editable=() stamps=() dirs
  local stamp
  mapfile -t dirs < <(lib_dirs)
  for dir in "${dirs[@]}" "$pkg"; do
    stamp="$dir $(sha256sum <"$dir/pyproject.toml" | cut -c1-12)"
    grep -qxF "$stamp" "$env/.editable" 2>/dev/null && continue
    editable+=(-e "$dir")
    stamps+=("$stamp")
  done
  if ((${#editable[@]})); then
    install_into "$env/bin/python" --no-deps "${editable[@]}"
    printf '%s\n' "${stamps[@]}" >>"$env/.editable"
  fi
  echo "$env"
}

# One package's suite in its environment: its failures' output and one "NAME: ..." line.
run_suite() {
  local pkg=$1 env=$2 name out rc passed skipped started=$SECONDS
  name=$(basename "$pkg")
  set +e
  out=$("$env/bin/python" -m pytest -c "$pkg/pyproject.toml" --rootdir "$pkg" "$pkg/tests" \
    -q -p no:cacheprovider ${PYTEST_ARGS:-} 2>&1)
  rc=$?
  set -e
  # None passed: grep finds nothing, which pipefail would make fatal.
  passed=$(grep -Eo '[0-9]+ passed' <<<"$out" | tail -1 | cut -d' ' -f1) || true
  skipped=$(grep -Eo '[0-9]+ skipped' <<<"$out" | tail -1) || true
  if ((rc == 0)) && [[ -n $passed ]]; then
    echo "$name: $passed passed${skipped:+, $skipped} ($((SECONDS - started)) s)"
    return 0
  fi
  echo "$out" | tail -40
  ((rc == 5)) && echo "$name: FAILED (no tests collected)" || echo "$name: FAILED (pytest exit $rc)"
  return 1
}

# Every package's environment first, then the suites: one after another, or all at once with
# GPU_ENV_PARALLEL=1 (make test-cuda, on a machine with cores to spare), their output in order.
run_tests() {
  local failed=0 pkg env i results
  local -a pkgs=("$@") ready=() envs=() pids=()
  ((${#pkgs[@]})) || mapfile -t pkgs < <(packages)
  if ((${#pkgs[@]} == 0)); then
    echo "test-gpu: no torch packages listed in [tool.uv.workspace] exclude" >&2
    return 1
  fi
  for pkg in "${pkgs[@]}"; do
    env=$(env_for "$pkg") || { echo "$(basename "$pkg"): FAILED (environment)"; failed=1; continue; }
    ready+=("$pkg")
    envs+=("$env")
  done
  # The tests' providers run on this device (chorus_torch's settings read it).
  export CHORUS_TORCH_DEVICE=${CHORUS_TORCH_DEVICE:-cpu}
  if [[ ${GPU_ENV_PARALLEL:-} == 1 ]]; then
    results=$(mktemp -d)
    for i in "${!ready[@]}"; do
      run_suite "${ready[i]}" "${envs[i]}" >"$results/$i" 2>&1 &
      pids+=($!)
    done
    for i in "${!ready[@]}"; do
      wait "${pids[i]}" || failed=1
      cat "$results/$i"
    done
    rm -rf "$results"
  else
    for i in "${!ready[@]}"; do
      run_suite "${ready[i]}" "${envs[i]}" || failed=1
    done
  fi
  # Environments no package uses any more (their pins changed) only take disk space.
  (($#)) && return $failed
  for env in "$ENVS"/*/; do
    env=${env%/}
    [[ " ${envs[*]} " == *" $env "* ]] || rm -rf "$env"
  done
  return $failed
}

case ${1:-} in
  packages) packages ;;
  env) env_for "${2:?usage: gpu_env.sh env PKG_DIR}" ;;
  test) shift && run_tests "$@" ;;
  *) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
