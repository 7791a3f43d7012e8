"""Flows of the weighted cut on the advice page and in the advice API: an unencrypted flow that
carries the weights to an internet-facing notebook can be tapped from the internet, so the cut
names it (encryption in transit), with its ends, its findings and a user-written name that the
page escapes."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from threats.models import Finding
from threats.services.recompute import system_recompute
from workbench.models import DataFlow, System
from workbench.services.elements import asset_save, flow_save, zone_save

pytestmark = pytest.mark.django_db
NAME = '<script>tap()</script> & "sync"'


@pytest.fixture
def tapped(system: System, owner: Any, library: None) -> DataFlow:
    """Weights on a locked-down store pushed over an unencrypted flow to an open notebook."""
    dc = zone_save(actor=owner, system=system, name="Data centre", trust_level=3)
    store = asset_save(
        actor=owner,
        system=system,
        name="Weights store",
        kind="object_store",
        zone=dc,
        authentication="iam",
        mfa=True,
        encrypted_at_rest=True,
        logging=True,
        monitored=True,
    )
    jump = asset_save(actor=owner, system=system, name="Jump notebook", kind="notebook", zone=dc, internet_facing=True)
    weights = asset_save(
        actor=owner,
        system=system,
        name="Weights",
        kind="model_weights",
        value_min=5_000_000,
        value_likely=10_000_000,
        value_max=20_000_000,
        encrypted_at_rest=True,
        stored_on=[store],
    )
    flow = flow_save(
        actor=owner,
        system=system,
        name=NAME,
        source=store,
        target=jump,
        encrypted=False,
        authenticated=False,
        carries=[weights],
    )
    system_recompute(system_id=system.pk)
    return flow


def test_the_api_names_the_cut_flow_with_its_ends_and_findings(api_client: Any, owner: Any, tapped: DataFlow) -> None:
    api_client.force_login(owner)
    body = api_client.get(f"/api/v1/systems/{tapped.system.slug}/advice/").json()

    cut = body["cut"]
    (entry,) = [f for f in cut["flows"] if f["flow_id"] == tapped.pk]
    assert entry["flow_name"] == NAME
    assert (entry["source_name"], entry["target_name"]) == ("Weights store", "Jump notebook")
    assert (entry["source_id"], entry["target_id"]) == (tapped.source_id, tapped.target_id)
    assert entry["control"] == "M-ENCRYPT-TRANSIT" and entry["annual_cost"] > 0
    assert entry["finding_ids"] == sorted(Finding.objects.filter(flow=tapped).values_list("pk", flat=True))
    assert entry["finding_ids"], "the tap is a finding on the flow"
    spent = sum(a["annual_cost"] for a in cut["assets"]) + sum(f["annual_cost"] for f in cut["flows"])
    assert cut["annual_cost"] == pytest.approx(spent)


def test_the_page_shows_the_cut_flow_escaped_with_a_plan_link(client: Any, owner: Any, tapped: DataFlow) -> None:
    client.force_login(owner)
    page = client.get(reverse("threats:advice", args=[tapped.system.slug])).content.decode()

    section = page[page.index('id="advice-cut"') :]
    assert "<script>tap()" not in page
    assert "&lt;script&gt;tap()&lt;/script&gt; &amp; &quot;sync&quot;" in section
    assert "Weights store" in section and "Jump notebook" in section
    findings = "".join(
        f"&amp;findings={pk}" for pk in Finding.objects.filter(flow=tapped).order_by("pk").values_list("pk", flat=True)
    )
    plan = reverse("mitigations:plan_new", args=[tapped.system.slug])
    assert f'href="{plan}?control=M-ENCRYPT-TRANSIT{findings}"' in section
