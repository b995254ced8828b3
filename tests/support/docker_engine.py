"""Whether a Docker engine answers: fixtures then use testcontainers, else local packages."""

from __future__ import annotations


def docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:  # no client library, no socket, no daemon: all mean "use the binaries"
        return False
    return True
