"""Library browser, findings pages and their API endpoints.

ATLAS names and tactics come from the data shipped in the repository (loaded by the ``library``
seed), so these pages are tested the same on a fresh clone as beside ``../shared``.
"""

from __future__ import annotations

from typing import Any

import pytest

from threats.models import AtlasRelease, AtlasTechnique, Finding
from threats.services.findings import findings_refresh
from workbench.models import System

pytestmark = pytest.mark.django_db


@pytest.fixture
def exposed_api(exposed_llm: System) -> System:
    """The exposed endpoint with its findings computed."""
    findings_refresh(system=exposed_llm)
    return exposed_llm


def test_threat_list_filters_by_stride_and_asset_kind(client_as, owner: Any, library: None) -> None:
    client = client_as("owner")
    everything = client.get("/library/threats/").content.decode()
    assert "T-EXTRACT-API" in everything and "T-PHYSICAL-ACCESS" in everything
    spoofing = client.get("/library/threats/?stride=S").content.decode()
    assert "T-APIKEY-ABUSE" in spoofing and "T-TRANSIT-INTERCEPT" not in spoofing
    by_kind = client.get("/library/threats/?kind=inference_endpoint").content.decode()
    assert "T-EXTRACT-API" in by_kind and "T-EDGE-UNPACK" not in by_kind


def test_threat_list_filters_by_atlas_tactic(client_as, owner: Any, library: None) -> None:
    client = client_as("owner")
    form = client.get("/library/threats/").content.decode()
    assert '<option value="AML.TA0010">Exfiltration</option>' in form  # tactic names from the shipped data
    page = client.get("/library/threats/?tactic=AML.TA0010").content.decode()
    assert "T-EXTRACT-API" in page  # AML.T0024.002 sits under Exfiltration
    assert "T-PHISH-MLENG" not in page


def test_unknown_filter_values_are_ignored_not_errors(client_as, owner: Any, library: None) -> None:
    response = client_as("owner").get("/library/threats/?stride=<script>&kind=nope&tactic=x'--")
    assert response.status_code == 200
    assert b"<script>" not in response.content


def test_threat_detail_shows_references_controls_and_evidence(client_as, owner: Any, library: None) -> None:
    page = client_as("owner").get("/library/threats/T-EXTRACT-API/").content.decode()
    assert "AML.T0024.002" in page and "Extract AI Model" in page  # ATLAS name resolved
    assert "ML05:2023" in page and "M-ACCOUNT-INTEGRITY" in page and "ai_specific · model_extraction" in page
    # library v2: role, actors, where it is tried from, and how the loss is priced
    assert "<td>Theft: turns a position into the loss of a jewel</td>" in page
    assert '<span class="tag">external</span><span class="tag">insider</span>' in page
    assert (
        "theft of the served jewels, priced at their replication value (a functional clone); query goal: clone" in page
    )
    assert "0.30 · 0.30 · 0.30 · 0.21 · 0.15" in page  # M-ACCOUNT-INTEGRITY (SL3) weaker against OC4 and OC5


def test_threat_detail_shows_an_enablers_boosts_and_an_empty_rand_list(client_as, owner: Any, library: None) -> None:
    page = client_as("owner").get("/library/threats/T-UNAUDITED-ACCESS/").content.decode()
    assert 'href="/library/threats/T-BULK-EGRESS/">T-BULK-EGRESS</a>' in page
    assert "multiplied by up to 1 + 0.30" in page and "none (RAND names no vector for it)" in page
    assert "Success of one try" not in page
    zero_day = client_as("owner").get("/library/threats/T-ZERO-DAY/").content.decode()
    assert '<span class="tag">network</span><span class="tag">payload</span>' in zero_day
    assert "running_unauthorized_code · zero_days_at_scale" in zero_day


def test_library_pages_showing_atlas_names_carry_mitre_attribution(client_as, owner: Any, library: None) -> None:
    client = client_as("owner")
    for url in ("/library/threats/", "/library/threats/T-EXTRACT-API/", "/library/controls/M-RATE-QUOTA/"):
        page = client.get(url).content.decode()
        assert 'href="https://atlas.mitre.org"' in page, url
        assert "MITRE ATLAS</a> data 5.6.0, Copyright 2021-2025 MITRE" in page, url
        assert "Apache License 2.0" in page, url


def test_attribution_names_the_newest_release_and_is_absent_without_atlas(client_as, owner: Any, library: None) -> None:
    client = client_as("owner")
    AtlasRelease.objects.create(version="5.10.0")
    assert "MITRE ATLAS</a> data 5.10.0" in client.get("/library/threats/").content.decode()
    AtlasRelease.objects.all().delete()
    AtlasTechnique.objects.all().delete()
    assert "atlas.mitre.org" not in client.get("/library/threats/").content.decode()


def test_control_pages_list_threats_it_reduces(client_as, owner: Any, library: None) -> None:
    client = client_as("owner")
    assert "M-RATE-QUOTA" in client.get("/library/controls/").content.decode()
    detail = client.get("/library/controls/M-RATE-QUOTA/").content.decode()
    assert "T-COST-HARVEST" in detail and "T-EXTRACT-API" not in detail  # extraction: through the budget
    assert "multiplied by 0.70 per OC level above 2" in detail and "per covered asset or flow" in detail
    transit = client.get("/library/controls/M-ENCRYPT-TRANSIT/").content.decode()
    assert "data flows" in transit


def test_findings_page_lists_findings_with_explanations(client_as, exposed_api: System) -> None:
    page = client_as("viewer").get(f"/systems/{exposed_api.slug}/findings/").content.decode()
    assert "T-EXTRACT-API" in page and "Chat API" in page and "model_class is not llm (it is classifier)" in page


def test_outsider_gets_404_on_findings_page_and_api(client_as, api_client, outsider: Any, exposed_api: System) -> None:
    assert client_as("outsider").get(f"/systems/{exposed_api.slug}/findings/").status_code == 404
    api_client.force_login(outsider)
    assert api_client.get(f"/api/v1/systems/{exposed_api.slug}/findings/").status_code == 404


def test_findings_api_returns_the_systems_findings(api_client, viewer: Any, exposed_api: System) -> None:
    api_client.force_login(viewer)
    body = api_client.get(f"/api/v1/systems/{exposed_api.slug}/findings/").json()
    codes = {row["threat"] for row in body["results"]}
    assert "T-EXTRACT-API" in codes
    assert body["count"] == Finding.objects.filter(system=exposed_api).count()
    row = next(r for r in body["results"] if r["threat"] == "T-EXTRACT-API")
    assert row["target_repr"] == "Chat API" and row["explanation"]


def test_library_api_lists_threats_and_controls(api_client, viewer: Any, library: None) -> None:
    api_client.force_login(viewer)
    threats = api_client.get("/api/v1/library/threats/").json()
    assert threats["count"] >= 32
    one = api_client.get("/api/v1/library/threats/T-EXTRACT-API/").json()
    assert one["stride"] == ["I"] and "AML.T0024.002" in one["atlas_ids"]
    assert {c["control"] for c in one["controls"]} >= {"M-ACCOUNT-INTEGRITY"}
    assert (one["role"], one["actors"], one["positions"], one["loss_form"], one["loss_value"]) == (
        "theft",
        ["external", "insider", "supplier"],
        ["query"],
        "theft",
        "replication",
    )
    assert one["rand_vectors"] == [{"category": "ai_specific", "vector": "model_extraction"}]
    integrity = next(c for c in one["controls"] if c["control"] == "M-ACCOUNT-INTEGRITY")
    assert integrity["on"] == "any" and integrity["effectiveness_by_oc"] == pytest.approx([0.3, 0.3, 0.3, 0.21, 0.147])
    controls = api_client.get("/api/v1/library/controls/").json()
    assert controls["count"] >= 26
    transit = next(c for c in controls["results"] if c["code"] == "M-ENCRYPT-TRANSIT")
    assert (transit["flows"], transit["pricing"], transit["capability_decay"]) == (True, "per_element", "0.970")
    filtered = api_client.get("/api/v1/library/threats/?stride=S").json()
    assert all("S" in t["stride"] for t in filtered["results"])


def test_library_api_needs_authentication(api_client, library: None) -> None:
    assert api_client.get("/api/v1/library/threats/").status_code in (401, 403)
