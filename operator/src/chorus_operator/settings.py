"""The operator's own settings; kopf's flags (namespace, liveness, verbosity) stay on its CLI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chorus_contracts import ServiceSettings
from chorus_operator.images import ImageDefaults
from chorus_operator.render import Scaling
from chorus_operator.spec import DNS_SUBDOMAIN


class OperatorSettings(ServiceSettings):
    """Env prefix CHORUS_OPERATOR_ (e.g. CHORUS_OPERATOR_CLUSTER_DOMAIN)."""

    model_config = SettingsConfigDict(env_prefix="CHORUS_OPERATOR_", extra="forbid")

    # The Service URL published in status.url is fully qualified with this domain.
    cluster_domain: str = Field(default="cluster.local", max_length=253, pattern=DNS_SUBDOMAIN)
    # Completes `image:` references without a registry or a tag (the chart passes its own).
    image_registry: str = Field(default="", max_length=255)
    image_tag: str = Field(default="", max_length=128, pattern=r"^([\w][\w.-]*)?$")
    # OTEL_* variables given to every provider, so they export traces where the operator does.
    otel_env: dict[str, str] = Field(default_factory=dict)
    # spec.autoscaling as an HPA (built in) or a KEDA ScaledObject (the chart says keda when
    # KEDA is installed); minReplicas 0 is always KEDA. See scaling.py.
    scaler: Literal["hpa", "keda"] = "hpa"
    # Where KEDA's Prometheus triggers read the providers' and the router's metrics.
    prometheus_url: str = Field(
        default="http://prometheus-operated:9090", max_length=512, pattern=r"^https?://[^\s]+$"
    )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> OperatorSettings:
        """CHORUS_OPERATOR_* settings, plus the operator's OTEL_* set (minus its service name)."""
        otel = {
            name: value
            for name, value in environ.items()
            if name.startswith("OTEL_") and name != "OTEL_SERVICE_NAME"
        }
        return cls.load(otel_env=otel)

    @property
    def images(self) -> ImageDefaults:
        return ImageDefaults(self.image_registry, self.image_tag)

    @property
    def scaling(self) -> Scaling:
        return Scaling(self.scaler, self.prometheus_url)
