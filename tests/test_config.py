"""Configuration from the environment: the chart pool's size, durations in seconds."""

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


@pytest.mark.parametrize(
    "variable",
    ["OPENMODELS_HUB_TIMEOUT", "OPENMODELS_DELIVERY_CLAIM_SECONDS", "OPENMODELS_HUB_CONCURRENCY"],
)
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e300", "0", "-5", "abc"])
def test_a_value_that_is_no_usable_number_names_the_variable(variable, value):
    with pytest.raises(ConfigError, match=variable):
        Config.from_env({variable: value})


@pytest.mark.parametrize(("value", "seconds"), [("0.5", 0.5), ("90", 90.0), ("86400", 86_400.0)])
def test_a_duration_in_seconds_is_a_setting(value, seconds):
    assert Config.from_env({"OPENMODELS_HUB_TIMEOUT": value}).hub_timeout == seconds
