#!/usr/bin/env bash
# Adds torchaudio to a Higgs environment (scripts/gpu_env.sh, the image): transformers'
# Higgs audio tokenizer refuses to exist without it, and uses one pure-PyTorch function of it
# (torchaudio.functional.resample, to feed its semantic model 16 kHz audio).
#
# No torchaudio release matches torch 2.13 (the newest is 2.11, which pins torch==2.11), so
# its wheel goes in without dependencies and without its native extensions, which are built
# against CUDA torch 2.11; torchaudio then runs as a Python-only install.
set -euo pipefail
env=${1:?usage: gpu-env-setup.sh ENV_DIR}
wheel=torchaudio==2.11.0
if [[ -x $env/bin/pip ]]; then
  "$env/bin/pip" install --quiet --disable-pip-version-check --no-deps "$wheel"
else  # the image's venv is uv's, without pip
  uv pip install --quiet --python "$env/bin/python" --no-deps "$wheel"
fi
site=$("$env/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
rm -f "$site"/torchaudio/lib/*.so
"$env/bin/python" -c 'import torchaudio.functional'
