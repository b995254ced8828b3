#!/usr/bin/env bash
# make test-cuda: every torch package's suite and the batching bench on a GPU, offline.
#
# For a GPU machine with CUDA PyTorch and transformers preinstalled (CUDA_PYTHON, default
# python3) and no network: the packages' environments see that interpreter's packages and get
# the rest of their pins from the wheelhouse .gpu-wheels/ (make gpu-wheels, carried with the
# tree). The tiny random models run on CUDA (CHORUS_TORCH_DEVICE=cuda). One summary is printed
# and written to $OUT/test-cuda.txt when OUT is set (a device run's folder), else
# .run/test-cuda.txt. Fails at once, with the reason, where torch sees no GPU.
set -uo pipefail
cd "$(dirname "$0")/.."

PYTHON=${CUDA_PYTHON:-python3}
REPORT_DIR=${OUT:-.run}
SUMMARY=$REPORT_DIR/test-cuda.txt
BENCH_SECTION=bench/gpu_batching.py
BENCH_STREAMS=8
mkdir -p "$REPORT_DIR"
: >"$SUMMARY"

say() { echo "$*" | tee -a "$SUMMARY"; }

# The GPU torch sees, as "name|torch version|CUDA version"; the reason it sees none otherwise.
gpu=$("$PYTHON" - 2>&1 <<'PY'
import sys
try:
    import torch
except ImportError:
    sys.exit(f"{sys.executable} has no torch; run it where CUDA PyTorch is installed "
             "(CUDA_PYTHON names the interpreter)")
if not torch.cuda.is_available():
    sys.exit(f"torch {torch.__version__} ({sys.executable}) sees no CUDA device; "
             "run it on a GPU machine")
print(f"{torch.cuda.get_device_name(0)}|{torch.__version__}|{torch.version.cuda}")
PY
) || {
  say "test-cuda: FAILED, no GPU: ${gpu##*$'\n'}"
  exit 1
}
# Its last line: torch may have warned first.
IFS='|' read -r gpu_name torch_version cuda_version <<<"${gpu##*$'\n'}"
if [[ ! -f .gpu-wheels/packages.txt ]]; then
  say "test-cuda: FAILED, no wheelhouse: run make gpu-wheels where there is a network and carry .gpu-wheels"
  exit 1
fi

# The suites at once: a GPU machine has the cores, and each suite mostly waits on its own.
export GPU_ENV_TORCH=preinstalled GPU_ENV_PYTHON=$PYTHON CHORUS_TORCH_DEVICE=cuda GPU_ENV_PARALLEL=1
# No main environment here (it needs a network): the tests that start the router from it are
# skipped, and said to be in each package's line.
export CHORUS_TEST_OFFLINE_GPU=1
failed=0

# The suites of the packages the wheelhouse serves: gpu_env.sh prints the failures' output,
# then one "NAME: ..." line a package. The others are named as skipped.
mapfile -t served <.gpu-wheels/packages.txt
serves() { [[ " ${served[*]} " == *" $1 "* ]]; }
scripts/gpu_env.sh test "${served[@]}" 2>&1 | tee "$REPORT_DIR/test-cuda-suites.log"
((PIPESTATUS[0] == 0)) || failed=1
suites=$(grep -E '^[a-z0-9-]+: ([0-9]+ passed|FAILED)' "$REPORT_DIR/test-cuda-suites.log")
for pkg in $(scripts/gpu_env.sh packages); do
  serves "$pkg" ||
    suites+=$'\n'"$(basename "$pkg"): skipped, not in this wheelhouse (GPU_WHEELS_PACKAGES)"
done

# Each GPU process's memory every 200 ms while the bench runs, as "PID NAME MiB", NAME the last
# word of its command line (a provider's: `python -m chorus_provider dia`).
sample_gpu_memory() {
  local pid used name
  while sleep 0.2; do
    nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits 2>/dev/null |
      while IFS=', ' read -r pid used; do
        name=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | awk '{print $NF}')
        echo "$pid ${name:-pid-$pid} $used"
      done
  done
}

# The peak of each process, and that shared by the streams of the bench's widest step.
peak_gpu_memory() {
  awk -v streams="$BENCH_STREAMS" '
    $3 + 0 > peak[$2] { peak[$2] = $3 + 0 }
    END { for (name in peak) printf "peak GPU memory, %s: %d MiB, %.0f MiB a stream at %d streams\n",
          name, peak[name], peak[name] / streams, streams }' "$1"
}

bench="skipped: $BENCH_SECTION does not exist yet"
serves services/providers/dia && serves services/providers/higgs ||
  bench="skipped: it needs Dia and Higgs in the wheelhouse"
if [[ -f $BENCH_SECTION && $bench != *wheelhouse ]]; then
  samples=$REPORT_DIR/test-cuda-gpu-memory.txt
  sample_gpu_memory >"$samples" &
  sampler=$!
  # `make bench` needs the main environment (made with a network); without it, the section
  # alone runs in the Dia environment, which has what it imports, starts the providers in
  # theirs and prints its table in markdown.
  if [[ -x .venv/bin/python ]]; then
    make --no-print-directory bench BENCH=gpu-batching 2>&1 | tee "$REPORT_DIR/test-cuda-bench.log"
  else
    dia_env=$(scripts/gpu_env.sh env services/providers/dia)
    PYTHONPATH=tests:. "$dia_env/bin/python" - "$gpu_name" 2>&1 <<'PY' | tee "$REPORT_DIR/test-cuda-bench.log"
import sys
import tempfile
import time
from pathlib import Path

from bench import gpu_batching

with tempfile.TemporaryDirectory() as logs:
    table = gpu_batching.alone_vs_batched(Path(logs))
print(table.markdown(f"{time.strftime('%Y-%m-%d')}, {sys.argv[1]}"))
PY
  fi
  rc=${PIPESTATUS[0]}
  kill "$sampler" 2>/dev/null
  wait "$sampler" 2>/dev/null
  if ((rc == 0)); then
    # Its table in markdown, else the end of what it printed.
    figures=$(grep -E '^(\||\*\*|Command:)' "$REPORT_DIR/test-cuda-bench.log" ||
      tail -15 "$REPORT_DIR/test-cuda-bench.log")
    bench="passed"$'\n'$figures$'\n'$(peak_gpu_memory "$samples")
  else
    bench="FAILED (exit $rc; test-cuda-bench.log)"
    failed=1
  fi
fi

say "test-cuda on $gpu_name (torch $torch_version, CUDA $cuda_version), $(date -u '+%Y-%m-%d %H:%M UTC')"
say "${suites:-no package reported (test-cuda-suites.log)}"
say "bench gpu-batching: $bench"
say "wall time: $((SECONDS / 60)) min $((SECONDS % 60)) s"
((failed == 0)) && say "test-cuda: passed" || say "test-cuda: FAILED"
exit $failed
