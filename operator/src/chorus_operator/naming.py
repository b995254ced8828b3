"""Names the operator, the chart and the router agree on: the API, the children and their labels."""

from __future__ import annotations

GROUP = "chorus.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "TTSProvider"
PLURAL = "ttsproviders"
SINGULAR = "ttsprovider"
SHORT_NAME = "ttsp"

OPERATOR = "chorus-operator"
# Every provider container serves the provider contract (and /metrics) on this port.
PROVIDER_PORT = 8080
PORT_NAME = "http"
CONTAINER_NAME = "provider"

# Children are `chorus-provider-<name>`; a provider name is at most this long so that the
# child stays a valid Service name (63 characters).
CHILD_PREFIX = "chorus-provider-"
MAX_PROVIDER_NAME = 63 - len(CHILD_PREFIX)

PROVIDER_LABEL = f"{GROUP}/provider"
KIND_LABEL = f"{GROUP}/kind"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"


def child_name(provider: str) -> str:
    """The name of every child (Deployment, Service, HPA, PDB) of one provider."""
    return f"{CHILD_PREFIX}{provider}"


def selector_labels(provider: str) -> dict[str, str]:
    """The Deployment's selector: immutable, so only what never changes for a provider."""
    return {PROVIDER_LABEL: provider, MANAGED_BY_LABEL: OPERATOR}


def child_labels(provider: str, kind: str) -> dict[str, str]:
    """Labels on every child and pod: the selector plus the standard app.kubernetes.io set."""
    return {
        "app.kubernetes.io/name": "chorus-provider",
        "app.kubernetes.io/instance": provider,
        "app.kubernetes.io/component": "tts-provider",
        "app.kubernetes.io/part-of": "chorus",
        **selector_labels(provider),
        KIND_LABEL: kind,
    }


def service_url(provider: str, namespace: str, cluster_domain: str) -> str:
    """The in-cluster URL the router reaches a provider at (published in status.url)."""
    return f"http://{child_name(provider)}.{namespace}.svc.{cluster_domain}:{PROVIDER_PORT}"
