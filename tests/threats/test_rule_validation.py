"""Rule conditions: validation errors name the path, flow rules read flow attributes, nesting is
capped, a compiled rule keeps its source."""

from __future__ import annotations

from typing import Any

import pytest

from threats.engine.rules import RuleError, compile_condition, validate_condition


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
