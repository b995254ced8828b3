"""The CRD's OpenAPI schema as JSON Schema, checked the way the API server checks it.

The API server prunes fields a structural schema does not name; a validator that ignored them
would let a misspelt field through, so objects here are closed unless the schema says
`x-kubernetes-preserve-unknown-fields`. CEL rules (`x-kubernetes-validations`) are evaluated
with cel-python on the same document.

`python tests/chart/crd_schema.py` rewrites the provider spec part of the chart's
values.schema.json from the CRD, which a test keeps in step.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import celpy
import jsonschema
from celpy.adapter import json_to_cel

Schema = dict[str, Any]

_CHART = Path(__file__).resolve().parents[2] / "charts" / "chorus"
_VALUES_SCHEMA = _CHART / "values.schema.json"
# The chart renders spec.image from each provider's `image` block; users never write it.
CHART_OWNED_SPEC_FIELDS = ("image",)
# In values, an empty credentials.secretName means "no Secret yet": the provider is skipped.
NO_SECRET_YET = "^$|"


def to_json_schema(node: Schema) -> Schema:
    """A draft-07 JSON Schema equivalent of one OpenAPI v3 (Kubernetes structural) schema."""
    out: Schema = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or key in (
            "nullable",
            "exclusiveMinimum",
            "exclusiveMaximum",
        ):
            continue
        if key == "properties":
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "not") or (key == "additionalProperties" and isinstance(value, dict)):
            out[key] = to_json_schema(value)
        elif key in ("anyOf", "allOf", "oneOf"):
            out[key] = [to_json_schema(sub) for sub in value]
        else:
            out[key] = value
    # OpenAPI 3.0 says `exclusiveMinimum: true` next to `minimum`; draft 7 wants the bound.
    for flag, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if node.get(flag) is True and bound in out:
            out[flag] = out.pop(bound)
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    closed = "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields")
    if closed and "additionalProperties" not in node:
        out["additionalProperties"] = False
    return out


def crd_openapi(crd: Schema) -> Schema:
    """The openAPIV3Schema of the CRD's only (storage) version."""
    (version,) = crd["spec"]["versions"]
    schema: Schema = version["schema"]["openAPIV3Schema"]
    return schema


def resource_errors(crd: Schema, resource: Schema) -> list[str]:
    """Why the API server would refuse `resource` (schema and CEL rules); empty when it is fine."""
    openapi = crd_openapi(crd)
    validator = jsonschema.Draft7Validator(to_json_schema(openapi))
    problems = [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator.iter_errors(resource)
    ]
    return problems + _cel_errors(openapi, resource, "")


def _cel_errors(schema: Schema, value: Any, path: str) -> list[str]:
    problems = []
    environment = celpy.Environment()
    for rule in schema.get("x-kubernetes-validations", []):
        program = environment.program(environment.compile(rule["rule"]))
        if not program.evaluate({"self": json_to_cel(value)}):
            problems.append(f"{path or '<root>'}: {rule.get('message', rule['rule'])}")
    if isinstance(value, dict):
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                problems += _cel_errors(sub, value[name], f"{path}/{name}")
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for name, item in value.items():
                problems += _cel_errors(extra, item, f"{path}/{name}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            problems += _cel_errors(schema["items"], item, f"{path}/{index}")
    return problems


def provider_spec_values_schema(crd: Schema) -> Schema:
    """What values.schema.json says of `providers.<name>.spec`: the CRD's spec, minus `image`."""
    spec = to_json_schema(crd_openapi(crd)["properties"]["spec"])
    for field in CHART_OWNED_SPEC_FIELDS:
        spec["properties"].pop(field)
        spec["required"] = [name for name in spec.get("required", []) if name != field]
    credentials = spec["properties"]["credentials"]
    credentials["required"] = [name for name in credentials["required"] if name != "secretName"]
    secret_name = credentials["properties"]["secretName"]
    secret_name["pattern"] = NO_SECRET_YET + secret_name["pattern"]
    secret_name["description"] = "The Secret holding the API key; empty: not rendered yet."
    return spec


def values_schema_provider_spec(values_schema: Schema) -> Schema:
    spec: Schema = values_schema["properties"]["providers"]["additionalProperties"]["properties"][
        "spec"
    ]
    return spec


def _sync_values_schema() -> None:
    import yaml

    crd = yaml.safe_load((_CHART / "crds" / "ttsproviders.chorus.dev.yaml").read_text())
    values_schema = json.loads(_VALUES_SCHEMA.read_text())
    provider = values_schema["properties"]["providers"]["additionalProperties"]
    provider["properties"]["spec"] = provider_spec_values_schema(crd)
    _VALUES_SCHEMA.write_text(json.dumps(values_schema, indent=2) + "\n")
    sys.stdout.write(f"updated {_VALUES_SCHEMA}\n")


if __name__ == "__main__":
    _sync_values_schema()
