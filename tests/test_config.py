"""Configuration from the environment: the chart pool's size."""

from __future__ import annotations

import pytest

from openmodels.config import Config, default_chart_workers
from openmodels.errors import ConfigError


@pytest.mark.parametrize(("cores", "workers"), [(None, 1), (1, 1), (2, 1), (4, 3), (16, 4)])
def test_by_default_a_core_is_left_for_acknowledging(cores, workers, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: cores)

    assert default_chart_workers() == workers
    assert Config.from_env({}).chart_workers == workers


def test_the_chart_pool_size_is_a_setting():
    assert Config.from_env({"OPENMODELS_CHART_WORKERS": "3"}).chart_workers == 3


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "101"])
def test_a_bad_chart_pool_size_names_the_variable(value):
    with pytest.raises(ConfigError, match="OPENMODELS_CHART_WORKERS"):
        Config.from_env({"OPENMODELS_CHART_WORKERS": value})
