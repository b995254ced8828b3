"""The root .dockerignore sends what the Dockerfiles copy and nothing else."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from images.dockerfiles import REPO, services

IGNORE = REPO / ".dockerignore"


def _patterns() -> list[str]:
    lines = (line.strip() for line in IGNORE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _excluded(path: str) -> bool:
    """Docker's rule: the last matching pattern wins; a match on a parent covers its children."""
    parts = Path(path).parts
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in _patterns():
        negated = pattern.startswith("!")
        glob = pattern.removeprefix("!").rstrip("/")
        if any(_match(glob, candidate) for candidate in candidates):
            excluded = not negated
    return excluded


def _match(glob: str, path: str) -> bool:
    if glob.startswith("**/"):
        rest = glob.removeprefix("**/")
        segments = path.split("/")
        return any(fnmatch.fnmatchcase("/".join(segments[i:]), rest) for i in range(len(segments)))
    return fnmatch.fnmatchcase(path, glob) and path.count("/") == glob.count("/")


def test_everything_a_dockerfile_copies_is_sent() -> None:
    for service in services():
        for built in service.stages():
            for value in built.values("COPY"):
                if "--from" in value:
                    continue
                for source in value.split()[:-1]:
                    assert not _excluded(source), f"{service.dockerfile}: {source} is ignored"


def test_sources_are_sent() -> None:
    for service in services():
        package = service.directory.relative_to(REPO)
        sources = next((service.directory / "src").iterdir()).relative_to(REPO / package)
        assert not _excluded(str(package / sources / "__init__.py"))


def test_local_state_stays_out() -> None:
    for path in (
        ".venv/bin/python",
        ".git/HEAD",
        "services/router/tests/test_app.py",
        "libs/audio/src/chorus_audio/__pycache__/x.pyc",
        "services/providers/kokoro/.venv/lib",
        "operator/examples/kokoro.yaml",
        "charts/chorus/values.yaml",
        "tests/e2e/test_speech.py",
        ".env",
        "README.md",
    ):
        assert _excluded(path), path
