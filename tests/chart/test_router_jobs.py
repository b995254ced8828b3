"""router.jobs: the queue the chart names is the one the router's jobs use, a URL with a
password arrives only by Secret reference, and without a queue jobs stay off."""

from __future__ import annotations

import helm_python as helm
import pytest

from chart.rendering import chart, render, render_ci
from chart.router_env import PREFIX, SECRET_STANDINS, load_router_settings, router_env

QUEUE = f"{PREFIX}JOBS__QUEUE_URL"


def test_by_default_jobs_are_off(monkeypatch: pytest.MonkeyPatch) -> None:
    rendering = render_ci("default")
    assert not [n for n in router_env(rendering) if n.startswith(f"{PREFIX}JOBS__")]
    assert load_router_settings(rendering, monkeypatch).jobs.queue_url is None


def test_the_queue_url_and_bounds_reach_the_router(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {"jobs": {"queueUrl": "redis://redis.chorus.svc:6379/1", "piecesInFlight": 4}}
    jobs = load_router_settings(render({"router": values}), monkeypatch).jobs
    assert jobs.queue_url is not None
    assert jobs.queue_url.get_secret_value() == "redis://redis.chorus.svc:6379/1"
    assert (jobs.pieces_in_flight, jobs.workers, jobs.max_active_per_user) == (4, 2, 4)


def test_the_hardened_install_reads_its_queue_url_from_a_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rendering = render_ci("hardened-minimal")
    assert router_env(rendering)[QUEUE]["valueFrom"] == {
        "secretKeyRef": {"name": "chorus-redis", "key": "jobs-url"}
    }
    jobs = load_router_settings(rendering, monkeypatch).jobs
    assert jobs.queue_url is not None
    assert jobs.queue_url.get_secret_value() == SECRET_STANDINS[QUEUE]


@pytest.mark.parametrize("url", ["redis://:hunter2@redis:6379/1", "http://redis:6379", "memory://"])
def test_a_password_in_the_url_or_a_queue_that_is_not_redis_is_refused(url: str) -> None:
    with pytest.raises(helm.HelmValuesError) as caught:
        chart().validate_schema({"router": {"jobs": {"queueUrl": url}}})
    assert "queueUrl" in str(caught.value)
