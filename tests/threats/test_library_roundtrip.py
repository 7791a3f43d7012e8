"""The shipped library survives being written back out: every threat's rule and every parsed
record come back the same, whether re-read from YAML written from the records or from the JSON
copies that seeding stores (``installed_library`` rebuilds the library from those)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.threats.attr_strategies import asset_attrs, flow_attrs
from threats.engine.library import SAFE_LOADER, ControlDef, Library, ThreatDef, load_library
from threats.engine.vocab import OC_LEVELS

ROOT = Path(__file__).resolve().parents[2]
THREATS_TEXT = (ROOT / "threats" / "library" / "threats.yaml").read_text()
CONTROLS_TEXT = (ROOT / "threats" / "library" / "controls.yaml").read_text()
SHIPPED: Library = load_library(THREATS_TEXT, CONTROLS_TEXT)
BY_CODE = {t.code: t for t in SHIPPED.threats}


def threat_entry(t: ThreatDef) -> dict[str, Any]:
    """A v2 entry written from a parsed record; effectiveness as a per-OC mapping (taken as given)."""
    entry: dict[str, Any] = {
        "code": t.code,
        "name": t.name,
        "description": t.description,
        "stride": list(t.stride),
        "atlas": list(t.atlas),
        "owasp": list(t.owasp),
        "rand": [{"category": c, "vector": v} for c, v in t.rand],
        "role": t.role,
        "actors": sorted(t.actors),
        "position": list(t.positions) if len(t.positions) > 1 else t.position,
        "target": t.target,
        "rule": t.rule.source,
        "base_probability": dict(t.base_probability),
        "controls": [
            {
                "control": c.control,
                "effectiveness": dict(zip(OC_LEVELS, c.effectiveness, strict=True)),
                "on": c.on,
                "evidence": {"source": c.evidence_source, "figure": c.evidence_figure},
            }
            for c in t.controls
        ],
    }
    if t.asset_kinds:
        entry["asset_kinds"] = sorted(t.asset_kinds)
    if t.from_kinds:
        entry["from_kinds"] = sorted(t.from_kinds)
    if t.loss is not None:
        loss: dict[str, Any] = {"form": t.loss.form}
        if t.loss.form == "theft":
            loss |= {"yields": t.loss.yields, "value": t.loss.value}
            if t.loss.value == "fraction":
                loss["fraction"] = t.loss.fraction
            if t.loss.jewel_kinds:
                loss["jewel_kinds"] = sorted(t.loss.jewel_kinds)
        entry["loss"] = loss
    if t.query_goal:
        entry["query_goal"] = t.query_goal
    if t.role == "enabler":
        entry |= {"boosts": list(t.boosts), "boost": t.boost}
    return entry


def control_entry(c: ControlDef) -> dict[str, Any]:
    return {
        "code": c.code,
        "name": c.name,
        "description": c.description,
        "type": c.type,
        "cost": {"one_off": list(c.cost_one_off), "yearly": list(c.cost_yearly)},
        "atlas_mitigations": list(c.atlas_mitigations),
        "rand_sl": c.rand_sl,
        "asset_kinds": sorted(c.asset_kinds),
        "pricing": c.pricing,
        "capability_decay": c.capability_decay,
        "flows": c.flows,
    }


def without_rule(t: ThreatDef) -> dict[str, Any]:
    """The record's fields, the compiled rule replaced by the condition it was compiled from."""
    fields = {f.name: getattr(t, f.name) for f in dataclasses.fields(t)}
    fields["rule"] = fields["rule"].source
    return fields


def rewritten() -> Library:
    threats = {"version": SHIPPED.version, "threats": [threat_entry(t) for t in SHIPPED.threats]}
    controls = {"version": SHIPPED.version, "controls": [control_entry(c) for c in SHIPPED.controls]}
    return load_library(yaml.safe_dump(threats, allow_unicode=True), yaml.safe_dump(controls, allow_unicode=True))


def from_stored_json() -> Library:
    """What ``installed_library`` does: the verbatim entries, as JSON, parsed again."""
    threats_doc = yaml.load(THREATS_TEXT, Loader=SAFE_LOADER)  # noqa: S506 - the library's safe loader
    controls_doc = yaml.load(CONTROLS_TEXT, Loader=SAFE_LOADER)  # noqa: S506
    return load_library(json.dumps(threats_doc), json.dumps(controls_doc))


REWRITTEN = rewritten()
STORED = from_stored_json()


@pytest.mark.parametrize("reloaded", [REWRITTEN, STORED], ids=["rewritten-yaml", "stored-json"])
def test_every_record_comes_back_equal(reloaded: Library) -> None:
    assert reloaded.version == SHIPPED.version
    assert reloaded.controls == SHIPPED.controls
    assert [t.code for t in reloaded.threats] == [t.code for t in SHIPPED.threats]
    for before, after in zip(SHIPPED.threats, reloaded.threats, strict=True):
        assert without_rule(after) == without_rule(before), before.code


ASSET_THREATS = sorted(t.code for t in SHIPPED.threats if t.target == "asset")
FLOW_THREATS = sorted(t.code for t in SHIPPED.threats if t.target == "flow")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ASSET_THREATS).flatmap(lambda code: st.tuples(st.just(code), asset_attrs())))
def test_reloaded_asset_rules_decide_and_explain_alike(case: tuple[str, dict[str, Any]]) -> None:
    code, attrs = case
    _same_decision(code, attrs)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FLOW_THREATS).flatmap(lambda code: st.tuples(st.just(code), flow_attrs())))
def test_reloaded_flow_rules_decide_and_explain_alike(case: tuple[str, dict[str, Any]]) -> None:
    code, attrs = case
    _same_decision(code, attrs)


def _same_decision(code: str, attrs: dict[str, Any]) -> None:
    original = BY_CODE[code].rule
    for library in (REWRITTEN, STORED):
        rule = next(t.rule for t in library.threats if t.code == code)
        assert rule.test(attrs) == original.test(attrs)
        if original.test(attrs):
            assert rule.explain(attrs) == original.explain(attrs)
