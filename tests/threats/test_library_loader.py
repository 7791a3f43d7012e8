"""Loading and validating the library files, and matching a system with them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from threats.engine.facts import derive_facts
from threats.engine.library import MAX_BYTES, LibraryError, Match, find_threats, load_library
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData


def snap(assets: Sequence[AssetData], flows: Sequence[FlowData] = (), zones: Sequence[ZoneData] = ()) -> SystemSnapshot:
    return SystemSnapshot(zones=tuple(zones), assets=tuple(assets), flows=tuple(flows))


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
