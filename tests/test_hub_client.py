"""The Hub client against a fake Hub over real HTTP: what it asks, what it returns, how it fails."""

from __future__ import annotations

import logging

import pytest

from openmodels.errors import HubError
from openmodels.hub import EXPAND_FIELDS, HubClient, HubModel
from tests.fakes import FakeHub, hub_model, without

QWEN = [
    hub_model(f"Qwen/Qwen-{i}", downloads=10 * i, all_time=100 * i, likes=i) for i in range(1, 8)
]


def client(hub: FakeHub, **kwargs: object) -> HubClient:
    return HubClient(hub.url, **kwargs)  # type: ignore[arg-type]


def test_a_listing_maps_every_field(fake_hub):
    fake_hub.add(
        "Qwen",
        hub_model(
            "Qwen/Qwen2.5-7B-Instruct",
            downloads=123,
            all_time=456,
            likes=7,
            created_at="2024-09-16T12:00:00.000Z",
            pipeline_tag="text-generation",
            tags=["transformers", "qwen2"],
        ),
    )

    models = client(fake_hub).list_org("Qwen")

    assert models == [
        HubModel(
            repo_id="Qwen/Qwen2.5-7B-Instruct",
            downloads_30d=123,
            downloads_all_time=456,
            likes=7,
            created_at="2024-09-16T12:00:00.000Z",
            pipeline_tag="text-generation",
            tags=("transformers", "qwen2"),
        )
    ]


def test_a_listing_carries_the_hubs_parameter_count(fake_hub):
    fake_hub.add(
        "Qwen",
        hub_model("Qwen/Qwen3-8B", safetensors={"BF16": 8_190_735_360}),
        hub_model(
            "Qwen/Qwen2.5-72B-Instruct-AWQ",
            safetensors={"I32": 10_200_000_000, "F16": 1_900_000_000},
        ),
        hub_model("Qwen/Qwen3-8B-GGUF"),  # no safetensors weights: no field at all
    )

    models = client(fake_hub).list_org("Qwen")

    assert [(m.parameters, m.parameters_by_dtype) for m in models] == [
        (8_190_735_360, (("BF16", 8_190_735_360),)),
        (12_100_000_000, (("F16", 1_900_000_000), ("I32", 10_200_000_000))),
        (None, ()),
    ]


def test_missing_fields_become_zero_or_none(fake_hub):
    bare = without(
        hub_model("Qwen/bare"), "downloads", "downloadsAllTime", "likes", "createdAt", "tags"
    )
    fake_hub.add("Qwen", bare)

    [model] = client(fake_hub).list_org("Qwen")

    assert (model.downloads_30d, model.downloads_all_time, model.likes) == (0, 0, 0)
    assert model.created_at is None and model.tags == ()
    assert model.parameters is None and model.parameters_by_dtype == ()


def test_one_paged_listing_asks_for_every_field_and_follows_links(fake_hub):
    fake_hub.add("Qwen", *QWEN)  # 7 models, pages of 3

    models = client(fake_hub).list_org("Qwen")

    assert [m.repo_id for m in models] == [f"Qwen/Qwen-{i}" for i in range(1, 8)]
    requests = fake_hub.requests
    assert len(requests) == 3
    assert {r.path for r in requests} == {"/api/models"}  # no per-model calls
    for request in requests:
        assert request.org == "Qwen"
        assert sorted(request.values("expand")) == sorted(EXPAND_FIELDS)
        assert "safetensors" in request.values("expand")  # sizes come in the same pages
    assert requests[0].value("cursor") is None
    assert all(r.value("cursor") for r in requests[1:])


def test_on_page_reports_models_seen_after_each_page(fake_hub):
    fake_hub.add("Qwen", *QWEN)
    pages: list[int] = []

    client(fake_hub).list_org("Qwen", on_page=pages.append)

    assert pages == [3, 6, 7]


def test_the_token_is_sent_as_a_bearer_header(fake_hub):
    fake_hub.add("Qwen", *QWEN[:1])

    client(fake_hub, token="hf_secret_token").list_org("Qwen")

    assert fake_hub.requests[0].headers["authorization"] == "Bearer hf_secret_token"


def test_no_token_sends_no_authorization(fake_hub):
    fake_hub.add("Qwen", *QWEN[:1])

    client(fake_hub).list_org("Qwen")

    assert "authorization" not in fake_hub.requests[0].headers


@pytest.mark.parametrize(
    ("faults", "sleeps"),
    [
        ({"rate_limited": 2, "retry_after": 3}, [4.0, 4.0]),  # Retry-After, plus 1s margin
        ({"server_errors": 2}, [1.0, 2.0]),  # exponential back-off
    ],
    ids=["429-retry-after", "500"],
)
def test_transient_errors_are_retried_with_the_clients_back_off(
    fake_hub, instant_sleep, faults, sleeps
):
    fake_hub.add("Qwen", *QWEN).inject("Qwen", **faults)

    models = client(fake_hub).list_org("Qwen")

    assert len(models) == 7
    assert instant_sleep == sleeps


def test_a_persistent_server_error_fails_after_five_retries(fake_hub, instant_sleep):
    fake_hub.add("Qwen", *QWEN).inject("Qwen", fail_page=3)

    with pytest.raises(HubError) as caught:
        client(fake_hub).list_org("Qwen")

    message = str(caught.value)
    assert caught.value.org == "Qwen"
    page_3 = f"{fake_hub.url}/api/models?author=Qwen&cursor="
    assert message.startswith(f"Hub listing for 'Qwen' failed: HTTP 500 from {page_3}")
    assert "\n" not in message
    assert instant_sleep == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert len(fake_hub.requests) == 2 + 6  # two good pages, then six tries of page 3


@pytest.mark.parametrize(
    ("faults", "reason"),
    [
        ({"malformed": True}, "malformed JSON"),
        ({"fail_page": 1}, "HTTP 500 from"),
        ({"rate_limited": 99}, "HTTP 429 from"),
    ],
)
def test_failures_are_one_readable_line_without_the_token(fake_hub, faults, reason):
    fake_hub.add("Qwen", *QWEN).inject("Qwen", **faults)

    with pytest.raises(HubError) as caught:
        client(fake_hub, token="hf_secret_token").list_org("Qwen")

    message = str(caught.value)
    assert reason in message
    assert "\n" not in message and len(message) < 400
    assert "hf_secret_token" not in message


def test_a_stalled_answer_times_out_instead_of_hanging(fake_hub, instant_sleep):
    # The Hub never answers (the stall outlasts pytest's time limit): only the client's
    # own timeout can end the call, so returning at all is the proof; no clock needed.
    fake_hub.add("Qwen", *QWEN).inject("Qwen", stall=3600)

    with pytest.raises(HubError, match=r"timed out after 0\.2s"):
        client(fake_hub, timeout=0.2).list_org("Qwen")

    assert len(instant_sleep) == 5  # the client retried its timeouts, then gave up


def test_a_stall_that_clears_is_retried(fake_hub, instant_sleep):
    fake_hub.add("Qwen", *QWEN).inject("Qwen", stall=30, stalled_requests=1)

    models = client(fake_hub, timeout=0.2).list_org("Qwen")

    assert len(models) == 7
    assert instant_sleep == [1.0]


def test_an_unreachable_hub_says_so(instant_sleep):
    with FakeHub() as hub:
        url = hub.url  # a port that was just free and is now closed

    with pytest.raises(HubError, match=r"cannot reach http://127\.0\.0\.1:\d+"):
        HubClient(url).list_org("Qwen")


def test_an_unknown_org_404_lists_no_models(fake_hub, caplog):
    fake_hub.inject("THUDM", not_found=True)

    with caplog.at_level(logging.WARNING, logger="openmodels.hub"):
        models = client(fake_hub).list_org("THUDM")

    assert models == []
    assert "THUDM" in caplog.text and "404" in caplog.text


def test_an_org_the_hub_lists_empty_lists_no_models(fake_hub):
    models = client(fake_hub).list_org("nobody-here")

    assert models == []
    assert len(fake_hub.requests) == 1


def test_creating_clients_with_the_same_timeout_keeps_the_shared_connection(fake_hub):
    from huggingface_hub import get_session

    client(fake_hub, timeout=7.0)
    session = get_session()

    client(fake_hub, timeout=7.0)

    assert get_session() is session


def test_the_token_is_never_in_the_clients_repr():
    assert "hf_secret" not in repr(HubClient("http://127.0.0.1:9", token="hf_secret"))
