"""Hardened security contexts on every workload the chart renders, with any value set."""

from __future__ import annotations

from chart.rendering import Rendering, containers, pod_spec, render, render_ci

DOCKERFILE_USER = 10001  # the numeric USER of every Chorus image (tests/images checks that side)


def test_every_pod_runs_as_non_root_with_runtime_default_seccomp(rendering: Rendering) -> None:
    workloads = rendering.workloads()
    assert workloads
    for workload in workloads:
        context = pod_spec(workload)["securityContext"]
        assert context["runAsNonRoot"] is True, workload["metadata"]["name"]
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        assert context.get("runAsUser", 1) != 0
        assert not pod_spec(workload).get("hostNetwork")
        assert not pod_spec(workload).get("hostPID")
        assert not pod_spec(workload).get("hostIPC")


def test_every_container_is_locked_down(rendering: Rendering) -> None:
    for workload in rendering.workloads():
        for container in containers(workload):
            where = f"{workload['metadata']['name']}/{container['name']}"
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["privileged"] is False, where
            assert context["capabilities"] == {"drop": ["ALL"]}, where
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, where
            assert "add" not in context["capabilities"], where


def test_read_only_root_leaves_a_writable_tmp(rendering: Rendering) -> None:
    for workload in rendering.workloads():
        volumes = {v["name"]: v for v in pod_spec(workload)["volumes"]}
        for container in containers(workload):
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts
            assert "emptyDir" in volumes[mounts["/tmp"]]


def test_every_container_has_requests_limits_and_probes(rendering: Rendering) -> None:
    for workload in rendering.workloads():
        for container in containers(workload):
            resources = container["resources"]
            assert {"cpu", "memory"} <= resources["requests"].keys()
            assert "memory" in resources["limits"]
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
            assert "startupProbe" in container


def test_no_service_links_and_no_privileged_ports(rendering: Rendering) -> None:
    for workload in rendering.workloads():
        pod = pod_spec(workload)
        # A Service named chorus-router would otherwise inject CHORUS_ROUTER_PORT=tcp://...
        assert pod["enableServiceLinks"] is False
        for container in containers(workload):
            assert all(port["containerPort"] >= 1024 for port in container["ports"])


def test_default_identity_matches_the_images() -> None:
    for workload in render_ci("default").workloads():
        context = pod_spec(workload)["securityContext"]
        assert context["runAsUser"] == DOCKERFILE_USER
        assert context["runAsGroup"] == DOCKERFILE_USER


def test_identity_can_be_left_to_the_platform() -> None:
    """OpenShift-style: no fixed IDs, still non-root and locked down."""
    values = {"securityContext": {"runAsUser": None, "runAsGroup": None, "fsGroup": None}}
    for workload in render(values).workloads():
        context = pod_spec(workload)["securityContext"]
        assert "runAsUser" not in context
        assert context["runAsNonRoot"] is True


def test_only_the_router_and_operator_get_an_api_token() -> None:
    rendering = render_ci("default")
    for account in rendering.of_kind("ServiceAccount"):
        assert account["automountServiceAccountToken"] is False
    for workload in rendering.workloads():
        assert pod_spec(workload)["automountServiceAccountToken"] is True


def test_rbac_is_namespaced_and_never_reaches_secrets() -> None:
    """Which verbs each Role grants is proven by replaying the operator's and the router's
    requests (tests/operator); here, the shape: namespaced Roles, bound to their accounts."""
    rendering = render_ci("default")
    assert not rendering.of_kind("ClusterRole")
    assert not rendering.of_kind("ClusterRoleBinding")
    for role in rendering.of_kind("Role"):
        resources = {resource for rule in role["rules"] for resource in rule["resources"]}
        # API keys reach pods by secretKeyRef: no Chorus component reads Secrets.
        assert "secrets" not in resources
    binding = rendering.named("RoleBinding", "chorus-operator")
    assert binding["roleRef"]["name"] == "chorus-operator"
    assert binding["subjects"][0]["name"] == "chorus-operator"
