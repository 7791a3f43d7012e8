"""Tests of the extraction budget: queries by goal, output and model class, throughput by rate
limit and accounts, detection by monitoring, and the chance of finishing before detection that
scales a query theft's success."""

from __future__ import annotations

import math

import pytest

from threats.engine.extraction import (
    ACCOUNTS,
    DEFAULT_LIMIT_PER_MINUTE,
    DETECTION_DAYS,
    GOAL_DEFAULTS,
    QUERIES,
    UNLIMITED_PER_MINUTE,
    budgets_for,
    extraction_budget,
)
from threats.engine.snapshot import AssetData
from threats.engine.vocab import OC_LEVELS

FREE = {"rate_limited": False, "monitored": False, "output_minimized": False}


def endpoint(**fields: object) -> AssetData:
    defaults: dict[str, object] = {"id": 1, "kind": "inference_endpoint", "model_class": "llm"}
    return AssetData(**{**defaults, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize("model_class", ["classifier", "regressor", "llm"])
def test_coarser_outputs_never_need_fewer_clone_queries(model_class: str) -> None:
    logits, score, label = (QUERIES[("clone", model_class, g)].queries for g in ("logits", "score", "label"))
    assert logits <= score <= label


def test_goals_are_kept_apart() -> None:
    """A last-layer attack (Carlini et al. 2024) is not a distillation campaign (AML.CS0056)."""
    assert QUERIES[("parameters", "llm", "logits")].queries == 1e4
    assert QUERIES[("clone", "llm", "label")].queries == 5e6
    assert GOAL_DEFAULTS["prompt"].queries < GOAL_DEFAULTS["data"].queries


def test_every_table_entry_cites_a_source() -> None:
    for key, estimate in {**QUERIES, **{(g, "", ""): e for g, e in GOAL_DEFAULTS.items()}}.items():
        assert estimate.queries > 0
        assert len(estimate.source) > 20, key


def test_text_answers_count_as_minimal_output() -> None:
    text = extraction_budget("clone", endpoint(output_granularity="text"), "OC2", **FREE)
    logits = extraction_budget("clone", endpoint(output_granularity="logits"), "OC2", **FREE)
    assert text.output_granularity == "label"
    assert logits.days_to_extract < text.days_to_extract


def test_more_accounts_mean_fewer_days() -> None:
    days = [
        extraction_budget("clone", endpoint(output_granularity="text"), oc, **FREE).days_to_extract for oc in OC_LEVELS
    ]
    assert days == sorted(days, reverse=True) and len(set(days)) == len(days)
    assert ACCOUNTS["OC5"] == 24_000  # the campaign size of AML.CS0056


def test_days_follow_the_formula() -> None:
    asset = endpoint(output_granularity="text", rate_limited=True, rate_limit_per_minute=30)
    budget = extraction_budget("clone", asset, "OC3", rate_limited=True, monitored=False, output_minimized=False)
    assert budget.rate_per_minute == 30 and budget.accounts == 100
    assert budget.queries_per_day == 30 * 1440 * 100
    assert budget.days_to_extract == budget.queries_needed / budget.queries_per_day
    assert budget.finish_probability == 1.0  # never detected
    assert budget.note == "order-of-magnitude estimate"


def test_rate_limits_without_a_figure_and_unlimited_apis_use_documented_rates() -> None:
    limited = extraction_budget(
        "clone", endpoint(rate_limited=True), "OC1", rate_limited=True, monitored=False, output_minimized=False
    )
    assert limited.rate_per_minute == DEFAULT_LIMIT_PER_MINUTE
    assert extraction_budget("clone", endpoint(), "OC1", **FREE).rate_per_minute == UNLIMITED_PER_MINUTE
    # a limit on the asset counts only when the rate-limit control is in force in the view
    assert (
        extraction_budget("clone", endpoint(rate_limit_per_minute=5), "OC1", **FREE).rate_per_minute
        == UNLIMITED_PER_MINUTE
    )


def test_finishing_before_detection_is_a_race_of_the_two_clocks() -> None:
    asset = endpoint(output_granularity="text", rate_limited=True, rate_limit_per_minute=60)
    watched = extraction_budget("clone", asset, "OC2", rate_limited=True, monitored=True, output_minimized=False)
    assert watched.days_to_detect == DETECTION_DAYS
    expected = DETECTION_DAYS / (DETECTION_DAYS + watched.days_to_extract)
    assert watched.finish_probability == pytest.approx(expected)
    assert 0 < watched.finish_probability < 1
    unlimited = extraction_budget("clone", asset, "OC2", rate_limited=False, monitored=True, output_minimized=False)
    assert unlimited.finish_probability > watched.finish_probability  # a quota lengthens the budget


def test_budgets_per_oc_read_the_controls_in_force() -> None:
    asset = endpoint(output_granularity="logits")
    budgets = budgets_for("clone", asset, frozenset({"M-RATE-QUOTA", "M-EXTRACTION-MONITOR", "M-OUTPUT-MINIMIZE"}))
    assert [b.capability for b in budgets] == list(OC_LEVELS)
    assert all(b.output_granularity == "label" and b.monitored and b.rate_per_minute == 60 for b in budgets)
    bare = budgets_for("clone", asset, frozenset())
    assert all(b.finish_probability == 1.0 and math.isfinite(b.days_to_extract) for b in bare)
