"""spec.autoscaling as an autoscaler: an HPA on the speech queue, or a KEDA ScaledObject.

Both scale on what a TTS provider's users feel, not CPU (which says little about a GPU's
queue): requests waiting for an engine slot per replica, and optionally syntheses in flight
per replica, as the providers export them (chorus_provider_queued_requests,
chorus_provider_in_flight_requests, labelled `provider` by the chart's ServiceMonitor).

- The HPA is the default: it is built into Kubernetes. It reads the two metrics as Pods metrics
  through the custom metrics API, which prometheus-adapter serves (docs/kubernetes.md).
- KEDA is used when the operator is told KEDA is installed (the chart does so when KEDA's CRDs
  are present), and always for `minReplicas: 0`: an HPA never scales from or to zero. Its
  Prometheus triggers also count the requests the router holds for a provider at zero
  replicas (tts_cold_start_waiting_requests), so the first request wakes it.
"""

from __future__ import annotations

from typing import Any, Literal

from chorus_operator.naming import child_name
from chorus_operator.provider import ProviderResource
from chorus_operator.spec import Autoscaling

Manifest = dict[str, Any]
Scaler = Literal["hpa", "keda"]

HPA = ("autoscaling/v2", "HorizontalPodAutoscaler")
SCALED_OBJECT = ("keda.sh/v1alpha1", "ScaledObject")
QUEUED = "chorus_provider_queued_requests"
IN_FLIGHT = "chorus_provider_in_flight_requests"
# The router's gauge of requests it holds while the provider wakes.
WAITING = "tts_cold_start_waiting_requests"
# KEDA polls Prometheus this often; a request held at zero waits about this long for a wake-up.
POLLING_INTERVAL_S = 5


def uses_keda(scaling: Autoscaling, scaler: Scaler) -> bool:
    return scaler == "keda" or scaling.scales_to_zero


def autoscaler(scaling: Autoscaling, metadata: Manifest, target: Manifest) -> Manifest:
    """The HPA (`autoscaling/v2`) on Pods metrics of the speech queue."""
    metrics = [_pods_metric(QUEUED, scaling.target_queued_per_replica)]
    if scaling.target_in_flight_per_replica is not None:
        metrics.append(_pods_metric(IN_FLIGHT, scaling.target_in_flight_per_replica))
    if scaling.target_cpu_percent is not None:
        cpu = {"type": "Utilization", "averageUtilization": scaling.target_cpu_percent}
        metrics.append({"type": "Resource", "resource": {"name": "cpu", "target": cpu}})
    return {
        "apiVersion": HPA[0],
        "kind": HPA[1],
        "metadata": metadata,
        "spec": {
            "scaleTargetRef": target,
            "minReplicas": scaling.min_replicas,
            "maxReplicas": scaling.max_replicas,
            "metrics": metrics,
        },
    }


def scaled_object(
    provider: ProviderResource,
    scaling: Autoscaling,
    metadata: Manifest,
    target: Manifest,
    prometheus_url: str,
) -> Manifest:
    """A KEDA ScaledObject with Prometheus triggers on the same metrics (and the router's)."""
    where = f'namespace="{provider.namespace}",provider="{provider.name}"'
    queued = f"sum({QUEUED}{{{where}}}) or vector(0)"
    # In flight on the replicas, plus held by the router for this provider: any of it keeps
    # (or brings) one replica up.
    busy = (
        f"(sum({IN_FLIGHT}{{{where}}}) or vector(0)) + "
        f'(sum({WAITING}{{provider="{provider.name}"}}) or vector(0))'
    )
    in_flight_target = scaling.target_in_flight_per_replica or _NEVER_BY_LOAD
    triggers = [
        _prometheus_trigger("queued", prometheus_url, queued, scaling.target_queued_per_replica),
        _prometheus_trigger("busy", prometheus_url, busy, in_flight_target),
    ]
    if scaling.target_cpu_percent is not None:
        triggers.append(
            {
                "type": "cpu",
                "metricType": "Utilization",
                "metadata": {"value": str(scaling.target_cpu_percent)},
            }
        )
    return {
        "apiVersion": SCALED_OBJECT[0],
        "kind": SCALED_OBJECT[1],
        "metadata": metadata,
        "spec": {
            "scaleTargetRef": target,
            "minReplicaCount": scaling.min_replicas,
            "maxReplicaCount": scaling.max_replicas,
            "pollingInterval": POLLING_INTERVAL_S,
            "cooldownPeriod": scaling.idle_before_zero_s,
            "triggers": triggers,
        },
    }


# Without a target for in-flight work, the `busy` trigger only wakes and keeps one replica
# (its activation); a target this high never asks for more.
_NEVER_BY_LOAD = 1000


def target_of(provider: ProviderResource) -> Manifest:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "name": child_name(provider.name)}


def _pods_metric(name: str, per_replica: int) -> Manifest:
    return {
        "type": "Pods",
        "pods": {
            "metric": {"name": name},
            "target": {"type": "AverageValue", "averageValue": str(per_replica)},
        },
    }


def _prometheus_trigger(name: str, url: str, query: str, per_replica: int) -> Manifest:
    return {
        "type": "prometheus",
        "name": name,
        # AverageValue: KEDA divides the query's value by the replica count, as the HPA does.
        "metricType": "AverageValue",
        "metadata": {
            "serverAddress": url,
            "query": query,
            "threshold": str(per_replica),
            # Anything above zero wakes a provider at zero replicas.
            "activationThreshold": "0",
        },
    }
