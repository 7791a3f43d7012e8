"""Every ATLAS id the library cites exists in the ATLAS data shipped with it, and the mappings an
expert review found wrong (issue 14) stay corrected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from threats.engine.library import Library, load_library

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_ATLAS = ROOT / "threats" / "library" / "atlas-derived.json"
LIBRARY: Library = load_library(
    (ROOT / "threats" / "library" / "threats.yaml").read_bytes(),
    (ROOT / "threats" / "library" / "controls.yaml").read_bytes(),
)
THREATS = {t.code: t for t in LIBRARY.threats}
CONTROLS = {c.code: c for c in LIBRARY.controls}


def _atlas_names() -> dict[str, str]:
    data = json.loads(SHIPPED_ATLAS.read_text())
    matrix = data["matrices"][0]
    return {item["id"]: item["name"] for key in ("techniques", "mitigations") for item in matrix[key]}


NAMES = _atlas_names()


@pytest.mark.parametrize("code", sorted(THREATS))
def test_every_technique_a_threat_cites_is_in_the_shipped_atlas_data(code: str) -> None:
    unknown = [i for i in THREATS[code].atlas if i not in NAMES]
    assert unknown == [], f"{code} cites ATLAS ids the shipped data does not have"


def test_every_mitigation_a_control_cites_is_in_the_shipped_atlas_data() -> None:
    unknown = {c.code: [i for i in c.atlas_mitigations if i not in NAMES] for c in LIBRARY.controls}
    assert {code: ids for code, ids in unknown.items() if ids} == {}


@pytest.mark.parametrize(
    ("code", "present", "absent"),
    [
        # side channels reveal the model family, not the ontology of its outputs
        ("T-CACHE-TIMING", {"AML.T0014"}, {"AML.T0013"}),
        ("T-EM-POWER-LEAK", {"AML.T0014", "AML.T0044"}, {"AML.T0013"}),
        # an open registry is full model access and IP theft; a writable registry is supply chain
        ("T-EXPOSED-STORE", {"AML.T0044", "AML.T0048.004"}, {"AML.T0010.004"}),
        ("T-DEPENDENCY-COMPROMISE", {"AML.T0010.004"}, set()),
        # distillation is inference API access ending in IP theft (its case study AML.CS0056)
        ("T-DISTILL-LLM", {"AML.T0040", "AML.T0048.004"}, set()),
        ("T-AGENT-TOOL-POISON", {"AML.T0010.005", "AML.T0109", "AML.T0110", "AML.T0112.000"}, set()),
        ("T-AI-API-EXFIL", {"AML.T0096"}, set()),
        ("T-RENDERED-EXFIL", {"AML.T0077"}, set()),
    ],
)
def test_reviewed_mappings(code: str, present: set[str], absent: set[str]) -> None:
    cited = set(THREATS[code].atlas)
    assert present <= cited and not absent & cited


def test_the_new_agent_techniques_mean_what_the_library_says() -> None:
    assert NAMES["AML.T0010.005"] == "AI Agent Tool"
    assert NAMES["AML.T0109"] == "AI Supply Chain Rug Pull"
    assert NAMES["AML.T0110"] == "AI Agent Tool Poisoning"
    assert NAMES["AML.T0112.000"] == "Local AI Agent"
    assert NAMES["AML.T0096"] == "AI Service API"
    assert NAMES["AML.T0077"] == "LLM Response Rendering"
    assert NAMES["AML.T0014"] == "Discover AI Model Family"


def test_privacy_training_is_not_output_obfuscation() -> None:
    assert "AML.M0002" not in CONTROLS["M-PRIVACY-TRAINING"].atlas_mitigations
    assert NAMES["AML.M0002"] == "Passive AI Output Obfuscation"


@pytest.mark.parametrize("code", ["T-SYSPROMPT-EXTRACT", "T-TRAINDATA-INFER"])
def test_prompt_and_training_data_leaks_are_not_rand_model_extraction(code: str) -> None:
    assert ("ai_specific", "model_extraction") not in THREATS[code].rand


@pytest.mark.parametrize("code", ["T-BULK-EGRESS", "T-UNAUDITED-ACCESS"])
def test_rand_measures_are_not_vectors(code: str) -> None:
    assert THREATS[code].rand == ()
