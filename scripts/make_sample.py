"""Generate the bundled sample store, openmodels/sample/sample.db, deterministically.

The sample lets someone try every command before collecting from the Hub. Its numbers
are synthetic, shaped after public reports of late 2025: Qwen's all-time downloads
pass Llama's in mid-October 2025 and reach about 700M in mid-January 2026; in December
Qwen's 30-day downloads exceed those of the next eight families together; DeepSeek,
Gemma and Mistral stay in the tens to low hundreds of millions; Kimi and MiniMax in
the millions.

How the numbers are made: each family has a daily-download curve (piecewise linear,
in millions a day) that its models share by fixed weights, with weekend dips and
noise. Per model, the 30-day figure is the sum of its last 30 daily downloads (29
days of history before the first snapshot fill the first window) and the all-time
figure is a starting base plus every daily download so far, so it never decreases.
Models released inside the range appear in the first snapshot taken after their creation
time (the day's 06:00 snapshot, or the next day's) and ramp up over a week: they are
the sample's launches, the latest (Gemma's TranslateGemma, a faster start than Gemma's
launch before it) in its last week.

Derivative counts (models on the Hub naming a model as their base) follow each family's
total from its first to its last day, with Qwen's model tree far ahead of Llama's and
the rest trailing, as public reports of 2025 describe. They are shared among the family's
models by weight, new releases drawing more for their first month, and never decrease.
They come from their own seeded generator, so the download figures do not depend on them.

Model sizes are the parameter counts the Hub's `safetensors` field gave for these
repositories in late 2025 (gpt-oss's weights are packed MXFP4, so its count is of
storage and its size is read from the name, as a collection would), left out for a few so
that their size is read from the name, set by hand in the families file (Kimi K2) or
stays unknown, as on the live Hub.

Everything comes from one seeded `random.Random` and fixed dates, and the migration
timestamps are pinned, so two runs give the same tables and, with the same SQLite
version, the same bytes.

Usage: python scripts/make_sample.py [--out openmodels/sample/sample.db]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

from sqlite_utils.migrations import Migrations

from openmodels.families import Families, load_families
from openmodels.sizes import ModelSize
from storage import open_store
from storage import queries as q
from storage.model_sizes import record_sizes
from storage.snapshots import ModelRecord, insert_snapshot

FIRST_DAY = date(2025, 9, 20)
DAYS = 120  # 2025-09-20 .. 2026-01-17
HISTORY = 29  # days before FIRST_DAY, generated only so day one has a full 30-day window
WINDOW = 30
SNAPSHOT_HOUR = 6
SEED = 20250920
SOURCE = "sample"
QWEN_FINAL_ALL_TIME = 702_400_000  # just above 700M on the last day
CROSSING_DAY = 25  # 2025-10-15: the first snapshot in which Qwen leads Llama all-time
RAMP_DAYS = 7  # a new model reaches its share of the family's downloads over a week
WEEKEND_FACTOR = 0.82
NOISE_SIGMA = 0.10
AGE_CAP_DAYS = 540  # older models' head start in all-time downloads stops growing
FRESH_DAYS, FRESH_PULL = 30, 3.0  # a model's first month draws 3x its share of derivatives
# Migrations record when they ran; a fixed time keeps regenerated files identical.
PINNED_MIGRATION_TIME = "2026-01-17 06:00:00.000000+00:00"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "openmodels" / "sample" / "sample.db"

TG, ITT = "text-generation", "image-text-to-text"


@dataclass(frozen=True)
class Shape:
    """A family's download curve: (day index, million downloads a day) knots."""

    rates: tuple[tuple[int, float], ...]
    # All-time downloads on FIRST_DAY; None for Qwen and Llama, whose starts are
    # solved for so that they land on the reported final figure and crossing date.
    all_time_at_start: int | None
    likes_factor: float  # likes per sqrt(download): some communities like more


# Day indices: 0 = 2025-09-20, 25 = Oct 15, 42 = Nov 1, 72 = Dec 1, 103 = Jan 1, 119 = Jan 17.
# Qwen climbs through December while Llama drifts down, so that from mid-December
# Qwen's 30-day figure exceeds the next eight families' together.
SHAPES: dict[str, Shape] = {
    "qwen": Shape(
        (
            (-29, 1.85),
            (0, 2.05),
            (25, 2.2),
            (42, 2.3),
            (56, 2.55),
            (72, 3.3),
            (86, 3.85),
            (103, 3.75),
            (119, 3.6),
        ),
        None,
        0.2,
    ),
    "llama": Shape(
        ((-29, 2.05), (0, 1.95), (25, 1.95), (42, 1.95), (72, 1.9), (103, 1.8), (119, 1.75)),
        None,
        0.5,
    ),
    "deepseek": Shape(
        ((-29, 0.42), (0, 0.4), (42, 0.36), (72, 0.38), (80, 0.5), (95, 0.45), (119, 0.4)),
        140_000_000,
        2.5,
    ),
    "gpt-oss": Shape(((-29, 0.45), (0, 0.36), (40, 0.3), (119, 0.28)), 18_000_000, 1.2),
    "mistral": Shape(((-29, 0.24), (72, 0.22), (76, 0.27), (119, 0.23)), 115_000_000, 0.5),
    "gemma": Shape(((-29, 0.33), (60, 0.31), (119, 0.32)), 160_000_000, 0.35),
    "glm": Shape(
        ((-29, 0.065), (10, 0.075), (78, 0.08), (95, 0.095), (119, 0.09)), 14_000_000, 1.0
    ),
    "kimi": Shape(((-29, 0.016), (45, 0.015), (50, 0.032), (119, 0.026)), 1_800_000, 2.5),
    "minimax": Shape(((-29, 0.006), (37, 0.006), (42, 0.025), (119, 0.022)), 900_000, 2.5),
    "nemotron": Shape(((-29, 0.07), (86, 0.08), (90, 0.095), (119, 0.09)), 20_000_000, 0.5),
    "phi": Shape(((-29, 0.115), (119, 0.105)), 70_000_000, 0.6),
}

# Derivatives per family: (on the first day, on the last day).
DERIVATIVES: dict[str, tuple[int, int]] = {
    "qwen": (141_000, 183_500),
    "llama": (117_500, 125_800),
    "gemma": (38_200, 44_600),
    "mistral": (33_100, 35_400),
    "deepseek": (14_300, 17_900),
    "phi": (11_200, 12_100),
    "glm": (2_900, 4_300),
    "gpt-oss": (2_300, 4_100),
    "nemotron": (1_400, 2_050),
    "kimi": (480, 910),
    "minimax": (140, 430),
}

# (repo id, release date, pipeline tag, weight: share of the family's daily downloads)
ModelSpec = tuple[str, str, str | None, float]

MODELS: dict[str, list[ModelSpec]] = {
    "qwen": [
        ("Qwen/Qwen2.5-7B-Instruct", "2024-09-16", TG, 12),
        ("Qwen/Qwen2.5-1.5B-Instruct", "2024-09-17", TG, 9),
        ("Qwen/Qwen2.5-0.5B-Instruct", "2024-09-16", TG, 7),
        ("Qwen/Qwen2.5-3B-Instruct", "2024-09-17", TG, 6),
        ("Qwen/Qwen2.5-14B-Instruct", "2024-09-16", TG, 3),
        ("Qwen/Qwen2.5-32B-Instruct", "2024-09-17", TG, 3),
        ("Qwen/Qwen2.5-72B-Instruct", "2024-09-16", TG, 2),
        ("Qwen/Qwen2.5-Coder-7B-Instruct", "2024-09-17", TG, 3),
        ("Qwen/Qwen2.5-VL-7B-Instruct", "2025-01-26", ITT, 10),
        ("Qwen/Qwen2.5-VL-3B-Instruct", "2025-01-26", ITT, 5),
        ("Qwen/Qwen3-0.6B", "2025-04-27", TG, 11),
        ("Qwen/Qwen3-1.7B", "2025-04-27", TG, 6),
        ("Qwen/Qwen3-4B", "2025-04-27", TG, 7),
        ("Qwen/Qwen3-8B", "2025-04-27", TG, 9),
        ("Qwen/Qwen3-14B", "2025-04-27", TG, 3),
        ("Qwen/Qwen3-32B", "2025-04-27", TG, 4),
        ("Qwen/Qwen3-30B-A3B", "2025-04-27", TG, 3),
        ("Qwen/Qwen3-Embedding-0.6B", "2025-06-03", "feature-extraction", 8),
        ("Qwen/Qwen3-30B-A3B-Instruct-2507", "2025-07-28", TG, 4),
        ("Qwen/Qwen3-Coder-30B-A3B-Instruct", "2025-07-31", TG, 3),
        ("Qwen/Qwen3-4B-Instruct-2507", "2025-08-05", TG, 6),
        ("Qwen/Qwen3-Next-80B-A3B-Instruct", "2025-09-09", TG, 2),
        ("Qwen/Qwen3-Omni-30B-A3B-Instruct", "2025-09-22", "any-to-any", 1.5),
        ("Qwen/Qwen3-VL-235B-A22B-Instruct", "2025-09-23", ITT, 1.5),
        ("Qwen/Qwen3-VL-30B-A3B-Instruct", "2025-10-03", ITT, 3),
        ("Qwen/Qwen3-VL-8B-Instruct", "2025-10-14", ITT, 6),
        ("Qwen/Qwen3-VL-4B-Instruct", "2025-10-14", ITT, 4),
        ("Qwen/Qwen3-VL-2B-Instruct", "2025-10-19", ITT, 4),
        ("Qwen/Qwen3-VL-Embedding-2B", "2026-01-08", "feature-extraction", 2),
        ("Qwen/Qwen3-VL-Embedding-8B", "2026-01-08", "feature-extraction", 1),
    ],
    "llama": [
        ("meta-llama/Llama-3.1-8B-Instruct", "2024-07-18", TG, 14),
        ("meta-llama/Llama-3.1-8B", "2024-07-14", TG, 5),
        ("meta-llama/Llama-3.1-70B-Instruct", "2024-07-16", TG, 2),
        ("meta-llama/Llama-3.2-1B-Instruct", "2024-09-18", TG, 9),
        ("meta-llama/Llama-3.2-1B", "2024-09-18", TG, 7),
        ("meta-llama/Llama-3.2-3B-Instruct", "2024-09-18", TG, 8),
        ("meta-llama/Llama-3.2-3B", "2024-09-18", TG, 3),
        ("meta-llama/Llama-3.2-11B-Vision-Instruct", "2024-09-18", ITT, 2),
        ("meta-llama/Llama-3.3-70B-Instruct", "2024-11-26", TG, 4),
        ("meta-llama/Meta-Llama-3-8B-Instruct", "2024-04-17", TG, 6),
        ("meta-llama/Meta-Llama-3-8B", "2024-04-17", TG, 3),
        ("meta-llama/Llama-2-7b-hf", "2023-07-13", TG, 3),
        ("meta-llama/Llama-2-7b-chat-hf", "2023-07-13", TG, 3),
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", "2025-04-02", ITT, 2),
        ("meta-llama/Llama-4-Maverick-17B-128E-Instruct", "2025-04-01", ITT, 0.7),
        ("meta-llama/Llama-Guard-3-8B", "2024-07-22", TG, 1.2),
        ("meta-llama/Llama-Guard-4-12B", "2025-04-28", ITT, 0.6),
        ("meta-llama/Llama-Prompt-Guard-2-86M", "2025-04-28", "text-classification", 0.8),
    ],
    "deepseek": [
        ("deepseek-ai/DeepSeek-R1", "2025-01-20", TG, 6),
        ("deepseek-ai/DeepSeek-V3", "2024-12-25", TG, 3),
        ("deepseek-ai/DeepSeek-V3-0324", "2025-03-24", TG, 2.5),
        ("deepseek-ai/DeepSeek-R1-0528", "2025-05-28", TG, 3),
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "2025-01-20", TG, 8),
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "2025-01-20", TG, 5),
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-14B", "2025-01-20", TG, 3),
        ("deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", "2025-01-20", TG, 4),
        ("deepseek-ai/DeepSeek-R1-Distill-Llama-8B", "2025-01-20", TG, 4),
        ("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "2025-01-20", TG, 1.5),
        ("deepseek-ai/DeepSeek-R1-0528-Qwen3-8B", "2025-05-29", TG, 4),
        ("deepseek-ai/DeepSeek-V3.1", "2025-08-21", TG, 3),
        ("deepseek-ai/DeepSeek-V3.1-Terminus", "2025-09-22", TG, 2),
        ("deepseek-ai/DeepSeek-V3.2-Exp", "2025-09-29", TG, 2),
        ("deepseek-ai/DeepSeek-OCR", "2025-10-20", ITT, 5),
        ("deepseek-ai/DeepSeek-Math-V2", "2025-11-27", TG, 1),
        ("deepseek-ai/DeepSeek-V3.2", "2025-12-01", TG, 4),
        ("deepseek-ai/DeepSeek-V3.2-Speciale", "2025-12-01", TG, 1.5),
        ("deepseek-ai/Janus-Pro-7B", "2025-01-27", "any-to-any", 1.5),
        ("deepseek-ai/deepseek-coder-6.7b-instruct", "2023-10-29", TG, 1.2),
    ],
    # openai publishes only a handful of open-weight repos, so this family stays small.
    "gpt-oss": [
        ("openai/gpt-oss-20b", "2025-08-04", TG, 10),
        ("openai/gpt-oss-120b", "2025-08-04", TG, 5),
        ("openai/gpt-oss-safeguard-20b", "2025-10-28", TG, 0.6),
        ("openai/gpt-oss-safeguard-120b", "2025-10-28", TG, 0.3),
    ],
    "mistral": [
        ("mistralai/Mistral-7B-Instruct-v0.3", "2024-05-22", TG, 10),
        ("mistralai/Mistral-7B-Instruct-v0.2", "2023-12-11", TG, 5),
        ("mistralai/Mistral-7B-v0.1", "2023-09-20", TG, 5),
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", "2023-12-10", TG, 2),
        ("mistralai/Mistral-Nemo-Instruct-2407", "2024-07-17", TG, 4),
        ("mistralai/Pixtral-12B-2409", "2024-09-11", ITT, 1),
        ("mistralai/Ministral-8B-Instruct-2410", "2024-10-09", TG, 1.5),
        ("mistralai/Mistral-Small-24B-Instruct-2501", "2025-01-28", TG, 3),
        ("mistralai/Mistral-Small-3.1-24B-Instruct-2503", "2025-03-11", ITT, 3),
        ("mistralai/Mistral-Small-3.2-24B-Instruct-2506", "2025-06-19", ITT, 4),
        ("mistralai/Devstral-Small-2507", "2025-07-10", TG, 2),
        ("mistralai/Voxtral-Mini-3B-2507", "2025-07-15", None, 1.5),
        ("mistralai/Magistral-Small-2509", "2025-09-17", ITT, 1.5),
        ("mistralai/Mistral-Large-3-675B-Instruct-2512", "2025-12-02", ITT, 0.8),
        ("mistralai/Ministral-3-14B-Instruct-2512", "2025-12-02", ITT, 1.2),
        ("mistralai/Ministral-3-8B-Instruct-2512", "2025-12-02", ITT, 1.5),
        ("mistralai/Ministral-3-3B-Instruct-2512", "2025-12-02", ITT, 1.5),
        ("mistralai/Devstral-Small-2-24B-Instruct-2512", "2025-12-09", TG, 1),
        ("mistral-community/pixtral-12b", "2024-09-13", ITT, 0.8),
    ],
    "gemma": [
        ("google/gemma-3-27b-it", "2025-03-01", ITT, 5),
        ("google/gemma-3-12b-it", "2025-03-01", ITT, 5),
        ("google/gemma-3-4b-it", "2025-02-20", ITT, 7),
        ("google/gemma-3-1b-it", "2025-03-10", TG, 6),
        ("google/gemma-3-270m", "2025-08-05", TG, 2),
        ("google/gemma-3-270m-it", "2025-07-30", TG, 3),
        ("google/gemma-3n-E4B-it", "2025-06-20", ITT, 3),
        ("google/gemma-3n-E2B-it", "2025-06-20", ITT, 2),
        ("google/gemma-2-2b-it", "2024-07-16", TG, 5),
        ("google/gemma-2-9b-it", "2024-06-24", TG, 3),
        ("google/gemma-2-27b-it", "2024-06-24", TG, 1.5),
        ("google/gemma-7b", "2024-02-08", TG, 1),
        ("google/gemma-2b", "2024-02-08", TG, 1.5),
        ("google/functiongemma-270m-it", "2025-12-18", TG, 1),
        ("google/translategemma-4b-it", "2026-01-15", ITT, 3),
        ("google/translategemma-12b-it", "2026-01-15", ITT, 0.4),
        ("google/translategemma-27b-it", "2026-01-15", ITT, 0.2),
    ],
    "glm": [
        ("THUDM/chatglm2-6b", "2023-06-24", TG, 0.8),
        ("THUDM/chatglm3-6b", "2023-10-25", TG, 2),
        ("THUDM/glm-4-9b-chat", "2024-06-04", TG, 3),
        ("THUDM/glm-4v-9b", "2024-06-04", ITT, 0.8),
        ("THUDM/GLM-4-9B-0414", "2025-04-07", TG, 1.5),
        ("THUDM/GLM-Z1-9B-0414", "2025-04-08", TG, 0.8),
        ("zai-org/GLM-4.1V-9B-Thinking", "2025-06-28", ITT, 2),
        ("zai-org/GLM-4.5", "2025-07-20", TG, 3),
        ("zai-org/GLM-4.5-Air", "2025-07-20", TG, 4),
        ("zai-org/GLM-4.5-Air-FP8", "2025-07-20", TG, 1.5),
        ("zai-org/GLM-4.5V", "2025-08-10", ITT, 1.5),
        ("zai-org/GLM-4.6", "2025-09-29", TG, 5),
        ("zai-org/GLM-4.6-FP8", "2025-09-29", TG, 1.5),
        ("zai-org/GLM-4.6V", "2025-12-07", ITT, 2),
        ("zai-org/GLM-4.6V-Flash", "2025-12-07", ITT, 2),
        ("zai-org/GLM-4.7", "2025-12-22", TG, 4),
    ],
    "kimi": [
        ("moonshotai/Moonlight-16B-A3B-Instruct", "2025-02-22", TG, 0.8),
        ("moonshotai/Kimi-VL-A3B-Instruct", "2025-04-09", ITT, 1.5),
        ("moonshotai/Kimi-Audio-7B-Instruct", "2025-04-25", None, 1),
        ("moonshotai/Kimi-Dev-72B", "2025-06-16", TG, 0.8),
        ("moonshotai/Kimi-VL-A3B-Thinking-2506", "2025-06-20", ITT, 1.2),
        ("moonshotai/Kimi-K2-Instruct", "2025-07-11", TG, 4),
        ("moonshotai/Kimi-K2-Base", "2025-07-11", TG, 0.8),
        ("moonshotai/Kimi-K2-Instruct-0905", "2025-09-03", TG, 3),
        ("moonshotai/Kimi-Linear-48B-A3B-Instruct", "2025-10-30", TG, 2),
        ("moonshotai/Kimi-K2-Thinking", "2025-11-04", TG, 5),
    ],
    "minimax": [
        ("MiniMaxAI/MiniMax-Text-01", "2025-01-14", TG, 1),
        ("MiniMaxAI/MiniMax-VL-01", "2025-01-14", ITT, 0.5),
        ("MiniMaxAI/MiniMax-Text-01-hf", "2025-06-13", TG, 0.5),
        ("MiniMaxAI/MiniMax-M1-40k", "2025-06-16", TG, 1),
        ("MiniMaxAI/MiniMax-M1-80k", "2025-06-16", TG, 1.5),
        ("MiniMaxAI/MiniMax-M1-80k-hf", "2025-06-26", TG, 0.4),
        ("MiniMaxAI/MiniMax-M2", "2025-10-27", TG, 6),
        ("MiniMaxAI/MiniMax-M2.1", "2025-12-23", TG, 3),
    ],
    "nemotron": [
        ("nvidia/Nemotron-Mini-4B-Instruct", "2024-09-10", TG, 0.8),
        ("nvidia/Llama-3.1-Nemotron-70B-Instruct-HF", "2024-10-12", TG, 2),
        ("nvidia/Llama-3_3-Nemotron-Super-49B-v1", "2025-03-16", TG, 1),
        ("nvidia/Llama-3.1-Nemotron-Nano-8B-v1", "2025-03-18", TG, 2),
        ("nvidia/Llama-3_1-Nemotron-Ultra-253B-v1", "2025-04-07", TG, 0.5),
        ("nvidia/Llama-3.1-Nemotron-Nano-VL-8B-V1", "2025-06-03", ITT, 0.6),
        ("nvidia/OpenReasoning-Nemotron-7B", "2025-07-16", TG, 1.2),
        ("nvidia/OpenReasoning-Nemotron-32B", "2025-07-16", TG, 0.8),
        ("nvidia/Llama-3_3-Nemotron-Super-49B-v1_5", "2025-07-25", TG, 2),
        ("nvidia/NVIDIA-Nemotron-Nano-9B-v2", "2025-08-12", TG, 4),
        ("nvidia/NVIDIA-Nemotron-Nano-12B-v2", "2025-08-21", TG, 1.5),
        ("nvidia/NVIDIA-Nemotron-Nano-12B-v2-VL-BF16", "2025-10-28", ITT, 1),
        ("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16", "2025-12-15", TG, 4),
    ],
    "phi": [
        ("microsoft/phi-1_5", "2023-09-10", TG, 1.5),
        ("microsoft/phi-2", "2023-12-13", TG, 3),
        ("microsoft/Phi-3-mini-4k-instruct", "2024-04-22", TG, 5),
        ("microsoft/Phi-3-mini-128k-instruct", "2024-04-22", TG, 2),
        ("microsoft/Phi-3.5-mini-instruct", "2024-08-16", TG, 5),
        ("microsoft/Phi-3.5-vision-instruct", "2024-08-16", ITT, 1.5),
        ("microsoft/phi-4", "2024-12-11", TG, 5),
        ("microsoft/Phi-4-mini-instruct", "2025-02-19", TG, 6),
        ("microsoft/Phi-4-multimodal-instruct", "2025-02-24", "automatic-speech-recognition", 2),
        ("microsoft/Phi-4-reasoning", "2025-04-30", TG, 1.5),
        ("microsoft/Phi-4-reasoning-plus", "2025-04-30", TG, 1.5),
        ("microsoft/Phi-4-mini-reasoning", "2025-04-30", TG, 1.5),
        ("microsoft/Phi-4-mini-flash-reasoning", "2025-07-09", TG, 0.6),
    ],
}


# Total parameters as the Hub's `safetensors` field counts them ("BF16" unless below).
# A model left out has no count: its size is set in the families file or read from its
# name, and is unknown when neither says.
PARAMETERS: dict[str, int] = {
    "Qwen/Qwen2.5-7B-Instruct": 7_615_616_512,
    "Qwen/Qwen2.5-1.5B-Instruct": 1_543_714_304,
    "Qwen/Qwen2.5-0.5B-Instruct": 494_032_768,
    "Qwen/Qwen2.5-3B-Instruct": 3_085_938_688,
    "Qwen/Qwen2.5-14B-Instruct": 14_770_033_664,
    "Qwen/Qwen2.5-32B-Instruct": 32_763_876_352,
    "Qwen/Qwen2.5-72B-Instruct": 72_706_203_648,
    "Qwen/Qwen2.5-Coder-7B-Instruct": 7_615_616_512,
    "Qwen/Qwen2.5-VL-7B-Instruct": 8_292_166_656,
    "Qwen/Qwen2.5-VL-3B-Instruct": 3_754_622_976,
    "Qwen/Qwen3-0.6B": 751_632_384,
    "Qwen/Qwen3-1.7B": 2_031_739_904,
    "Qwen/Qwen3-4B": 4_022_468_096,
    "Qwen/Qwen3-8B": 8_190_735_360,
    "Qwen/Qwen3-14B": 14_768_307_200,
    "Qwen/Qwen3-32B": 32_762_123_264,
    "Qwen/Qwen3-30B-A3B": 30_532_122_624,
    "Qwen/Qwen3-Embedding-0.6B": 595_776_512,
    "Qwen/Qwen3-30B-A3B-Instruct-2507": 30_532_122_624,
    "Qwen/Qwen3-Coder-30B-A3B-Instruct": 30_532_122_624,
    "Qwen/Qwen3-4B-Instruct-2507": 4_022_468_096,
    "Qwen/Qwen3-Next-80B-A3B-Instruct": 81_324_327_936,
    "Qwen/Qwen3-Omni-30B-A3B-Instruct": 35_259_818_545,
    "Qwen/Qwen3-VL-235B-A22B-Instruct": 235_700_000_000,
    "Qwen/Qwen3-VL-30B-A3B-Instruct": 31_070_754_032,
    "Qwen/Qwen3-VL-8B-Instruct": 8_767_123_696,
    "Qwen/Qwen3-VL-4B-Instruct": 4_437_815_808,
    "Qwen/Qwen3-VL-2B-Instruct": 2_127_532_032,
    "meta-llama/Llama-3.1-8B-Instruct": 8_030_261_248,
    "meta-llama/Llama-3.1-8B": 8_030_261_248,
    "meta-llama/Llama-3.1-70B-Instruct": 70_553_706_496,
    "meta-llama/Llama-3.2-1B-Instruct": 1_235_814_400,
    "meta-llama/Llama-3.2-1B": 1_235_814_400,
    "meta-llama/Llama-3.2-3B-Instruct": 3_212_749_824,
    "meta-llama/Llama-3.2-3B": 3_212_749_824,
    "meta-llama/Llama-3.2-11B-Vision-Instruct": 10_670_220_835,
    "meta-llama/Llama-3.3-70B-Instruct": 70_553_706_496,
    "meta-llama/Meta-Llama-3-8B-Instruct": 8_030_261_248,
    "meta-llama/Meta-Llama-3-8B": 8_030_261_248,
    "meta-llama/Llama-2-7b-hf": 6_738_415_616,
    "meta-llama/Llama-2-7b-chat-hf": 6_738_415_616,
    "meta-llama/Llama-4-Scout-17B-16E-Instruct": 108_641_793_536,
    "meta-llama/Llama-4-Maverick-17B-128E-Instruct": 401_583_781_376,
    "meta-llama/Llama-Guard-3-8B": 8_030_261_248,
    "meta-llama/Llama-Guard-4-12B": 12_001_097_216,
    "deepseek-ai/DeepSeek-R1": 684_531_386_000,
    "deepseek-ai/DeepSeek-V3": 684_531_386_000,
    "deepseek-ai/DeepSeek-V3-0324": 684_531_386_000,
    "deepseek-ai/DeepSeek-R1-0528": 684_531_386_000,
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B": 1_777_088_000,
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B": 7_615_616_512,
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B": 14_770_033_664,
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B": 32_763_876_352,
    "deepseek-ai/DeepSeek-R1-Distill-Llama-8B": 8_030_261_248,
    "deepseek-ai/DeepSeek-R1-Distill-Llama-70B": 70_553_706_496,
    "deepseek-ai/DeepSeek-R1-0528-Qwen3-8B": 8_190_735_360,
    "deepseek-ai/DeepSeek-V3.1": 684_531_386_000,
    "deepseek-ai/DeepSeek-V3.1-Terminus": 684_531_386_000,
    "deepseek-ai/DeepSeek-V3.2-Exp": 685_396_921_376,
    "deepseek-ai/DeepSeek-OCR": 3_336_106_240,
    "deepseek-ai/DeepSeek-Math-V2": 685_396_921_376,
    "deepseek-ai/DeepSeek-V3.2": 685_396_921_376,
    "deepseek-ai/DeepSeek-V3.2-Speciale": 685_396_921_376,
    "deepseek-ai/deepseek-coder-6.7b-instruct": 6_740_512_768,
    "openai/gpt-oss-20b": 21_511_953_984,
    "openai/gpt-oss-120b": 120_412_337_472,
    "openai/gpt-oss-safeguard-20b": 21_511_953_984,
    "openai/gpt-oss-safeguard-120b": 120_412_337_472,
    "mistralai/Mistral-7B-Instruct-v0.3": 7_248_023_552,
    "mistralai/Mistral-7B-Instruct-v0.2": 7_241_732_096,
    "mistralai/Mistral-7B-v0.1": 7_241_732_096,
    "mistralai/Mixtral-8x7B-Instruct-v0.1": 46_702_792_704,
    "mistralai/Mistral-Nemo-Instruct-2407": 12_247_782_400,
    "mistralai/Ministral-8B-Instruct-2410": 8_019_808_256,
    "mistralai/Mistral-Small-24B-Instruct-2501": 23_572_403_200,
    "mistralai/Mistral-Small-3.1-24B-Instruct-2503": 24_011_361_280,
    "mistralai/Mistral-Small-3.2-24B-Instruct-2506": 24_011_361_280,
    "mistralai/Devstral-Small-2507": 23_572_403_200,
    "mistralai/Voxtral-Mini-3B-2507": 4_676_271_104,
    "mistralai/Magistral-Small-2509": 24_011_361_280,
    "mistral-community/pixtral-12b": 12_682_608_640,
    "google/gemma-3-27b-it": 27_432_406_640,
    "google/gemma-3-12b-it": 12_187_325_040,
    "google/gemma-3-4b-it": 4_300_079_472,
    "google/gemma-3-1b-it": 999_885_952,  # under 1B, although its name says 1b
    "google/gemma-3-270m": 268_098_176,
    "google/gemma-3-270m-it": 268_098_176,
    "google/gemma-3n-E4B-it": 7_849_978_192,
    "google/gemma-3n-E2B-it": 5_439_438_272,
    "google/gemma-2-2b-it": 2_614_341_888,
    "google/gemma-2-9b-it": 9_241_705_984,
    "google/gemma-2-27b-it": 27_227_128_320,
    "google/gemma-7b": 8_537_680_896,
    "google/gemma-2b": 2_506_172_416,
    "google/functiongemma-270m-it": 268_098_176,
    "THUDM/chatglm3-6b": 6_243_584_000,
    "THUDM/glm-4-9b-chat": 9_399_951_360,
    "THUDM/glm-4v-9b": 13_906_320_384,
    "THUDM/GLM-4-9B-0414": 9_400_279_040,
    "THUDM/GLM-Z1-9B-0414": 9_400_279_040,
    "zai-org/GLM-4.1V-9B-Thinking": 10_292_777_472,
    "zai-org/GLM-4.5": 358_337_791_296,
    "zai-org/GLM-4.5-Air": 110_468_824_832,
    "zai-org/GLM-4.5-Air-FP8": 110_468_824_832,
    "zai-org/GLM-4.5V": 107_710_933_120,
    "zai-org/GLM-4.6": 356_785_898_496,
    "zai-org/GLM-4.6-FP8": 356_785_898_496,
    "zai-org/GLM-4.6V": 107_710_933_120,
    "zai-org/GLM-4.6V-Flash": 10_292_777_472,
    "zai-org/GLM-4.7": 358_337_791_296,
    "moonshotai/Moonlight-16B-A3B-Instruct": 15_960_111_936,
    "moonshotai/Kimi-VL-A3B-Instruct": 16_407_657_216,
    "moonshotai/Kimi-VL-A3B-Thinking-2506": 16_407_657_216,
    "moonshotai/Kimi-Dev-72B": 72_706_203_648,
    "moonshotai/Kimi-K2-Instruct": 1_026_470_731_776,
    "moonshotai/Kimi-K2-Base": 1_026_470_731_776,
    "moonshotai/Kimi-K2-Instruct-0905": 1_026_470_731_776,
    "moonshotai/Kimi-Linear-48B-A3B-Instruct": 49_121_990_400,
    "MiniMaxAI/MiniMax-Text-01": 456_089_736_192,
    "MiniMaxAI/MiniMax-Text-01-hf": 456_089_736_192,
    "MiniMaxAI/MiniMax-M1-40k": 456_089_736_192,
    "MiniMaxAI/MiniMax-M1-80k": 456_089_736_192,
    "MiniMaxAI/MiniMax-M1-80k-hf": 456_089_736_192,
    "MiniMaxAI/MiniMax-M2": 228_700_000_000,
    "MiniMaxAI/MiniMax-M2.1": 228_700_000_000,
    "nvidia/Llama-3.1-Nemotron-70B-Instruct-HF": 70_553_706_496,
    "nvidia/Llama-3_3-Nemotron-Super-49B-v1": 49_867_145_216,
    "nvidia/Llama-3.1-Nemotron-Nano-8B-v1": 8_030_261_248,
    "nvidia/Llama-3_1-Nemotron-Ultra-253B-v1": 253_401_587_712,
    "nvidia/OpenReasoning-Nemotron-7B": 7_615_616_512,
    "nvidia/OpenReasoning-Nemotron-32B": 32_763_876_352,
    "nvidia/Llama-3_3-Nemotron-Super-49B-v1_5": 49_867_145_216,
    "nvidia/NVIDIA-Nemotron-Nano-9B-v2": 8_888_227_328,
    "microsoft/phi-1_5": 1_418_270_720,
    "microsoft/phi-2": 2_779_683_840,
    "microsoft/Phi-3-mini-4k-instruct": 3_821_079_552,
    "microsoft/Phi-3-mini-128k-instruct": 3_821_079_552,
    "microsoft/Phi-3.5-mini-instruct": 3_821_079_552,
    "microsoft/Phi-3.5-vision-instruct": 4_146_621_440,
    "microsoft/phi-4": 14_659_507_200,
    "microsoft/Phi-4-mini-instruct": 3_836_021_760,
    "microsoft/Phi-4-multimodal-instruct": 5_574_460_384,
    "microsoft/Phi-4-reasoning": 14_659_507_200,
    "microsoft/Phi-4-reasoning-plus": 14_659_507_200,
    "microsoft/Phi-4-mini-reasoning": 3_836_021_760,
}
# gpt-oss stores its experts as MXFP4 blocks in U8: most of its count is packed weights.
PACKED = {"openai/gpt-oss-20b": 19_707_494_400, "openai/gpt-oss-120b": 118_244_966_400}
PACKED |= {"openai/gpt-oss-safeguard-20b": 19_707_494_400}
PACKED |= {"openai/gpt-oss-safeguard-120b": 118_244_966_400}


def sizes(families: Families) -> dict[str, ModelSize]:
    """Every sample model's size, as a collection finds it (`Families.size_of`)."""
    found: dict[str, ModelSize] = {}
    for specs in MODELS.values():
        for repo_id, *_ in specs:
            total = PARAMETERS.get(repo_id)
            packed = PACKED.get(repo_id, 0)
            by_dtype = {"BF16": total - packed, "U8": packed} if packed else {"BF16": total}
            found[repo_id] = families.size_of(repo_id, total, by_dtype if total else None)
    return found


@dataclass
class _Model:
    """One model's generated life: daily downloads from the start of the history."""

    repo_id: str
    family: str
    born: int  # day index of release; negative = before FIRST_DAY
    weight: float
    created_at: str
    pipeline_tag: str | None
    likes_per_root: float
    daily: list[int]  # daily[i] is day i - HISTORY; 0 before release
    base: int = 0  # all-time downloads before the generated history
    derivatives: list[int] = field(default_factory=list)  # per snapshot day, from day 0


@dataclass(frozen=True)
class Summary:
    """What the generated store holds, for the printed report."""

    snapshots: int
    models: int
    size_bytes: int
    qwen_first: int
    qwen_last: int
    llama_first: int
    llama_last: int
    qwen_passes_llama: str | None


def day_of(index: int) -> date:
    return FIRST_DAY + timedelta(days=index)


def taken_at(index: int) -> datetime:
    d = day_of(index)
    return datetime(d.year, d.month, d.day, SNAPSHOT_HOUR, tzinfo=UTC)


def rate(knots: Sequence[tuple[int, float]], day: int) -> float:
    """Downloads a day (not millions) on `day`, interpolated between the knots."""
    if day <= knots[0][0]:
        return knots[0][1] * 1e6
    for (d0, v0), (d1, v1) in pairwise(knots):
        if day <= d1:
            return (v0 + (v1 - v0) * (day - d0) / (d1 - d0)) * 1e6
    return knots[-1][1] * 1e6


def _check_models(families: Families) -> None:
    # The sample must stay consistent with families.toml: every family covered and
    # every model owned by the family it is filed under.
    missing = [f.key for f in families if f.key not in MODELS or f.key not in SHAPES]
    if missing:
        raise SystemExit(f"make_sample: no sample models or shape for: {', '.join(missing)}")
    for key, specs in MODELS.items():
        for repo_id, *_ in specs:
            owner = families.family_of(repo_id)
            if owner is None or owner.key != key:
                raise SystemExit(f"make_sample: {repo_id} is not owned by family '{key}'")


def _make_models(families: Families, rng: random.Random) -> list[_Model]:
    models = []
    for family in families:
        shape = SHAPES[family.key]
        for repo_id, released, tag, weight in MODELS[family.key]:
            day = date.fromisoformat(released)
            clock = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"
            # Listed from the first snapshot taken after its creation.
            late = clock > f"{SNAPSHOT_HOUR:02d}:00:00"
            models.append(
                _Model(
                    repo_id=repo_id,
                    family=family.key,
                    born=(day - FIRST_DAY).days + (1 if late else 0),
                    weight=weight,
                    created_at=f"{released}T{clock}.000Z",
                    pipeline_tag=tag,
                    likes_per_root=shape.likes_factor * rng.uniform(0.6, 1.6),
                    daily=[0] * (HISTORY + DAYS),
                )
            )
    return models


def _simulate_daily(models: list[_Model], rng: random.Random) -> None:
    """Fill every model's daily downloads: the family curve shared by weight."""
    by_family: dict[str, list[_Model]] = {}
    for m in models:
        by_family.setdefault(m.family, []).append(m)
    for key, members in by_family.items():
        knots = SHAPES[key].rates
        for i in range(HISTORY + DAYS):
            day = i - HISTORY
            live = [m for m in members if m.born <= day]
            shares = [m.weight * min(1.0, (day - m.born + 1) / RAMP_DAYS) for m in live]
            total_share = sum(shares)
            weekday = day_of(day).weekday()
            family_rate = rate(knots, day) * (WEEKEND_FACTOR if weekday >= 5 else 1.0)
            for m, share in zip(live, shares, strict=True):
                noise = rng.lognormvariate(0.0, NOISE_SIGMA)
                m.daily[i] = round(family_rate * share / total_share * noise)


def _cumulative(members: list[_Model], day: int) -> int:
    """Downloads in the generated history up to and including `day`."""
    return sum(sum(m.daily[: day + HISTORY + 1]) for m in members)


def _set_bases(models: list[_Model]) -> None:
    """Give older models the all-time downloads they had before the history starts."""
    by_family: dict[str, list[_Model]] = {}
    for m in models:
        by_family.setdefault(m.family, []).append(m)
    last = DAYS - 1
    base_of: dict[str, int] = {}
    for key, members in by_family.items():
        start = SHAPES[key].all_time_at_start
        if start is not None:
            base_of[key] = start - _cumulative(members, 0)
    qwen, llama = by_family["qwen"], by_family["llama"]
    base_of["qwen"] = QWEN_FINAL_ALL_TIME - _cumulative(qwen, last)
    # Llama's head start puts the crossing between the day before CROSSING_DAY and it.
    gap = [_cumulative(qwen, d) - _cumulative(llama, d) for d in (CROSSING_DAY - 1, CROSSING_DAY)]
    base_of["llama"] = base_of["qwen"] + (gap[0] + gap[1]) // 2
    for key, members in by_family.items():
        total = base_of[key]
        if total < 0:
            raise SystemExit(f"make_sample: family '{key}' starts too low for its curve")
        old = [m for m in members if m.born < -HISTORY] or [m for m in members if m.born <= 0]
        # Older models have had longer to collect downloads, up to a cap.
        weights = [m.weight * max(1, min(-HISTORY - m.born, AGE_CAP_DAYS)) for m in old]
        for m, part in zip(old, _apportion(total, weights), strict=True):
            m.base = part


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` by `weights` into integers that sum exactly to it."""
    scale = sum(weights)
    raw = [total * w / scale for w in weights]
    parts = [math.floor(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (parts[i] - raw[i], i))
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _simulate_derivatives(models: list[_Model], rng: random.Random) -> None:
    """Fill every model's derivative count on each snapshot day: never decreasing."""
    by_family: dict[str, list[_Model]] = {}
    for m in models:
        by_family.setdefault(m.family, []).append(m)
    for key, members in by_family.items():
        start, end = DERIVATIVES[key]
        old = [m for m in members if m.born <= 0]
        weights = [m.weight * max(1, min(-m.born, AGE_CAP_DAYS)) for m in old]
        shares = _apportion(start, weights)
        counts = {m.repo_id: float(n) for m, n in zip(old, shares, strict=True)}
        per_day = (end - start) / (DAYS - 1)
        for day in range(DAYS):
            if day > 0:
                live = [m for m in members if m.born <= day]
                pulls = [
                    m.weight * (FRESH_PULL if day - m.born < FRESH_DAYS else 1.0) for m in live
                ]
                total = sum(pulls)
                for m, pull in zip(live, pulls, strict=True):
                    gained = per_day * pull / total * rng.lognormvariate(0.0, 0.3)
                    counts[m.repo_id] = counts.get(m.repo_id, 0.0) + gained
            for m in members:
                if m.born <= day:
                    m.derivatives.append(round(counts.get(m.repo_id, 0.0)))


def simulate(families: Families, seed: int = SEED) -> list[list[ModelRecord]]:
    """The records of every snapshot, oldest first. Pure: same seed, same records."""
    _check_models(families)
    rng = random.Random(seed)
    models = _make_models(families, rng)
    _simulate_daily(models, rng)
    _set_bases(models)
    _simulate_derivatives(models, random.Random(seed + 1))
    days: list[list[ModelRecord]] = []
    for day in range(DAYS):
        i = day + HISTORY
        records = []
        for m in models:
            if m.born > day:
                continue
            all_time = m.base + sum(m.daily[: i + 1])
            records.append(
                ModelRecord(
                    repo_id=m.repo_id,
                    family=m.family,
                    downloads_30d=sum(m.daily[max(0, i - WINDOW + 1) : i + 1]),
                    downloads_all_time=all_time,
                    likes=int(m.likes_per_root * math.sqrt(all_time)),
                    created_at=m.created_at,
                    pipeline_tag=m.pipeline_tag,
                    derivatives=m.derivatives[day - max(m.born, 0)],
                )
            )
        days.append(records)
    return days


def build(out: Path, families: Families | None = None) -> Summary:
    """Write the sample store to `out` (replacing it) and describe what it holds."""
    families = load_families() if families is None else families
    days = simulate(families)
    definitions = families.definitions()
    tmp = out.with_name(out.name + ".tmp")
    for path in _with_sidecars(tmp):
        path.unlink(missing_ok=True)
    store = open_store(tmp)  # the real migrations, exactly as a live store gets them
    with store.writing() as db:
        for index, records in enumerate(days):
            insert_snapshot(db, taken_at(index), SOURCE, records, definitions)
        record_sizes(db, sizes(families))
        db.execute(
            f"UPDATE {Migrations.migrations_table} SET applied_at = ?", [PINNED_MIGRATION_TIME]
        )
    _compact(tmp)
    # A stale -wal beside the old file would be replayed into the new one: remove it.
    for path in _with_sidecars(out)[1:]:
        path.unlink(missing_ok=True)
    os.replace(tmp, out)
    return summarize(out)


def _with_sidecars(path: Path) -> list[Path]:
    return [path, Path(f"{path}-wal"), Path(f"{path}-shm")]


def _compact(path: Path) -> None:
    # The shipped file is opened with immutable=1, which ignores any -wal file, so it
    # must be a single rollback-journal file; VACUUM also makes its bytes repeatable.
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute("VACUUM")
    finally:
        conn.close()


def summarize(path: Path) -> Summary:
    """Read the figures the report prints back through storage.queries."""
    store = open_store(path, sample=True)
    with store.reading() as db:
        snapshots = q.list_snapshots(db)
        series = q.family_series(db, ["qwen", "llama"])
        models = int(db.execute("SELECT count(*) FROM models").fetchone()[0])
    qwen, llama = series["qwen"], series["llama"]
    passes = next(
        (taken[:10] for (taken, qv), (_, lv) in zip(qwen, llama, strict=True) if qv > lv), None
    )
    return Summary(
        snapshots=len(snapshots),
        models=models,
        size_bytes=path.stat().st_size,
        qwen_first=qwen[0][1],
        qwen_last=qwen[-1][1],
        llama_first=llama[0][1],
        llama_last=llama[-1][1],
        qwen_passes_llama=passes,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the bundled sample store.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="store file to write")
    args = parser.parse_args(argv)
    out: Path = args.out
    if not out.parent.is_dir():
        parser.error(f"folder {out.parent} does not exist")
    s = build(out)
    print(f"wrote {out}")
    print(f"  snapshots      {s.snapshots} ({day_of(0)} .. {day_of(DAYS - 1)})")
    print(f"  models         {s.models}")
    print(f"  size           {s.size_bytes / 1e6:.2f} MB")
    print(f"  Qwen all-time  {s.qwen_first:,} -> {s.qwen_last:,}")
    print(f"  Llama all-time {s.llama_first:,} -> {s.llama_last:,}")
    print(f"  Qwen passes Llama on {s.qwen_passes_llama}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
