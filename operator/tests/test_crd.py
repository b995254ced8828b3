"""The shipped CRD agrees with the spec model: same schema, same defaults, same verdicts."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import celpy
import jsonschema
import kubernetes_validate
import pytest
import yaml

from chorus_contracts import RoutingPolicy
from chorus_operator.crd import render_yaml
from chorus_operator.provider import InvalidProvider, ProviderResource
from chorus_operator.spec import TTSProviderSpec

REPO = Path(__file__).resolve().parents[2]
CRD_PATH = REPO / "charts" / "chorus" / "crds" / "ttsproviders.chorus.dev.yaml"
EXAMPLES = sorted((REPO / "operator" / "examples").glob("*.yaml"))
FIXTURES = Path(__file__).parent / "fixtures"


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


class CrdChecker:
    """Checks a TTSProvider the way the API server does, in the same order."""

    def __init__(self, crd: dict[str, Any]) -> None:
        self.schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        # OpenAPI v3.0 schemas have draft-4 semantics (boolean exclusiveMinimum).
        self._validator = jsonschema.Draft4Validator(self.schema)
        self._env = celpy.Environment()

    def schema_errors(self, resource: dict[str, Any]) -> list[str]:
        return [error.message for error in self._validator.iter_errors(resource)]

    def with_defaults(self, resource: dict[str, Any]) -> dict[str, Any]:
        """Defaults are applied before CEL runs, and only inside objects that exist."""
        filled = copy.deepcopy(resource)
        _default(filled, self.schema)
        return filled

    def cel_errors(self, resource: dict[str, Any]) -> list[str]:
        errors: list[str] = []
        self._check(self.with_defaults(resource), self.schema, errors)
        return errors

    def _check(self, node: Any, schema: dict[str, Any], errors: list[str]) -> None:
        for rule in schema.get("x-kubernetes-validations", []):
            program = self._env.program(self._env.compile(rule["rule"]))
            verdict = program.evaluate({"self": celpy.json_to_cel(node)})
            # An evaluation error rejects the object too, as it does in the API server.
            if not (isinstance(verdict, celpy.celtypes.BoolType) and verdict):
                errors.append(rule["message"])
        if isinstance(node, dict):
            for name, sub in schema.get("properties", {}).items():
                if name in node:
                    self._check(node[name], sub, errors)
        if isinstance(node, list) and "items" in schema:
            for item in node:
                self._check(item, schema["items"], errors)


def _default(node: Any, schema: dict[str, Any]) -> None:
    if isinstance(node, dict):
        for name, sub in schema.get("properties", {}).items():
            if name not in node and "default" in sub:
                node[name] = copy.deepcopy(sub["default"])
            if name in node:
                _default(node[name], sub)
    elif isinstance(node, list) and "items" in schema:
        for item in node:
            _default(item, schema["items"])


CRD = load(CRD_PATH)
CHECKER = CrdChecker(CRD)


VALID = [*EXAMPLES, *sorted((FIXTURES / "valid").glob("*.yaml"))]
INVALID = sorted((FIXTURES / "invalid").glob("*.yaml"))


def _model_error(resource: dict[str, Any]) -> str | None:
    try:
        ProviderResource.from_body(resource)
    except InvalidProvider as exc:
        return str(exc)
    return None


def test_the_shipped_crd_is_generated_from_the_models() -> None:
    assert CRD_PATH.read_text() == render_yaml(), (
        "regenerate: python -m chorus_operator.crd charts/chorus/crds/ttsproviders.chorus.dev.yaml"
    )


def test_the_crd_is_a_valid_custom_resource_definition() -> None:
    crd = CRD
    kubernetes_validate.validate(crd, kubernetes_validate.latest_version(), strict=True)
    version = crd["spec"]["versions"][0]
    assert crd["spec"]["names"]["shortNames"] == ["ttsp"]
    assert crd["spec"]["scope"] == "Namespaced"
    assert version["subresources"] == {"status": {}}
    columns = [c["name"] for c in version["additionalPrinterColumns"] if "priority" not in c]
    assert columns == ["Kind", "Enabled", "Priority", "Ready", "Replicas", "Age"]


@pytest.mark.parametrize("path", VALID, ids=lambda p: Path(p).name)
def test_valid_resources_pass_schema_cel_and_model(path: Path) -> None:
    resource = load(path)
    assert CHECKER.schema_errors(resource) == []
    assert CHECKER.cel_errors(resource) == []
    assert _model_error(resource) is None


@pytest.mark.parametrize("path", INVALID, ids=lambda p: Path(p).name)
def test_invalid_resources_are_refused_by_the_cluster_and_the_model(path: Path) -> None:
    resource = load(path)
    schema_errors = CHECKER.schema_errors(resource)
    # Each fixture is named after the layer that must catch it.
    model_error = _model_error(resource)
    assert model_error is not None
    if path.name.startswith("schema-"):
        assert schema_errors
    else:
        assert schema_errors == []
        cel_errors = CHECKER.cel_errors(resource)
        assert cel_errors
        # The model refuses it for the same reason, in the same words.
        assert all(message in model_error for message in cel_errors)


def test_defaults_applied_by_the_api_server_are_the_models() -> None:
    resource = load(FIXTURES / "valid" / "minimal-local.yaml")
    resource["spec"] |= {"autoscaling": {"maxReplicas": 3}, "tolerations": [{"key": "x"}]}
    defaulted = CHECKER.with_defaults(resource)["spec"]
    model = TTSProviderSpec.model_validate(resource["spec"])
    assert TTSProviderSpec.model_validate(defaulted) == model
    # Every default the server fills in, the model states the same way.
    assert defaulted["enabled"] is True
    # (Empty lists stay absent in the resource; the model reads absent as empty.)
    routing = RoutingPolicy().model_dump(by_alias=True)
    assert defaulted["routing"] == {key: value for key, value in routing.items() if value != []}
    assert defaulted["autoscaling"] == {
        "maxReplicas": 3,
        "minReplicas": 1,
        "targetQueuedPerReplica": 1,
        "idleBeforeZeroS": 600,
    }
    # Fields whose absence means something (replicas, credentials) get no server default.
    assert "replicas" not in defaulted
    assert "credentials" not in defaulted


ROUTING_SAMPLES: list[dict[str, Any]] = [
    {},
    {"priority": 1000, "fallback": ["piper", "espeak"]},
    {"priority": 1001},
    {"priority": -1001},
    {"fallback": ["x"] * 32},
    {"fallback": ["x"] * 33},
    {"requestTimeoutS": 0},
    {"requestTimeoutS": 0.001, "firstByteTimeoutS": 600},
    {"firstByteTimeoutS": 601},
    {"retry": {"attempts": 10, "backoffInitialS": 0, "backoffMaxS": 60, "jitterS": 10}},
    {"retry": {"attempts": 0}},
    {"retry": {"backoffMaxS": 60.5}},
    {"breaker": {"failMax": 1000, "resetTimeoutS": 3600}},
    {"breaker": {"failMax": 0}},
    {"breaker": {"resetTimeoutS": 0}},
    {"priority": "high"},
]


@pytest.mark.parametrize("routing", ROUTING_SAMPLES, ids=str)
def test_routing_schema_agrees_with_the_routers_policy(routing: dict[str, Any]) -> None:
    schema = CHECKER.schema["properties"]["spec"]["properties"]["routing"]
    schema_ok = jsonschema.Draft4Validator(schema).is_valid(routing)
    try:
        RoutingPolicy.model_validate(routing)
        model_ok = True
    except ValueError:
        model_ok = False
    assert schema_ok == model_ok


def test_examples_cover_every_kind() -> None:
    kinds = {yaml.safe_load(path.read_text())["spec"]["kind"] for path in EXAMPLES}
    assert kinds == {"cloud", "gpu", "local"}
