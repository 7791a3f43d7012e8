"""Every validation error of the v2 library format is reported with the path of its field."""

from __future__ import annotations

import pytest

from tests.threats.library_samples import CONTROLS, THREATS, edited
from threats.engine.library import LibraryError, load_library

EXTRACT_LOSS = "loss: {form: theft, yields: served, value: replication}"
SNIFF_LOSS = "loss: {form: theft, yields: carried, value: fraction, fraction: 0.25, jewel_kinds: [model_weights]}"
WALLET_LOSS = "loss: {form: compute}"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # keys, codes and plain fields
        ("    stride: [I]\n", "    stride: [I]\n    severity: high\n", "threats[T-EXTRACT-API].severity: unknown key"),
        ("    name: Model extraction through the prediction API\n", "", "threats[T-EXTRACT-API].name: required"),
        ("code: T-EXTRACT-API", "code: T-extract", "threats[T-extract].code: 'T-extract' does not match"),
        ("code: T-WEIGHTS-CLEARTEXT", "code: T-EXTRACT-API", "threats[T-EXTRACT-API].code: duplicate code"),
        ("stride: [I]", "stride: [X]", "threats[T-EXTRACT-API].stride: must be a non-empty list of the letters"),
        ("stride: [I]", "stride: []", "threats[T-EXTRACT-API].stride: must be a non-empty list"),
        ('"ML05:2023"', '"ML5:2023"', "threats[T-EXTRACT-API].owasp[0]: 'ML5:2023' does not match"),
        ("AML.T0040,", "AML.T40,", "threats[T-EXTRACT-API].atlas[0]: 'AML.T40' does not match"),
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
        ("target: flow", "target: flow\n    asset_kinds: [gpu_host]", "threats[T-WEIGHTS-CLEARTEXT].asset_kinds: flow"),
        # rules
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
        ("{all: [{attr: carries_weights", "{any: [], x: [{attr: carries_weights", "threats[T-WEIGHTS-CLEARTEXT].rule"),
        (
            "rule: {all: [{attr: carries_weights",
            "rule: {all: [{attr: kind, eq: gpu_host}, {attr: carries_weights",
            "threats[T-WEIGHTS-CLEARTEXT].rule.all[0].attr: unknown attribute 'kind' for flow targets",
        ),
        # base probabilities
        ("OC3: 0.5,", "OC3: 0.3,", "threats[T-EXTRACT-API].base_probability.OC3: 0.3 is lower than OC2"),
        ("OC5: 0.7}", "OC5: 1.7}", "threats[T-EXTRACT-API].base_probability.OC5: 1.7 is outside 0..1"),
        ("OC5: 0.7}", "OC6: 0.7}", "threats[T-EXTRACT-API].base_probability.OC6: unknown key"),
        ("OC1: 0.2,", "OC1: yes,", "threats[T-EXTRACT-API].base_probability.OC1: must be a number, got str"),
        # RAND: a list of {category, vector}
        (
            "      - {category: ai_specific, vector: model_extraction}\n",
            "      - {category: magic, vector: model_extraction}\n",
            "threats[T-EXTRACT-API].rand[0].category: 'magic' is not one of",
        ),
        (
            "vector: model_extraction}",
            "vector: eavesdropping}",
            "threats[T-EXTRACT-API].rand[0].vector: 'eavesdropping' is not one of",
        ),
        ("{category: ai_specific,", "{categry: ai_specific,", "threats[T-EXTRACT-API].rand[0].categry: unknown key"),
        (
            "      - {category: ai_specific, vector: model_extraction}\n",
            "      - {category: ai_specific, vector: model_extraction}\n"
            "      - {category: ai_specific, vector: model_extraction}\n",
            "threats[T-EXTRACT-API].rand[1]: ai_specific/model_extraction is listed twice",
        ),
        (
            "    rand:\n      - {category: nontrivial_access, vector: eavesdropping}\n",
            "    rand: {category: nontrivial_access, vector: eavesdropping}\n",
            "threats[T-WEIGHTS-CLEARTEXT].rand: must be a list of {category, vector}, got dict",
        ),
        # role, actors, positions
        (
            "    role: theft\n    actors: [external, supplier]",
            "    actors: [external, supplier]",
            "threats[T-EXTRACT-API].role: required",
        ),
        (
            "role: theft\n    actors: [external, supplier]",
            "role: heist\n    actors: [external, supplier]",
            "threats[T-EXTRACT-API].role: 'heist'",
        ),
        ("actors: [external, supplier]", "actors: []", "threats[T-EXTRACT-API].actors: must name at least one"),
        ("actors: [external, supplier]", "actors: [external, alien]", "threats[T-EXTRACT-API].actors: 'alien' is not"),
        (
            "position: query\n    target: asset\n    asset_kinds: [inference",
            "position: intercept\n    target: asset\n    asset_kinds: [inference",
            "threats[T-EXTRACT-API].position: 'intercept' is not a position for theft techniques on asset targets",
        ),
        ("position: intercept", "position: control", "threats[T-WEIGHTS-CLEARTEXT].position: 'control' is not a"),
        (
            "position: [network, exposed]",
            "position: [network, network]",
            "threats[T-OPEN-DOOR].position: lists a value",
        ),
        ("position: [network, exposed]", "position: []", "threats[T-OPEN-DOOR].position: must name at least one"),
        ("position: [network, exposed]", "position: [network, approach]", "threats[T-OPEN-DOOR].position: 'approach'"),
        (
            "position: [network, exposed]",
            "position: [network, intercept]",
            "threats[T-OPEN-DOOR].position: 'intercept'",
        ),
        ("position: none", "position: query", "threats[T-RECON].position: 'query' is not a position for enabler"),
        # role-specific keys
        (f"    {EXTRACT_LOSS}\n", "", "threats[T-EXTRACT-API].loss: required for theft techniques"),
        (
            "rule: {attr: authentication, eq: none}",
            "rule: {attr: authentication, eq: none}\n    loss: {form: compute}",
            "threats[T-OPEN-DOOR].loss: only theft techniques have a loss",
        ),
        ("    boost: 0.1\n", "", "threats[T-RECON].boost: required for enablers"),
        (
            "    loss: {form: compute}\n",
            "    loss: {form: compute}\n    boosts: [T-EXTRACT-API]\n",
            "threats[T-WALLET].boosts: only enablers boost other techniques",
        ),
        (
            "rule: {attr: authentication, eq: none}",
            "rule: {attr: authentication, eq: none}\n    query_goal: clone",
            "threats[T-OPEN-DOOR].query_goal: only for theft techniques at position query",
        ),
        ("query_goal: clone", "query_goal: everything", "threats[T-EXTRACT-API].query_goal: 'everything' is not one"),
        ("boosts: [T-EXTRACT-API]", "boosts: [T-NOWHERE]", "threats[T-RECON].boosts: 'T-NOWHERE' is not a threat of"),
        ("boosts: [T-EXTRACT-API]", "boosts: [T-RECON]", "threats[T-RECON].boosts: an enabler cannot boost itself"),
        ("boosts: [T-EXTRACT-API]", "boosts: []", "threats[T-RECON].boosts: must name at least one"),
        ("boost: 0.1", "boost: 0", "threats[T-RECON].boost: must be above 0"),
        ("boost: 0.1", "boost: 2", "threats[T-RECON].boost: 2 is outside 0..1"),
        # loss
        (EXTRACT_LOSS, "loss: {form: gift, yields: served}", "threats[T-EXTRACT-API].loss.form: 'gift' is not one of"),
        (EXTRACT_LOSS, "loss: {form: theft}", "threats[T-EXTRACT-API].loss.yields: required for a theft loss"),
        (EXTRACT_LOSS, "loss: {form: theft, yields: all}", "threats[T-EXTRACT-API].loss.yields: 'all' is not one of"),
        (EXTRACT_LOSS, "loss: {form: theft, yields: carried}", "threats[T-EXTRACT-API].loss.yields: 'carried' is what"),
        (SNIFF_LOSS, "loss: {form: theft, yields: stored}", "threats[T-WEIGHTS-CLEARTEXT].loss.yields: 'carried' is"),
        (
            EXTRACT_LOSS,
            "loss: {form: theft, yields: served, value: clone}",
            "threats[T-EXTRACT-API].loss.value: 'clone'",
        ),
        (
            EXTRACT_LOSS,
            "loss: {form: theft, yields: served, value: fraction}",
            "threats[T-EXTRACT-API].loss.fraction: required with value: fraction",
        ),
        (
            EXTRACT_LOSS,
            "loss: {form: theft, yields: served, fraction: 0.5}",
            "threats[T-EXTRACT-API].loss.fraction: only with value: fraction",
        ),
        ("fraction: 0.25", "fraction: 1", "threats[T-WEIGHTS-CLEARTEXT].loss.fraction: 1 must be strictly between"),
        ("fraction: 0.25", "fraction: 0", "threats[T-WEIGHTS-CLEARTEXT].loss.fraction: 0 must be strictly between"),
        ("jewel_kinds: [model_weights]", "jewel_kinds: [gold]", "threats[T-WEIGHTS-CLEARTEXT].loss.jewel_kinds[0]:"),
        (EXTRACT_LOSS, "loss: {form: theft, yields: served, cost: 1}", "threats[T-EXTRACT-API].loss.cost: unknown key"),
        (
            WALLET_LOSS,
            "loss: {form: compute, yields: served}",
            "threats[T-WALLET].loss.yields: a compute loss takes no",
        ),
        (WALLET_LOSS, "loss: {form: compute, value: value}", "threats[T-WALLET].loss.value: a compute loss takes no"),
        # per-threat controls
        (
            "effectiveness: 0.5",
            "effectiveness: 1.5",
            "threats[T-EXTRACT-API].controls[0].effectiveness: 1.5 is outside",
        ),
        (
            "{OC1: 0.9, OC2: 0.8, OC3: 0.7, OC4: 0.6, OC5: 0.1}",
            "{OC1: 0.9, OC2: 0.8, OC3: 0.7, OC4: 0.6}",
            "threats[T-EXTRACT-API].controls[1].effectiveness.OC5: required",
        ),
        ("OC5: 0.1}", "OC5: -0.1}", "threats[T-EXTRACT-API].controls[1].effectiveness.OC5: -0.1 is outside 0..1"),
        ("on: jewel", "on: everywhere", "threats[T-EXTRACT-API].controls[1].on: 'everywhere' is not one of any, jewel"),
        (
            "control: M-RATE-QUOTA",
            "control: M-NOPE",
            "threats[T-EXTRACT-API].controls[0].control: unknown control 'M-NOPE'",
        ),
        (
            "control: M-KMS",
            "control: M-RATE-QUOTA",
            "threats[T-EXTRACT-API].controls[1].control: 'M-RATE-QUOTA' is listed",
        ),
        ('figure: "..."}', 'figure: "...", url: x}', "threats[T-EXTRACT-API].controls[0].evidence.url: unknown key"),
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
        ("pricing: per_element", "pricing: per_hour", "controls[M-TLS].pricing: 'per_hour' is not one of"),
        ("flows: true", "flows: false", "controls[M-TLS].pricing: per_element needs asset_kinds or flows: true"),
        ("flows: true", "flows: yes", "controls[M-TLS].flows: must be true or false, got str"),
        ("capability_decay: 1.0", "capability_decay: 0", "controls[M-TLS].capability_decay: must be above 0"),
        ("capability_decay: 1.0", "capability_decay: 1.5", "controls[M-TLS].capability_decay: 1.5 is outside 0..1"),
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


def test_every_problem_of_one_entry_is_reported_together() -> None:
    broken = edited(THREATS, "stride: [I]", "stride: [Q]")
    broken = edited(broken, "actors: [external, supplier]", "actors: [alien]")
    broken = edited(broken, "OC3: 0.5,", "OC3: 0.3,")
    broken = edited(broken, "query_goal: clone", "query_goal: all")
    broken = edited(broken, "effectiveness: 0.5", "effectiveness: 2")
    with pytest.raises(LibraryError) as exc:
        load_library(broken, CONTROLS)
    assert sorted(e.split(":")[0] for e in exc.value.errors) == [
        "threats[T-EXTRACT-API].actors",
        "threats[T-EXTRACT-API].base_probability.OC3",
        "threats[T-EXTRACT-API].controls[0].effectiveness",
        "threats[T-EXTRACT-API].query_goal",
        "threats[T-EXTRACT-API].stride",
    ]


def test_unknown_and_missing_keys_are_all_named() -> None:
    broken = edited(THREATS, "    stride: [I]\n    atlas", "    colour: red\n    atlas")
    broken = edited(broken, "    role: theft\n    actors: [external, supplier]\n", "    size: 3\n")
    with pytest.raises(LibraryError) as exc:
        load_library(broken, CONTROLS)
    assert [e.split(":")[0] for e in exc.value.errors] == [
        "threats[T-EXTRACT-API].colour",
        "threats[T-EXTRACT-API].size",
        "threats[T-EXTRACT-API].stride",
        "threats[T-EXTRACT-API].role",
        "threats[T-EXTRACT-API].actors",
    ]
