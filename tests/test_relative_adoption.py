"""Relative adoption: a launch's start against the earlier launches of its size class,
from every tracked family, at the same age; in `new`, `model` and the digest.

The store (`launches`) holds a snapshot a day from day 0 to day 10. Day 0 lists one old
model per family. Then, each created an hour before the snapshot that first lists it:

    day 1  Qwen/E1        1–5B    +50 a day    start at 2 days: 100
    day 2  meta-llama/E2  1–5B    +100 a day                    200
    day 3  google/gemma-e3 1–5B   +150 a day                    300
    day 4  microsoft/phi-e4 1–5B  +200 a day                    400
    day 5  mistralai/E5   1–5B    +250 a day                    500
    day 6  Qwen/E6        5–10B   +9,000 a day  (another class)
    day 7  Qwen/E7        unknown +9,000 a day  (no class)
    day 8  Qwen/T         1–5B    +345 a day    start at 2 days: 690
    day 9  Qwen/T2        5–10B   +10 a day

As of day 10, T is 2 days old: its class's five earlier starts at 2 days have a median
of 300, so T is 690 / 300 = 2.3× its class, and the best start for its size. T2 is a
day old and its class has one earlier launch (E6): too few. A slower T (52 or 150 a
day) is 0.35× or 1.0× its class: behind or level, named nobody's best start.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from commands import AnswerContext, answer_text
from commands.digest_message import digest_message
from commands.render import render_text
from openmodels.digest import build_digest, digest_launches
from openmodels.families import load_families
from openmodels.launch_finder import launch_of, launches_between
from openmodels.launches import (
    MIN_CLASS_LAUNCHES,
    Adoption,
    Launch,
    best_for_its_size,
    relative_adoption,
)
from openmodels.sizes import FROM_HUB, UNKNOWN, ModelSize
from storage import Store
from storage.snapshots import ModelRecord, format_timestamp, write_snapshot
from tests.builders import DAY0

B = 1_000_000_000
FAMILIES = load_families()
DEFINITIONS = FAMILIES.definitions()
ONE_TO_FIVE, FIVE_TO_TEN = ModelSize(3 * B, FROM_HUB), ModelSize(7 * B, FROM_HUB)
# repo id, family, day first seen, downloads a day, size
LAUNCHES = [
    ("Qwen/E1", "qwen", 1, 50, ONE_TO_FIVE),
    ("meta-llama/E2", "llama", 2, 100, ONE_TO_FIVE),
    ("google/gemma-e3", "gemma", 3, 150, ONE_TO_FIVE),
    ("microsoft/phi-e4", "phi", 4, 200, ONE_TO_FIVE),
    ("mistralai/E5", "mistral", 5, 250, ONE_TO_FIVE),
    ("Qwen/E6", "qwen", 6, 9_000, FIVE_TO_TEN),
    ("Qwen/E7", "qwen", 7, 9_000, ModelSize(None, UNKNOWN)),
    ("Qwen/T", "qwen", 8, 345, ONE_TO_FIVE),
    ("Qwen/T2", "qwen", 9, 10, FIVE_TO_TEN),
]
OLD = [("Qwen/old", "qwen"), ("meta-llama/old", "llama"), ("google/gemma-old", "gemma"),
       ("microsoft/phi-old", "phi"), ("mistralai/old", "mistral")]  # fmt: skip


def at(day: float) -> str:
    return format_timestamp(DAY0 + timedelta(days=day))


def snapshot_records(day: int, t_daily: int = 345) -> list[ModelRecord]:
    """Day `day`'s snapshot, Qwen/T gaining `t_daily` downloads a day."""
    records = [ModelRecord(r, f, 0, 1_000 + day) for r, f in OLD]
    for repo_id, family, seen, daily, _ in LAUNCHES:
        daily = t_daily if repo_id == "Qwen/T" else daily
        if seen <= day:
            created = (DAY0 + timedelta(days=seen, hours=-1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            records.append(
                ModelRecord(repo_id, family, 0, 10 + daily * (day - seen), created_at=created)
            )
    return records


def launches_store(store: Store, t_daily: int = 345) -> Store:
    sizes = {repo_id: size for repo_id, _, _, _, size in LAUNCHES}
    for day in range(11):
        records = snapshot_records(day, t_daily)
        write_snapshot(store, DAY0 + timedelta(days=day), "hub", records, DEFINITIONS, sizes)
    return store


@pytest.fixture
def launches(new_store) -> Store:
    return launches_store(new_store("adoption"))


def ask(store: Store, text: str) -> str:
    return render_text(answer_text(text, AnswerContext(store, FAMILIES)))


# -- the rule (pure) ---------------------------------------------------------------------------


def test_a_start_over_the_median_start_of_its_class_at_the_same_age():
    earlier = {"a": 100, "b": 200, "c": 300, "d": 400, "e": 500, "f": None}

    adoption = relative_adoption(690, timedelta(days=2), "1-5b", earlier)

    assert (adoption.compared, adoption.median, adoption.ratio) == (5, 300, pytest.approx(2.3))


def test_an_even_number_of_earlier_starts_has_the_middle_two_for_median():
    earlier = {str(n): n * 100 for n in range(1, 7)}

    assert relative_adoption(700, timedelta(days=2), "1-5b", earlier).median == 350


def test_fewer_than_five_earlier_starts_give_no_ratio():
    assert MIN_CLASS_LAUNCHES == 5
    adoption = relative_adoption(690, timedelta(days=2), "1-5b", {"a": 1, "b": 2, "c": 3, "d": 4})

    assert (adoption.enough, adoption.ratio, adoption.compared) == (False, None, 4)


def test_no_class_and_no_downloads_give_no_ratio():
    unknown = relative_adoption(690, timedelta(days=2), None, {"a": 100})
    nothing = relative_adoption(690, timedelta(days=2), "1-5b", {str(n): 0 for n in range(6)})

    assert (unknown.ratio, unknown.compared) == (None, 0)
    assert (nothing.enough, nothing.median, nothing.ratio) == (True, 0, None)


def rated(repo_id: str, ratio: float | None) -> Launch:
    """A launch 2 days old whose class's median start was 100: `ratio` times that, or
    too few earlier launches to say (None)."""
    if ratio is None:
        adoption = Adoption("1-5b", timedelta(days=2), 0, 3, 100.0)
    else:
        adoption = Adoption("1-5b", timedelta(days=2), int(ratio * 100), 5, 100.0)
    return Launch(repo_id, "qwen", None, at(0), 0, adoption.gained, at(2), adoption=adoption)


def test_the_best_start_for_its_size_is_the_highest_ratio():
    found = [rated("a", 1.5), rated("b", 2.5), rated("c", None), rated("d", 2.5)]

    best = best_for_its_size(found)

    assert best is not None and best.repo_id == "b"  # ties: the first by repo id
    assert best_for_its_size([rated("c", None)]) is None


@pytest.mark.parametrize(
    ("ratios", "best"),
    [
        ([0.35, 0.18], None),  # the best of a slow week is still behind its class
        ([1.0, 0.5], None),  # level with its class's median: not ahead of it
        ([1.01, 0.35], "a"),
    ],
)
def test_a_best_start_is_named_only_ahead_of_its_class(ratios, best):
    found = [rated(name, ratio) for name, ratio in zip("ab", ratios, strict=True)]

    named = best_for_its_size(found)

    assert (named.repo_id if named else None) == best


# -- read from the store ---------------------------------------------------------------------


def test_a_launch_is_judged_against_its_class_from_every_family(launches):
    with launches.reading() as db:
        found = launches_between(db, DAY0 + timedelta(days=7), DAY0 + timedelta(days=10))

    by_repo = {x.repo_id: x for x in found}
    t = by_repo["Qwen/T"]
    assert t.adoption == Adoption("1-5b", timedelta(days=2), 690, 5, 300)
    assert t.adoption.ratio == pytest.approx(2.3)
    # Within its family the bigger E6 and E7 started faster: no fastest start. The two
    # judgements read the same starts at the same age, each among its own rivals.
    assert t.fastest is None
    # T2's class (5–10B) has one earlier launch: E6.
    assert by_repo["Qwen/T2"].adoption == Adoption("5-10b", timedelta(days=1), 10, 1, 9_000)


def test_one_familys_launches_are_still_judged_against_every_familys(launches):
    with launches.reading() as db:
        end = DAY0 + timedelta(days=10)
        alone = launches_between(db, end - timedelta(days=3), end, ["qwen"], FAMILIES.keys)

    t = next(x for x in alone if x.repo_id == "Qwen/T")
    assert t.adoption is not None and t.adoption.compared == 5


def test_new_shows_each_launchs_start_against_its_class(launches):
    out = ask(launches, "new --days 3")

    assert (
        "2. Qwen/T · Qwen · first seen 2026-01-09 (created 2026-01-09) · +690 in 2 days "
        "(700 all-time) · 2.3× its class at day 2 (1–5B)"
    ) in out
    assert (
        "1. Qwen/T2 · Qwen · first seen 2026-01-10 (created 2026-01-10) · +10 in 1 day "
        "(20 all-time) · 5–10B: 1 earlier at day 1, too few to compare with (5 needed)"
    ) in out
    assert "Best start for its size: Qwen/T, 2.3× its class at day 2 (1–5B)." in out


def test_model_shows_its_start_against_its_class_or_why_not(launches):
    assert "Start vs its class\n      2.3× its class at day 2 (1–5B)" in ask(
        launches, "model Qwen/T"
    )
    assert (
        "Start vs its class\n      not a launch the store saw: listed by the store's first "
        "snapshot of its kind"
    ) in ask(launches, "model Qwen/old")
    assert "Start vs its class\n      size unknown: no class to compare with" in ask(
        launches, "model Qwen/E7"
    )


def test_a_model_first_listed_long_after_its_creation_is_no_launch(launches):
    late = DAY0 + timedelta(days=11)
    write_snapshot(
        launches,
        late,
        "hub",
        [*snapshot_records(10), ModelRecord("Qwen/late", "qwen", 0, 5, created_at="2025-06-01")],
        DEFINITIONS,
    )

    with launches.reading() as db:
        found = launch_of(db, "Qwen/late")

    assert not isinstance(found, Launch) and found.why.value == "created earlier"


def test_the_digest_names_the_weeks_best_start_for_its_size(launches):
    now = DAY0 + timedelta(days=10, hours=1)
    with launches.reading() as db:
        week = digest_launches(db, now, FAMILIES)
        digest = build_digest(db, FAMILIES, now, launches=week)

    assert digest is not None and digest.best_launch is not None
    assert digest.best_launch.repo_id == "Qwen/T"
    text = " ".join(str(b) for b in digest_message(digest, FAMILIES)["blocks"])
    assert "*Best start for its size:* <https://huggingface.co/Qwen/T|Qwen/T> (Qwen), " in text
    assert "2.3× its class at day 2 (1–5B)." in text


# Qwen/T gaining 52 a day starts with 104 at 2 days: 104 / 300 = 0.35× its class;
# 150 a day, 300: level with it (1.0×).
@pytest.mark.parametrize(("t_daily", "ratio"), [(52, "0.35×"), (150, "1.0×")])
def test_new_and_the_digest_name_no_best_start_behind_or_level_with_its_class(
    new_store, t_daily, ratio
):
    store = launches_store(new_store("slow"), t_daily)
    now = DAY0 + timedelta(days=10, hours=1)

    out = ask(store, "new --days 3")
    with store.reading() as db:
        digest = build_digest(db, FAMILIES, now, launches=digest_launches(db, now, FAMILIES))
    assert digest is not None
    text = str(digest_message(digest, FAMILIES)["blocks"])

    assert f"{ratio} its class at day 2 (1–5B)" in out  # its own line still says it
    assert "Best start for its size" not in out
    assert digest.best_launch is None and "Best start for its size" not in text


def test_the_digest_says_nothing_of_a_best_start_when_none_has_a_ratio(launches):
    now = DAY0 + timedelta(days=10, hours=1)
    with launches.reading() as db:
        week = tuple(x for x in digest_launches(db, now, FAMILIES) if x.repo_id != "Qwen/T")
        digest = build_digest(db, FAMILIES, now, launches=week)

    assert digest is not None and digest.best_launch is None
    assert "Best start for its size" not in str(digest_message(digest, FAMILIES)["blocks"])
