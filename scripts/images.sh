#!/usr/bin/env bash
# `make images`: builds every CPU image (router, operator, each CPU provider), tagged as the
# chart names them by default (chorus-<service>:<appVersion>). GPU images too with GPU_IMAGES=1.
#
# Docker when a daemon answers; else podman (buildah's engine: chroot isolation, vfs storage),
# which needs no daemon and no privileges beyond root in a container. When the digest-pinned
# bases cannot be pulled (no registry reachable), local stand-ins are made and passed through
# the Dockerfiles' PYTHON_IMAGE / UV_IMAGE build arguments: a Debian bookworm root filesystem
# with python3.11 (mmdebstrap), and an image holding the host's uv binary.
#
#   STANDINS=auto|always|never  (auto: only when the pinned python base cannot be pulled)
#   ENGINE=docker|podman        (default: docker when `docker info` works, else podman)
#   ONLY="chorus-router chorus-piper"  (build a subset)
set -euo pipefail
cd "$(dirname "$0")/.."

tag=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' charts/chorus/Chart.yaml)
standins=${STANDINS:-auto}
ca_bundle=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
log_dir=.run/images
mkdir -p "$log_dir"

if [[ -z "${ENGINE:-}" ]]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then ENGINE=docker
  elif command -v podman >/dev/null; then ENGINE=podman
  else
    echo "images: no container engine: start Docker, or install podman and buildah" >&2
    echo "        (Debian: apt-get install podman buildah mmdebstrap)" >&2
    exit 1
  fi
fi
# shellcheck source=scripts/engine.sh
source scripts/engine.sh
# shellcheck source=scripts/image_standins.sh
source scripts/image_standins.sh

# The pinned bases, read from the router's Dockerfile (every Dockerfile shares them).
pinned() { sed -n "s/^ARG $1=//p" services/router/Dockerfile; }

# services as "image dockerfile target provider"; GPU ones only when asked.
# A provider without a Dockerfile of its own builds from the shared one for its kind
# (services/providers/Dockerfile.cpu or .gpu), given its name ("-": not built that way).
service_list() {
  local dir pkg
  echo "chorus-router services/router/Dockerfile - -"
  echo "chorus-operator operator/Dockerfile - -"
  for dir in services/providers/*/; do
    dir=${dir%/}
    pkg=chorus-$(basename "$dir")
    [[ -f $dir/pyproject.toml ]] || continue
    # Workspace members are the CPU services; GPU providers keep their own lock (issue 17).
    if grep -q "^name = \"$pkg\"$" uv.lock; then
      if [[ ! -f $dir/Dockerfile ]]; then echo "$pkg services/providers/Dockerfile.cpu - ${dir##*/}"
      elif grep -q "^FROM .* AS runtime$" "$dir/Dockerfile"; then echo "$pkg $dir/Dockerfile runtime -"
      else echo "$pkg $dir/Dockerfile - -"; fi
      if [[ "${GPU_IMAGES:-0}" == 1 && -f $dir/Dockerfile ]] && grep -q "^FROM .* AS gpu$" "$dir/Dockerfile"; then
        echo "$pkg-gpu $dir/Dockerfile gpu -"
      fi
    elif [[ "${GPU_IMAGES:-0}" == 1 ]]; then
      echo "$pkg services/providers/Dockerfile.gpu - ${dir##*/}"
    fi
  done
}

# The shared Dockerfiles' build arguments for one provider: its name, its settings' prefix,
# and the Debian packages its pyproject.toml lists under [tool.chorus.image] apt-packages.
provider_build_args() {
  local provider=$1 apt
  apt=$(python3 - "services/providers/$provider/pyproject.toml" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    config = tomllib.load(f)
print(" ".join(config.get("tool", {}).get("chorus", {}).get("image", {}).get("apt-packages", [])))
PY
)
  printf '%s\n' --build-arg "PROVIDER=$provider" --build-arg "ENV_PREFIX=CHORUS_${provider^^}_" \
    --build-arg "APT_PACKAGES=$apt"
}

build_args=()
python_base=$(pinned PYTHON_IMAGE)
if [[ $standins == always ]] || { [[ $standins == auto ]] && ! engine_pull "$python_base"; }; then
  echo "images: the pinned bases cannot be pulled here; building local stand-ins"
  make_standins "$log_dir"
  build_args+=(--build-arg "PYTHON_IMAGE=$STANDIN_PYTHON" --build-arg "UV_IMAGE=$STANDIN_UV")
fi
# A TLS-inspecting proxy's CA (as on this machine) must be trusted by uv inside the build.
if [[ -r $ca_bundle && $ENGINE == podman ]]; then
  build_args+=(--volume "$ca_bundle:/etc/ssl/certs/host-ca-bundle.crt:ro"
               --build-arg SSL_CERT_FILE=/etc/ssl/certs/host-ca-bundle.crt)
fi

failed=0
built=0
start_all=$SECONDS
while read -r image dockerfile target provider; do
  if [[ -n "${ONLY:-}" && " $ONLY " != *" $image "* ]]; then continue; fi
  target_args=()
  [[ $target != - ]] && target_args=(--target "$target")
  [[ $provider != - ]] && mapfile -t -O "${#target_args[@]}" target_args < <(provider_build_args "$provider")
  start=$SECONDS
  printf 'images: %-22s ' "$image:$tag"
  if engine_build "$log_dir/$image.log" -f "$dockerfile" "${target_args[@]}" "${build_args[@]}" \
      -t "$image:$tag" .; then
    built=$((built + 1))
    printf 'built in %3ds\n' $((SECONDS - start))
  else
    failed=$((failed + 1))
    printf 'FAILED after %ds (log: %s)\n' $((SECONDS - start)) "$log_dir/$image.log"
    tail -n 20 "$log_dir/$image.log" | sed 's/^/    /'
  fi
done < <(service_list)
echo "images: $built built, $failed failed in $((SECONDS - start_all))s with $ENGINE"
[[ $failed -eq 0 ]]
