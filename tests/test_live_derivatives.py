"""Derivative counts of live snapshots: after each collection, each family's top K models
by all-time downloads are looked up on the Hub's single-model route.

The fake Hub serves that route as the real one does (see tests/fakes/fake_hub.py); the
collection's own listing requests stay exactly as they were, the extra ones are counted,
and a model whose lookup fails stays unknown without failing anything else.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from datetime import UTC, datetime

import pytest

from bot.jobs import Services, collect_job
from commands import AnswerContext, answer_text
from commands.render import render_text
from openmodels.collector import collect_snapshot
from openmodels.config import Config
from openmodels.derivative_counts import fill_derivatives
from openmodels.errors import ConfigError
from openmodels.families import parse_families
from openmodels.hub import DerivativeLookup, HubClient
from storage import Store, open_store
from storage import queries as q
from storage.snapshots import ModelRecord, write_snapshot
from tests.builders import write_lock_is_free
from tests.fakes import FakeHub, hub_model
from tests.slack_helpers import tiny_png

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
FAMILIES = parse_families(
    '[families.qwen]\nlabel = "Qwen"\norgs = ["Qwen"]\n\n'
    '[families.llama]\nlabel = "Llama"\norgs = ["meta-llama"]\n',
    "test families",
)
KINDS = {"adapter": 716, "finetune": 328, "merge": 19, "quantized": 190}  # 1,253


def arrange(hub: FakeHub) -> FakeHub:
    """Qwen: four models (all-time 400, 300, 200, 100); Llama: two (50, 40)."""
    hub.add(
        "Qwen",
        hub_model("Qwen/A", 4, 400, children=KINDS),
        hub_model("Qwen/B", 3, 300, children={"finetune": 10, "quantized": 5}),
        hub_model("Qwen/C", 2, 200, children={"adapter": 7}),
        hub_model("Qwen/D", 1, 100, children={"merge": 1}),
    )
    hub.add(
        "meta-llama",
        hub_model("meta-llama/L1", 5, 50, children={"finetune": 30}),
        hub_model("meta-llama/L2", 4, 40),
    )
    return hub


def services(store: Store, hub: FakeHub, top: int = 2) -> Services:
    return Services(
        config=Config(db=store.location, derivatives_top=top, hub_concurrency=2),
        families=FAMILIES,
        store=store,
        hub=HubClient(hub.url, timeout=5),
        slack=None,
        render=tiny_png,
    )


def stored(store: Store) -> tuple[dict[str, int | None], dict[str, int | None]]:
    """(per model, per family) derivative counts of the latest snapshot."""
    with store.reading() as db:
        latest = q.latest_snapshot(db)
        assert latest is not None
        models = dict(
            db.execute(
                """SELECT m.repo_id, c.derivatives FROM model_counts c
                   JOIN models m ON m.id = c.model_id WHERE c.snapshot_id = ?""",
                [latest.id],
            ).fetchall()
        )
        totals = {f: t.derivatives for f, t in q.totals_at(db, latest.id).items()}
    return models, totals


# -- the stand-in's single-model route ---------------------------------------------------


def get(url: str, token: str | None = None) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


def test_the_fake_hub_serves_a_model_with_its_derivatives_only_when_expanded(fake_hub):
    arrange(fake_hub)

    _, _, expanded = get(f"{fake_hub.url}/api/models/Qwen/A?expand[]=childrenModelCount")
    _, _, plain = get(f"{fake_hub.url}/api/models/Qwen/A")
    refused, _, _ = get(f"{fake_hub.url}/api/models/Qwen/A?expand=nonsense")

    assert expanded == {"_id": expanded["_id"], "id": "Qwen/A", "childrenModelCount": KINDS}
    assert plain["id"] == "Qwen/A" and plain["downloads"] == 4
    assert "childrenModelCount" not in plain
    assert refused == 400


def test_the_fake_hub_answers_a_missing_repo_as_the_hub_does(fake_hub):
    anonymous, headers, body = get(f"{fake_hub.url}/api/models/Qwen/nothing")
    authenticated, _, _ = get(f"{fake_hub.url}/api/models/Qwen/nothing", token="hf_x")

    assert (anonymous, authenticated) == (401, 404)
    assert headers["X-Error-Code"] == "RepoNotFound"
    assert body == {"error": "Repository not found"}


# -- one model's lookup ------------------------------------------------------------------


def test_a_lookup_totals_the_count_per_kind_in_one_request(fake_hub):
    arrange(fake_hub)

    found = HubClient(fake_hub.url).derivatives("Qwen/A")

    assert found == DerivativeLookup("Qwen/A", 1_253, 1)
    [request] = fake_hub.model_requests()
    assert request.path == "/api/models/Qwen/A"
    assert request.values("expand") == ["childrenModelCount"]


def test_a_rate_limited_lookup_is_retried_by_the_client(fake_hub, instant_sleep):
    arrange(fake_hub).inject_model("Qwen/A", rate_limited=1, retry_after=2)

    found = HubClient(fake_hub.url).derivatives("Qwen/A")

    assert (found.count, found.requests) == (1_253, 2)
    assert instant_sleep == [3.0]  # Retry-After 2, plus huggingface_hub's 1 s margin


@pytest.mark.parametrize(
    ("faults", "requests", "problem", "failed"),
    [
        ({"server_errors": 10}, 3, "HTTP 500 from", True),  # a try and two retries
        ({"malformed": True}, 1, "malformed JSON", True),
        ({"not_found": True}, 1, "not on the Hub", False),
    ],
    ids=["500-for-good", "malformed", "gone"],
)
def test_a_failed_lookup_leaves_the_count_unknown_and_says_why(
    fake_hub, faults, requests, problem, failed
):
    arrange(fake_hub).inject_model("Qwen/A", **faults)

    found = HubClient(fake_hub.url).derivatives("Qwen/A")

    assert (found.count, found.requests, found.failed) == (None, requests, failed)
    assert found.problem is not None and problem in found.problem


def test_a_stalled_lookup_is_abandoned_at_the_timeout(fake_hub):
    arrange(fake_hub).inject_model("Qwen/A", stall=60)

    found = HubClient(fake_hub.url, timeout=0.2).derivatives("Qwen/A")

    assert found.count is None and found.problem == "timed out after 0.2s"


def test_a_token_is_sent_and_never_shown(fake_hub):
    arrange(fake_hub).inject_model("Qwen/A", server_errors=10)

    found = HubClient(fake_hub.url, token="hf_secret_token").derivatives("Qwen/A")

    assert fake_hub.model_requests()[0].headers["authorization"] == "Bearer hf_secret_token"
    assert "hf_secret_token" not in (found.problem or "")


# -- after a collection ------------------------------------------------------------------


def test_each_familys_top_models_are_counted_with_one_request_each(fake_hub, tmp_store, caplog):
    arrange(fake_hub)

    with caplog.at_level(logging.INFO, logger="openmodels.derivative_counts"):
        collect_job(services(tmp_store, fake_hub, top=2), NOW)

    models, totals = stored(tmp_store)
    assert models == {
        "Qwen/A": 1_253,
        "Qwen/B": 15,
        "Qwen/C": None,  # third by downloads: not asked
        "Qwen/D": None,
        "meta-llama/L1": 30,
        "meta-llama/L2": 0,  # asked: no derivatives is 0, not unknown
    }
    assert totals == {"qwen": 1_268, "llama": 30}
    assert sorted(r.repo_id for r in fake_hub.model_requests()) == [
        "Qwen/A",
        "Qwen/B",
        "meta-llama/L1",
        "meta-llama/L2",
    ]
    assert (
        "derivative counts for snapshot 1: 4 of 4 models counted, 4 extra Hub requests"
        in caplog.text
    )


def test_the_collections_own_listing_requests_are_unchanged(fake_hub, tmp_path):
    arrange(fake_hub)
    collect_job(services(open_store(tmp_path / "off.db"), fake_hub, top=0), NOW)
    without_step = sorted((r.path, r.query) for r in fake_hub.listing_requests())
    assert fake_hub.model_requests() == []

    collect_job(services(open_store(tmp_path / "on.db"), fake_hub, top=20), NOW)
    listing = sorted((r.path, r.query) for r in fake_hub.listing_requests())

    assert listing == sorted(without_step * 2)  # the same listing, request for request
    assert len(fake_hub.model_requests()) == 6  # every model: fewer than 20 per family


def test_a_partial_count_is_shown_as_partial(fake_hub, tmp_store):
    arrange(fake_hub)
    collect_job(services(tmp_store, fake_hub, top=1), NOW)
    ctx = AnswerContext(tmp_store, FAMILIES)

    family = render_text(answer_text("family qwen", ctx))
    top = render_text(answer_text("top --derivatives", ctx))

    assert "Derivatives\n      1.3K (1 of 4 models counted)" in family
    assert "Most built upon\n1. Qwen/A  1.3K derivatives" in family
    assert "1. Qwen  1.3K · 97.7% · no figure a day older · 1 of 4 models counted" in top
    assert "2. Llama  30 · 2.3% · no figure a day older · 1 of 2 models counted" in top


def test_one_failing_model_stays_unknown_and_the_rest_are_counted(fake_hub, tmp_store, caplog):
    arrange(fake_hub).inject_model("Qwen/B", server_errors=10)

    with caplog.at_level(logging.INFO):
        result, _ = collect_job(services(tmp_store, fake_hub, top=2), NOW)

    models, totals = stored(tmp_store)
    assert result.model_count == 6
    assert (models["Qwen/A"], models["Qwen/B"]) == (1_253, None)
    assert totals == {"qwen": 1_253, "llama": 30}
    assert "3 of 4 models counted, 6 extra Hub requests" in caplog.text  # B: three tries
    assert "derivative count of Qwen/B unknown: HTTP 500 from" in caplog.text


def test_once_the_hub_keeps_failing_the_other_models_are_not_asked(fake_hub, tmp_store):
    arrange(fake_hub)
    for repo_id in ("Qwen/B", "Qwen/C"):
        fake_hub.inject_model(repo_id, server_errors=10)
    result = collect_snapshot(FAMILIES, HubClient(fake_hub.url), tmp_store, now=NOW)

    report = fill_derivatives(
        tmp_store,
        HubClient(fake_hub.url),
        result.snapshot_id,
        top=4,
        concurrency=1,
        max_failures=2,
    )

    # One at a time, in repo id order: Qwen/A is counted, Qwen/B and Qwen/C fail (three
    # tries each), and Qwen/D, meta-llama/L1 and meta-llama/L2 are never asked.
    assert (report.asked, report.counted, report.skipped) == (3, 1, 3)
    assert report.requests == 1 + 3 + 3 == len(fake_hub.model_requests())
    assert {r.repo_id for r in fake_hub.model_requests()} == {"Qwen/A", "Qwen/B", "Qwen/C"}


def test_no_write_lock_is_held_while_the_hub_is_asked(fake_hub, tmp_store):
    arrange(fake_hub)
    result = collect_snapshot(FAMILIES, HubClient(fake_hub.url), tmp_store, now=NOW)
    client = HubClient(fake_hub.url)
    writable: list[bool] = []

    class Probe:
        def derivatives(self, repo_id: str) -> DerivativeLookup:
            # Another process may write while lookups run.
            writable.append(write_lock_is_free(tmp_store))
            return client.derivatives(repo_id)

    report = fill_derivatives(tmp_store, Probe(), result.snapshot_id, top=2, concurrency=1)

    assert report.counted == 4
    assert writable == [True] * 4


def test_a_lookup_that_raises_is_a_failure_like_any_other(tmp_store):
    snapshot_id = write_snapshot(tmp_store, NOW, "hub", [ModelRecord("Qwen/A", "qwen", 1, 10)])

    class Broken:
        def derivatives(self, repo_id: str) -> DerivativeLookup:
            raise RuntimeError("boom")

    report = fill_derivatives(tmp_store, Broken(), snapshot_id, top=5)

    assert (report.asked, report.counted) == (1, 0)
    assert report.unknown[0].problem == "RuntimeError: boom"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, 20), ("0", 0), ("50", 50), ("1000", 1000)],
)
def test_the_number_of_models_looked_up_is_a_setting(raw, expected):
    env = {} if raw is None else {"OPENMODELS_DERIVATIVES_TOP": raw}

    assert Config.from_env(env).derivatives_top == expected


@pytest.mark.parametrize("raw", ["-1", "1001", "many", "2.5"])
def test_a_bad_number_of_models_is_refused_at_start_up(raw):
    with pytest.raises(ConfigError, match="OPENMODELS_DERIVATIVES_TOP must be a whole number"):
        Config.from_env({"OPENMODELS_DERIVATIVES_TOP": raw})
