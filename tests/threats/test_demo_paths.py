"""Attack paths on the demo system read the way a security engineer would read the model.

The public API sits behind the edge gateway and the JupyterHub behind SSO with MFA
(``workbench/demo.py`` says why), so an outsider's way to the weights is a person: the
contractor on a password, or the GPU cloud's support staff with break-glass SSH. Through the API
itself an outsider takes a distilled clone, not the weights.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.explained import explained
from threats.models import Finding, SystemAttackPaths
from threats.services.diagrams import system_render_diagrams
from threats.services.library import library_seed
from threats.services.recompute import system_recompute
from workbench.demo import load_demo
from workbench.demo_data import ATTACKER_ENTRIES
from workbench.models import Asset, System
from workbench.services.elements import asset_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> System:
    library_seed()
    system = load_demo(password="demo-password-for-tests")["system"]
    system.refresh_from_db()
    return system


def _pair(system: System, profile: str, target: str) -> dict[str, Any]:
    system.refresh_from_db()
    assert system_render_diagrams(system_id=system.pk, version=system.version).status == "rendered"
    pairs = SystemAttackPaths.objects.get(system=system, version=system.version).pairs
    return next(p for p in pairs if p["profile"]["name"] == profile and p["target"]["name"] == target)


def test_an_outsiders_best_paths_to_the_weights_go_through_phished_people(demo: System) -> None:
    pair = _pair(demo, "Cybercrime group", "Flagship LLM weights")
    full = [p for p in pair["paths"] if p["share"] == 1.0]
    assert full, "no route to the weights themselves"
    for path in full:
        assert path["entry"]["name"] == "Internet"
        assert path["assets"][0] in {"Contractor", "GPU cloud support", "Edge API gateway"}
        assert path["assets"][-1] == "Flagship LLM weights"
    first = full[0]["hops"][0]
    assert first["to"]["name"] in {"Contractor", "GPU cloud support"} and "T-PHISH-MLENG" in first["techniques"]
    ranked = [p["probability"] * p["share"] for p in pair["paths"]]
    assert ranked == sorted(ranked, reverse=True)


def test_through_the_public_api_an_outsider_takes_a_clone_priced_as_a_share(demo: System) -> None:
    system_recompute(system_id=demo.pk)
    distill = Finding.objects.get(system=demo, template__code="T-DISTILL-LLM", asset__name="Public inference API")
    parts = [j for j in explained(distill)["current"]["explanation"]["jewels"] if j["name"] == "Flagship LLM weights"]
    assert parts
    for part in parts:  # a functional copy is worth its replication value, not the weights
        assert 0 < part["share"] < 0.2
        assert part["loss"] <= part["share"] * part["value_mean"] * (1 + 1e-9)


def test_the_insiders_paths_start_at_the_insider_with_their_own_access_certain(demo: System) -> None:
    entries = set(ATTACKER_ENTRIES["Malicious insider"])
    pair = _pair(demo, "Malicious insider", "Flagship LLM weights")
    assert pair["paths"]
    for path in pair["paths"]:
        assert path["entry"]["name"] in entries
        assert path["hops"][0]["from"]["name"] in entries
        own = [h for h in path["hops"] if h["via"] == "authorised access"]
        assert own and all(h["probability"] == 1.0 and not h["techniques"] for h in own)
    assert pair["paths"][0]["probability"] >= 0.3  # daily access to the ML platform (RAND: insiders)


def test_phishing_resistant_mfa_on_the_contractor_lowers_that_paths_probability(demo: System) -> None:
    before = next(
        p for p in _pair(demo, "Cybercrime group", "Training checkpoints")["paths"] if p["assets"][0] == "Contractor"
    )
    contractor = Asset.objects.get(system=demo, name="Contractor")
    asset_save(actor=demo.owner, system=demo, asset=contractor, authentication="sso", mfa=True)
    after = _pair(demo, "Cybercrime group", "Training checkpoints")["paths"]
    same_route = next(p for p in after if p["assets"] == before["assets"])
    assert same_route["probability"] < before["probability"]
    entering = same_route["hops"][0]
    assert entering["to"]["name"] == "Contractor" and "M-MFA" in entering["controls"]
    assert "M-MFA" not in before["hops"][0]["controls"]
