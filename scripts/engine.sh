# Sourced by scripts/images.sh and scripts/test_images.sh: the one place that knows how Docker
# and podman are called here. ENGINE must be set (docker or podman).
# podman runs daemonless as root inside a container: chroot isolation (no nested namespaces
# needed) and vfs storage (no overlay mounts needed). PODMAN_STORAGE_DRIVER overrides it.

if [[ $ENGINE == podman ]]; then
  ENGINE_CMD=(podman --storage-driver "${PODMAN_STORAGE_DRIVER:-vfs}")
  ENGINE_BUILD=(build --isolation chroot --layers)
else
  ENGINE_CMD=(docker)
  ENGINE_BUILD=(build)
  export DOCKER_BUILDKIT=1
fi

engine() { "${ENGINE_CMD[@]}" "$@"; }

engine_image_exists() { engine image inspect "$1" >/dev/null 2>&1; }

# Whether `image` is here or can be pulled; a minute at most when no registry answers.
engine_pull() {
  engine_image_exists "$1" || timeout 60 "${ENGINE_CMD[@]}" pull -q "$1" >/dev/null 2>&1
}

# engine_build LOG ARGS...: a low-priority build (the machine is shared), its output in LOG.
engine_build() {
  local log=$1
  shift
  nice -n 10 "${ENGINE_CMD[@]}" "${ENGINE_BUILD[@]}" "$@" >"$log" 2>&1
}
