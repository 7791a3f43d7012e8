"""Explanations of findings the recompute did not expand are computed when the page asks.

A recompute stores every figure but the full explanation only of the largest findings (the
rest was most of its time and memory on big systems). The demo has 131 findings; with the
default of 25 stored, the page of a small finding must still show its profiles, controls and
jewels, computed for the version shown, equal to a run that expands everything, and say so
honestly while the results are behind the model.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from threats.models import Finding, FindingStatus
from threats.selectors_explain import finding_explanations, stored_explanations
from threats.services.recompute import system_recompute
from threats.services.risk import _names, compute_system_risk
from threats.services.risk_json import finding_views
from workbench.demo import load_demo
from workbench.models import System
from workbench.services.elements import asset_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(library: None) -> System:
    system = load_demo()["system"]
    system_recompute(system_id=system.pk)
    system.refresh_from_db()
    return system


def _key(finding: Finding) -> tuple[str, str, int]:
    target_type, _, target_id = finding.target_key.partition(":")
    return (finding.template.code, target_type, int(target_id))


def test_only_the_largest_findings_are_stored_expanded(demo: System, settings: Any) -> None:
    findings = list(Finding.objects.filter(system=demo).select_related("template"))
    expanded = [f for f in findings if stored_explanations(f)]
    assert len(expanded) == settings.RISK_EXPLAINED_TOP < len(findings)
    smallest_expanded = min(f.current_mean for f in expanded)
    assert all(f.current_mean <= smallest_expanded for f in findings if not stored_explanations(f))


def test_an_unexpanded_finding_is_explained_as_a_full_run_would(demo: System) -> None:
    full = compute_system_risk(system=demo, explain_top=10**6)
    names, attackers = _names(full)
    rows = Finding.objects.filter(system=demo).select_related("template", "system")
    unexpanded = [f for f in rows if not stored_explanations(f)]
    assert len(unexpanded) > 50
    for finding in unexpanded[::10]:
        expected = finding_views(full.result.findings[_key(finding)], names, attackers)
        explanations = finding_explanations(finding=finding)
        assert explanations == {view: data["explanation"] for view, data in expected.items()}, finding.template.code


def test_the_page_shows_the_factors_and_waits_while_results_are_behind(client: Any, demo: System) -> None:
    finding = (
        Finding.objects.filter(system=demo, current_frequency__gt=0)
        .exclude(status=FindingStatus.NOT_APPLICABLE)
        .order_by("current_mean", "pk")
        .first()
    )
    assert finding is not None and not stored_explanations(finding)
    client.force_login(get_user_model().objects.get(username="demo-viewer"))
    url = reverse("threats:finding_detail", args=[demo.slug, finding.pk])
    html = client.get(url).content.decode()
    assert "Attacker profiles" in html and "explanation-pending" not in html
    asset = demo.assets.order_by("pk").first()
    asset_save(actor=get_user_model().objects.get(username="demo-editor"), system=demo, asset=asset, description="x")
    html = client.get(url).content.decode()
    assert 'data-testid="explanation-pending"' in html, "no explanation of a newer model beside older figures"
    assert "Attacker profiles" not in html
