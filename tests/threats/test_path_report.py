"""The attack-path report: crown jewels in priority order, per-hop controls, and a drawing that
shows exactly the paths the table lists."""

from __future__ import annotations

import math
import time
from types import MappingProxyType

from tests.threats.test_attack_paths import INSIDE, INTERNET_ZONE
from threats.engine.attackers import AttackerData
from threats.engine.controls import implied_controls, merge, standard_views
from threats.engine.path_report import attack_path_report, best_pairs, crown_jewels
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot

ANON = AttackerData(id=1, name="anon", capability="OC2", entry_zone_ids=(1,))
INSIDER = AttackerData(id=2, name="insider", capability="OC3", entry_asset_ids=(3,))


def shop() -> SystemSnapshot:
    assets = (
        AssetData(id=1, name="API", kind="inference_endpoint", zone_id=1, internet_facing=True, authentication="none"),
        AssetData(id=2, name="Store", kind="object_store", zone_id=2, authentication="sso", monitored=True),
        AssetData(id=3, name="Laptop", kind="workstation", zone_id=2),
        AssetData(id=4, name="Weights", kind="model_weights", zone_id=2, hosted_on_id=2, value_likely=9.0),
        AssetData(id=5, name="Adapter", kind="adapter", zone_id=2, hosted_on_id=2, value_likely=1.0),
        AssetData(id=6, name="Vault", kind="secrets_store", zone_id=2, criticality=5),
        AssetData(id=7, name="Logs", kind="object_store", zone_id=2, criticality=4),
    )
    flows = (
        FlowData(id=10, name="Load", source_id=1, target_id=2),
        FlowData(id=11, name="Sync", source_id=3, target_id=2, bidirectional=True),
        FlowData(id=12, name="Secrets", source_id=2, target_id=6),
    )
    return SystemSnapshot(zones=(INTERNET_ZONE, INSIDE), assets=assets, flows=flows)


def views(snapshot: SystemSnapshot) -> dict:
    planned = MappingProxyType({"M-EGRESS-CONTROL": frozenset({2}), "M-ZERO-TRUST-SEGMENT": None})
    return standard_views(implied=implied_controls(snapshot), implemented=MappingProxyType({}), planned=planned)


def test_crown_jewels_are_weights_adapters_and_criticality_5_most_important_first() -> None:
    assert [a.name for a in crown_jewels(shop())] == ["Vault", "Weights", "Adapter"]


def test_each_hop_lists_the_controls_in_force_on_the_asset_it_enters_and_the_planned_ones() -> None:
    snapshot = shop()
    v = views(snapshot)
    report = attack_path_report(snapshot, (ANON,), current=v["current"], projected=v["projected"])
    weights = next(p for p in report.pairs if p["target"]["name"] == "Weights")
    best = weights["paths"][0]
    assert [h["to"]["name"] for h in best["hops"]] == ["API", "Store", "Weights"]
    assert best["entry"] == {"id": None, "name": "Internet"}
    assert [h["via"] for h in best["hops"]] == ["internet exposure", "flow", "content of its host"]
    store_hop = best["hops"][1]
    assert store_hop["flow"] == {"id": 10, "name": "Load"}
    assert {"M-API-AUTHN", "M-EXTRACTION-MONITOR"} <= set(store_hop["controls"])  # sso + monitored
    assert store_hop["planned"] == ["M-EGRESS-CONTROL", "M-ZERO-TRUST-SEGMENT"]
    assert best["hops"][0]["controls"] == []  # the anonymous API has nothing in force
    assert best["hops"][0]["planned"] == ["M-ZERO-TRUST-SEGMENT"]  # system-wide plan
    assert math.isclose(math.prod(h["probability"] for h in best["hops"]), best["probability"], rel_tol=1e-4)
    assert weights["probability"] == best["probability"]


def test_a_reverse_move_along_a_bidirectional_flow_is_named_so() -> None:
    snapshot = shop()
    v = views(snapshot)
    report = attack_path_report(snapshot, (INSIDER,), current=v["current"], projected=v["projected"])
    vault = next(p for p in report.pairs if p["target"]["name"] == "Vault")
    assert vault["paths"][0]["entry"]["name"] == "Laptop"
    assert vault["paths"][0]["assets"] == ["Store", "Vault"]
    assert vault["paths"][0]["flows"] == ["Sync", "Secrets"]


def test_the_drawing_carries_the_same_paths_and_controls_as_the_table() -> None:
    snapshot = shop()
    v = views(snapshot)
    report = attack_path_report(snapshot, (ANON, INSIDER), current=v["current"], projected=v["projected"], k=3)
    listed = [
        (p["profile"]["name"], p["target"]["id"], path["probability"]) for p in report.pairs for path in p["paths"]
    ]
    drawn = [(d.profile_name, d.target_id, d.probability) for d in report.drawn]
    assert [(n, t) for n, t, _ in listed] == [(n, t) for n, t, _ in drawn]
    assert all(math.isclose(a[2], b[2], rel_tol=1e-5) for a, b in zip(listed, drawn, strict=True))
    assert {d.hops[0].source_id for d in report.drawn if d.profile_name == "anon"} == {None}  # the Internet
    assert {d.hops[0].source_id for d in report.drawn if d.profile_name == "insider"} == {3}  # its laptop
    hop_controls = {c for d in report.drawn for h in d.hops for c in h.controls}
    assert "M-EGRESS-CONTROL" not in hop_controls, "only controls in force are drawn, not planned ones"


def test_caps_and_deadline_are_counted_in_the_summary() -> None:
    snapshot = shop()
    current = merge()
    capped = attack_path_report(snapshot, (ANON, INSIDER), current=current, projected=current, max_targets=2)
    assert {p["target"]["name"] for p in capped.pairs} == {"Vault", "Weights"}
    assert capped.summary == {
        "k": 5,
        "crown_jewels": 3,
        "targets": 2,
        "profiles": 2,
        "pairs": 4,
        "pairs_cut_by_time_limit": 0,
        "paths": sum(len(p["paths"]) for p in capped.pairs),
    }
    late = attack_path_report(snapshot, (ANON,), current=current, projected=current, deadline=time.monotonic() - 1)
    assert late.pairs == [] and late.summary["pairs_cut_by_time_limit"] == 3


def test_best_pairs_orders_by_probability_and_drops_unreached_pairs() -> None:
    pairs = [
        {"profile": {"name": "b"}, "target": {"name": "x"}, "probability": 0.2, "paths": [{}]},
        {"profile": {"name": "a"}, "target": {"name": "y"}, "probability": 0.0, "paths": []},
        {"profile": {"name": "a"}, "target": {"name": "x"}, "probability": 0.2, "paths": [{}]},
        {"profile": {"name": "c"}, "target": {"name": "z"}, "probability": 0.5, "paths": [{}]},
    ]
    assert [(p["profile"]["name"], p["target"]["name"]) for p in best_pairs(pairs, 10)] == [
        ("c", "z"),
        ("a", "x"),
        ("b", "x"),
    ]
    assert len(best_pairs(pairs, 1)) == 1
