"""Loading and validating the library files (format v2), and matching a system with them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.threats.library_samples import CONTROLS, THREATS, edited
from threats.engine.facts import derive_facts
from threats.engine.library import MAX_BYTES, LibraryError, LossDef, Match, find_threats, load_library
from threats.engine.snapshot import AssetData, FlowData, SystemSnapshot, ZoneData


def snap(assets: Sequence[AssetData], flows: Sequence[FlowData] = (), zones: Sequence[ZoneData] = ()) -> SystemSnapshot:
    return SystemSnapshot(zones=tuple(zones), assets=tuple(assets), flows=tuple(flows))


# -- library loading -----------------------------------------------------------------------------


def test_load_library_reads_every_field() -> None:
    lib = load_library(THREATS, CONTROLS.encode())
    assert lib.version == "2026.12.1"
    extract, sniff, door, recon, wallet = lib.threats
    assert (extract.code, extract.target, extract.stride, extract.rand) == (
        "T-EXTRACT-API",
        "asset",
        ("I",),
        (("ai_specific", "model_extraction"),),
    )
    assert (extract.rand_category, extract.rand_vector) == ("ai_specific", "model_extraction")
    assert (extract.role, extract.actors, extract.position, extract.positions) == (
        "theft",
        frozenset({"external", "supplier"}),
        "query",
        ("query",),
    )
    assert extract.loss == LossDef(form="theft", yields="served", value="replication")
    assert extract.query_goal == "clone"
    assert extract.asset_kinds == frozenset({"inference_endpoint", "api_gateway"})
    assert extract.owasp == ("ML05:2023", "LLM10:2025")
    assert extract.base_probability["OC3"] == 0.5
    assert extract.controls[0].evidence_source.startswith("Tramer")
    assert (extract.controls[0].on, extract.controls[1].on) == ("any", "jewel")
    assert sniff.loss == LossDef("theft", "carried", "fraction", 0.25, frozenset({"model_weights"}))
    assert (sniff.asset_kinds, sniff.description, sniff.query_goal) == (frozenset(), "", "")
    assert (door.role, door.position, door.positions, door.loss, door.rand) == (
        "access",
        "network",
        ("network", "exposed"),
        None,
        (),
    )
    assert (recon.role, recon.position, recon.boosts, recon.boost) == ("enabler", "none", ("T-EXTRACT-API",), 0.1)
    assert wallet.loss == LossDef(form="compute")
    quota, tls, kms = lib.controls
    assert (quota.cost_one_off, quota.cost_yearly, quota.rand_sl) == ((5000.0, 20000.0), (2000.0, 10000.0), 2)
    assert (quota.pricing, quota.capability_decay, quota.flows) == ("per_element", 0.7, False)  # kinds: per element
    assert (tls.asset_kinds, tls.atlas_mitigations, tls.pricing, tls.flows) == (frozenset(), (), "per_element", True)
    assert (kms.pricing, kms.capability_decay) == ("per_element", 0.5)


def test_a_number_decays_above_the_controls_level_and_a_mapping_is_taken_as_given() -> None:
    lib = load_library(THREATS, CONTROLS)
    quota, kms = lib.threats[0].controls
    # M-RATE-QUOTA: SL2, default decay 0.7 -> full up to OC2, then x0.7 per level
    assert quota.effectiveness == pytest.approx((0.5, 0.5, 0.35, 0.245, 0.1715))
    assert kms.effectiveness == (0.9, 0.8, 0.7, 0.6, 0.1)  # per-OC mapping: no decay although M-KMS decays 0.5
    (tls,) = lib.threats[1].controls
    assert tls.effectiveness == (0.9,) * 5  # capability_decay 1.0: never weaker


def test_on_off_yes_and_no_stay_text() -> None:
    """YAML 1.1 reads a bare ``on`` as true; the library loader keeps it text (YAML 1.2 booleans),
    so ``on: jewel`` is the key of a control and ``on`` as a value is refused as a string."""
    lib = load_library(THREATS, CONTROLS)
    assert lib.threats[0].controls[1].on == "jewel"
    with pytest.raises(LibraryError) as exc:
        load_library(edited(THREATS, "      - control: M-RATE-QUOTA", "      - control: on"), CONTROLS)
    assert exc.value.errors == ["threats[T-EXTRACT-API].controls[0].control: 'on' does not match M-[A-Z0-9-]+"]
    with pytest.raises(LibraryError) as exc:
        load_library(edited(THREATS, "      - control: M-RATE-QUOTA", "      - control: true"), CONTROLS)
    assert exc.value.errors == ["threats[T-EXTRACT-API].controls[0].control: must be a string, got bool"]


def test_versions_of_the_two_files_must_agree() -> None:
    with pytest.raises(LibraryError, match="controls.yaml: version '2027.1' differs"):
        load_library(THREATS, edited(CONTROLS, '"2026.12.1"', '"2027.1"'))


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
        ('version: "2026.12.1"\nthreats: [3]\n', "threats[0]: must be a mapping, got int"),
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
    found = [m for m in find_threats(lib, demo_snapshot()) if m.threat_code in ("T-EXTRACT-API", "T-WEIGHTS-CLEARTEXT")]
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
        "import sys, threats.engine.library, threats.engine.library_parse, threats.engine.facts;"
        "threats.engine.library.load_library('version: \"1\"\\nthreats: []', 'version: \"1\"\\ncontrols: []');"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'workbench', 'mitigations', 'rest_framework')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
