"""Unit tests of the pure rule engine: operators, derived facts, validation, library loading.

These need no Django: the engine is a functional core (the repository's conftest and service
plugin load Django, so run them alone with ``-p no:django --noconftest -o addopts=""``). The
library used here is an inline YAML string, independent of the curated library files.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from threats.engine.facts import ASSET_ATTRIBUTES, FLOW_ATTRIBUTES, derive_facts
from threats.engine.rules import evaluate
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData


def snap(assets: Sequence[AssetData], flows: Sequence[FlowData] = (), zones: Sequence[ZoneData] = ()) -> SystemSnapshot:
    return SystemSnapshot(zones=tuple(zones), assets=tuple(assets), flows=tuple(flows))


def asset_facts(snapshot: SystemSnapshot) -> dict[int, dict[str, Any]]:
    return {k: dict(v) for k, v in derive_facts(snapshot).assets.items()}


def flow_facts(snapshot: SystemSnapshot) -> dict[int, dict[str, Any]]:
    return {k: dict(v) for k, v in derive_facts(snapshot).flows.items()}


ATTRS: dict[str, Any] = {
    "kind": "inference_endpoint",
    "internet_facing": True,
    "rate_limit_per_minute": None,
    "criticality": 4,
    "size_gb": 12.5,
    "tags": frozenset({"prod", "eu"}),
    "hosts_kinds": frozenset({"model_weights"}),
    "output_granularity": "logits",
}


# -- operators ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cond", "expected"),
    [
        ({"attr": "internet_facing", "eq": True}, True),
        ({"attr": "internet_facing", "eq": False}, False),
        ({"attr": "kind", "ne": "gpu_host"}, True),
        ({"attr": "kind", "ne": "inference_endpoint"}, False),
        ({"attr": "output_granularity", "in": ["score", "logits"]}, True),
        ({"attr": "output_granularity", "in": ["label"]}, False),
        ({"attr": "output_granularity", "not_in": ["label", "score"]}, True),
        ({"attr": "output_granularity", "not_in": ["logits"]}, False),
        ({"attr": "criticality", "gt": 3}, True),
        ({"attr": "criticality", "gt": 4}, False),
        ({"attr": "criticality", "gte": 4}, True),
        ({"attr": "criticality", "gte": 4.5}, False),
        ({"attr": "size_gb", "lt": 13}, True),
        ({"attr": "size_gb", "lt": 12.5}, False),
        ({"attr": "size_gb", "lte": 12.5}, True),
        ({"attr": "size_gb", "lte": 12}, False),
        ({"attr": "hosts_kinds", "contains": "model_weights"}, True),
        ({"attr": "hosts_kinds", "contains": "checkpoint"}, False),
        ({"attr": "tags", "intersects": ["eu", "us"]}, True),
        ({"attr": "tags", "intersects": ["us"]}, False),
        ({"attr": "rate_limit_per_minute", "is_null": True}, True),
        ({"attr": "rate_limit_per_minute", "is_null": False}, False),
        ({"attr": "size_gb", "is_null": False}, True),
    ],
)
def test_each_operator(cond: dict[str, Any], expected: bool) -> None:
    assert evaluate(cond, ATTRS, "asset")[0] is expected


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("eq", 5, False),
        ("ne", 5, True),  # null differs from 5: the documented exception
        ("in", [5], False),
        ("not_in", [5], False),  # a comparison with null is false
        ("gt", 0, False),
        ("gte", 0, False),
        ("lt", 10**6, False),
        ("lte", 10**6, False),
        ("is_null", True, True),
    ],
)
def test_a_null_attribute_fails_every_comparison_but_ne_and_is_null(op: str, value: Any, expected: bool) -> None:
    assert evaluate({"attr": "rate_limit_per_minute", op: value}, ATTRS, "asset")[0] is expected


def test_combinators_all_any_not() -> None:
    yes, no = {"attr": "internet_facing", "eq": True}, {"attr": "criticality", "eq": 1}
    assert evaluate({"all": [yes, yes]}, ATTRS)[0]
    assert not evaluate({"all": [yes, no]}, ATTRS)[0]
    assert evaluate({"any": [no, yes]}, ATTRS)[0]
    assert not evaluate({"any": [no, no]}, ATTRS)[0]
    assert evaluate({"not": no}, ATTRS)[0]
    assert not evaluate({"not": {"not": no}}, ATTRS)[0]


def test_protocol_is_compared_in_lower_case() -> None:
    attrs = flow_facts(
        snap([AssetData(id=1), AssetData(id=2)], [FlowData(id=1, source_id=1, target_id=2, protocol="HTTPS")])
    )[1]
    assert attrs["protocol"] == "https"
    assert evaluate({"attr": "protocol", "in": ["HTTPS", "grpc"]}, attrs, "flow")[0]


# -- explanations ----------------------------------------------------------------------------


def test_explanation_lists_the_matched_leaves_in_plain_english() -> None:
    rule = {"all": [{"attr": "internet_facing", "eq": True}, {"attr": "hosts_kinds", "contains": "model_weights"}]}
    assert evaluate(rule, ATTRS) == (True, ["internet_facing is true", "hosts_kinds includes model_weights"])


def test_explanation_of_any_names_only_the_branches_that_hold() -> None:
    rule = {"any": [{"attr": "criticality", "eq": 1}, {"attr": "criticality", "gte": 4}, {"attr": "size_gb", "gt": 1}]}
    assert evaluate(rule, ATTRS)[1] == ["criticality is at least 4 (it is 4)", "size_gb is greater than 1 (it is 12.5)"]


def test_explanation_of_not_negates_the_failed_leaves() -> None:
    rule = {"not": {"all": [{"attr": "criticality", "eq": 1}, {"attr": "internet_facing", "eq": True}]}}
    assert evaluate(rule, ATTRS)[1] == ["criticality is not 1 (it is 4)"]
    rule = {"not": {"any": [{"attr": "rate_limit_per_minute", "is_null": False}, {"attr": "tags", "contains": "us"}]}}
    assert evaluate(rule, ATTRS)[1] == ["rate_limit_per_minute is not set", "tags does not include us"]


def test_explanation_shows_the_intersection_sorted() -> None:
    ok, why = evaluate({"attr": "tags", "intersects": ["us", "prod", "eu"]}, ATTRS)
    assert ok
    assert why == ["tags includes one of us, prod, eu (found: eu, prod)"]


def test_a_failed_evaluation_has_no_explanation() -> None:
    assert evaluate({"attr": "criticality", "eq": 1}, ATTRS) == (False, [])


# -- derived asset facts ------------------------------------------------------------------------


def test_asset_and_flow_facts_have_exactly_the_documented_attributes() -> None:
    s = snap([AssetData(id=1), AssetData(id=2)], [FlowData(id=9, source_id=1, target_id=2)])
    facts = derive_facts(s)
    assert set(facts.assets[1]) == set(ASSET_ATTRIBUTES)
    assert set(facts.flows[9]) == set(FLOW_ATTRIBUTES)


def test_own_attributes_are_copied_and_authenticated_follows_authentication() -> None:
    a = AssetData(id=1, authentication="none", tags=("x", "y"), size_gb=3.0, rate_limit_per_minute=60)
    facts = asset_facts(snap([a, AssetData(id=2, authentication="mtls")]))
    assert facts[1]["authenticated"] is False
    assert facts[2]["authenticated"] is True
    assert facts[1]["tags"] == frozenset({"x", "y"})
    assert (facts[1]["size_gb"], facts[1]["rate_limit_per_minute"]) == (3.0, 60)


def test_zone_trust_is_null_when_unzoned_or_zone_unknown() -> None:
    facts = asset_facts(
        snap(
            [AssetData(id=1, zone_id=7), AssetData(id=2), AssetData(id=3, zone_id=99)],
            zones=[ZoneData(id=7, trust_level=3)],
        )
    )
    assert [facts[i]["zone_trust"] for i in (1, 2, 3)] == [3, None, None]


def test_reachability_follows_flow_direction_only() -> None:
    s = snap(
        [AssetData(id=1, internet_facing=True), AssetData(id=2), AssetData(id=3), AssetData(id=4)],
        [
            FlowData(id=1, source_id=1, target_id=2),
            FlowData(id=2, source_id=2, target_id=3),
            FlowData(id=3, source_id=4, target_id=3),
        ],
    )
    reach = {k: v["reachable_from_internet"] for k, v in asset_facts(s).items()}
    assert reach == {1: True, 2: True, 3: True, 4: False}


def test_reachability_goes_both_ways_on_a_bidirectional_flow() -> None:
    s = snap(
        [AssetData(id=1, internet_facing=True), AssetData(id=2), AssetData(id=3)],
        [
            FlowData(id=1, source_id=2, target_id=1, bidirectional=True),
            FlowData(id=2, source_id=3, target_id=2),
        ],
    )
    reach = {k: v["reachable_from_internet"] for k, v in asset_facts(s).items()}
    assert reach == {1: True, 2: True, 3: False}


def test_reaching_a_host_reaches_its_content_but_not_the_reverse() -> None:
    s = snap(
        [
            AssetData(id=1, internet_facing=True),
            AssetData(id=2, kind="gpu_host"),
            AssetData(id=3, kind="model_weights", hosted_on_id=2),
            AssetData(id=4, kind="object_store"),
            AssetData(id=5, kind="checkpoint", hosted_on_id=4, internet_facing=True),
        ],
        [FlowData(id=1, source_id=1, target_id=2)],
    )
    reach = {k: v["reachable_from_internet"] for k, v in asset_facts(s).items()}
    assert reach == {1: True, 2: True, 3: True, 4: False, 5: True}


def test_a_trust_zero_zone_is_an_internet_entry_point() -> None:
    s = snap(
        [AssetData(id=1, zone_id=1), AssetData(id=2, zone_id=2)],
        [FlowData(id=1, source_id=1, target_id=2)],
        [ZoneData(id=1, trust_level=0), ZoneData(id=2, trust_level=3)],
    )
    assert all(v["reachable_from_internet"] for v in asset_facts(s).values())


def test_reachable_from_personnel_collects_the_types_with_a_path() -> None:
    s = snap(
        [
            AssetData(id=1, kind="human_role", personnel="contractor"),
            AssetData(id=2, kind="human_role", personnel="employee"),
            AssetData(id=3, kind="workstation"),
            AssetData(id=4, kind="model_registry"),
            AssetData(id=5, kind="model_weights", hosted_on_id=4),
            AssetData(id=6, kind="workstation", personnel="vendor"),  # not a human_role: ignored
        ],
        [
            FlowData(id=1, source_id=1, target_id=3),
            FlowData(id=2, source_id=3, target_id=4),
            FlowData(id=3, source_id=2, target_id=4),
            FlowData(id=4, source_id=6, target_id=4),
        ],
    )
    facts = asset_facts(s)
    assert facts[5]["reachable_from_personnel"] == frozenset({"contractor", "employee"})
    assert facts[3]["reachable_from_personnel"] == frozenset({"contractor"})
    assert facts[1]["reachable_from_personnel"] == frozenset({"contractor"})
    assert facts[6]["reachable_from_personnel"] == frozenset()


def test_hosting_facts() -> None:
    s = snap(
        [
            AssetData(id=1, kind="object_store"),
            AssetData(id=2, kind="adapter", hosted_on_id=1),
            AssetData(id=3, kind="training_data", hosted_on_id=1),
            AssetData(id=4, kind="eval_data", hosted_on_id=42),
        ]
    )
    facts = asset_facts(s)
    assert facts[1]["hosts_kinds"] == frozenset({"adapter", "training_data"})
    assert facts[1]["hosts_weights"] is True
    assert facts[3]["hosts_weights"] is False
    assert (facts[2]["host_kind"], facts[4]["host_kind"], facts[1]["host_kind"]) == ("object_store", None, None)


def test_flow_endpoint_facts_of_assets() -> None:
    s = snap(
        [
            AssetData(id=1, kind="ci_pipeline"),
            AssetData(id=2, kind="model_registry"),
            AssetData(id=3, kind="model_weights"),
            AssetData(id=4, kind="notebook"),
        ],
        [
            FlowData(id=1, source_id=1, target_id=2, carries=(3,), bidirectional=True),
            FlowData(id=2, source_id=4, target_id=2, authenticated=False),
        ],
    )
    facts = asset_facts(s)
    assert facts[2]["inbound_kinds"] == frozenset({"ci_pipeline", "notebook"})
    assert facts[1]["outbound_kinds"] == frozenset({"model_registry"})
    assert facts[1]["inbound_kinds"] == frozenset()  # direction is as declared, even when bidirectional
    assert (facts[2]["unauthenticated_inbound"], facts[1]["unauthenticated_inbound"]) == (True, False)
    assert (facts[1]["exports_weights"], facts[4]["exports_weights"]) == (True, False)


@pytest.mark.parametrize(
    ("kind", "criticality", "expected"),
    [
        ("model_weights", 1, True),
        ("checkpoint", 3, True),
        ("adapter", 3, True),
        ("training_data", 5, True),
        ("training_data", 4, False),
    ],
)
def test_is_crown_jewel(kind: str, criticality: int, expected: bool) -> None:
    assert asset_facts(snap([AssetData(id=1, kind=kind, criticality=criticality)]))[1]["is_crown_jewel"] is expected


# -- derived flow facts --------------------------------------------------------------------------

ZONES = [ZoneData(id=1, trust_level=0), ZoneData(id=2, trust_level=2), ZoneData(id=3, trust_level=4)]


def test_zone_crossing_facts() -> None:
    s = snap(
        [AssetData(id=1, zone_id=2), AssetData(id=2, zone_id=3), AssetData(id=3, zone_id=2), AssetData(id=4)],
        [
            FlowData(id=1, source_id=1, target_id=2),
            FlowData(id=2, source_id=2, target_id=1),
            FlowData(id=3, source_id=1, target_id=3),
            FlowData(id=4, source_id=1, target_id=4),
        ],
        ZONES,
    )
    f = flow_facts(s)
    pick = (
        "crosses_zones",
        "crosses_into_higher_trust",
        "crosses_into_lower_trust",
        "source_zone_trust",
        "target_zone_trust",
    )
    assert [f[1][k] for k in pick] == [True, True, False, 2, 4]
    assert [f[2][k] for k in pick] == [True, False, True, 4, 2]
    assert [f[3][k] for k in pick] == [False, False, False, 2, 2]
    assert [f[4][k] for k in pick] == [False, False, False, 2, None]  # unzoned: not a known crossing


def test_flow_endpoint_and_payload_facts() -> None:
    s = snap(
        [
            AssetData(id=1, kind="api_gateway", internet_facing=True),
            AssetData(id=2, kind="external_service", third_party=True),
            AssetData(id=3, kind="checkpoint"),
            AssetData(id=4, kind="system_prompt"),
            AssetData(id=5, kind="workstation", zone_id=1),
        ],
        [
            FlowData(id=1, source_id=1, target_id=2, carries=(3, 4, 404)),
            FlowData(id=2, source_id=2, target_id=5, carries=(4,), encrypted=False),
            FlowData(id=3, source_id=5, target_id=1),
        ],
        ZONES,
    )
    f = flow_facts(s)
    assert (f[1]["source_kind"], f[1]["target_kind"], f[1]["source_internet_facing"]) == (
        "api_gateway",
        "external_service",
        True,
    )
    assert f[1]["carries_kinds"] == frozenset({"checkpoint", "system_prompt"})
    assert (f[1]["carries_weights"], f[2]["carries_weights"]) == (True, False)
    assert (f[1]["leaves_organisation"], f[2]["leaves_organisation"], f[3]["leaves_organisation"]) == (
        True,
        True,
        False,
    )
    assert (f[2]["encrypted"], f[2]["authenticated"], f[2]["bidirectional"]) == (False, True, False)


def test_a_dangling_flow_end_gives_null_facts_and_no_edge() -> None:
    s = snap([AssetData(id=1, internet_facing=True), AssetData(id=2)], [FlowData(id=1, source_id=1, target_id=77)])
    f = derive_facts(s)
    assert f.flows[1]["target_kind"] is None
    assert f.assets[2]["reachable_from_internet"] is False


# -- condition validation ------------------------------------------------------------------------
