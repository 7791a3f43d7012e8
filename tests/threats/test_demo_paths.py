"""Attack paths on the demo system read the way a security engineer would read the model.

The demo's JupyterHub sits behind SSO with MFA and the VPN (``workbench/demo.py`` says why), so
the anonymous API user's easiest way to the weights is the public inference API itself.
"""

from __future__ import annotations

from typing import Any

import pytest

from threats.models import SystemAttackPaths
from threats.services.diagrams import system_render_diagrams
from threats.services.library import library_seed
from workbench.demo import ATTACKER_ENTRIES, load_demo
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


def test_the_anonymous_api_users_best_path_to_the_weights_goes_through_the_public_api(demo: System) -> None:
    pair = _pair(demo, "Anonymous API user", "Flagship LLM weights")
    best = pair["paths"][0]
    assert best["entry"]["name"] == "Internet"
    assert best["assets"][0] == "Public inference API"
    assert best["assets"][-1] == "Flagship LLM weights"
    assert "Notebook server" not in best["assets"]
    assert [p["probability"] for p in pair["paths"]] == sorted((p["probability"] for p in pair["paths"]), reverse=True)


def test_the_insiders_paths_start_at_its_entry_assets(demo: System) -> None:
    entries = set(ATTACKER_ENTRIES["Malicious insider"])
    pair = _pair(demo, "Malicious insider", "Flagship LLM weights")
    assert pair["paths"]
    for path in pair["paths"]:
        assert path["entry"]["name"] in entries
        assert path["hops"][0]["from"]["name"] in entries


def test_authentication_rate_limits_and_monitoring_on_the_api_lower_that_paths_probability(demo: System) -> None:
    before = _pair(demo, "Anonymous API user", "Flagship LLM weights")["paths"][0]
    api = Asset.objects.get(system=demo, name="Public inference API")
    asset_save(
        actor=demo.owner,
        system=demo,
        asset=api,
        authentication="api_key",
        rate_limited=True,
        rate_limit_per_minute=60,
        monitored=True,
    )
    after_pair = _pair(demo, "Anonymous API user", "Flagship LLM weights")
    same_route = next(p for p in after_pair["paths"] if p["assets"] == before["assets"])
    assert same_route["probability"] < before["probability"]
    entering_api = same_route["hops"][0]
    assert entering_api["to"]["name"] == "Public inference API"
    assert {"M-API-AUTHN", "M-RATE-QUOTA", "M-EXTRACTION-MONITOR"} <= set(entering_api["controls"])
    assert not {"M-API-AUTHN", "M-RATE-QUOTA"} & set(before["hops"][0]["controls"])
    assert ["target authentication api_key", 0.5] in entering_api["factors"]
