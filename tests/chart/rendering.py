"""The chart rendered offline by the Helm library, as the documents `helm install` would apply."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "chorus"
CI_VALUES = CHART / "ci"
RELEASE = "chorus"
NAMESPACE = "speech"

Document = dict[str, Any]


@dataclass(frozen=True)
class Rendering:
    """One release rendered with one set of values."""

    values: dict[str, Any]
    documents: list[Document]
    notes: str

    def of_kind(self, kind: str) -> list[Document]:
        return [doc for doc in self.documents if doc["kind"] == kind]

    def named(self, kind: str, name: str) -> Document:
        matches = [doc for doc in self.of_kind(kind) if doc["metadata"]["name"] == name]
        assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
        return matches[0]

    def workloads(self) -> list[Document]:
        return [doc for doc in self.documents if doc["kind"] in WORKLOAD_KINDS]


WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}


def value_sets() -> list[str]:
    """The names of the ci/*-values.yaml sets, e.g. 'default', 'gpu'."""
    return sorted(p.name.removesuffix("-values.yaml") for p in CI_VALUES.glob("*-values.yaml"))


def ci_values(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((CI_VALUES / f"{name}-values.yaml").read_text(encoding="utf-8"))
    return loaded or {}


@cache
def chart() -> helm.Chart:
    """The chart, loaded once per test session (charts are immutable handles)."""
    return helm.Chart.load(CHART)


def render(values: dict[str, Any] | None = None) -> Rendering:
    """Render templates with `values` over the chart's defaults; CRDs are not templates."""
    manifests = chart().render(values or {}, name=RELEASE, namespace=NAMESPACE, is_install=True)
    documents: list[Document] = []
    notes = ""
    for path, text in sorted(manifests.items()):
        if path.endswith("NOTES.txt"):
            notes = text
            continue
        documents.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return Rendering(values or {}, documents, notes)


@cache
def render_ci(name: str) -> Rendering:
    return render(ci_values(name))


def merged_values(values: dict[str, Any]) -> dict[str, Any]:
    """What a release with `values` really uses: the chart's defaults coalesced with them."""
    return chart().merge_values(values)


def crd() -> Document:
    """The TTSProvider CRD the chart ships under crds/."""
    path = CHART / "crds" / "ttsproviders.chorus.dev.yaml"
    loaded: Document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def containers(workload: Document) -> list[Document]:
    pod = pod_spec(workload)
    return [*pod.get("initContainers", []), *pod["containers"]]


def pod_spec(workload: Document) -> Document:
    spec: Document = workload["spec"]["template"]["spec"]
    return spec
