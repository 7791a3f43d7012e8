"""The attack-path report: k best routes per profile and jewel from the current view's graph,
the techniques and controls of each hop, and a drawing of exactly the routes the table lists."""

from __future__ import annotations

import math
import time
from types import MappingProxyType

import networkx as nx
import pytest

from tests.threats.risk_library import LIBRARY
from threats.engine.attackers import AttackerData
from threats.engine.controls import Coverage, implied_controls, standard_views
from threats.engine.path_report import attack_path_report, best_pairs, k_routes
from threats.engine.risk import compute_risk, current_paths_view
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData

ZONES = (ZoneData(id=1, name="internet", trust_level=0), ZoneData(id=2, name="inside", trust_level=2))
ANON = AttackerData(id=1, name="anon", capability="OC2", entry_zone_ids=(1,))
INSIDER = AttackerData(id=2, name="insider", capability="OC3", actor_type="insider", entry_asset_ids=(8,))


def shop() -> SystemSnapshot:
    """An open bucket and a closed one, both holding the weights; a laptop with standing access."""
    assets = (
        AssetData(
            id=1, name="Open bucket", kind="object_store", zone_id=2, internet_facing=True, authentication="none"
        ),
        AssetData(id=2, name="Store", kind="object_store", zone_id=2, authentication="sso"),
        AssetData(id=3, name="Laptop", kind="workstation", zone_id=2),
        AssetData(
            id=4, name="Weights", kind="model_weights", stored_on=(2, 1), value_min=1, value_likely=9, value_max=20
        ),
        AssetData(id=5, name="Adapter", kind="adapter", stored_on=(2,), value_likely=1, value_max=2),
        AssetData(id=8, name="Engineer", kind="human_role", personnel="employee", zone_id=2),
    )
    flows = (
        FlowData(id=10, name="Replicate", source_id=2, target_id=1, authenticated=True),
        FlowData(id=11, name="Use", source_id=3, target_id=2, authenticated=True),
        FlowData(id=12, name="Login", source_id=8, target_id=3, authenticated=True),
    )
    return SystemSnapshot(zones=ZONES, assets=assets, flows=flows)


def views(snapshot: SystemSnapshot) -> dict:
    planned = MappingProxyType({"M-EGRESS": Coverage(assets=frozenset({2})), "M-LEAST": None})
    implied = implied_controls(snapshot, {c.code for c in LIBRARY.controls})
    return standard_views(implied=implied, implemented=MappingProxyType({}), planned=planned)


def report(attackers=(ANON, INSIDER), **kw):  # type: ignore[no-untyped-def]
    snapshot = shop()
    v = views(snapshot)
    graph, runs, order = current_paths_view(snapshot, LIBRARY, attackers, v["current"])
    return attack_path_report(snapshot, graph, runs, order, current=v["current"], projected=v["projected"], **kw), order


def test_jewels_come_in_order_of_expected_loss() -> None:
    _, order = report()
    assert order == [4, 5]


def test_each_hop_names_its_technique_and_the_controls_on_what_it_enters() -> None:
    rep, _ = report((ANON,))
    weights = next(p for p in rep.pairs if p["target"]["name"] == "Weights")
    best = weights["paths"][0]
    assert best["entry"] == {"id": None, "name": "Internet"}
    assert [h["to"]["name"] for h in best["hops"]] == ["Open bucket", "Weights"]
    assert [h["via"] for h in best["hops"]] == ["T-OPEN", "T-EXFIL"]
    assert best["probability"] == pytest.approx(0.9 * 0.8)
    assert weights["probability"] == best["probability"]


def test_an_insiders_route_starts_with_their_own_access() -> None:
    rep, _ = report((INSIDER,))
    adapter = next(p for p in rep.pairs if p["target"]["name"] == "Adapter")
    best = adapter["paths"][0]
    assert best["hops"][-1]["via"] in ("T-EXFIL", "T-INSIDER")
    assert best["probability"] == pytest.approx(0.8)


def test_the_best_route_is_the_engines_route() -> None:
    """The report and the risk are one graph: the best path's probability is the route the risk
    is priced from."""
    snapshot = shop()
    v = views(snapshot)
    r = compute_risk(snapshot, LIBRARY, (ANON, INSIDER), v, seed=1, draws=500)
    rep, _ = report()
    for pair in rep.pairs:
        route = r.routes[(pair["profile"]["id"], pair["target"]["id"])]
        assert pair["probability"] == pytest.approx(route.probability, rel=1e-6)


def test_k_routes_are_yens_paths_most_probable_first() -> None:
    snapshot = shop()
    graph, runs, _ = current_paths_view(snapshot, LIBRARY, (ANON,), views(snapshot)["current"])
    routes = k_routes(graph, runs[0], graph.thefts.jewels.index[4], 5)
    weights = [p * float(graph.thefts.fraction[i]) for p, _, i in routes]
    assert weights == sorted(weights, reverse=True)
    assert len({tuple(n) for _, n, _ in routes}) == len(routes)
    assert all(0 < p <= 1 and math.isfinite(p) for p, _, _ in routes)
    assert nx.__version__


def test_the_drawing_shows_the_listed_routes() -> None:
    rep, _ = report()
    assert len(rep.drawn) == rep.summary["paths"]
    for drawn in rep.drawn:
        assert drawn.hops and drawn.hops[-1].target_id == drawn.target_id


def test_a_deadline_cuts_pairs_and_says_so() -> None:
    rep, _ = report(deadline=time.monotonic() - 1)
    assert rep.pairs == [] and rep.summary["pairs_cut_by_time_limit"] == 4


def test_best_pairs_rank_by_probability() -> None:
    rep, _ = report()
    ranked = best_pairs(rep.pairs, 10)
    assert [float(p["probability"]) for p in ranked] == sorted((float(p["probability"]) for p in ranked), reverse=True)
