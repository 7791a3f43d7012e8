"""Risk over the API, the system page and the recompute command."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from threats.models import Finding, SystemRisk
from threats.services.recompute import system_recompute
from workbench.models import System
from workbench.services.elements import asset_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def priced(exposed_llm: System) -> System:
    """The exposed endpoint with findings and risk computed."""
    system_recompute(system_id=exposed_llm.pk)
    return exposed_llm


def test_risk_endpoint_returns_totals_heatmap_and_freshness(api_client, viewer: Any, priced: System) -> None:
    api_client.force_login(viewer)
    body = api_client.get(f"/api/v1/systems/{priced.slug}/risk/").json()
    assert body["fresh"] is True and body["state"] == "fresh"
    assert body["computed_version"] == body["version"] == priced.version
    assert set(body["totals"]) == {"inherent", "current", "projected"}
    assert body["totals"]["current"]["mean"] > 0
    assert len(body["heatmap"]["current"]) == 5 and all(len(row) == 5 for row in body["heatmap"]["current"])
    assert sum(map(sum, body["heatmap"]["current"])) == Finding.objects.filter(system=priced).count()
    assert body["extraction"], "an anonymous LLM endpoint has an extraction budget"


def test_findings_api_carries_risk_with_factors(api_client, viewer: Any, priced: System) -> None:
    api_client.force_login(viewer)
    rows = api_client.get(f"/api/v1/systems/{priced.slug}/findings/").json()["results"]
    row = next(r for r in rows if r["threat"] == "T-EXTRACT-API")
    assert row["current_mean"] > 0 and row["risk_version"] == priced.version
    detail = api_client.get(f"/api/v1/systems/{priced.slug}/findings/{row['id']}/").json()
    assert detail["explanation_state"] == "explained"
    current = detail["risk"]["current"]
    assert {k: v for k, v in current.items() if k != "explanation"} == {
        k: v for k, v in row["risk"]["current"].items() if k != "explanation"
    }, "the detail's figures are the list's"
    factors = current["explanation"]["profiles"]
    assert sum(p["frequency"] for p in factors) == pytest.approx(current["frequency"], rel=1e-4)
    for p in factors:  # a profile succeeds at most once per attempt
        assert p["frequency"] <= p["attempts"] * p["success"] * (1 + 1e-4)
    jewels = current["explanation"]["jewels"]
    assert jewels and jewels[0]["name"] == "Chat model"
    assert sum(j["loss"] for j in jewels) == pytest.approx(current["loss"], rel=1e-4)


def test_finding_detail_is_team_scoped_and_waits_for_fresh_results(
    api_client, viewer: Any, outsider: Any, editor: Any, priced: System, settings: Any
) -> None:
    from threats.services.recompute import system_recompute
    from workbench.services.elements import asset_save

    settings.RISK_EXPLAINED_TOP = 0  # nothing stored: every explanation is computed on request
    priced.refresh_from_db()
    asset_save(actor=editor, system=priced, asset=priced.assets.order_by("pk").first(), description="v+1")
    system_recompute(system_id=priced.pk)
    finding = Finding.objects.filter(system=priced, template__code="T-EXTRACT-API").first()
    assert finding is not None and "explanation" not in str(finding.risk)
    url = f"/api/v1/systems/{priced.slug}/findings/{finding.pk}/"
    api_client.force_login(outsider)
    assert api_client.get(url).status_code == 404
    api_client.force_login(viewer)
    body = api_client.get(url).json()
    assert body["explanation_state"] == "explained"
    assert body["risk"]["current"]["explanation"]["profiles"], "computed on request"
    priced.refresh_from_db()
    asset_save(actor=editor, system=priced, asset=priced.assets.order_by("pk").first(), description="v+2")
    body = api_client.get(url).json()
    # The figures stay those of the version computed; no explanation of a newer model beside them.
    assert body["explanation_state"] == "recomputing"
    assert all("explanation" not in v for v in body["risk"].values())


def test_recompute_endpoint_roles(
    api_client, viewer: Any, editor: Any, outsider: Any, risk_owner: Any, priced: System
) -> None:
    url = f"/api/v1/systems/{priced.slug}/recompute/"
    api_client.force_login(viewer)
    assert api_client.post(url).status_code == 403
    api_client.force_login(outsider)
    assert api_client.post(url).status_code == 404
    for user in (editor, risk_owner):
        api_client.force_login(user)
        response = api_client.post(url)
        assert response.status_code == 202 and response.json()["queued"] is True


def test_outsider_cannot_read_risk(api_client, outsider: Any, priced: System) -> None:
    api_client.force_login(outsider)
    assert api_client.get(f"/api/v1/systems/{priced.slug}/risk/").status_code == 404
    assert SystemRisk.objects.filter(system=priced).exists()


def test_system_page_shows_the_risk_panel_and_its_freshness(client_as, priced: System, owner: Any) -> None:
    page = client_as("viewer").get(priced.get_absolute_url()).content.decode()
    assert "Risk as of version" in page and "T-EXTRACT-API" in page
    assert 'id="risk-panel" hx-get' not in page  # fresh risk is not polled (the diagrams panel is, until drawn)
    api = priced.assets.get(name="Chat API")
    asset_save(actor=owner, system=priced, asset=api, monitored=True)
    stale = client_as("viewer").get(f"/systems/{priced.slug}/risk/panel/").content.decode()
    assert "Recomputing" in stale and 'hx-trigger="every 2s"' in stale


def test_recompute_command_prints_the_summary_as_json(priced: System, owner: Any) -> None:
    api = priced.assets.get(name="Chat API")
    asset_save(actor=owner, system=priced, asset=api, rate_limited=True)
    out = StringIO()
    call_command("recompute", priced.slug, "--sync", stdout=out)
    summary = json.loads(out.getvalue())
    priced.refresh_from_db()
    assert summary["status"] == "computed" and summary["computed_version"] == priced.version
    assert summary["state"] == "fresh" and summary["totals"]["current"]["mean"] >= 0
