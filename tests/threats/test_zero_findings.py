"""A finding priced at 0 says why (the review found 13 of 46 demo findings at 0 with no word).

Either no attacker profile of the system can attempt the technique there (a physical or
licensee technique without such a profile, an insider technique the insider does not reach) or
attackers can, but nothing of value lies beyond it. The finding page must say which, and the
figures behind the statement must agree with it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.explained import explained
from threats.models import Finding, FindingStatus
from threats.services.recompute import system_recompute
from workbench.demo import load_demo
from workbench.models import System

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(library: None) -> System:
    system = load_demo()["system"]
    system_recompute(system_id=system.pk)
    return system


def _page(client: Any, system: System, finding: Finding) -> str:
    client.force_login(get_user_model().objects.get(username="demo-viewer"))
    return client.get(reverse("threats:finding_detail", args=[system.slug, finding.pk])).content.decode()


def test_every_zero_finding_says_why_and_the_reason_matches_its_figures(client: Any, demo: System) -> None:
    findings = Finding.objects.filter(system=demo).exclude(status=FindingStatus.NOT_APPLICABLE)
    zero = list(findings.filter(current_mean=0))
    assert zero, "the demo has techniques no profile of it can attempt (physical access, licensee leaks)"
    unattempted = [f for f in zero if not f.current_frequency]
    assert any(f.template.code == "T-PHYSICAL-ACCESS" for f in unattempted)
    for finding in zero[:6] + unattempted[:3]:
        html = _page(client, demo, finding)
        assert 'data-testid="why-zero"' in html, finding
        if finding.current_frequency:
            assert "no route through it leads on" in html
        else:
            assert "No attacker profile of this system can attempt" in html
            profiles = explained(finding)["current"]["explanation"]["profiles"]
            assert all(not p["frequency"] for p in profiles)


def test_a_priced_finding_has_no_such_statement(client: Any, demo: System) -> None:
    top = Finding.objects.filter(system=demo).order_by("-current_mean").first()
    assert top is not None and top.current_mean > 0
    assert 'data-testid="why-zero"' not in _page(client, demo, top)
