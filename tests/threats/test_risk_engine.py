"""Unit tests of the pure risk engine: reach, controls in force, explained frequencies, views,
the Monte Carlo simulation and ``compute_risk`` end to end.

No Django is needed: systems, attackers and a small library are built inline (the library from
YAML strings, as the rule-engine tests do). Expected values are derived from the documented
constants in ``docs/risk-method.md``, so a change of a constant shows up here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from statistics import NormalDist

import numpy as np
import pytest

from threats.engine.attackers import AttackerData
from threats.engine.controls import ControlsInForce, implied_controls, in_force, merge, standard_views
from threats.engine.facts import derive_facts
from threats.engine.library import Library, Match, find_threats, load_library
from threats.engine.montecarlo import (
    _quantile_with_zeros,
    pert_mean,
    simulate_annual_loss,
)
from threats.engine.pert_tables import normal_ppf, sum_quantiles
from threats.engine.reach import (
    AUTHENTICATION_FACTOR,
    ENCRYPTED_AT_REST_FACTOR,
    HOSTED_FACTOR,
    INTERNET,
    MFA_FACTOR,
    OC_STEP,
    best_path,
    build_graph,
    compute_reach,
)
from threats.engine.risk import (
    RiskResult,
    compute_risk,
    heat_map,
    impact_band,
    likelihood_band,
    magnitude,
    risk_level,
)
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData

CONTROLS = """
version: "t1"
controls:
  - {code: M-API-AUTHN, name: Authenticate, type: preventive, cost: {one_off: [0, 1], yearly: [0, 1]}, rand_sl: 1}
  - {code: M-RATE-QUOTA, name: Quotas, type: preventive, cost: {one_off: [0, 1], yearly: [0, 1]}, rand_sl: 2}
  - {code: M-EXTRACTION-MONITOR, name: Monitor, type: detective, cost: {one_off: [0, 1], yearly: [0, 1]}, rand_sl: 2}
  - {code: M-OUTPUT-MINIMIZE, name: Labels only, type: preventive, cost: {one_off: [0, 1], yearly: [0, 1]}, rand_sl: 1}
  - {code: M-ENCRYPT-KMS, name: Encrypt, type: preventive, cost: {one_off: [0, 1], yearly: [0, 1]}, rand_sl: 1}
  - {code: M-EGRESS-CONTROL, name: Egress, type: preventive, cost: {one_off: [0, 1], yearly: [0, 1]}, rand_sl: 3}
"""

THREATS = """
version: "t1"
threats:
  - code: T-EXTRACT-API
    name: Extraction
    stride: [I]
    rand: {category: ai_specific, vector: model_extraction}
    target: asset
    asset_kinds: [inference_endpoint, api_gateway]
    rule: {attr: kind, in: [inference_endpoint, api_gateway]}
    base_probability: {OC1: 0.3, OC2: 0.45, OC3: 0.6, OC4: 0.7, OC5: 0.75}
    controls:
      - {control: M-API-AUTHN, effectiveness: 0.3}
      - {control: M-RATE-QUOTA, effectiveness: 0.35}
      - {control: M-EXTRACTION-MONITOR, effectiveness: 0.4}
      - {control: M-OUTPUT-MINIMIZE, effectiveness: 0.25}
  - code: T-WEIGHTS-THEFT
    name: Weights copied
    stride: [I]
    rand: {category: bypassing_primary_security, vector: less_secure_copies}
    target: asset
    asset_kinds: [model_weights]
    rule: {attr: is_crown_jewel, eq: true}
    base_probability: {OC1: 0.1, OC2: 0.2, OC3: 0.4, OC4: 0.6, OC5: 0.8}
    controls:
      - {control: M-ENCRYPT-KMS, effectiveness: 0.5}
      - {control: M-EGRESS-CONTROL, effectiveness: 0.3}
  - code: T-SNIFF
    name: Cleartext flow
    stride: [I]
    rand: {category: nontrivial_access, vector: eavesdropping}
    target: flow
    rule: {attr: encrypted, eq: false}
    base_probability: {OC1: 0.1, OC2: 0.2, OC3: 0.3, OC4: 0.5, OC5: 0.9}
    controls: [{control: M-EGRESS-CONTROL, effectiveness: 0.2}]
"""

M = 1_000_000.0


def library() -> Library:
    return load_library(THREATS, CONTROLS)


def system(gateway_auth: str = "none", endpoint_auth: str = "api_key", endpoint_mfa: bool = False) -> SystemSnapshot:
    """Internet -> gateway (DMZ) -> endpoint (core) -> GPU host (core) holding weights; plus an
    island of weights nothing leads to."""
    zones = (
        ZoneData(id=1, name="internet", trust_level=0),
        ZoneData(id=2, trust_level=1),
        ZoneData(id=3, trust_level=3),
    )
    assets = (
        AssetData(id=1, kind="api_gateway", zone_id=2, internet_facing=True, authentication=gateway_auth),
        AssetData(
            id=2,
            kind="inference_endpoint",
            zone_id=3,
            authentication=endpoint_auth,
            mfa=endpoint_mfa,
            output_granularity="logits",
            model_class="llm",
            value_min=0.5 * M,
            value_likely=M,
            value_max=3 * M,
        ),
        AssetData(id=3, kind="gpu_host", zone_id=3, authentication="sso", rate_limited=True),
        AssetData(
            id=4,
            kind="model_weights",
            zone_id=3,
            hosted_on_id=3,
            encrypted_at_rest=True,
            value_min=M,
            value_likely=5 * M,
            value_max=20 * M,
        ),
        AssetData(id=5, kind="model_weights", zone_id=3, value_min=M, value_likely=2 * M, value_max=4 * M),
    )
    flows = (
        FlowData(id=1, source_id=1, target_id=2, authenticated=True, encrypted=True),
        FlowData(id=2, source_id=2, target_id=3, authenticated=False, encrypted=False, carries=(4,)),
    )
    return SystemSnapshot(zones=zones, assets=assets, flows=flows)


OUTSIDER = AttackerData(id=1, name="crew", capability="OC3", entry_zone_ids=(1,), attempts_per_year=4.0)
INSIDER = AttackerData(id=2, name="insider", capability="OC3", entry_asset_ids=(3,), attempts_per_year=0.5)
ATTACKERS = (OUTSIDER, INSIDER)


def run(snapshot: SystemSnapshot, views: Mapping[str, ControlsInForce] | None = None, seed: int = 0) -> RiskResult:
    lib = library()
    facts = derive_facts(snapshot)
    matches = find_threats(lib, snapshot, facts)
    return compute_risk(snapshot, facts, lib, matches, ATTACKERS, views or {"inherent": {}}, seed=seed)


# -- reach ---------------------------------------------------------------------------------------


def test_an_asset_no_attacker_can_reach_has_zero_reach_and_zero_frequency() -> None:
    result = run(system(), standard_views(implied=implied_controls(system()), implemented={}, planned={}))
    assert all(result.reach[a.id][5] == 0.0 for a in ATTACKERS)
    island = result.findings[("T-WEIGHTS-THEFT", "asset", 5)]
    for view in result.views:
        risk = island.views[view]
        assert (risk.frequency, risk.expected_loss, risk.mean_loss, risk.p90_loss) == (0.0, 0.0, 0.0, 0.0)
        assert risk.likelihood_band == 1


def test_reach_from_the_internet_is_the_product_of_documented_factors() -> None:
    reach = compute_reach(build_graph(system()), OUTSIDER).probability
    step = OC_STEP["OC3"]
    gateway = step * AUTHENTICATION_FACTOR["none"]
    # gateway -> endpoint: api key, authenticated and encrypted flow, two trust levels up
    endpoint = gateway * step * AUTHENTICATION_FACTOR["api_key"] * 0.8 * 0.9 * 0.6**2
    assert reach[1] == pytest.approx(gateway)
    assert reach[2] == pytest.approx(endpoint)
    # endpoint -> GPU host: SSO, unauthenticated and unencrypted flow, same zone
    assert reach[3] == pytest.approx(endpoint * step * AUTHENTICATION_FACTOR["sso"])
    assert reach[4] == pytest.approx(reach[3] * HOSTED_FACTOR * ENCRYPTED_AT_REST_FACTOR)


def test_reach_falls_as_the_target_authentication_strengthens() -> None:
    order = ["none", "password", "api_key", "sso", "mtls"]
    reaches = [compute_reach(build_graph(system(gateway_auth=auth)), OUTSIDER).probability[1] for auth in order]
    assert reaches == sorted(reaches, reverse=True)
    assert len(set(reaches)) == len(reaches)
    weak = compute_reach(build_graph(system(endpoint_auth="sso")), OUTSIDER).probability[2]
    mfa = compute_reach(build_graph(system(endpoint_auth="sso", endpoint_mfa=True)), OUTSIDER).probability[2]
    assert mfa == pytest.approx(weak * MFA_FACTOR)


def test_mfa_without_authentication_changes_nothing() -> None:
    plain = compute_reach(build_graph(system(endpoint_auth="none")), OUTSIDER).probability
    mfa = compute_reach(build_graph(system(endpoint_auth="none", endpoint_mfa=True)), OUTSIDER).probability
    assert plain == mfa


def test_an_insider_starts_at_its_entry_asset_with_reach_one() -> None:
    result = compute_reach(build_graph(system()), INSIDER)
    assert result.probability[3] == 1.0
    assert best_path(result, 3) == []
    assert result.probability[4] == pytest.approx(HOSTED_FACTOR * ENCRYPTED_AT_REST_FACTOR)
    assert result.probability[1] == 0.0  # flows point away from the gateway: no way back
    assert not result.starts_on_internet


def test_an_inner_entry_zone_puts_every_asset_in_it_at_reach_one() -> None:
    insider = AttackerData(id=9, capability="OC2", entry_zone_ids=(3,))
    reach = compute_reach(build_graph(system()), insider).probability
    assert [reach[a] for a in (2, 3, 4, 5)] == [1.0, 1.0, 1.0, 1.0]
    assert reach[1] == 0.0


def test_a_profile_without_entry_points_reaches_nothing() -> None:
    reach = compute_reach(build_graph(system()), AttackerData(id=9, capability="OC5")).probability
    assert set(reach.values()) == {0.0}


def test_best_path_steps_explain_the_reach() -> None:
    result = compute_reach(build_graph(system()), OUTSIDER)
    path = best_path(result, 4)
    assert [(s.from_node, s.to_node, s.flow_id) for s in path] == [
        (INTERNET, 1, None),
        (1, 2, 1),
        (2, 3, 2),
        (3, 4, None),
    ]
    for step in path:
        assert math.prod(v for _, v in step.factors) == pytest.approx(step.probability)
    assert math.prod(s.probability for s in path) == pytest.approx(result.probability[4])
    assert best_path(result, 5) == []


def test_a_bidirectional_flow_is_an_edge_both_ways() -> None:
    base = system()
    both = SystemSnapshot(
        zones=base.zones,
        assets=base.assets,
        flows=(FlowData(id=1, source_id=1, target_id=2, bidirectional=True), base.flows[1]),
    )
    at_endpoint = AttackerData(id=9, capability="OC3", entry_asset_ids=(2,))
    assert compute_reach(build_graph(base), at_endpoint).probability[1] == 0.0
    assert compute_reach(build_graph(both), at_endpoint).probability[1] == pytest.approx(OC_STEP["OC3"] * 0.8 * 0.9)


# -- controls --------------------------------------------------------------------------------------


def test_implied_controls_follow_asset_properties() -> None:
    implied = implied_controls(system())
    assert implied["M-API-AUTHN"] == frozenset({2, 3, 4, 5})  # every asset but the open gateway
    assert implied["M-RATE-QUOTA"] == frozenset({3})
    assert implied["M-ENCRYPT-KMS"] == frozenset({4})
    assert "M-OUTPUT-MINIMIZE" not in implied  # the endpoint returns logits
    assert "M-RATE-QUOTA" not in implied_controls(system(), known={"M-API-AUTHN"})


def test_merge_unions_assets_and_system_wide_wins() -> None:
    merged = merge({"A": frozenset({1}), "B": frozenset({2})}, {"A": frozenset({3}), "B": None, "C": None})
    assert merged == {"A": frozenset({1, 3}), "B": None, "C": None}


def test_a_control_applies_on_the_target_system_wide_or_on_either_flow_end() -> None:
    assert in_force({"X": frozenset({1})}, "X", (1,))
    assert not in_force({"X": frozenset({1})}, "X", (2,))
    assert in_force({"X": None}, "X", (2,))
    assert in_force({"X": frozenset({3})}, "X", (2, 3))
    assert not in_force({}, "X", (1,))


def test_standard_views_nest() -> None:
    views = standard_views(implied={"A": frozenset({1})}, implemented={"B": None}, planned={"A": frozenset({2})})
    assert views["inherent"] == {}
    assert views["current"] == {"A": frozenset({1}), "B": None}
    assert views["projected"] == {"A": frozenset({1, 2}), "B": None}


# -- explained frequency, magnitude and views --------------------------------------------------------


def test_explanation_factors_multiply_to_the_shown_frequency() -> None:
    snap = system()
    views = standard_views(implied=implied_controls(snap), implemented={"M-EGRESS-CONTROL": None}, planned={})
    result = run(snap, views)
    assert len(result.findings) == 5
    for finding in result.findings.values():
        for view in result.views:
            ex = finding.views[view].explanation
            total = 0.0
            for p in ex.profiles:
                assert p.success == math.prod((p.base_probability, *(1 - e for _, e in p.control_reductions)))
                assert p.frequency == p.attempts_per_year * p.reach * p.success
                total += p.frequency
            assert finding.views[view].frequency == ex.frequency == total
            assert ex.expected_loss == ex.frequency * ex.pert_mean
            assert ex.as_dict()["profiles"][0]["attacker_id"] == OUTSIDER.id


def test_controls_in_force_reduce_success_as_listed() -> None:
    snap = system()
    views = {"inherent": {}, "current": implied_controls(snap)}
    endpoint = run(snap, views).findings[("T-EXTRACT-API", "asset", 2)]
    assert endpoint.views["inherent"].explanation.control_reductions == ()
    assert endpoint.views["current"].explanation.control_reductions == (("M-API-AUTHN", 0.3),)
    sniff = run(snap, {"v": {"M-EGRESS-CONTROL": frozenset({3})}}).findings[("T-SNIFF", "flow", 2)]
    assert sniff.views["v"].explanation.control_reductions == (("M-EGRESS-CONTROL", 0.2),)  # on the flow's target


def test_views_order_projected_below_current_below_inherent() -> None:
    snap = system()
    views = standard_views(
        implied=implied_controls(snap),
        implemented={"M-RATE-QUOTA": frozenset({2})},
        planned={"M-EGRESS-CONTROL": None, "M-EXTRACTION-MONITOR": frozenset({2})},
    )
    result = run(snap, views)
    for finding in result.findings.values():
        inherent, current, projected = (finding.views[v] for v in ("inherent", "current", "projected"))
        assert projected.frequency <= current.frequency <= inherent.frequency
        assert projected.expected_loss <= current.expected_loss <= inherent.expected_loss
        # shared random numbers: the simulated figures are ordered too, not only on average
        assert projected.mean_loss <= current.mean_loss <= inherent.mean_loss
        assert projected.p90_loss <= current.p90_loss <= inherent.p90_loss
    system_risk = [result.system[v] for v in ("inherent", "current", "projected")]
    assert system_risk[2].mean_loss <= system_risk[1].mean_loss <= system_risk[0].mean_loss
    assert system_risk[2].p90_loss <= system_risk[1].p90_loss <= system_risk[0].p90_loss


def test_flow_magnitude_is_its_most_valuable_cargo_or_its_target() -> None:
    snap = system()
    assets = {a.id: a for a in snap.assets}
    flows = {1: (1, 2, ()), 2: (2, 3, (4, 5))}
    assert magnitude("flow", 2, assets, flows)[:3] == (M, 5 * M, 20 * M)
    assert magnitude("flow", 1, assets, flows)[:3] == (0.5 * M, M, 3 * M)
    assert magnitude("asset", 99, assets, flows)[:3] == (0.0, 0.0, 0.0)


def test_a_store_loses_its_own_value_plus_the_content_hosted_on_it() -> None:
    store = AssetData(id=1, kind="object_store", value_min=1.0, value_likely=2.0, value_max=3.0)
    weights = AssetData(id=2, kind="model_weights", hosted_on_id=1, value_min=10.0, value_likely=20.0, value_max=30.0)
    assets = {1: store, 2: weights}
    assert magnitude("asset", 1, assets, {}, {1: [2]})[:3] == (11.0, 22.0, 33.0)
    assert magnitude("asset", 2, assets, {}, {1: [2]})[:3] == (10.0, 20.0, 30.0)


def test_inconsistent_values_are_made_consistent() -> None:
    odd = AssetData(id=1, value_min=5.0, value_likely=1.0, value_max=-3.0)
    assert magnitude("asset", 1, {1: odd}, {})[:3] == (0.0, 1.0, 5.0)


def test_bands_heat_map_and_risk_levels() -> None:
    assert [likelihood_band(f) for f in (0.0, 0.009, 0.01, 0.5, 1.0, 9.9, 10.0, 1e6)] == [1, 1, 2, 3, 4, 4, 5, 5]
    assert [impact_band(v) for v in (0.0, 9_999, 10_000, 2e5, 5e6, 1e7)] == [1, 1, 2, 3, 4, 5]
    assert risk_level(5, 5) == "very high"
    assert risk_level(1, 5) == "low"
    grid = heat_map([(1, 1), (5, 2), (5, 2)])
    assert grid[0][0] == 1
    assert grid[4][1] == 2
    assert sum(map(sum, grid)) == 3


def test_the_system_heat_map_counts_every_finding() -> None:
    result = run(system(), {"inherent": {}})
    assert sum(map(sum, result.system["inherent"].heat_map)) == len(result.findings)


def test_an_unknown_threat_is_refused() -> None:
    snap = system()
    with pytest.raises(ValueError, match="unknown threat"):
        compute_risk(snap, None, library(), [Match("T-NOPE", "asset", 1, ())], ATTACKERS, {"v": {}})


def test_compute_risk_is_reproducible_for_a_seed() -> None:
    first, again, other = run(system(), seed=7), run(system(), seed=7), run(system(), seed=8)
    key = ("T-EXTRACT-API", "asset", 2)
    assert first.findings[key].views["inherent"] == again.findings[key].views["inherent"]
    assert first.system == again.system
    assert first.system["inherent"].mean_loss != other.system["inherent"].mean_loss


def test_extraction_budgets_are_attached_per_view_and_attacker() -> None:
    snap = system()
    views = standard_views(implied=implied_controls(snap), implemented={}, planned={"M-EXTRACTION-MONITOR": None})
    budgets = run(snap, views).extraction
    assert set(budgets) == {("T-EXTRACT-API", "asset", 2), ("T-EXTRACT-API", "asset", 1)}
    endpoint = budgets[("T-EXTRACT-API", "asset", 2)]
    assert [b.capability for b in endpoint["current"]] == ["OC3", "OC3"]
    assert endpoint["current"][0].days_to_detect is None
    assert endpoint["projected"][0].days_to_detect is not None


# -- Monte Carlo -------------------------------------------------------------------------------------


def test_monte_carlo_is_reproducible_with_a_seed() -> None:
    args = ([[0.3, 2.0, 0.0, 12.0]], [1e3, 0.0, 5.0, 1e4], [5e3, 1e3, 5.0, 2e4], [2e4, 1e6, 5.0, 9e4])
    (a,), (b,), (c,) = (simulate_annual_loss(*args, seed=s) for s in (3, 3, 4))
    assert np.array_equal(a.finding_mean, b.finding_mean)
    assert np.array_equal(a.finding_p90, b.finding_p90)
    assert (a.system_mean, a.system_p90) == (b.system_mean, b.system_p90)
    assert not np.array_equal(a.finding_mean, c.finding_mean)


@pytest.mark.parametrize(
    ("rate", "low", "likely", "high"), [(0.05, 1e4, 2e4, 9e4), (2.0, 1e4, 5e4, 2e5), (40.0, 0.0, 0.0, 1e6)]
)
def test_monte_carlo_mean_converges_to_frequency_times_pert_mean(
    rate: float, low: float, likely: float, high: float
) -> None:
    (summary,) = simulate_annual_loss([rate], [low], [likely], [high], seed=1, draws=100_000)
    expected = rate * pert_mean(low, likely, high)
    assert summary.finding_mean[0] == pytest.approx(expected, rel=0.03)
    assert summary.system_mean == pytest.approx(expected, rel=0.03)


def test_monte_carlo_percentile_agrees_with_a_direct_simulation() -> None:
    rate, low, likely, high = 3.0, 1e4, 3e4, 2e5
    (summary,) = simulate_annual_loss([rate], [low], [likely], [high], seed=2, draws=100_000)
    rng = np.random.default_rng(0)
    counts = rng.poisson(rate, 100_000)
    a, b = 1 + 4 * (likely - low) / (high - low), 1 + 4 * (high - likely) / (high - low)
    events = low + (high - low) * rng.beta(a, b, counts.sum())
    direct = np.bincount(np.repeat(np.arange(counts.size), counts), weights=events, minlength=counts.size)
    assert summary.finding_p90[0] == pytest.approx(np.quantile(direct, 0.9), rel=0.02)


def test_a_degenerate_pert_loses_exactly_its_value_per_event() -> None:
    (summary,) = simulate_annual_loss([1.5], [250.0], [250.0], [250.0], seed=5, draws=20_000)
    assert summary.finding_mean[0] == pytest.approx(1.5 * 250.0, rel=0.03)
    assert summary.finding_p90[0] % 250.0 == pytest.approx(0.0, abs=1e-6)


def test_zero_frequency_loses_nothing() -> None:
    (summary,) = simulate_annual_loss([0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0])
    assert summary.finding_mean.tolist() == [0.0, 0.0]
    assert (summary.system_mean, summary.system_p90) == (0.0, 0.0)


def test_monte_carlo_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="finite"):
        simulate_annual_loss([-1.0], [0.0], [0.0], [0.0])
    with pytest.raises(ValueError, match="low <= likely"):
        simulate_annual_loss([1.0], [5.0], [1.0], [9.0])
    with pytest.raises(ValueError, match="draws"):
        simulate_annual_loss([1.0], [0.0], [0.0], [0.0], draws=0)


@pytest.mark.parametrize("draws", [1, 2, 10, 11, 10_000])
def test_the_sparse_percentile_equals_numpy_on_the_padded_sample(draws: int) -> None:
    rng = np.random.default_rng(draws)
    for size in {0, 1, draws // 10, draws // 2, draws}:
        values = rng.random(size) * 100
        padded = np.concatenate((np.zeros(draws - size), values))
        assert _quantile_with_zeros(values, draws) == pytest.approx(float(np.quantile(padded, 0.9)))


def test_sum_tables_grow_with_the_event_count_and_the_quantile() -> None:
    for row in (0, 13, 40, 80):
        table = sum_quantiles(row)
        assert np.all(np.diff(table, axis=0) > 0)  # a year with one more event loses more
        assert np.all(np.diff(table[1:], axis=1) >= 0)
        a = 1 + row * 0.05
        assert table.mean(axis=1) == pytest.approx(np.arange(table.shape[0]) * a / 6)


def test_normal_quantile_matches_the_standard_library() -> None:
    p = np.array([1e-12, 1e-6, 0.01, 0.02425, 0.3, 0.5, 0.9, 0.97575, 0.999, 1 - 1e-9])
    expected = [NormalDist().inv_cdf(x) for x in p]
    assert normal_ppf(p) == pytest.approx(expected, rel=1e-8, abs=1e-8)
    assert np.all(np.isfinite(normal_ppf(np.array([0.0, 1.0]))))


def test_an_empty_system_prices_at_zero_and_views_are_required() -> None:
    empty = compute_risk(SystemSnapshot(), None, library(), [], ATTACKERS, {"inherent": {}, "current": {}})
    assert empty.findings == {}
    assert empty.system["current"].mean_loss == empty.system["current"].p90_loss == 0.0
    with pytest.raises(ValueError, match="at least one view"):
        compute_risk(SystemSnapshot(), None, library(), [], ATTACKERS, {})


def test_views_with_equal_frequencies_get_equal_simulated_figures() -> None:
    first, second = simulate_annual_loss([[0.02, 0.7, 5.0], [0.02, 0.7, 5.0]], [0.0] * 3, [1e3] * 3, [1e4] * 3, seed=9)
    assert np.array_equal(first.finding_mean, second.finding_mean)
    assert np.array_equal(first.finding_p90, second.finding_p90)
    assert first.system_p90 == second.system_p90
