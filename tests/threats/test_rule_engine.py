"""Unit tests of the pure rule engine: operators, derived facts, validation, library loading.

These need no Django: the engine is a functional core (the repository's conftest and service
plugin load Django, so run them alone with ``-p no:django --noconftest -o addopts=""``). The
library used here is an inline YAML string, independent of the curated library files.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from threats.engine.facts import ASSET_ATTRIBUTES, FLOW_ATTRIBUTES, derive_facts
from threats.engine.library import MAX_BYTES, LibraryError, Match, find_threats, load_library
from threats.engine.rules import RuleError, compile_condition, evaluate, validate_condition
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


@pytest.mark.parametrize(
    ("cond", "message"),
    [
        (
            {"all": [{"attr": "mfa", "eq": True}, {"attr": "foo", "eq": 1}]},
            "rule.all[1].attr: unknown attribute 'foo' for asset targets",
        ),
        ({"attr": "carries_weights", "eq": True}, "rule.attr: unknown attribute 'carries_weights' for asset targets"),
        ({"attr": "mfa", "gt": 1}, "rule.gt: operator 'gt' does not apply to bool attribute 'mfa'"),
        (
            {"attr": "hosts_kinds", "eq": "adapter"},
            "rule.eq: operator 'eq' does not apply to set attribute 'hosts_kinds'",
        ),
        ({"attr": "criticality", "is_null": True}, "rule.is_null: operator 'is_null' does not apply to int attribute"),
        ({"attr": "output_granularity", "eq": "raw"}, "rule.eq: 'raw' is not a valid output_granularity value"),
        (
            {"attr": "hosts_kinds", "intersects": ["adapter", "weights"]},
            "rule.intersects[1]: 'weights' is not a valid hosts_kinds value",
        ),
        (
            {"attr": "reachable_from_personnel", "contains": ""},
            "rule.contains: '' is not a valid reachable_from_personnel value",
        ),
        ({"attr": "criticality", "eq": "high"}, "rule.eq: criticality is a int"),
        ({"attr": "criticality", "gte": True}, "rule.gte: criticality is a number"),
        ({"attr": "mfa", "eq": "yes"}, "rule.eq: mfa is a bool"),
        ({"attr": "kind", "in": []}, "rule.in: must be a non-empty list"),
        ({"attr": "kind", "in": "gpu_host"}, "rule.in: must be a non-empty list"),
        ({"attr": "rate_limit_per_minute", "is_null": "yes"}, "rule.is_null: must be true or false"),
        ({"attr": "mfa", "eq": True, "ne": False}, "rule: a leaf needs exactly one operator, got eq, ne"),
        ({"attr": "mfa"}, "rule: a leaf needs exactly one operator, got none"),
        ({"attr": "mfa", "equals": True}, "rule.equals: unknown key 'equals'"),
        ({"eq": True}, "rule: a leaf needs 'attr'"),
        ({"all": []}, "rule.all: must be a non-empty list of conditions"),
        ({"any": []}, "rule.any: must be a non-empty list of conditions"),
        ({"any": {"attr": "mfa", "eq": True}}, "rule.any: must be a non-empty list of conditions"),
        ({"all": [{"attr": "mfa", "eq": True}], "attr": "mfa"}, "rule.attr: unexpected key 'attr' beside 'all'"),
        ({"not": [{"attr": "mfa", "eq": True}]}, "rule.not: a condition must be a mapping, got list"),
        ("internet_facing", "rule: a condition must be a mapping, got str"),
        ({"attr": 3, "eq": True}, "rule.attr: must be an attribute name"),
    ],
)
def test_validation_errors_name_the_path(cond: Any, message: str) -> None:
    with pytest.raises(RuleError) as exc:
        validate_condition(cond, "asset")
    assert str(exc.value).startswith(message)


def test_flow_rules_use_flow_attributes() -> None:
    validate_condition({"attr": "crosses_into_lower_trust", "eq": True}, "flow")
    with pytest.raises(RuleError, match="unknown attribute 'kind' for flow targets"):
        validate_condition({"attr": "kind", "eq": "gpu_host"}, "flow")


def test_nesting_is_capped() -> None:
    cond: dict[str, Any] = {"attr": "mfa", "eq": True}
    for _ in range(40):
        cond = {"not": cond}
    with pytest.raises(RuleError, match="nest deeper"):
        validate_condition(cond, "asset")


def test_compiled_rule_keeps_its_source_and_target() -> None:
    cond = {"attr": "encrypted", "eq": False}
    rule = compile_condition(cond, "flow")
    assert (rule.source, rule.target) == (cond, "flow")
    assert rule.test({"encrypted": False})


# -- library loading -----------------------------------------------------------------------------

CONTROLS = """
version: "2026.11.1"
controls:
  - code: M-RATE-QUOTA
    name: Per-account rate limits and query quotas
    description: Cap queries per account.
    type: preventive
    cost: {one_off: [5000, 20000], yearly: [2000, 10000]}
    atlas_mitigations: [AML.M0004]
    rand_sl: 2
    asset_kinds: [inference_endpoint, api_gateway]
  - code: M-TLS
    name: Encrypt flows
    type: preventive
    cost: {one_off: [0, 1000], yearly: [0, 0]}
    rand_sl: 1
"""

THREATS = """
version: "2026.11.1"
threats:
  - code: T-EXTRACT-API
    name: Model extraction through the prediction API
    description: Query the API to train a copy.
    stride: [I]
    atlas: [AML.T0040, AML.T0024.002]
    owasp: ["ML05:2023", "LLM10:2025"]
    rand: {category: ai_specific, vector: model_extraction}
    target: asset
    asset_kinds: [inference_endpoint, api_gateway]
    rule:
      all:
        - {attr: reachable_from_internet, eq: true}
        - {attr: output_granularity, in: [score, logits]}
    base_probability: {OC1: 0.2, OC2: 0.35, OC3: 0.5, OC4: 0.6, OC5: 0.7}
    controls:
      - control: M-RATE-QUOTA
        effectiveness: 0.5
        evidence: {source: "Tramer et al. 2016, USENIX Security", figure: "..."}
  - code: T-WEIGHTS-CLEARTEXT
    name: Weights sniffed on an unencrypted flow
    stride: [I, T]
    rand: {category: nontrivial_access, vector: eavesdropping}
    target: flow
    rule: {all: [{attr: carries_weights, eq: true}, {attr: encrypted, eq: false}]}
    base_probability: {OC1: 0.1, OC2: 0.2, OC3: 0.2, OC4: 0.5, OC5: 0.9}
    controls: [{control: M-TLS, effectiveness: 0.9}]
"""


def test_load_library_reads_every_field() -> None:
    lib = load_library(THREATS, CONTROLS.encode())
    assert lib.version == "2026.11.1"
    extract, sniff = lib.threats
    assert (extract.code, extract.target, extract.stride, extract.rand_vector) == (
        "T-EXTRACT-API",
        "asset",
        ("I",),
        "model_extraction",
    )
    assert extract.asset_kinds == frozenset({"inference_endpoint", "api_gateway"})
    assert extract.owasp == ("ML05:2023", "LLM10:2025")
    assert extract.base_probability["OC3"] == 0.5
    assert (extract.controls[0].control, extract.controls[0].effectiveness) == ("M-RATE-QUOTA", 0.5)
    assert extract.controls[0].evidence_source.startswith("Tramer")
    assert (sniff.asset_kinds, sniff.description) == (frozenset(), "")
    quota, tls = lib.controls
    assert (quota.cost_one_off, quota.cost_yearly, quota.rand_sl) == ((5000.0, 20000.0), (2000.0, 10000.0), 2)
    assert (tls.asset_kinds, tls.atlas_mitigations) == (frozenset(), ())


def edited(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "    stride: [I]\n",
            "    stride: [I]\n    severity: high\n",
            "threats[T-EXTRACT-API].severity: unknown key 'severity'",
        ),
        (
            "- {attr: output_granularity, in: [score, logits]}",
            "- {attr: foo, eq: 1}",
            "threats[T-EXTRACT-API].rule.all[1].attr: unknown attribute 'foo' for asset targets",
        ),
        (
            "- {attr: output_granularity, in: [score, logits]}",
            "- {attr: output_granularity, in: [score, raw]}",
            "threats[T-EXTRACT-API].rule.all[1].in[1]: 'raw' is not a valid output_granularity value",
        ),
        (
            "- {attr: reachable_from_internet, eq: true}",
            "- {attr: reachable_from_internet, gte: 1}",
            "threats[T-EXTRACT-API].rule.all[0].gte: operator 'gte' does not apply to bool",
        ),
        (
            "rule: {all: [{attr: carries_weights, eq: true}, {attr: encrypted, eq: false}]}",
            "rule: {any: []}",
            "threats[T-WEIGHTS-CLEARTEXT].rule.any: must be a non-empty list",
        ),
        (
            "rule: {all: [{attr: carries_weights",
            "rule: {all: [{attr: kind, eq: gpu_host}, {attr: carries_weights",
            "threats[T-WEIGHTS-CLEARTEXT].rule.all[0].attr: unknown attribute 'kind' for flow targets",
        ),
        (
            "- {attr: reachable_from_internet, eq: true}",
            "- {attr: reachable_from_internet, eq: true, ne: false}",
            "threats[T-EXTRACT-API].rule.all[0]: a leaf needs exactly one operator",
        ),
        ("code: T-EXTRACT-API", "code: T-extract", "threats[T-extract].code: 'T-extract' does not match"),
        ("stride: [I]", "stride: [X]", "threats[T-EXTRACT-API].stride: must be a non-empty list of the letters"),
        ("stride: [I]", "stride: []", "threats[T-EXTRACT-API].stride: must be a non-empty list"),
        ('"ML05:2023"', '"ML5:2023"', "threats[T-EXTRACT-API].owasp[0]: 'ML5:2023' does not match"),
        ("AML.T0040,", "AML.T40,", "threats[T-EXTRACT-API].atlas[0]: 'AML.T40' does not match"),
        ("category: ai_specific", "category: magic", "threats[T-EXTRACT-API].rand.category: 'magic' is not one of"),
        (
            "vector: model_extraction",
            "vector: eavesdropping",
            "threats[T-EXTRACT-API].rand.vector: 'eavesdropping' is not one of",
        ),
        ("{category: ai_specific,", "{categry: ai_specific,", "threats[T-EXTRACT-API].rand.categry: unknown key"),
        ("target: asset", "target: process", "threats[T-EXTRACT-API].target: 'process' is not one of asset, flow"),
        (
            "    asset_kinds: [inference_endpoint, api_gateway]\n",
            "",
            "threats[T-EXTRACT-API].asset_kinds: required (non-empty)",
        ),
        (
            "[inference_endpoint, api_gateway]\n    rule",
            "[inference_endpoint, api_server]\n    rule",
            "threats[T-EXTRACT-API].asset_kinds[1]: unknown asset kind 'api_server'",
        ),
        (
            "target: flow",
            "target: flow\n    asset_kinds: [gpu_host]",
            "threats[T-WEIGHTS-CLEARTEXT].asset_kinds: flow threats take no",
        ),
        ("OC3: 0.5,", "OC3: 0.3,", "threats[T-EXTRACT-API].base_probability.OC3: 0.3 is lower than OC2"),
        ("OC5: 0.7}", "OC5: 1.7}", "threats[T-EXTRACT-API].base_probability.OC5: 1.7 is outside 0..1"),
        ("OC5: 0.7}", "OC6: 0.7}", "threats[T-EXTRACT-API].base_probability.OC6: unknown key"),
        ("OC1: 0.2,", "OC1: yes,", "threats[T-EXTRACT-API].base_probability.OC1: must be a number"),
        (
            "effectiveness: 0.5",
            "effectiveness: 1.5",
            "threats[T-EXTRACT-API].controls[0].effectiveness: 1.5 is outside 0..1",
        ),
        (
            "control: M-RATE-QUOTA",
            "control: M-NOPE",
            "threats[T-EXTRACT-API].controls[0].control: unknown control 'M-NOPE'",
        ),
        ('figure: "..."}', 'figure: "...", url: x}', "threats[T-EXTRACT-API].controls[0].evidence.url: unknown key"),
        ("    name: Model extraction through the prediction API\n", "", "threats[T-EXTRACT-API].name: required"),
        (
            "code: T-WEIGHTS-CLEARTEXT",
            "code: T-EXTRACT-API",
            "threats[T-EXTRACT-API].code: duplicate code 'T-EXTRACT-API'",
        ),
    ],
)
def test_threat_errors_name_the_threat_and_field(old: str, new: str, message: str) -> None:
    with pytest.raises(LibraryError) as exc:
        load_library(edited(THREATS, old, new), CONTROLS)
    assert any(e.startswith(message) for e in exc.value.errors), exc.value.errors


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("rand_sl: 2", "rand_sl: 2\n    owner: me", "controls[M-RATE-QUOTA].owner: unknown key 'owner'"),
        (
            "one_off: [5000, 20000]",
            "one_off: [20000, 5000]",
            "controls[M-RATE-QUOTA].cost.one_off: min 20000 is greater than max 5000",
        ),
        ("yearly: [0, 0]", "yearly: [-1, 0]", "controls[M-TLS].cost.yearly[0]: -1 is outside"),
        ("yearly: [0, 0]", "yearly: [0]", "controls[M-TLS].cost.yearly: must be [min, max]"),
        ("yearly: [0, 0]}", "yearly: [0, 0], capex: 1}", "controls[M-TLS].cost.capex: unknown key"),
        ("type: preventive", "type: deterrent", "controls[M-RATE-QUOTA].type: 'deterrent' is not one of"),
        ("rand_sl: 2", "rand_sl: 6", "controls[M-RATE-QUOTA].rand_sl: 6 is outside 1..5"),
        ("[AML.M0004]", "[AML.T0004]", "controls[M-RATE-QUOTA].atlas_mitigations[0]: 'AML.T0004' does not match"),
        ("code: M-TLS", "code: M-RATE-QUOTA", "controls[M-RATE-QUOTA].code: duplicate code 'M-RATE-QUOTA'"),
        ("code: M-TLS", "code: TLS", "controls[TLS].code: 'TLS' does not match"),
    ],
)
def test_control_errors_name_the_control_and_field(old: str, new: str, message: str) -> None:
    with pytest.raises(LibraryError) as exc:
        load_library(THREATS, edited(CONTROLS, old, new))
    assert any(e.startswith(message) for e in exc.value.errors), exc.value.errors


def test_every_broken_entry_is_reported_at_once() -> None:
    broken = edited(edited(THREATS, "stride: [I]", "stride: [Q]"), "target: flow", "target: wire")
    with pytest.raises(LibraryError) as exc:
        load_library(broken, CONTROLS)
    assert [e.split(":")[0] for e in exc.value.errors] == [
        "threats[T-EXTRACT-API].stride",
        "threats[T-WEIGHTS-CLEARTEXT].target",
    ]


def test_versions_of_the_two_files_must_agree() -> None:
    with pytest.raises(LibraryError, match="controls.yaml: version '2027.1' differs"):
        load_library(THREATS, edited(CONTROLS, '"2026.11.1"', '"2027.1"'))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- just\n- a list\n", "threats.yaml: the top level must be a mapping, got list"),
        ("just a string", "threats.yaml: the top level must be a mapping, got str"),
        ("", "threats.yaml: the top level must be a mapping, got null"),
        ('version: "1"\nthreats: []\nextra: 1\n', "threats.yaml: extra: unknown key 'extra'"),
        ('version: "1"\n', "threats.yaml: threats: required"),
        ('version: "1"\nthreats: {}\n', "threats.yaml: threats must be a list"),
        ("version: [\n", "threats.yaml: not valid YAML"),
        ("a: !!python/object/apply:os.system [echo hi]\n", "threats.yaml: not valid YAML"),
        ("[" * 5000 + "]" * 5000, "threats.yaml: brackets nest deeper than 64 levels"),
        # libyaml refuses this as invalid YAML, the pure-Python loader by running out of stack
        ("a:\n" + "- " * 3000 + "x", ("threats.yaml: nested too deeply", "threats.yaml: not valid YAML")),
    ],
)
def test_malformed_documents_are_refused(text: str, message: str | tuple[str, ...]) -> None:
    with pytest.raises(LibraryError) as exc:
        load_library(text, CONTROLS)
    assert str(exc.value).startswith(message)


def test_a_yaml_alias_bomb_is_refused_quickly() -> None:
    lines = ['version: "1"', 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    lines.append("threats: *a9")
    with pytest.raises(LibraryError, match="nodes once aliases are expanded"):
        load_library("\n".join(lines), CONTROLS)


def test_an_oversized_file_is_refused_before_parsing() -> None:
    with pytest.raises(LibraryError, match="larger than"):
        load_library(b"#" * (MAX_BYTES + 1), CONTROLS)


def test_bytes_must_be_utf8() -> None:
    with pytest.raises(LibraryError, match="not UTF-8"):
        load_library(b"version: \xff\n", CONTROLS)


# -- matching a system ---------------------------------------------------------------------------


def demo_snapshot() -> SystemSnapshot:
    return snap(
        [
            AssetData(id=10, kind="inference_endpoint", internet_facing=True, output_granularity="logits"),
            AssetData(id=11, kind="api_gateway", internet_facing=True, output_granularity="label"),
            AssetData(id=12, kind="gpu_host", internet_facing=True, output_granularity="logits"),  # wrong kind
            AssetData(id=13, kind="inference_endpoint", output_granularity="score"),  # reached through 11
            AssetData(id=14, kind="model_weights"),
            AssetData(id=15, kind="inference_endpoint", output_granularity="score"),  # not reachable
        ],
        [
            FlowData(id=3, source_id=11, target_id=13),
            FlowData(id=2, source_id=14, target_id=13, carries=(14,), encrypted=False),
            FlowData(id=1, source_id=12, target_id=14, carries=(14,), encrypted=False),
        ],
    )


def test_find_threats_matches_kinds_and_rules_in_a_stable_order() -> None:
    lib = load_library(THREATS, CONTROLS)
    found = find_threats(lib, demo_snapshot())
    assert [(m.threat_code, m.target_type, m.target_id) for m in found] == [
        ("T-EXTRACT-API", "asset", 10),
        ("T-EXTRACT-API", "asset", 13),
        ("T-WEIGHTS-CLEARTEXT", "flow", 1),
        ("T-WEIGHTS-CLEARTEXT", "flow", 2),
    ]
    assert found[0] == Match(
        "T-EXTRACT-API",
        "asset",
        10,
        ("reachable_from_internet is true", "output_granularity is one of score, logits (it is logits)"),
    )
    assert found[2].explanation == ("carries_weights is true", "encrypted is false")


def test_find_threats_accepts_precomputed_facts() -> None:
    lib, s = load_library(THREATS, CONTROLS), demo_snapshot()
    assert find_threats(lib, s, derive_facts(s)) == find_threats(lib, s)


def test_the_engine_imports_neither_django_nor_the_apps() -> None:
    code = (
        "import sys, threats.engine.library, threats.engine.facts;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'workbench', 'mitigations', 'rest_framework')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
