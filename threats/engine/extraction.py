"""Extraction budget: how long a query theft takes against how long until it is detected, and
the chance it finishes first (DESIGN.md §4.6). The budget feeds the risk: it scales the
technique's success, so a quota lengthens the budget instead of making the threat disappear.

    days_to_extract    = queries_needed / (queries per minute per account x 1440 x accounts)
    finish_probability = days_to_detect / (days_to_detect + days_to_extract)   (1 if never detected)

``queries_needed`` depends on what the attacker is after (``goal``: a functional clone, the
parameters of the last layer, the system prompt, or training records), the model class and
the output granularity; entries are ORDER-OF-MAGNITUDE estimates anchored on the research
figures of ``knowledge/ai-model-theft.md`` §(c), each with its source for the screen. The
formula is the knowledge base's own derived estimate (§(c), "Query-budget-based risk
estimation"), and the finish probability is ours: a race between two exponential clocks of
those means. Every factor is returned for display.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from threats.engine.snapshot import AssetData
from threats.engine.vocab import OC_LEVELS

MINUTES_PER_DAY = 1440
# An API without a rate limit is bounded by what one account can push through it concurrently:
# about 10,000 requests a minute (150-odd parallel streams; our assumption). A quota of 600 a
# minute therefore lengthens an extraction, which is what it is for.
UNLIMITED_PER_MINUTE = 10_000.0
# Rate limited, but the asset does not say how tightly: one query a second (our assumption).
DEFAULT_LIMIT_PER_MINUTE = 60.0
# Accounts (or client identities) an attacker runs in parallel, by RAND operational capacity.
# Only the top figure is observed: AML.CS0056 saw ~24,000 accounts in one distillation campaign
# set. The rest step down by decades with the OC budgets of RAND RR-A2849-1 (our estimate).
ACCOUNTS: Mapping[str, int] = {"OC1": 1, "OC2": 10, "OC3": 100, "OC4": 1_000, "OC5": 24_000}
ACCOUNTS_SOURCE = "RAND OC level; OC5 = ~24,000 accounts of AML.CS0056, lower levels by decade (our estimate)"
# Per-client stateful detection flags an extraction within about a day of traffic (PRADA,
# Juuti et al., EuroS&P 2019, detected all the attacks it was evaluated on); Atli et al. 2020
# warn that a more realistic adversary evades known detectors, so this is a best case.
DETECTION_DAYS = 1.0
DETECTION_SOURCE = "PRADA (Juuti et al., EuroS&P 2019): per-client detection, best case ~1 day of traffic"
ESTIMATE_NOTE = "order-of-magnitude estimate"


class QueryEstimate(NamedTuple):
    queries: float
    source: str


_TRAMER = "Tramèr et al. 2016 (USENIX Security): 650-4,013 queries for production LR and tree models"
_CARLINI_2020 = "Carlini, Jagielski, Mironov 2020 (CRYPTO): 2^18.5-2^21.5 queries for exact small-net weights"
_KNOCKOFF = "Knockoff Nets (Orekondy et al., CVPR 2019): a usable image-API clone for about US$30 of queries"
_CARLINI_2024 = "Carlini et al. 2024 (ICML): LLM embedding-projection matrix for < US$20 of logit queries"
_FINLAYSON = "Finlayson et al. 2024: hidden size of gpt-3.5-turbo for < US$1,000 of queries"
_ALPACA = "Stanford Alpaca 2023: 52K demonstrations for a narrow clone"
_CS0056 = "AML.CS0056: ~16 million queries across ~24,000 accounts for frontier-grade distillation"
_GREYBOX = "Zanella-Béguelin et al. 2021: ~2x the last layer's input dimension when the encoder is public"
_LABELS = (
    "each coarser output step costs ~10x more queries (our estimate; Atli et al. 2020: granularity limits Knockoff)"
)

_PROMPT = "system prompts leak to a handful of crafted prompts (OWASP LLM07:2025); 100 queries assumed"
_MEMBERSHIP = "membership inference and verbatim extraction need many probes per record (our estimate)"
_DISTIL_LOGPROBS = "logprobs carry more signal per answer than text: ~5x fewer queries for a clone (our estimate)"

# (goal, model class, output granularity) -> queries. Goals: "clone" a functional copy,
# "parameters" of the final layer (logit algebra), "prompt" the system prompt, "data" records of
# the training set. Granularity "text" (an LLM's plain answer) and "label" are the minimal outputs.
QUERIES: Mapping[tuple[str, str, str], QueryEstimate] = {
    ("clone", "classifier", "logits"): QueryEstimate(3e3, f"{_TRAMER}; {_CARLINI_2020} for exact weights"),
    ("clone", "classifier", "score"): QueryEstimate(1e4, f"{_KNOCKOFF}; {_TRAMER}"),
    ("clone", "classifier", "label"): QueryEstimate(1e5, f"{_KNOCKOFF}; {_LABELS}"),
    ("clone", "regressor", "logits"): QueryEstimate(1e3, f"{_TRAMER} (equation solving, ~d+1 queries)"),
    ("clone", "regressor", "score"): QueryEstimate(1e3, f"{_TRAMER} (equation solving, ~d+1 queries)"),
    ("clone", "regressor", "label"): QueryEstimate(1e4, f"{_TRAMER}; {_LABELS}"),
    ("clone", "llm", "logits"): QueryEstimate(1e6, f"{_CS0056}, per campaign; {_DISTIL_LOGPROBS}"),
    ("clone", "llm", "score"): QueryEstimate(2e6, f"{_CS0056}, per campaign; top-k logprobs"),
    ("clone", "llm", "label"): QueryEstimate(5e6, f"{_CS0056} (~5M per campaign); lower bound {_ALPACA}"),
    ("clone", "embedding", "embeddings"): QueryEstimate(1e4, f"{_GREYBOX}"),
    ("clone", "embedding", "logits"): QueryEstimate(1e4, f"{_GREYBOX}"),
    ("clone", "embedding", "score"): QueryEstimate(1e5, f"{_GREYBOX}; {_LABELS}"),
    ("clone", "embedding", "label"): QueryEstimate(1e6, f"{_GREYBOX}; {_LABELS}"),
    ("parameters", "llm", "logits"): QueryEstimate(1e4, f"{_CARLINI_2024}; {_FINLAYSON}"),
    ("parameters", "llm", "score"): QueryEstimate(1e5, f"{_CARLINI_2024} (top-k logprobs need more queries)"),
    ("parameters", "classifier", "logits"): QueryEstimate(3e6, _CARLINI_2020),
    ("parameters", "classifier", "score"): QueryEstimate(1e7, f"{_CARLINI_2020}; {_LABELS}"),
    ("parameters", "regressor", "logits"): QueryEstimate(1e3, f"{_TRAMER} (equation solving, ~d+1 queries)"),
    ("parameters", "regressor", "score"): QueryEstimate(1e3, f"{_TRAMER} (equation solving, ~d+1 queries)"),
}
GOAL_DEFAULTS: Mapping[str, QueryEstimate] = {
    "clone": QueryEstimate(1e5, f"as a classifier with labels: {_KNOCKOFF}; {_LABELS}"),
    "parameters": QueryEstimate(1e7, f"{_CARLINI_2020}; coarse outputs need far more queries"),
    "prompt": QueryEstimate(1e2, _PROMPT),
    "data": QueryEstimate(1e5, _MEMBERSHIP),
}
_GRANULARITY = {"text": "label", "": "score"}  # text answers count as labels; unknown as scores


@dataclass(frozen=True, slots=True)
class ExtractionBudget:
    """Every factor of one extraction-budget estimate, for one target, attacker and view."""

    asset_id: int
    goal: str
    capability: str
    model_class: str
    output_granularity: str
    queries_needed: float
    queries_source: str
    rate_per_minute: float
    rate_source: str
    accounts: int
    accounts_source: str
    queries_per_day: float
    days_to_extract: float
    monitored: bool
    days_to_detect: float | None
    detection_source: str
    extracted_before_detection: bool
    finish_probability: float
    note: str = ESTIMATE_NOTE


def extraction_budget(
    goal: str, asset: AssetData, capability: str, *, rate_limited: bool, monitored: bool, output_minimized: bool
) -> ExtractionBudget:
    """The budget of one query theft with ``goal`` for an attacker of ``capability``.

    ``rate_limited`` / ``monitored`` / ``output_minimized``: whether M-RATE-QUOTA /
    M-EXTRACTION-MONITOR / M-OUTPUT-MINIMIZE are in force on the endpoint in the view (the
    endpoint's own properties put them in force in the current view); a minimised output
    answers with text or labels only.
    """
    model_class = asset.model_class if asset.model_class in {"classifier", "regressor", "llm", "embedding"} else "other"
    raw = asset.output_granularity
    granularity = "label" if output_minimized and raw not in ("text", "label") else _GRANULARITY.get(raw, raw)
    model_class_key = "classifier" if model_class == "other" else model_class
    estimate = QUERIES.get((goal, model_class_key, granularity), GOAL_DEFAULTS.get(goal, GOAL_DEFAULTS["clone"]))
    if rate_limited and asset.rate_limit_per_minute:
        rate, rate_source = float(asset.rate_limit_per_minute), "the endpoint's rate limit per account"
    elif rate_limited:
        rate, rate_source = DEFAULT_LIMIT_PER_MINUTE, "rate limited, limit not given: 1 query/second assumed"
    else:
        rate, rate_source = UNLIMITED_PER_MINUTE, "no rate limit: one account's concurrent throughput assumed"
    accounts = ACCOUNTS[capability]
    per_day = rate * MINUTES_PER_DAY * accounts
    days = estimate.queries / per_day
    detect = DETECTION_DAYS if monitored else None
    finish = 1.0 if detect is None else detect / (detect + days)
    return ExtractionBudget(
        asset_id=asset.id,
        goal=goal,
        capability=capability,
        model_class=model_class,
        output_granularity=granularity,
        queries_needed=estimate.queries,
        queries_source=estimate.source,
        rate_per_minute=rate,
        rate_source=rate_source,
        accounts=accounts,
        accounts_source=ACCOUNTS_SOURCE,
        queries_per_day=per_day,
        days_to_extract=days,
        monitored=monitored,
        days_to_detect=detect,
        detection_source=DETECTION_SOURCE if monitored else "not monitored: never detected",
        extracted_before_detection=detect is None or days < detect,
        finish_probability=finish,
    )


def budgets_for(goal: str, asset: AssetData, codes: frozenset[str]) -> tuple[ExtractionBudget, ...]:
    """One budget per OC level (OC1..OC5) for the controls ``codes`` in force on the endpoint."""
    flags = {
        "rate_limited": "M-RATE-QUOTA" in codes,
        "monitored": "M-EXTRACTION-MONITOR" in codes,
        "output_minimized": "M-OUTPUT-MINIMIZE" in codes,
    }
    return tuple(extraction_budget(goal, asset, level, **flags) for level in OC_LEVELS)
