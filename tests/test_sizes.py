"""Model sizes: read from real Hub names, from the Hub's count, by hand; size classes."""

from __future__ import annotations

import itertools

import pytest

from openmodels.sizes import (
    ALL_CLASSES,
    BILLION,
    CLASSES,
    FROM_FILE,
    FROM_HUB,
    FROM_NAME,
    UNKNOWN,
    UNKNOWN_CLASS,
    ModelSize,
    NameSize,
    class_of,
    model_size,
    parse_class,
    parse_size,
    size_from_name,
    size_from_safetensors,
    size_text,
)
from tests.test_families import hub_repo_ids

B, M = BILLION, 1_000_000

# What the name of each real repository in tests/data/hub_repo_ids.txt says of its total
# parameters, worked out by hand (None: the name says nothing certain).
NAMED_TOTALS: dict[str, int | None] = {
    "google/gemma-7b-it-pytorch": 7 * B,
    "google/gemma-2-9b": 9 * B,
    "google/gemma-2-9b-it": 9 * B,
    "google/gemma-2-27b-it": 27 * B,
    "google/gemma-3-27b-it": 27 * B,
    "google/gemma-3-270m-it": 270 * M,
    "google/gemma-3n-E4B-it": None,  # 4B "effective"; the weights hold about 8B
    "google/gemma-4-E2B-it": None,
    "google/codegemma-7b-it": 7 * B,
    "google/codegemma-2b": 2 * B,
    "google/medgemma-4b-it": 4 * B,
    "google/medgemma-27b-text-it": 27 * B,
    "google/paligemma-3b-pt-224": 3 * B,  # 224: the image resolution
    "google/paligemma-3b-ft-nlvr2-448": 3 * B,
    "google/paligemma2-3b-mix-224": 3 * B,
    "google/shieldgemma-2b": 2 * B,
    "google/shieldgemma-9b": 9 * B,
    "google/shieldgemma-2-4b-it": 4 * B,  # ShieldGemma 2, 4B
    "google/embeddinggemma-300m": 300 * M,
    "google/recurrentgemma-2b": 2 * B,
    "google/recurrentgemma-9b-it": 9 * B,
    "google/t5gemma-2b-2b-prefixlm-it": None,  # a 2B encoder and a 2B decoder
    "google/txgemma-2b-predict": 2 * B,
    "google/txgemma-9b-chat": 9 * B,
    "google/datagemma-rig-27b-it": 27 * B,
    "google/datagemma-rag-27b-it": 27 * B,
    "google/vaultgemma-1b": 1 * B,
    "google/translategemma-4b-it": 4 * B,
    "google/functiongemma-270m-it": 270 * M,
    "google/gemma-scope-2b-pt-res": 2 * B,
    "google/t5-v1_1-base": None,
    "google/flan-t5-xl": None,
    "google/bert_uncased_L-2_H-128_A-2": None,
    "google/medsiglip-448": None,
    "google/medasr": None,
    "google/cxr-foundation": None,
    "google-t5/t5-small": None,
    "nvidia/Llama-3.1-Nemotron-70B-Instruct-HF": 70 * B,
    "nvidia/Llama-3_3-Nemotron-Super-49B-v1": 49 * B,
    "nvidia/Llama-3_3-Nemotron-Super-49B-v1_5": 49 * B,
    "nvidia/NVIDIA-Nemotron-Nano-9B-v2": 9 * B,
    "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16": 30 * B,
    "nvidia/Nemotron-H-4B-Instruct-128K": 4 * B,  # 128K: the context length
    "nvidia/OpenReasoning-Nemotron-1.5B": 1_500 * M,
    "nvidia/OpenReasoning-Nemotron-32B": 32 * B,
    "nvidia/AceReason-Nemotron-1.1-7B": 7 * B,
    "nvidia/llama-nemotron-embed-1b-v2": 1 * B,
    "nvidia/nemotron-speech-streaming-en-0.6b": 600 * M,
    "nvidia/Minitron-4B-Base": 4 * B,
    "nvidia/Mistral-NeMo-Minitron-8B-Base": 8 * B,
    "nvidia/Mistral-NeMo-Minitron-8B-Instruct": 8 * B,
    "nvidia/Llama-3.1-Minitron-4B-Width-Base": 4 * B,
    "nvidia/parakeet-tdt-0.6b-v2": 600 * M,
    "nvidia/NV-Embed-v2": None,
    "nvidia/Llama3-ChatQA-1.5-8B": 8 * B,
    "nvidia/DeepSeek-R1-FP4": None,
    "microsoft/phi-1_5": None,
    "microsoft/phi-2": None,
    "microsoft/Phi-3-mini-4k-instruct": None,  # 4k: the context length
    "microsoft/Phi-3-medium-128k-instruct": None,
    "microsoft/Phi-3.5-mini-instruct": None,
    "microsoft/Phi-3.5-MoE-instruct": None,
    "microsoft/phi-4": None,
    "microsoft/Phi-4-mini-instruct": None,
    "microsoft/Phi-4-reasoning": None,
    "microsoft/Phi-4-mini-flash-reasoning": None,
    "microsoft/Phi-mini-MoE-instruct": None,
    "microsoft/Phi-tiny-MoE-instruct": None,
    "microsoft/MediPhi": None,
    "microsoft/MediPhi-Instruct": None,
    "microsoft/DialoGPT-medium": None,
    "microsoft/Florence-2-large": None,
    "microsoft/bitnet-b1.58-2B-4T": 2 * B,  # 4T: the training tokens
    "openai/gpt-oss-20b": 20 * B,
    "openai/gpt-oss-120b": 120 * B,
    "openai/gpt-oss-safeguard-20b": 20 * B,
    "openai/whisper-large-v3": None,
    "openai-community/gpt2": None,
    "Qwen/Qwen2.5-7B-Instruct": 7 * B,
    "meta-llama/Llama-3.1-8B-Instruct": 8 * B,
    "deepseek-ai/DeepSeek-V3.2": None,
    "mistralai/Mistral-7B-Instruct-v0.3": 7 * B,
    "zai-org/GLM-4.6": None,
    "moonshotai/Kimi-K2-Instruct": None,
    "MiniMaxAI/MiniMax-M2": None,
}


def test_every_real_repository_has_its_size_worked_out_by_hand():
    assert sorted(NAMED_TOTALS) == sorted(repo_id for repo_id, _ in hub_repo_ids())


@pytest.mark.parametrize(("repo_id", "total"), sorted(NAMED_TOTALS.items()))
def test_the_size_a_real_name_states(repo_id, total):
    assert size_from_name(repo_id).total == total


@pytest.mark.parametrize(
    ("repo_id", "expected"),
    [
        ("Qwen/Qwen3-30B-A3B", NameSize(30 * B, 3 * B)),
        ("Qwen/Qwen3-Next-80B-A3B-Instruct", NameSize(80 * B, 3 * B)),
        ("Qwen/Qwen3-VL-235B-A22B-Instruct", NameSize(235 * B, 22 * B)),
        ("moonshotai/Kimi-VL-A3B-Instruct", NameSize(None, 3 * B)),  # active only
        ("Qwen/Qwen1.5-MoE-A2.7B", NameSize(None, 2_700 * M)),
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", NameSize(None, 17 * B)),  # 109B total
        ("meta-llama/Llama-4-Maverick-17B-128E-Instruct", NameSize(None, 17 * B)),
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", NameSize(56 * B)),
        ("mistralai/Mixtral-8x22B-v0.1", NameSize(176 * B)),
        ("Qwen/Qwen2.5-7B-Instruct-1M", NameSize(7 * B)),  # 1M: the context length
        ("Qwen/Qwen3-0.6B", NameSize(600 * M)),
        ("deepseek-ai/deepseek-coder-6.7b-instruct", NameSize(6_700 * M)),
        ("meta-llama/Llama-Prompt-Guard-2-86M", NameSize(86 * M)),
        ("mistralai/Mistral-Large-3-675B-Instruct-2512", NameSize(675 * B)),
        ("Qwen/Qwen2.5-72B-Instruct-AWQ", NameSize(72 * B)),
        ("MiniMaxAI/MiniMax-M1-80k", NameSize(None)),
    ],
)
def test_active_parameters_experts_and_context_lengths_in_names(repo_id, expected):
    assert size_from_name(repo_id) == expected


def test_the_hubs_count_is_trusted_unless_it_counts_packed_weights():
    assert size_from_safetensors(7_615_616_512, {"BF16": 7_615_616_512}) == 7_615_616_512
    assert (
        size_from_safetensors(684_531_386_000, {"BF16": 3_900_000_000, "F8_E4M3": 680_631_386_000})
        == 684_531_386_000
    )
    # Qwen2.5-72B-Instruct-AWQ: int4 weights packed eight to an I32.
    assert (
        size_from_safetensors(12_100_000_000, {"I32": 10_200_000_000, "F16": 1_900_000_000}) is None
    )
    assert size_from_safetensors(1_000_000_000, {"BF16": 990_000_000, "I32": 10_000_000}) == (
        1_000_000_000
    )  # a few integer buffers are no packing
    assert size_from_safetensors(None, {}) is None
    assert size_from_safetensors(0, {}) is None


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            ("Qwen/Qwen3-8B", 8_190_735_360, {"BF16": 8_190_735_360}),
            ModelSize(8_190_735_360, FROM_HUB),
        ),
        (("Qwen/Qwen3-8B",), ModelSize(8 * B, FROM_NAME)),
        (("Qwen/Qwen3-30B-A3B",), ModelSize(30 * B, FROM_NAME, 3 * B)),
        (("moonshotai/Kimi-K2-Instruct",), ModelSize(None, UNKNOWN)),
        (("moonshotai/Kimi-K2-Instruct", None, None, 1_000 * B), ModelSize(1_000 * B, FROM_FILE)),
        # By hand beats the Hub: the operator set it because the Hub's count is wrong.
        (
            ("Qwen/Qwen3-8B", 8_190_735_360, {"BF16": 8_190_735_360}, 9 * B),
            ModelSize(9 * B, FROM_FILE),
        ),
        (
            ("Qwen/Qwen2.5-72B-Instruct-AWQ", 12_100_000_000, {"I32": 10_200_000_000}),
            ModelSize(72 * B, FROM_NAME),
        ),
    ],
)
def test_a_models_size_by_order_of_trust(arguments, expected):
    assert model_size(*arguments) == expected


@pytest.mark.parametrize(
    ("text", "parameters"),
    [("7B", 7 * B), ("7.6b", 7_600 * M), ("560M", 560 * M), ("1T", 1_000 * B),
     ("1.04 T", 1_040 * B), ("8030261248", 8_030_261_248), ("8_030_261_248", 8_030_261_248),
     ("huge", None), ("0B", None), ("-7B", None), ("", None), ("7", 7)],
)  # fmt: skip
def test_sizes_written_by_hand(text, parameters):
    assert parse_size(text) == parameters


@pytest.mark.parametrize(
    ("parameters", "text"),
    [(7_615_616_512, "7.6B"), (56 * B, "56B"), (270 * M, "270M"), (1_040 * B, "1.0T"),
     (235 * B, "235B"), (1_500 * M, "1.5B"), (600 * M, "600M"), (7 * B, "7B")],
)  # fmt: skip
def test_sizes_as_shown(parameters, text):
    assert size_text(parameters) == text


@pytest.mark.parametrize(
    ("parameters", "key"),
    [
        (0, "under-1b"),
        (B - 1, "under-1b"),
        (B, "1-5b"),
        (5 * B - 1, "1-5b"),
        (5 * B, "5-10b"),
        (10 * B - 1, "5-10b"),
        (10 * B, "10-50b"),
        (50 * B - 1, "10-50b"),
        (50 * B, "50-100b"),
        (100 * B - 1, "50-100b"),
        (100 * B, "100-250b"),
        (250 * B - 1, "100-250b"),
        (250 * B, "250b+"),
        (2_000 * B, "250b+"),
        (None, UNKNOWN),
    ],
)
def test_class_boundaries_at_their_edges(parameters, key):
    assert class_of(parameters).key == key


def test_the_classes_are_atoms_and_cover_every_size_once():
    assert [c.label for c in ALL_CLASSES] == [
        "under 1B", "1–5B", "5–10B", "10–50B", "50–100B", "100–250B", "250B and over",
        "unknown size",
    ]  # fmt: skip
    for lower, upper in itertools.pairwise(CLASSES):
        assert lower.high == upper.low


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("1-5B", "1-5b"), ("1-5b", "1-5b"), ("1–5B", "1-5b"), ("1 to 5B", "1-5b"),
        ("1-5", "1-5b"), ("<1B", "under-1b"), ("&lt;1B", "under-1b"), ("under 1B", "under-1b"),
        ("under-1b", "under-1b"), ("0-1B", "under-1b"), ("250B+", "250b+"), (">250B", "250b+"),
        ("250b", "250b+"), ("100–250B", "100-250b"), ("unknown", UNKNOWN), ("１－５Ｂ", "1-5b"),
    ],
)  # fmt: skip
def test_a_class_as_people_type_it(text, key):
    found = parse_class(text)
    assert found is not None and found.key == key


@pytest.mark.parametrize("text", ["2-5B", "huge", "", "7B", "1-5T"])
def test_text_that_names_no_class(text):
    assert parse_class(text) is None


def test_a_classs_models_in_a_sentence():
    assert [c.models for c in ALL_CLASSES] == [
        "models under 1B", "1–5B models", "5–10B models", "10–50B models", "50–100B models",
        "100–250B models", "models of 250B and over", "models of unknown size",
    ]  # fmt: skip


def test_the_unknown_class_is_not_known():
    assert not UNKNOWN_CLASS.known and all(c.known for c in CLASSES)
