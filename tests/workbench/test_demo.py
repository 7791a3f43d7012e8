"""The demo loader: idempotent, and its printed login shows the demo system."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from threats.services.library import library_seed
from workbench.models import (
    Asset,
    AttackerProfile,
    AuditEvent,
    DataFlow,
    Membership,
    System,
    Team,
    TrustZone,
)
from workbench.services.audit import team_verify_audit

pytestmark = pytest.mark.django_db

MODELS = (Team, Membership, System, TrustZone, Asset, DataFlow, AttackerProfile, AuditEvent)


def _counts() -> dict[str, int]:
    counts = {model.__name__: model.objects.count() for model in MODELS}
    counts["carries"] = DataFlow.carries.through.objects.count()
    counts["entries"] = AttackerProfile.entry_assets.through.objects.count()
    return counts


def test_load_demo_twice_gives_the_same_rows(monkeypatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "a-demo-password")
    call_command("load_demo", stdout=StringIO())
    first = _counts()
    assert first["Asset"] >= 20 and first["DataFlow"] >= 20 and first["TrustZone"] >= 5
    call_command("load_demo", stdout=StringIO())
    assert _counts() == first
    assert team_verify_audit(team=Team.objects.get()).ok


def test_the_printed_login_shows_the_demo_system_with_assets_and_flows(monkeypatch) -> None:
    library_seed()
    out = StringIO()
    call_command("load_demo", stdout=out)
    password = out.getvalue().rsplit("password: ", 1)[1].strip()
    client = Client()
    response = client.post("/accounts/login/", {"username": "demo", "password": password}, follow=True)
    assert response.status_code == 200 and "LLM serving platform" in response.content.decode()
    system = System.objects.get(name="LLM serving platform")
    page = client.get(f"/systems/{system.slug}/").content.decode()
    for name in ("Public inference API", "Flagship LLM weights", "Weights bucket", "Contractor"):
        assert name in page
    for flow in ("Load weights", "Replicate weights", "CI package installs"):
        assert flow in page


def test_demo_users_hold_the_four_roles() -> None:
    call_command("load_demo", stdout=StringIO())
    roles = dict(Membership.objects.values_list("user__username", "role"))
    assert roles == {"demo": "admin", "demo-editor": "editor", "demo-risk": "risk_owner", "demo-viewer": "viewer"}
