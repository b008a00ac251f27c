"""Families: the defaults, name resolution, classification, and refusing bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from openmodels.cli import main
from openmodels.config import Config
from openmodels.errors import FamiliesError
from openmodels.families import load_families, parse_families

DEFAULT_ORGS = {
    "qwen": ("Qwen",),
    "llama": ("meta-llama",),
    "deepseek": ("deepseek-ai",),
    "gpt-oss": ("openai",),
    "mistral": ("mistralai", "mistral-community"),
    "gemma": ("google",),
    "glm": ("zai-org", "THUDM"),
    "kimi": ("moonshotai",),
    "minimax": ("MiniMaxAI",),
    "nemotron": ("nvidia",),
    "phi": ("microsoft",),
}

HUB_REPO_IDS = Path(__file__).parent / "data" / "hub_repo_ids.txt"


def hub_repo_ids() -> list[tuple[str, str | None]]:
    """(repo id, family that owns it or None) for each real Hub id in tests/data."""
    rows = []
    for line in HUB_REPO_IDS.read_text(encoding="utf-8").splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            repo_id, family = fields
            rows.append((repo_id, None if family == "-" else family))
    return rows


GOOD = """
[families.qwen]
label = "Qwen"
orgs = ["Qwen"]
"""


@pytest.fixture(scope="module")
def defaults():
    return load_families()


def test_the_defaults_cover_the_tracked_families_in_file_order(defaults):
    assert defaults.keys == list(DEFAULT_ORGS)
    assert {f.key: f.orgs for f in defaults} == DEFAULT_ORGS
    assert defaults.source == "default families"


def test_orgs_are_listed_once_each_in_file_order():
    families = parse_families(
        """
        [families.a]
        orgs = ["x", "y"]
        [families.b]
        orgs = ["y", "z"]
        """,
        "f.toml",
    )

    assert families.orgs() == ["x", "y", "z"]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("qwen", "qwen"),
        ("QWEN", "qwen"),
        (" Qwen ", "qwen"),
        ("alibaba", "qwen"),  # alias
        ("Meta", "llama"),  # alias, any case
        ("DeepSeek", "deepseek"),  # label
        ("GPT-OSS", "gpt-oss"),
        ("gptoss", "gpt-oss"),
        ("zhipu", "glm"),
        ("moonshot", "kimi"),
        ("nvidia", "nemotron"),
        ("Microsoft", "phi"),
        ("google", "gemma"),
    ],
)
def test_resolve_by_key_alias_or_label_in_any_case(defaults, name, key):
    family = defaults.resolve(name)

    assert family is not None and family.key == key


def test_resolve_an_unknown_name_is_none(defaults):
    assert defaults.resolve("gpt-4") is None


@pytest.mark.parametrize(("typo", "key"), [("qwn", "qwen"), ("lama", "llama"), ("gema", "gemma")])
def test_suggest_the_closest_key(defaults, typo, key):
    assert defaults.suggest(typo) == key


def test_suggest_nothing_when_nothing_is_close(defaults):
    assert defaults.suggest("zzzzzz") is None


@pytest.mark.parametrize(
    ("repo_id", "key"),
    [
        ("Qwen/Qwen2.5-7B-Instruct", "qwen"),
        ("qwen/Qwen3-8B", "qwen"),  # org matched case-insensitively
        ("google/gemma-2-9b", "gemma"),
        ("google/Gemma-3-27B-it", "gemma"),  # glob matched case-insensitively
        ("google/t5-small", None),  # google, but not Gemma
        ("nvidia/Llama-3.1-Nemotron-70B-Instruct-HF", "nemotron"),
        ("nvidia/parakeet-tdt-0.6b-v2", None),
        ("openai/gpt-oss-120b", "gpt-oss"),
        ("openai/whisper-large-v3", None),
        ("THUDM/glm-4-9b-chat", "glm"),
        ("zai-org/GLM-4.5", "glm"),
        ("mistral-community/pixtral-12b", "mistral"),
        ("microsoft/Phi-4", "phi"),
        ("microsoft/bitnet-b1.58-2B-4T", None),
        ("someone/Qwen2.5-7B-finetune", None),  # fine-tunes by others are not the family
    ],
)
def test_family_of_classifies_by_org_and_match(defaults, repo_id, key):
    family = defaults.family_of(repo_id)

    assert (family.key if family else None) == key


@pytest.mark.parametrize(("repo_id", "key"), hub_repo_ids())
def test_the_defaults_classify_real_hub_repositories(defaults, repo_id, key):
    for spelling in (repo_id, repo_id.lower(), repo_id.upper()):  # the Hub ignores case
        family = defaults.family_of(spelling)

        assert (family.key if family else None) == key, spelling


def test_the_real_repositories_cover_every_default_family_and_every_glob(defaults):
    rows = hub_repo_ids()
    owned = {key for _, key in rows}
    outsiders = {repo_id.split("/")[0].lower() for repo_id, key in rows if key is None}

    assert owned - {None} == set(defaults.keys)  # each family owns some real repository
    for family in defaults:
        if family.match:  # and each narrowed organisation has real models left out
            assert {o.lower() for o in family.orgs} <= outsiders, family.key


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[families.qwen\norgs = ['Qwen']", "not valid TOML"),
        (
            "[families.qwen]\norgs = ['Qwen']\ncolour = 'red'",
            "family 'qwen': unknown key(s) colour",
        ),
        ("[families.qwen]\nlabel = 'Qwen'", "family 'qwen': has no orgs"),
        ("[families.qwen]\norgs = []", "family 'qwen': has no orgs"),
        ("[families.qwen]\norgs = 'Qwen'", "family 'qwen': orgs must be a list"),
        ("[families.qwen]\norgs = ['Qwen']\nmatch = [1]", "family 'qwen': match must be a list"),
        ("[families.Qwen]\norgs = ['Qwen']", "family 'Qwen': name must be lowercase"),
        ("[families.qwen]\norgs = ['Qwen']\nlabel = ''", "family 'qwen': label must be"),
        ("[family.qwen]\norgs = ['Qwen']", "unknown top-level key(s) family"),
        ("", "no families defined"),
        (
            "[families.llama]\norgs = ['meta-llama']\naliases = ['meta']\n"
            "[families.phi]\norgs = ['microsoft']\naliases = ['META']",
            "family 'phi': alias 'META' is already used by family 'llama'",
        ),
        (
            "[families.llama]\norgs = ['meta-llama']\n"
            "[families.phi]\norgs = ['microsoft']\naliases = ['llama']",
            "family 'phi': alias 'llama' is already used by family 'llama'",
        ),
        (
            "[families.kimi]\norgs = ['moonshotai']\nsizes = ['1T']",
            "family 'kimi': sizes must be a table of model names (globs) and sizes",
        ),
        (
            "[families.kimi]\norgs = ['moonshotai']\nsizes = { 'Kimi-K2-*' = 'huge' }",
            "family 'kimi': sizes: 'Kimi-K2-*' = 'huge' is not a size; write it as \"7B\"",
        ),
        (
            "[families.kimi]\norgs = ['moonshotai']\nsizes = { 'Kimi-K2-*' = 0 }",
            "family 'kimi': sizes: 'Kimi-K2-*' = 0 is not a size",
        ),
        (
            "[families.kimi]\norgs = ['moonshotai']\nsizes = { 'moonshotai/Kimi-K2' = '1T' }",
            "family 'kimi': sizes: 'moonshotai/Kimi-K2' must be a model name or glob without",
        ),
    ],
    ids=[
        "toml-syntax",
        "unknown-key",
        "no-orgs",
        "empty-orgs",
        "orgs-not-a-list",
        "match-not-strings",
        "bad-name",
        "empty-label",
        "unknown-table",
        "empty-file",
        "alias-used-twice",
        "alias-is-another-key",
        "sizes-not-a-table",
        "size-not-a-size",
        "size-zero",
        "size-with-org",
    ],
)
def test_a_bad_file_is_refused_with_one_message(tmp_path, text, problem):
    path = tmp_path / "families.toml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(FamiliesError) as caught:
        load_families(path)

    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert problem in message
    assert "\n" not in message


def test_a_missing_file_is_refused_naming_it(tmp_path):
    missing = tmp_path / "nope.toml"

    with pytest.raises(FamiliesError, match=r"nope\.toml: cannot read families file"):
        load_families(missing)


def test_a_file_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes("[families.caf\xe9]".encode("latin-1"))

    with pytest.raises(FamiliesError, match="not UTF-8"):
        load_families(path)


def test_openmodels_families_names_the_file_to_load(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(GOOD, encoding="utf-8")

    config = Config.from_env({"OPENMODELS_FAMILIES": str(path)})

    assert config.families_path == path
    assert load_families(config.families_path).keys == ["qwen"]


def test_families_flag_overrides_the_environment(tmp_path, monkeypatch, capsys):
    broken = tmp_path / "broken.toml"
    broken.write_text("[families.qwen]\n", encoding="utf-8")
    good = tmp_path / "good.toml"
    good.write_text(GOOD, encoding="utf-8")
    monkeypatch.setenv("OPENMODELS_FAMILIES", str(broken))
    db = str(tmp_path / "s.db")

    assert main(["status", "--db", db, "--families", str(good)]) == 0
    assert main(["status", "--db", db]) == 1
    _, err = capsys.readouterr()
    assert f"{broken}: family 'qwen': has no orgs" in err


def test_every_default_family_links_to_its_first_org(defaults):
    assert defaults.get("glm") is not None
    assert defaults.get("glm").hub_url == "https://huggingface.co/zai-org"  # type: ignore[union-attr]


def test_label_falls_back_to_the_key(defaults):
    assert defaults.label("qwen") == "Qwen"
    assert defaults.label("unknown") == "unknown"


def test_a_custom_file_keeps_its_path_as_source(tmp_path: Path):
    path = tmp_path / "mine.toml"
    path.write_text(GOOD, encoding="utf-8")

    assert load_families(path).source == str(path)


SIZED = """
[families.kimi]
orgs = ["moonshotai"]
sizes = { "Kimi-K2-*" = "1T", "Kimi-Linear-48B-A3B-Instruct" = 48_000_000_000 }

[families.qwen]
orgs = ["Qwen"]
"""


def test_a_family_may_set_sizes_by_hand_by_model_name_glob():
    families = parse_families(SIZED, "sized")

    assert families.size_by_hand("moonshotai/Kimi-K2-Instruct") == 1_000_000_000_000
    assert families.size_by_hand("MOONSHOTAI/kimi-k2-thinking") == 1_000_000_000_000
    assert families.size_by_hand("moonshotai/Kimi-Linear-48B-A3B-Instruct") == 48_000_000_000
    assert families.size_by_hand("moonshotai/Moonlight-16B-A3B") is None
    assert families.size_by_hand("Qwen/Kimi-K2-Instruct") is None  # not kimi's model


def test_sizes_set_by_hand_change_no_definition():
    plain = parse_families(SIZED.replace('sizes = { "Kimi-K2-*" = "1T", ', "# "), "plain")

    assert plain.definitions() == parse_families(SIZED, "sized").definitions()
