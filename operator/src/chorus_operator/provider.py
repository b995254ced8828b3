"""One TTSProvider as the operator handles it: its identity plus a validated spec."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import kopf
from pydantic import ValidationError

from chorus_operator.naming import API_VERSION, KIND, MAX_PROVIDER_NAME
from chorus_operator.spec import DNS_LABEL, TTSProviderSpec

# A DNS label (no dots), short enough to stay one inside `chorus-provider-<name>`.
NAME_PATTERN = DNS_LABEL
NAME_RULE = f"the name must be a DNS label of at most {MAX_PROVIDER_NAME} characters"


class InvalidProvider(ValueError):
    """The resource does not hold a spec the operator can render (the CRD should prevent it)."""


@dataclass(frozen=True)
class ProviderResource:
    name: str
    namespace: str
    uid: str
    generation: int | None
    spec: TTSProviderSpec

    def owner(self) -> kopf.Body:
        """What an owner reference to this resource is built from."""
        return kopf.Body(
            {
                "apiVersion": API_VERSION,
                "kind": KIND,
                "metadata": {"name": self.name, "uid": self.uid},
            }
        )

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> ProviderResource:
        meta = body.get("metadata") or {}
        name = str(meta.get("name", ""))
        if len(name) > MAX_PROVIDER_NAME or not re.fullmatch(NAME_PATTERN, name):
            raise InvalidProvider(f"{name!r}: {NAME_RULE}")
        try:
            spec = TTSProviderSpec.model_validate(body.get("spec") or {})
        except ValidationError as exc:
            problems = "; ".join(
                f"spec.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
                if err["loc"]
                else f"spec: {err['msg']}"
                for err in exc.errors()
            )
            raise InvalidProvider(problems) from None
        return cls(
            name=name,
            namespace=str(meta.get("namespace", "")),
            uid=str(meta.get("uid", "")),
            generation=meta.get("generation"),
            spec=spec,
        )
