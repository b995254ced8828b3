"""Image references completed the way the chart completes its own: registry and tag defaults.

A TTSProvider written as `image: chorus-kokoro` (as the examples are) runs the same image the
chart would deploy: `<global.imageRegistry>/chorus-kokoro:<global.imageTag or appVersion>`.
A reference that names its registry, tag or digest is used as written.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageDefaults:
    """What the operator fills in; empty: nothing (the reference as written)."""

    registry: str = ""
    tag: str = ""

    def resolve(self, image: str) -> str:
        reference = image
        if self.registry and not _names_registry(image):
            reference = f"{self.registry.rstrip('/')}/{image}"
        if self.tag and not _has_tag_or_digest(image):
            reference = f"{reference}:{self.tag}"
        return reference


def _names_registry(image: str) -> bool:
    # Docker's rule: a first component with a dot or a port, or `localhost`, is a registry host.
    first, slash, _ = image.partition("/")
    return bool(slash) and ("." in first or ":" in first or first == "localhost")


def _has_tag_or_digest(image: str) -> bool:
    return "@" in image or ":" in image.rsplit("/", 1)[-1]
