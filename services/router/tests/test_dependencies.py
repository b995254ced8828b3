"""Every dependency of every router endpoint runs on the event loop.

FastAPI runs a plain `def` dependency on a worker thread: a hop there and back on every
request that uses it, which cost the speech endpoint's first byte about half a
millisecond, more while an engine's threads held the cores (docs/performance.md).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import BaseRoute

from chorus_router.app import create_app
from chorus_router.settings import RouterSettings


def _endpoints(routes: list[BaseRoute]) -> Iterator[APIRoute | APIWebSocketRoute]:
    for route in routes:
        included = getattr(route, "original_router", None)  # app.include_router's wrapper
        if included is not None:
            yield from _endpoints(included.routes)
        elif isinstance(route, APIRoute | APIWebSocketRoute):
            yield route


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def test_no_endpoint_dependency_hops_to_a_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHORUS_ROUTER_DATA_DIR", str(tmp_path))
    app = create_app(RouterSettings())
    routes = list(_endpoints(app.routes))
    assert any(r.path == "/v1/audio/speech" for r in routes)
    sync = {
        f"{route.path}: {getattr(call, '__qualname__', call)}"
        for route in routes
        for call in _calls(route.dependant)
        if not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call))
        # FastAPI's own security classes are async callables, as instances.
        and not inspect.iscoroutinefunction(type(call).__call__)
    }
    assert not sync, sorted(sync)
