#!/usr/bin/env bash
# Environments for the torch packages (libs/torch-engine and the GPU providers), which stay
# out of the uv workspace so the main .venv never gets torch.
#
#   scripts/gpu_env.sh packages      list the torch packages
#   scripts/gpu_env.sh env PKG_DIR   create (or reuse) PKG_DIR's environment; prints its path
#   scripts/gpu_env.sh test          run every torch package's tests on CPU, one line each:
#                                    "NAME: N passed"; exits non-zero on a failure or no tests
#
# The packages are the `[tool.uv.workspace] exclude` entries of pyproject.toml that exist.
# Each has a requirements.lock naming every distribution it needs (scripts/gpu_lock.sh);
# packages with the same lock share one environment under .venv-gpu/, made by uv. torch is
# the CPU build: the wheel in PIP_FIND_LINKS (/opt/wheels) when there is one, else from
# PyTorch's CPU index.
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT=$PWD
PYTHON=${GPU_ENV_PYTHON:-python3.11}
TEST_REQS=scripts/gpu-test-requirements.txt

uv() { if command -v uv >/dev/null 2>&1; then command uv "$@"; else "$PYTHON" -m uv "$@"; fi; }

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
# (the CPU build), then the lock without dependency resolution, then the test tools.
# torchaudio is used for its Python parts only; its compiled extension, built against
# another torch, fails to load, and once removed torchaudio takes it as absent.
install_lock() {
  local python=$1/bin/python lock=$2
  install_torch "$python" "$(sed -n 's/^torch==//p' "$lock")"
  uv pip install --quiet --python "$python" --no-deps -r "$lock" >&2
  uv pip install --quiet --python "$python" -r "$TEST_REQS" >&2
  rm -f "$1"/lib/python3*/site-packages/torchaudio/lib/*.so
}

# The environment of one package, made from its requirements.lock, then our packages
# installed editable on top without dependencies (the lock pins all of theirs). Packages
# with the same lock share one environment.
env_for() {
  local pkg=$1 lock=$1/requirements.lock key env
  [[ -f $lock ]] || { echo "gpu_env: $lock is missing (scripts/gpu_lock.sh $pkg)" >&2; return 1; }
  key=$(cat "$lock" "$TEST_REQS" | sha256sum | cut -c1-12)
  env=$ROOT/.venv-gpu/$key
  if [[ ! -f $env/.requirements-installed ]]; then
    echo "gpu_env: creating $env for $pkg" >&2
    rm -rf "$env"
    uv venv --quiet --python "$PYTHON" "$env"
    install_lock "$env" "$lock"
    if ! "$env/bin/python" -c 'import sys, torch; sys.exit(torch.version.cuda is not None)'; then
      echo "gpu_env: $env got a CUDA build of torch; expected the CPU wheel" >&2
      return 1
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
    uv pip install --quiet --python "$env/bin/python" --no-deps "${editable[@]}" >&2
    printf '%s\n' "${stamps[@]}" >>"$env/.editable"
  fi
  echo "$env"
}

run_tests() {
  local failed=0 pkg env name out rc passed
  local -a pkgs
  mapfile -t pkgs < <(packages)
  if ((${#pkgs[@]} == 0)); then
    echo "test-gpu: no torch packages listed in [tool.uv.workspace] exclude" >&2
    return 1
  fi
  local -a used=()
  for pkg in "${pkgs[@]}"; do
    name=$(basename "$pkg")
    env=$(env_for "$pkg") || { echo "$name: FAILED (environment)"; failed=1; continue; }
    used+=("$env")
    set +e
    out=$("$env/bin/python" -m pytest -c "$pkg/pyproject.toml" --rootdir "$pkg" "$pkg/tests" \
      -q -p no:cacheprovider ${PYTEST_ARGS:-} 2>&1)
    rc=$?
    set -e
    passed=$(grep -Eo '[0-9]+ passed' <<<"$out" | tail -1 | cut -d' ' -f1)
    if ((rc == 0)) && [[ -n $passed ]]; then
      echo "$name: $passed passed"
    else
      echo "$out" | tail -40
      ((rc == 5)) && echo "$name: FAILED (no tests collected)" || echo "$name: FAILED (pytest exit $rc)"
      failed=1
    fi
  done
  # Environments no package uses any more (their pins changed) only take disk space.
  for env in "$ROOT"/.venv-gpu/*/; do
    env=${env%/}
    [[ " ${used[*]} " == *" $env "* ]] || rm -rf "$env"
  done
  return $failed
}

case ${1:-} in
  packages) packages ;;
  env) env_for "${2:?usage: gpu_env.sh env PKG_DIR}" ;;
  test) run_tests ;;
  *) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
