"""The advisor page: scoped like every page, and its "Propose" button files a proposed plan."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from mitigations.models import MitigationPlan
from threats.services.recompute import system_recompute
from workbench.demo import load_demo
from workbench.models import Membership, System

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(library: None) -> System:
    system = load_demo()["system"]
    system_recompute(system_id=system.pk)  # on_commit hooks do not fire inside a test transaction
    return system


def _login(client: Any, username: str) -> None:
    client.force_login(get_user_model().objects.get(username=username))


def test_every_member_reads_advice_and_only_editors_see_propose(client: Any, demo: System) -> None:
    url = reverse("threats:advice", args=[demo.slug])
    for username, can_edit in (("demo", True), ("demo-editor", True), ("demo-viewer", False), ("demo-risk", False)):
        client.logout()
        _login(client, username)
        page = client.get(url)
        assert page.status_code == 200, username
        text = page.content.decode()
        assert "What to do first" in text and "Choke points" in text and "Cheapest separation" in text
        assert ("Propose</button>" in text) is can_edit, username


def test_outsiders_get_404_and_anonymous_users_log_in(client: Any, demo: System, outsider: Any) -> None:
    url = reverse("threats:advice", args=[demo.slug])
    assert client.get(url).status_code == 302
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert not Membership.objects.filter(team=demo.team, user=outsider).exists()


def test_the_propose_button_posts_a_complete_proposal(client: Any, demo: System) -> None:
    _login(client, "demo-editor")
    page = client.get(reverse("threats:advice", args=[demo.slug])).content.decode()
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', page, re.S)
    assert form is not None
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.group(2)):
        fields.setdefault(name, []).append(value)
    control = fields.pop("control")[0]
    response = client.post(form.group(1), {"control": control, **fields})
    assert response.status_code == 302
    plan = MitigationPlan.objects.get(system=demo)
    assert plan.control.code == control and plan.status == "proposed"
    assert sorted(str(pk) for pk in plan.findings.values_list("pk", flat=True)) == sorted(fields.get("findings", []))
