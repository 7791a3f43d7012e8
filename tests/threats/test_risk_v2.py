"""Risk method v2 on small systems whose figures can be worked out by hand (docs/risk-method.md)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from tests.threats.risk_library import LIBRARY
from threats.engine.attackers import AttackerData
from threats.engine.controls import Coverage, implied_controls, standard_views
from threats.engine.results import RiskResult
from threats.engine.risk import compute_risk
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData

INTERNET, INSIDE = 1, 2
ZONES = (ZoneData(id=INTERNET, name="internet", trust_level=0), ZoneData(id=INSIDE, name="inside", trust_level=2))
VALUE = {"value_min": 1e6, "value_likely": 2e6, "value_max": 6e6}  # PERT mean 2.5e6
MEAN = 2.5e6
SCANNER = AttackerData(id=1, name="scanner", capability="OC1", entry_zone_ids=(INTERNET,), attempts_per_year=10)


def price(snapshot: SystemSnapshot, attackers=(SCANNER,), *, implemented=None, planned=None, draws=2000) -> RiskResult:  # type: ignore[no-untyped-def]
    views = standard_views(
        implied=implied_controls(snapshot, {c.code for c in LIBRARY.controls}),
        implemented=implemented or {},
        planned=planned or {},
    )
    return compute_risk(snapshot, LIBRARY, attackers, views, seed=3, draws=draws, explain_top=10**6)


def open_bucket(**bucket: object) -> SystemSnapshot:
    """An internet-facing bucket without authentication holding the weights."""
    store = AssetData(
        id=10, name="bucket", kind="object_store", zone_id=INSIDE, internet_facing=True, authentication="none"
    )
    store = replace(store, **bucket)  # type: ignore[arg-type]
    weights = AssetData(id=20, name="weights", kind="model_weights", stored_on=(10,), **VALUE)
    return SystemSnapshot(zones=ZONES, assets=(store, weights))


def test_a_jewel_is_lost_at_most_once_a_year() -> None:
    """Two open copies and a frequent attacker: the jewel's loss is its value's mean times the
    chance of at least one theft, never the sum over copies or findings."""
    base = open_bucket()
    second = AssetData(
        id=11, name="backup", kind="object_store", zone_id=INSIDE, internet_facing=True, authentication="none"
    )
    weights = replace(base.assets[1], stored_on=(10, 11))
    r = price(SystemSnapshot(zones=ZONES, assets=(base.assets[0], second, weights)))
    jewel = r.jewels[20].views["current"]
    rate = sum(rate for _, rate in jewel.rates)
    assert jewel.expected == pytest.approx(MEAN * -math.expm1(-rate))
    assert jewel.expected <= MEAN
    assert r.system["current"].expected == pytest.approx(jewel.expected)
    assert all(f.views["current"].loss <= MEAN * (1 + 1e-12) for f in r.findings.values())


def test_an_entry_hole_on_the_only_route_carries_the_jewel() -> None:
    """The open door has no value of its own, yet it carries the whole route's loss and fixing it
    saves what the jewel loses."""
    r = price(open_bucket())
    door = r.findings[("T-OPEN", "asset", 10)].views["current"]
    jewel = r.jewels[20].views["current"]
    assert door.loss == pytest.approx(jewel.expected, rel=1e-9)
    assert door.saving == pytest.approx(jewel.expected, rel=1e-9)
    assert door.loss > 0


def test_authentication_closes_the_door_but_not_the_inherent_view() -> None:
    """A control-like property moves current risk, never inherent: inherent is the system with
    every control off."""
    before, after = price(open_bucket()), price(open_bucket(authentication="sso"))
    assert after.system["current"].expected < before.system["current"].expected
    assert after.system["inherent"].expected == before.system["inherent"].expected
    assert after.jewels[20].views["inherent"].expected == before.jewels[20].views["inherent"].expected


def test_a_plan_never_moves_inherent_and_orders_the_views() -> None:
    system = open_bucket()
    plan = {"M-EGRESS": Coverage(assets=frozenset({10}))}
    base, planned = price(system), price(system, planned=plan)
    assert planned.system["inherent"].expected == base.system["inherent"].expected
    for key, f in planned.findings.items():
        v = f.views
        assert v["projected"].loss <= v["current"].loss <= v["inherent"].loss * (1 + 1e-12), key
        assert v["inherent"].loss == base.findings[key].views["inherent"].loss
    assert planned.system["projected"].expected < planned.system["current"].expected


def test_an_insider_technique_gets_nothing_from_external_profiles() -> None:
    person = AssetData(id=30, name="engineer", kind="human_role", personnel="employee", zone_id=INSIDE)
    store = AssetData(id=10, name="registry", kind="model_registry", zone_id=INSIDE, authentication="sso")
    weights = AssetData(id=20, name="weights", kind="model_weights", stored_on=(10,), **VALUE)
    flows = (FlowData(id=1, source_id=30, target_id=10, authenticated=True),)
    system = SystemSnapshot(zones=ZONES, assets=(person, store, weights), flows=flows)
    insider = AttackerData(
        id=2, name="insider", capability="OC3", actor_type="insider", entry_asset_ids=(30,), attempts_per_year=0.5
    )
    r = price(system, (SCANNER, insider))
    theft = r.findings[("T-INSIDER", "asset", 10)].views["current"]
    by = {p["attacker_id"]: p["frequency"] for p in theft.explanation["profiles"]}
    assert by[1] == 0 and by[2] == pytest.approx(0.5 * 0.6)
    route = r.routes[(2, 20)]
    assert [s.kind for s in route.steps] == ["authorised", "theft"]
    # The insider's own access reaches the registry at no cost; the likelier theft from there is
    # the plain copy-and-go (0.8), which the insider can do as well as anyone.
    assert route.probability == pytest.approx(0.8)


def test_compromise_travels_with_content_whoever_opens_the_connection() -> None:
    """CI pulls from a package index: the index's publisher reaches CI against the connection."""
    index = AssetData(
        id=40, name="index", kind="package_source", zone_id=INTERNET, internet_facing=True, third_party=True
    )
    ci = AssetData(id=41, name="ci", kind="ci_pipeline", zone_id=INSIDE)
    store = AssetData(id=10, name="registry", kind="model_registry", zone_id=INSIDE)
    weights = AssetData(id=20, name="weights", kind="model_weights", stored_on=(10,), **VALUE)
    flows = (
        FlowData(id=1, source_id=40, target_id=41, authenticated=False, initiator="target"),
        FlowData(id=2, source_id=10, target_id=41, authenticated=True, initiator="target"),
    )
    publisher = AttackerData(id=3, name="publisher", capability="OC3", actor_type="supplier", entry_asset_ids=(40,))
    r = price(SystemSnapshot(zones=ZONES, assets=(index, ci, store, weights), flows=flows), (publisher,))
    supply = r.findings[("T-SUPPLY", "flow", 1)].views["current"]
    assert supply.frequency == pytest.approx(0.5)
    route = r.routes[(3, 20)]
    assert route.probability == pytest.approx(0.5 * 0.7 * 0.8)  # poisoned package, CI's registry token, theft
    pinned = price(
        SystemSnapshot(zones=ZONES, assets=(index, ci, store, weights), flows=flows),
        (publisher,),
        implemented={"M-PIN": Coverage(flows=frozenset({1}))},
    )
    assert pinned.jewels[20].views["current"].expected < r.jewels[20].views["current"].expected


def _api(**endpoint: object) -> SystemSnapshot:
    api = AssetData(
        id=50,
        name="api",
        kind="inference_endpoint",
        zone_id=INSIDE,
        internet_facing=True,
        authentication="api_key",
        model_class="llm",
        output_granularity="text",
        serves=(20,),
        monitored=True,
        compute_cost_per_day=(100.0, 1000.0, 4000.0),
    )
    weights = AssetData(id=20, name="weights", kind="model_weights", replication_value=(1e5, 2e5, 3e5), **VALUE)
    return SystemSnapshot(zones=ZONES, assets=(replace(api, **endpoint), weights))  # type: ignore[arg-type]


def test_a_clone_is_priced_from_the_replication_value() -> None:
    r = price(_api())
    clone = r.findings[("T-CLONE", "asset", 50)]
    assert (clone.magnitude.low, clone.magnitude.likely, clone.magnitude.high) == (1e5, 2e5, 3e5)
    assert r.jewels[20].views["current"].expected <= 2e5 * (1 + 1e-12)


def test_a_quota_lengthens_the_extraction_budget() -> None:
    """A rate limit never removes the extraction finding; it makes finishing before detection
    less likely, so the clone's loss falls, strictly."""
    free, limited = price(_api()), price(_api(rate_limited=True, rate_limit_per_minute=10))
    assert ("T-CLONE", "asset", 50) in limited.findings
    a = free.findings[("T-CLONE", "asset", 50)].views["current"]
    b = limited.findings[("T-CLONE", "asset", 50)].views["current"]
    assert 0 < b.loss < a.loss
    budget = limited.extraction[("T-CLONE", "asset", 50)]["current"][0]
    assert budget.rate_per_minute == 10 and math.isfinite(budget.days_to_extract)


def test_compute_abuse_is_a_cost_per_day_not_a_model() -> None:
    r = price(_api(), (replace(SCANNER, attempts_per_year=1000),))
    abuse = r.findings[("T-ABUSE", "asset", 50)]
    assert abuse.form == "compute"
    assert abuse.magnitude.high <= 30 * 4000
    assert abuse.views["current"].loss <= 365 * (100 + 4 * 1000 + 4000) / 6 * (1 + 1e-9)


def test_encrypting_a_store_does_not_stop_interception_on_a_plain_flow() -> None:
    system = open_bucket(authentication="sso", encrypted_at_rest=True, internet_facing=False)
    gpu = AssetData(id=60, name="gpu", kind="gpu_host", zone_id=INTERNET)
    flow = FlowData(id=1, source_id=10, target_id=60, carries=(20,), encrypted=False, initiator="target")
    plain = SystemSnapshot(zones=ZONES, assets=(*system.assets, gpu), flows=(flow,))
    clear_store = SystemSnapshot(
        zones=ZONES, assets=(replace(system.assets[0], encrypted_at_rest=False), system.assets[1], gpu), flows=(flow,)
    )
    a = price(plain).findings[("T-SNIFF", "flow", 1)].views["current"]
    b = price(clear_store).findings[("T-SNIFF", "flow", 1)].views["current"]
    assert a.frequency == b.frequency > 0
    sealed = SystemSnapshot(zones=ZONES, assets=plain.assets, flows=(replace(flow, encrypted=True),))
    assert price(sealed).findings[("T-SNIFF", "flow", 1)].views["current"].frequency < a.frequency


def test_explanations_add_up_to_the_figures() -> None:
    r = price(open_bucket(), (SCANNER, replace(SCANNER, id=2, name="crew", capability="OC3", attempts_per_year=2)))
    for f in r.findings.values():
        for view in f.views.values():
            ex = view.explanation
            assert sum(p["frequency"] for p in ex["profiles"]) == pytest.approx(view.frequency)
            parts = sum(j["loss"] for j in ex["jewels"]) + ex["other_jewels_loss"]
            if f.form == "theft" or f.role == "access":
                assert parts == pytest.approx(view.loss)
            for j in ex["jewels"]:
                assert j["loss"] == pytest.approx(j["value_mean"] * j["share"] * -math.expm1(-j["rate"]))
                assert sum(rate for _, rate in j["by_profile"]) == pytest.approx(j["rate"])


def test_the_simulation_agrees_with_the_analytic_mean() -> None:
    r = price(open_bucket(), draws=40_000)
    s = r.system["current"]
    assert s.mean == pytest.approx(s.expected, rel=0.03)
    assert s.p90 <= 6e6


def test_capability_enters_once_per_step() -> None:
    """The route's probability is the product of its steps, and each step's odds are the
    technique's base probability at the attacker's capability (no separate capability factor)."""
    r = price(open_bucket())
    route = r.routes[(1, 20)]
    assert route.probability == pytest.approx(math.prod(s.probability for s in route.steps))
    assert [s.probability for s in route.steps] == pytest.approx([0.9, 0.8])
    assert [s.source[0] for s in route.steps] == ["internet", "asset"]
