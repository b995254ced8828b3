# Sourced by scripts/images.sh: local stand-ins for the digest-pinned bases, for machines that
# reach Debian's mirror and PyPI but no container registry. Made once, then reused.
#   python: Debian bookworm with python3.11 (mmdebstrap), /usr/local/bin/python3.11 linked
#           where the official python image has it (the Dockerfiles' UV_PYTHON points there);
#   uv:     the host's uv binary at /uv, as ghcr.io/astral-sh/uv ships it.

STANDIN_PYTHON=localhost/chorus-standin/python:3.11-bookworm
STANDIN_UV=localhost/chorus-standin/uv:host

make_standins() {
  local work=$1
  if ! engine_image_exists "$STANDIN_PYTHON"; then
    command -v mmdebstrap >/dev/null || {
      echo "images: the python stand-in needs mmdebstrap (apt-get install mmdebstrap)" >&2
      return 1
    }
    echo "images: making $STANDIN_PYTHON with mmdebstrap"
    local links='for name in python3.11 python3 python; do ln -sf /usr/bin/python3.11 "$1/usr/local/bin/$name"; done'
    nice -n 10 mmdebstrap --quiet --variant=apt --include=python3.11,passwd,ca-certificates \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' \
      --customize-hook="$links" bookworm "$work/python-standin.tar" >"$work/python-standin.log" 2>&1
    engine import --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV LANG=C.UTF-8' "$work/python-standin.tar" "$STANDIN_PYTHON" >/dev/null 2>&1
    rm -f "$work/python-standin.tar"
  fi
  if ! engine_image_exists "$STANDIN_UV"; then
    local uv_bin context
    uv_bin=$(_host_uv) || { echo "images: the uv stand-in needs uv on the host" >&2; return 1; }
    context=$(mktemp -d)
    cp "$uv_bin" "$context/uv"
    printf 'FROM scratch\nCOPY uv /uv\n' >"$context/Dockerfile"
    echo "images: making $STANDIN_UV from $("$context/uv" --version)"
    engine_build "$work/uv-standin.log" -t "$STANDIN_UV" "$context"
    rm -rf "$context"
  fi
}

# The uv executable itself: PATH may hold a shim (pyenv) that runs it.
_host_uv() {
  local found
  found=$(command -v uv) || found=""
  if [[ -n $found ]] && file -L "$found" | grep -q ELF; then readlink -f "$found"; return; fi
  command -v pyenv >/dev/null && found=$(pyenv which uv 2>/dev/null) && [[ -x $found ]] && {
    echo "$found"; return; }
  python3 -c 'import uv; print(uv.find_uv_bin())' 2>/dev/null
}
