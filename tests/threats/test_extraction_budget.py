"""Tests of the extraction budget: queries by output and model class, throughput by rate limit
and accounts, detection by monitoring, and the per-view budgets ``compute_risk`` attaches."""

from __future__ import annotations

import pytest

from threats.engine.attackers import AttackerData
from threats.engine.extraction import (
    ACCOUNTS,
    DEFAULT_LIMIT_PER_MINUTE,
    DETECTION_DAYS,
    EXTRACTION_THREATS,
    QUERIES,
    UNLIMITED_PER_MINUTE,
    extraction_budget,
    extraction_budgets,
)
from threats.engine.library import Match
from threats.engine.snapshot import AssetData
from threats.engine.vocab import MODEL_CLASSES, OC_LEVELS


def endpoint(**fields: object) -> AssetData:
    defaults: dict[str, object] = {"id": 1, "kind": "inference_endpoint", "model_class": "llm"}
    return AssetData(**{**defaults, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize("model_class", sorted(MODEL_CLASSES - {""}))
def test_logits_need_fewer_queries_than_scores_and_scores_no_more_than_labels(model_class: str) -> None:
    logits, score, label = (QUERIES[(model_class, g)].queries for g in ("logits", "score", "label"))
    assert logits <= score <= label
    assert logits < label


def test_every_table_entry_cites_a_source() -> None:
    for (model_class, granularity), estimate in QUERIES.items():
        assert estimate.queries > 0
        assert len(estimate.source) > 20, (model_class, granularity)


def test_label_only_outputs_take_longer_to_extract_than_logits() -> None:
    logits = extraction_budget(endpoint(output_granularity="logits"), "OC2")
    labels = extraction_budget(endpoint(output_granularity="label"), "OC2")
    assert logits.queries_needed < labels.queries_needed
    assert logits.days_to_extract < labels.days_to_extract


def test_more_accounts_mean_fewer_days() -> None:
    days = [extraction_budget(endpoint(output_granularity="label"), oc).days_to_extract for oc in OC_LEVELS]
    assert days == sorted(days, reverse=True)
    assert len(set(days)) == len(days)
    assert ACCOUNTS["OC5"] == 24_000  # the campaign size of AML.CS0056


def test_days_follow_the_formula() -> None:
    budget = extraction_budget(endpoint(output_granularity="label", rate_limited=True, rate_limit_per_minute=30), "OC3")
    assert budget.rate_per_minute == 30
    assert budget.accounts == 100
    assert budget.queries_per_day == 30 * 1440 * 100
    assert budget.days_to_extract == budget.queries_needed / budget.queries_per_day
    assert budget.note == "order-of-magnitude estimate"


def test_rate_limits_without_a_figure_and_unlimited_apis_use_documented_rates() -> None:
    assert extraction_budget(endpoint(rate_limited=True), "OC1").rate_per_minute == DEFAULT_LIMIT_PER_MINUTE
    assert extraction_budget(endpoint(), "OC1").rate_per_minute == UNLIMITED_PER_MINUTE
    # a limit on the asset counts only when rate limiting is in force
    assert extraction_budget(endpoint(rate_limit_per_minute=5), "OC1", rate_limited=False).rate_per_minute == 600


def test_monitoring_sets_days_to_detect() -> None:
    watched = extraction_budget(endpoint(monitored=True, output_granularity="label"), "OC1")
    blind = extraction_budget(endpoint(output_granularity="label"), "OC1")
    assert watched.days_to_detect == DETECTION_DAYS
    assert not watched.extracted_before_detection  # ~18 days of queries from one account
    assert blind.days_to_detect is None
    assert blind.extracted_before_detection
    fast = extraction_budget(endpoint(monitored=True, output_granularity="logits"), "OC5")
    assert fast.extracted_before_detection


def test_a_planned_control_overrides_the_asset_properties() -> None:
    asset = endpoint(output_granularity="logits")
    minimized = extraction_budget(asset, "OC3", output_minimized=True, monitored=True, rate_limited=True)
    assert minimized.output_granularity == "label"
    assert minimized.days_to_detect == DETECTION_DAYS
    assert minimized.rate_per_minute == DEFAULT_LIMIT_PER_MINUTE


def test_unknown_model_class_and_output_fall_back_to_documented_defaults() -> None:
    budget = extraction_budget(endpoint(model_class="", output_granularity=""), "OC2")
    assert (budget.model_class, budget.output_granularity) == ("other", "score")


def test_budgets_per_view_follow_the_views_controls() -> None:
    asset = endpoint(output_granularity="logits", rate_limited=True, monitored=True)
    matches = [Match(code, "asset", 1, ()) for code in sorted(EXTRACTION_THREATS)] + [Match("T-OTHER", "asset", 1, ())]
    attackers = [AttackerData(id=1, capability="OC1"), AttackerData(id=2, capability="OC5")]
    views = {"inherent": {}, "current": {"M-RATE-QUOTA": frozenset({1}), "M-EXTRACTION-MONITOR": None}}
    budgets = extraction_budgets(matches, {1: asset}, attackers, views)
    assert set(budgets) == {(code, "asset", 1) for code in EXTRACTION_THREATS}
    inherent, current = (
        budgets[("T-EXTRACT-API", "asset", 1)]["inherent"],
        budgets[("T-EXTRACT-API", "asset", 1)]["current"],
    )
    assert [b.capability for b in inherent] == ["OC1", "OC5"]
    assert inherent[0].days_to_detect is None  # no controls in the inherent view
    assert inherent[0].rate_per_minute == UNLIMITED_PER_MINUTE
    assert current[0].days_to_detect == DETECTION_DAYS
    assert current[0].rate_per_minute == DEFAULT_LIMIT_PER_MINUTE
    assert current[1].days_to_extract < current[0].days_to_extract
