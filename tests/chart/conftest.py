from __future__ import annotations

import pytest

from chart.rendering import Rendering, render_ci, value_sets


@pytest.fixture(params=value_sets())
def rendering(request: pytest.FixtureRequest) -> Rendering:
    """The chart rendered with each ci/*-values.yaml set in turn."""
    name: str = request.param
    return render_ci(name)
