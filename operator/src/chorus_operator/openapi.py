"""Pydantic models as the structural OpenAPI v3 schemas that CustomResourceDefinitions require.

Generating the CRD's schema from the same models the operator validates with is what keeps the
two in agreement: a default, bound or enum changes in one place only.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

Schema = dict[str, Any]

# Keywords a structural schema may carry as they come from pydantic.
_PASSED = {
    "type",
    "default",
    "enum",
    "format",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "required",
}
# Output order, for a readable CRD: what a node is first, what it contains last.
_FIRST = ("type", "description", "default", "enum", "format")
_LAST = ("required", "properties", "additionalProperties", "items", "anyOf")


def structural_schema(model: type[BaseModel]) -> Schema:
    """The model's validation schema (by alias) in the form the API server accepts."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.pop("$defs", {})
    return _convert(raw, defs)


def _convert(node: Schema, defs: dict[str, Schema]) -> Schema:
    node = _resolve(node, defs)
    out: Schema = {}
    for key, value in node.items():
        if key in _PASSED or key.startswith("x-kubernetes-"):
            out[key] = value
        elif key == "title":
            continue
        elif key == "description":
            out[key] = " ".join(value.split())
        elif key == "properties":
            out[key] = _properties(value, set(node.get("required", [])), defs)
        elif key == "items":
            out[key] = _convert(value, defs)
        elif key == "additionalProperties":
            if value is True:
                out["x-kubernetes-preserve-unknown-fields"] = True
            elif isinstance(value, dict):
                out[key] = _convert(value, defs)
            # `false` is dropped: structural schemas forbid it, and the server prunes unknowns.
        elif key in ("exclusiveMinimum", "exclusiveMaximum"):
            # JSON Schema's numeric form becomes OpenAPI v3.0's bound plus boolean flag.
            out[key.replace("exclusiveM", "m")] = value
            out[key] = True
        elif key == "anyOf" and node.get("x-kubernetes-int-or-string"):
            out[key] = value
        elif key == "const":
            out["enum"] = [value]
        else:
            raise ValueError(f"no structural-schema form for {key!r} in {node!r}")
    if out.get("default", 0) is None:
        del out["default"]
    return _ordered(out)


def _resolve(node: Schema, defs: dict[str, Schema]) -> Schema:
    """Inline `$ref`s and collapse `Optional[X]` to X (absent is how Kubernetes says null)."""
    if "$ref" in node:
        rest = {k: v for k, v in node.items() if k != "$ref"}
        node = {**defs[node["$ref"].rsplit("/", 1)[-1]], **rest}
    if "anyOf" in node and not node.get("x-kubernetes-int-or-string"):
        options = [o for o in node["anyOf"] if o.get("type") != "null"]
        if len(options) != 1:
            raise ValueError(f"a structural schema cannot express anyOf {node['anyOf']!r}")
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        node = {**_resolve(options[0], defs), **rest}
    return node


def _properties(props: dict[str, Schema], required: set[str], defs: dict[str, Schema]) -> Schema:
    out = {}
    for name, sub in props.items():
        converted = _convert(sub, defs)
        # An optional nested model with defaults of its own: default it to {} so that the API
        # server fills in the nested defaults too (it only defaults inside objects that exist).
        if "$ref" in sub and name not in required and "default" not in sub:
            converted = _ordered({**converted, "default": {}})
        out[name] = converted
    return out


def _ordered(node: Schema) -> Schema:
    def rank(key: str) -> tuple[int, int]:
        if key in _FIRST:
            return 0, _FIRST.index(key)
        if key in _LAST:
            return 2, _LAST.index(key)
        return 1, 0

    return {key: node[key] for key in sorted(node, key=rank)}
