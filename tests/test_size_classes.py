"""Downloads by size class: `sizes`, `top --size`, `family` by size, and new leaders.

The store (`sized_store`) holds two snapshots a week apart. Sizes and figures, with the
classes they fall in (all-time downloads, day 0 -> day 7):

    Qwen/q-0.5b     500M  Hub count   under 1B     100 ->   160
    Qwen/q-3b         3B  name        1–5B       1,000 -> 1,300
    Qwen/q-7b         7B  Hub count   5–10B      2,000 -> 2,100
    meta-llama/l-1b   1B  Hub count   1–5B       1,200 -> 1,250   (1B exactly: 1–5B)
    meta-llama/l-8b   8B  name        5–10B      3,000 -> 3,100
    meta-llama/l-x     ?  unknown     unknown      400 ->   420
    google/g-27b     27B  by hand     10–50B       600 ->   700

Summed by hand on day 7: under 1B 160 (Qwen), 1–5B 2,550 (Qwen 1,300, Llama 1,250),
5–10B 5,200 (Llama 3,100, Qwen 2,100), 10–50B 700 (Gemma), unknown 420 (Llama); 9,030
in all. By source: Hub count 3,510, name 4,400, by hand 700, unknown 420.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from commands import AnswerContext, answer_text
from commands.blocks import check_limits
from commands.digest_message import digest_message
from commands.parser import Sizes, Top, UsageError, parse
from commands.render import render_text
from openmodels.comparability import Counted
from openmodels.digest import build_digest
from openmodels.families import load_families
from openmodels.overtakes import Point
from openmodels.size_classes import (
    ClassFigures,
    LeaderChange,
    class_values_of,
    leader_changes,
    read_class_figures,
    summarize,
    week_leader_changes,
)
from openmodels.sizes import FROM_FILE, FROM_HUB, FROM_NAME, UNKNOWN, ModelSize
from openmodels.timeline import read_timeline
from storage import Store
from storage import queries as q
from storage.snapshots import write_snapshot
from tests.builders import DAY0, record
from tests.slack_helpers import running_bot

B, M = 1_000_000_000, 1_000_000
DEFINITIONS = load_families().definitions()
SIZES = {
    "Qwen/q-0.5b": ModelSize(500 * M, FROM_HUB),
    "Qwen/q-3b": ModelSize(3 * B, FROM_NAME),
    "Qwen/q-7b": ModelSize(7 * B, FROM_HUB),
    "meta-llama/l-1b": ModelSize(1 * B, FROM_HUB),
    "meta-llama/l-8b": ModelSize(8 * B, FROM_NAME),
    "meta-llama/l-x": ModelSize(None, UNKNOWN),
    "google/g-27b": ModelSize(27 * B, FROM_FILE),
}
FAMILY_OF = {"Qwen": "qwen", "meta-llama": "llama", "google": "gemma"}


def day(store: Store, n: int, figures: dict[str, int], sizes: dict[str, ModelSize]) -> None:
    write_snapshot(
        store,
        DAY0 + timedelta(days=n),
        "hub",
        [record(r, FAMILY_OF[r.split("/")[0]], v, d30=v // 10) for r, v in figures.items()],
        DEFINITIONS,
        sizes,
    )


WEEK_0 = {
    "Qwen/q-0.5b": 100,
    "Qwen/q-3b": 1_000,
    "Qwen/q-7b": 2_000,
    "meta-llama/l-1b": 1_200,
    "meta-llama/l-8b": 3_000,
    "meta-llama/l-x": 400,
    "google/g-27b": 600,
}
WEEK_1 = {
    "Qwen/q-0.5b": 160,
    "Qwen/q-3b": 1_300,
    "Qwen/q-7b": 2_100,
    "meta-llama/l-1b": 1_250,
    "meta-llama/l-8b": 3_100,
    "meta-llama/l-x": 420,
    "google/g-27b": 700,
}


@pytest.fixture
def sized_store(new_store) -> Store:
    store = new_store("sized")
    day(store, 0, WEEK_0, SIZES)
    day(store, 7, WEEK_1, SIZES)
    return store


def ask(store: Store, text: str) -> str:
    result = answer_text(text, AnswerContext(store, load_families()))
    assert check_limits(result.blocks) == []
    return render_text(result)


# -- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sizes", Sizes()),
        ("sizes --30d --public", Sizes(metric="30d", public=True)),
        ("top --size 1-5B", Top(size="1-5B")),
        ("top 5 --size=250B+ --30d", Top(n=5, metric="30d", size="250b+")),
        ("top -size unknown", Top(size="unknown")),
    ],
)
def test_sizes_and_top_by_size_parse(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sizes qwen", "`sizes` covers every family; for one family's sizes, try `family NAME`."),
        ("top --size", "--size takes a size class: under-1B, 1-5B, 5-10B, 10-50B"),
        ("top --size 1-5B --derivatives", "`--size` ranks families by their downloads"),
        ("sizes --days 3", "Unknown option --days."),
    ],
)
def test_bad_size_questions_get_a_clear_usage_message(text, message):
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert caught.value.message.startswith(message)


# -- the sizes answer ----------------------------------------------------------------------


def test_sizes_shows_each_classs_total_share_and_leader(sized_store):
    out = ask(sized_store, "sizes")

    assert "Downloads by model size: all-time downloads" in out
    assert (
        "5–10B models take the largest share: 57.6% of 9.0K all-time downloads, led by Llama."
        in out
    )
    assert (
        "• under 1B  160 · 1.8% · led by Qwen (100.0% of it)\n"
        "• 1–5B  2.5K · 28.2% · led by Qwen (51.0% of it)\n"
        "• 5–10B  5.2K · 57.6% · led by Llama (59.6% of it)\n"
        "• 10–50B  700 · 7.8% · led by Gemma (100.0% of it)\n"
        "• unknown size  420 · 4.7% · led by Llama (100.0% of it)\n"
        "No downloads: 50–100B, 100–250B, 250B and over"
    ) in out
    assert (
        "How sizes are known, by share of these downloads: 38.9% the Hub's safetensors count · "
        "48.7% read from the model name · 7.8% set in the families file · 4.7% unknown."
    ) in " ".join(out.split())


def test_sizes_by_30_day_downloads(sized_store):
    # 30-day figures are a tenth of all-time, rounded down: 16 + 130 + 210 + 125 + 310 +
    # 42 + 70 = 903, of which 5–10B 210 + 310 = 520.
    out = ask(sized_store, "sizes --30d")

    assert "5–10B models take the largest share: 57.6% of 903 30-day downloads" in out


def test_summaries_say_no_single_leader_on_a_tie(sized_store):
    with sized_store.reading() as db:
        latest = q.latest_snapshot(db)
        assert latest is not None
        figures = read_class_figures(db, [latest.id], "all_time")[latest.id]
    tied = ClassFigures(
        {**figures.by_class, "1-5b": {"qwen": 1_250, "llama": 1_250}}, figures.by_source
    )

    summary = next(s for s in summarize(tied) if s.size_class.key == "1-5b")

    assert (summary.leader, summary.downloads, summary.families) == (None, 2_500, 2)


# -- ranking within a class ------------------------------------------------------------------


def test_top_by_size_ranks_the_families_of_one_class_with_their_change(sized_store):
    out = ask(sized_store, "top --size 1-5B")

    assert "Top 2 model families among 1–5B models by all-time downloads" in out
    # Qwen 1,000 -> 1,300 passes Llama 1,200 -> 1,250 within the class.
    assert (
        "1. Qwen  1.3K · 51.0% · +300 this week ▲1\n2. Llama  1.2K · 49.0% · +50 this week ▼1"
        in out
    )
    assert "Shares are of the downloads of 1–5B models." in " ".join(out.split())


def test_top_by_size_names_a_class_however_it_is_typed(sized_store):
    assert "among models under 1B" in ask(sized_store, "top --size <1B")
    assert "among models under 1B" in ask(sized_store, "top --size &lt;1B")  # Slack's escape
    assert "No tracked family has models of 250B and over" in ask(sized_store, "top --size 250b+")
    out = ask(sized_store, "top --size 2-5B")
    assert "'2-5B' is no size class. Classes: under-1b, 1-5b, 5-10b" in out


def test_a_size_for_a_class_says_which_class_holds_it(sized_store):
    out = ask(sized_store, "top --size 7B")
    assert "'7B' is no size class. 7B models are in `--size 5-10b`. Classes:" in out
    assert "500M models are in `--size under-1b`" in ask(sized_store, "top --size 0.5b")


def test_a_size_read_during_the_week_counts_at_both_ends_never_as_growth(new_store):
    store = new_store("late")
    # Llama's 1B model has no known size on day 0; a collection on day 7 reads one.
    day(store, 0, WEEK_0, {**SIZES, "meta-llama/l-1b": ModelSize(None, UNKNOWN)})
    day(store, 7, WEEK_1, SIZES)

    out = ask(store, "top --size 1-5B")

    # Its downloads are in the class at both ends: +50 in the week, not +1,250.
    assert "2. Llama  1.2K · 49.0% · +50 this week ▼1" in out


def test_family_shows_its_downloads_by_size(sized_store):
    out = ask(sized_store, "family qwen")

    # Qwen: 160 + 1,300 + 2,100 = 3,560; by the Hub's count 2,260, by name 1,300.
    assert (
        "By size (all-time downloads)\n"
        "under 1B 4.5% (160) · 1–5B 36.5% (1.3K) · 5–10B 59.0% (2.1K)\n"
        "How sizes are known, by share of these downloads: 63.5% the Hub's safetensors "
        "count · 36.5% read from the model name."
    ) in out


def test_model_shows_its_size_and_where_it_came_from(sized_store):
    assert "Size\n      8B · 5–10B (read from the model name)" in ask(
        sized_store, "model meta-llama/l-8b"
    )
    assert "Size\n      unknown" in ask(sized_store, "model meta-llama/l-x")
    assert "Size\n      27B · 10–50B (set in the families file)" in ask(
        sized_store, "model google/g-27b"
    )


# -- a new leader within a class ---------------------------------------------------------------


def point(
    n: int,
    one_to_five: dict[str, int],
    definitions: dict[str, str] | None = None,
    anomalous: frozenset[str] = frozenset(),
) -> Point:
    """Snapshot `n` (day n), whose 1–5B class holds `one_to_five` (family -> downloads),
    as the comparability rule sees it: the families' definitions, and those whose
    figures are missing data there (`anomalous`)."""
    figures = ClassFigures({"1-5b": one_to_five}, {FROM_HUB: sum(one_to_five.values())})
    counted = Counted(
        n,
        (DAY0 + timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "hub",
        definitions or {},
        frozenset(one_to_five),
        anomalous,
    )
    return Point(class_values_of({"all_time": figures}), counted)


def test_a_new_leader_within_a_class_is_an_overtake_of_the_former_one():
    points = [point(0, {"qwen": 90, "llama": 100}), point(1, {"qwen": 120, "llama": 110})]

    assert leader_changes(points, 1, metrics=("all_time",)) == [
        LeaderChange("all_time", "1-5b", "qwen", "llama", 120, 110)
    ]


@pytest.mark.parametrize(
    ("points", "why"),
    [
        ([point(0, {"qwen": 90, "llama": 100}), point(1, {"qwen": 110, "llama": 110})], "a tie"),
        (
            [
                point(0, {"qwen": 90, "llama": 100, "phi": 10}),
                point(1, {"qwen": 90, "llama": 100, "phi": 95}),
            ],
            "a pass behind the leader",
        ),
        (
            [
                point(0, {"qwen": 90, "llama": 100}, {"qwen": "old", "llama": "l"}),
                point(1, {"qwen": 120, "llama": 110}, {"qwen": "wider", "llama": "l"}),
            ],
            "a changed families file",
        ),
        (
            [
                point(0, {"qwen": 90, "llama": 100}),
                point(1, {"qwen": 120, "llama": 90}, anomalous=frozenset({"llama"})),
            ],
            "figures that went backwards",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_no_new_leader_from(points, why):
    assert leader_changes(points, 1, metrics=("all_time",)) == [], why


def test_a_new_leader_must_hold_for_the_confirmation():
    once = [
        point(0, {"qwen": 90, "llama": 100}),
        point(1, {"qwen": 90, "llama": 100}),
        point(2, {"qwen": 120, "llama": 110}),
    ]
    twice = [*once, point(3, {"qwen": 130, "llama": 115})]

    assert leader_changes(once, 2, confirm=2, metrics=("all_time",)) == []
    assert [c.leader for c in leader_changes(twice, 2, confirm=2, metrics=("all_time",))] == [
        "qwen"
    ]


def test_the_week_names_a_new_leader_read_from_the_store(sized_store):
    with sized_store.reading() as db:
        snapshots = q.list_snapshots(db)
        changes = week_leader_changes(db, read_timeline(db), snapshots[-1], snapshots[0])

    # Qwen passed Llama among 1–5B models, all-time and in 30 days; nothing else moved.
    assert changes == [
        LeaderChange("all_time", "1-5b", "qwen", "llama", 1_300, 1_250),
        LeaderChange("30d", "1-5b", "qwen", "llama", 130, 125),
    ]


def test_a_size_newly_read_makes_no_new_leader(new_store):
    store = new_store("read")
    # On day 0 Llama's 1B model was not sized, so Qwen led 1–5B by the sizes known then;
    # by the sizes known now Llama led on day 0 too, and still does on day 7.
    unsized = {**SIZES, "meta-llama/l-1b": ModelSize(None, UNKNOWN)}
    day(store, 0, {**WEEK_0, "Qwen/q-3b": 1_100}, unsized)
    day(store, 7, {**WEEK_1, "Qwen/q-3b": 1_200}, SIZES)

    with store.reading() as db:
        snapshots = q.list_snapshots(db)
        changes = week_leader_changes(db, read_timeline(db), snapshots[-1], snapshots[0])

    assert [c for c in changes if c.size_class == "1-5b"] == []


def test_the_digest_names_a_new_leader_within_a_size_class(sized_store):
    with sized_store.reading() as db:
        digest = build_digest(db, load_families(), DAY0 + timedelta(days=7, hours=1))
    assert digest is not None

    message = digest_message(digest, load_families())

    section = next(
        b["text"]["text"] for b in message["blocks"] if "New leaders by model size" in str(b)
    )
    assert section == (
        "*New leaders by model size this week*\n"
        "• Qwen took the lead among 1–5B models from Llama in all-time downloads "
        "(1.3K vs 1.2K)\n"
        "• Qwen took the lead among 1–5B models from Llama in 30-day downloads (130 vs 125)"
    )


def test_the_digest_says_nothing_of_size_classes_when_no_leader_changed(new_store):
    store = new_store("steady")
    day(store, 0, WEEK_0, SIZES)
    day(store, 7, {**WEEK_1, "Qwen/q-3b": 1_100}, SIZES)  # Llama keeps 1–5B: 1,250 vs 1,100

    with store.reading() as db:
        digest = build_digest(db, load_families(), DAY0 + timedelta(days=7, hours=1))
    assert digest is not None and digest.class_leaders == []
    assert "New leaders by model size" not in str(digest_message(digest, load_families()))


# -- figures by size ask the comparability rule -------------------------------------------------


def test_a_family_redefined_in_the_week_shows_its_class_change_since_then(new_store):
    store = new_store("redefined")
    day(store, 0, WEEK_0, SIZES)
    # On day 4 the families file counts Llama by other rules (a wider glob, say).
    write_snapshot(
        store,
        DAY0 + timedelta(days=4),
        "hub",
        [record(r, FAMILY_OF[r.split("/")[0]], v + 20, d30=v // 10) for r, v in WEEK_0.items()],
        {**DEFINITIONS, "llama": '{"match":["*"],"orgs":["meta-llama"],"yields_to":[]}'},
        SIZES,
    )
    write_snapshot(
        store,
        DAY0 + timedelta(days=7),
        "hub",
        [record(r, FAMILY_OF[r.split("/")[0]], v, d30=v // 10) for r, v in WEEK_1.items()],
        {**DEFINITIONS, "llama": '{"match":["*"],"orgs":["meta-llama"],"yields_to":[]}'},
        SIZES,
    )

    out = ask(store, "top --size 1-5B")

    # Qwen compares over the week (1,000 -> 1,300); Llama only since its redefinition on
    # day 4 (1,220 -> 1,250), said as such, and it takes no part in the ranking's moves.
    assert "1. Qwen  1.3K · 51.0% · +300 this week\n" in out
    assert "2. Llama  1.2K · 49.0% · +30 since 5 Jan, when its definition changed" in out


def test_no_new_leader_by_size_across_a_familys_missing_figures(new_store):
    store = new_store("fell")
    day(store, 0, WEEK_0, SIZES)
    # Llama's unsized model is not listed on day 7: its total falls (4,600 -> 4,350),
    # missing data by the rule, so Qwen passing it among 1–5B models is no new leader.
    day(store, 7, {r: v for r, v in WEEK_1.items() if r != "meta-llama/l-x"}, SIZES)

    with store.reading() as db:
        snapshots = q.list_snapshots(db)
        changes = week_leader_changes(db, read_timeline(db), snapshots[-1], snapshots[0])

    assert changes == []


def test_sizes_in_slack_is_the_same_answer_with_its_buttons(sized_store):
    with running_bot(sized_store) as bot:
        exchange = bot.command("sizes")

    [message] = exchange.visible
    assert message["text"].startswith("Downloads by model size: all-time downloads")
    assert "*5–10B models* take the largest share: 57.6%" in str(message["blocks"])
    buttons = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert {e.get("value") for e in buttons} >= {"sizes --30d"}
