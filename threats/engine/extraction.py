"""Extraction budget: how long an API extraction or distillation takes, against how long until it
is detected (DESIGN.md §4.7).

    days_to_extract = queries_needed / (queries per minute per account x 1440 x accounts)

``queries_needed`` comes from a table by model class and output granularity whose entries are
ORDER-OF-MAGNITUDE estimates anchored on the research figures of ``knowledge/ai-model-theft.md``
§(c); each entry carries its source so the screen can show where a number comes from. The
formula itself is the knowledge base's own derived estimate (§(c), "Query-budget-based risk
estimation"), not a published model. Every factor is returned for display.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from threats.engine.attackers import AttackerData
from threats.engine.controls import ControlsInForce, in_force
from threats.engine.library import Match
from threats.engine.snapshot import AssetData

EXTRACTION_THREATS: frozenset[str] = frozenset({"T-EXTRACT-API", "T-DISTILL-LLM", "T-LOGIT-ALGEBRA"})
MINUTES_PER_DAY = 1440
# An API without a rate limit is still bounded by what one client can push through it: ~10
# requests a second per account (latency-bound clients, our assumption).
UNLIMITED_PER_MINUTE = 600.0
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

# (model class, output granularity) -> queries for a functionally useful copy.
QUERIES: Mapping[tuple[str, str], QueryEstimate] = {
    ("classifier", "logits"): QueryEstimate(3e3, f"{_TRAMER}; {_CARLINI_2020} for exact weights"),
    ("classifier", "score"): QueryEstimate(1e4, f"{_KNOCKOFF}; {_TRAMER}"),
    ("classifier", "label"): QueryEstimate(1e5, f"{_KNOCKOFF}; {_LABELS}"),
    ("regressor", "logits"): QueryEstimate(1e3, f"{_TRAMER} (equation solving, ~d+1 queries)"),
    ("regressor", "score"): QueryEstimate(1e3, f"{_TRAMER} (equation solving, ~d+1 queries)"),
    ("regressor", "label"): QueryEstimate(1e4, f"{_TRAMER}; {_LABELS}"),
    ("llm", "logits"): QueryEstimate(1e4, f"{_CARLINI_2024}; {_FINLAYSON}"),
    ("llm", "score"): QueryEstimate(1e5, f"{_CARLINI_2024} (top-k logprobs need more queries); {_LABELS}"),
    ("llm", "label"): QueryEstimate(1.6e7, f"{_CS0056}; lower bound {_ALPACA}"),
    ("embedding", "logits"): QueryEstimate(1e4, f"{_GREYBOX}; {_CARLINI_2024}"),
    ("embedding", "score"): QueryEstimate(1e4, f"{_GREYBOX}"),
    ("embedding", "label"): QueryEstimate(1e5, f"{_GREYBOX}; {_LABELS}"),
    ("other", "logits"): QueryEstimate(3e3, f"as classifier: {_TRAMER}"),
    ("other", "score"): QueryEstimate(1e4, f"as classifier: {_KNOCKOFF}"),
    ("other", "label"): QueryEstimate(1e5, f"as classifier: {_LABELS}"),
}
UNKNOWN_GRANULARITY = "score"  # an endpoint that does not say what it returns: assume the middle


@dataclass(frozen=True, slots=True)
class ExtractionBudget:
    """Every factor of one extraction-budget estimate, for one target, attacker and view."""

    asset_id: int
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
    note: str = ESTIMATE_NOTE


def extraction_budget(
    asset: AssetData,
    capability: str,
    *,
    rate_limited: bool | None = None,
    monitored: bool | None = None,
    output_minimized: bool = False,
) -> ExtractionBudget:
    """The budget for an attacker of ``capability`` against ``asset``.

    ``rate_limited`` / ``monitored`` default to the asset's own properties; a view passes True
    when a plan puts M-RATE-QUOTA / M-EXTRACTION-MONITOR in force. ``output_minimized`` (a plan
    putting M-OUTPUT-MINIMIZE in force) means the endpoint answers with labels only.
    """
    model_class = asset.model_class if asset.model_class in {"classifier", "regressor", "llm", "embedding"} else "other"
    granularity = "label" if output_minimized else (asset.output_granularity or UNKNOWN_GRANULARITY)
    estimate = QUERIES.get((model_class, granularity), QUERIES[(model_class, UNKNOWN_GRANULARITY)])
    limited = asset.rate_limited if rate_limited is None else rate_limited
    if limited and asset.rate_limit_per_minute:
        rate, rate_source = float(asset.rate_limit_per_minute), "the endpoint's rate limit per account"
    elif limited:
        rate, rate_source = DEFAULT_LIMIT_PER_MINUTE, "rate limited, limit not given: 1 query/second assumed"
    else:
        rate, rate_source = UNLIMITED_PER_MINUTE, "no rate limit: one client's throughput, ~10 queries/second"
    accounts = ACCOUNTS[capability]
    per_day = rate * MINUTES_PER_DAY * accounts
    days = estimate.queries / per_day
    watched = asset.monitored if monitored is None else monitored
    detect = DETECTION_DAYS if watched else None
    return ExtractionBudget(
        asset_id=asset.id,
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
        monitored=watched,
        days_to_detect=detect,
        detection_source=DETECTION_SOURCE if watched else "not monitored: never detected",
        extracted_before_detection=detect is None or days < detect,
    )


def extraction_budgets(
    matches: Sequence[Match],
    assets: Mapping[int, AssetData],
    attackers: Sequence[AttackerData],
    controls_by_view: Mapping[str, ControlsInForce],
) -> dict[tuple[str, str, int], Mapping[str, tuple[ExtractionBudget, ...]]]:
    """Budgets of the API extraction matches, keyed like findings, per view and per attacker (in
    ``attackers`` order: accounts grow with capability).

    The view's controls decide, as everywhere else, so the inherent view is the unprotected
    endpoint: M-RATE-QUOTA in force = rate limited (at the asset's limit if it gives one),
    M-EXTRACTION-MONITOR = monitored, M-OUTPUT-MINIMIZE = labels only.
    """
    result: dict[tuple[str, str, int], Mapping[str, tuple[ExtractionBudget, ...]]] = {}
    for match in matches:
        asset = assets.get(match.target_id)
        if match.threat_code not in EXTRACTION_THREATS or match.target_type != "asset" or asset is None:
            continue
        on = (asset.id,)
        result[(match.threat_code, match.target_type, match.target_id)] = {
            view: tuple(
                extraction_budget(
                    asset,
                    a.capability,
                    rate_limited=in_force(controls, "M-RATE-QUOTA", on),
                    monitored=in_force(controls, "M-EXTRACTION-MONITOR", on),
                    output_minimized=in_force(controls, "M-OUTPUT-MINIMIZE", on),
                )
                for a in attackers
            )
            for view, controls in controls_by_view.items()
        }
    return result
