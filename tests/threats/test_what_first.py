"""The system page's "What to do first" (issue 15.4): the advisor's first 3 actions with loss
before and after, cost and a Propose button, and the choke points beside them; the same advice
as the advisor page for the version shown, scoped like every page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from threats.services.advice import cached_system_advice, system_advice
from threats.services.recompute import system_recompute
from threats.templatetags.humanize_money import money, percent
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


def _client(client: Any, username: str) -> Any:
    client.force_login(get_user_model().objects.get(username=username))
    return client


def test_the_system_page_loads_what_to_do_first(client: Any, demo: System) -> None:
    page = _client(client, "demo-viewer").get(demo.get_absolute_url()).content.decode()
    assert f'hx-get="{reverse("threats:advice_summary", args=[demo.slug])}"' in page


def test_the_first_three_actions_and_the_choke_points_are_the_advisors(client: Any, demo: System) -> None:
    advice = system_advice(system=demo)
    steps = advice["controls"]["steps"]
    assert len(steps) >= 3, "the demo is far above its appetite: the advisor has work for it"

    html = _client(client, "demo-editor").get(reverse("threats:advice_summary", args=[demo.slug])).content.decode()

    rows = re.findall(r'<tr data-testid="first-action">(.*?)</tr>', html, re.S)
    assert len(rows) == 3
    for row, step in zip(rows, steps[:3], strict=True):
        assert f"{money(step['loss_before'])} → {money(step['loss_after'])}" in row
        assert money(step["annual_cost"]) in row
        assert step["loss_before"] - step["loss_after"] >= step["annual_cost"]  # each pays for itself
        assert ("Propose</button>" in row) is bool(step["control"])
    points = re.findall(r'<tr data-testid="choke-point"><td>(.*?)</td><td>(.*?)</td>', html, re.S)
    assert points and len(points) <= 5
    for (name, share), point in zip(points, advice["choke_points"], strict=False):
        assert name.startswith(point["name"]) and share == percent(point["share"])
    assert f"{len(steps) - 3} more action" in html


def test_viewers_see_no_propose_button_and_outsiders_get_404(client: Any, demo: System, outsider: Any) -> None:
    url = reverse("threats:advice_summary", args=[demo.slug])
    html = _client(client, "demo-viewer").get(url).content.decode()
    assert "first-action" in html and "Propose</button>" not in html
    client.logout()
    assert client.get(url).status_code == 302
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_advice_is_reused_only_for_the_version_it_was_computed_on(demo: System) -> None:
    first = cached_system_advice(system=demo)
    assert first == system_advice(system=demo)
    assert cached_system_advice(system=demo) is not None and first["version"] == demo.version

    api = demo.assets.get(name="Public inference API")
    asset_save(actor=get_user_model().objects.get(username="demo"), system=demo, asset=api, monitored=not api.monitored)
    demo.refresh_from_db()

    again = cached_system_advice(system=demo)
    assert again["version"] == demo.version != first["version"]
    assert again == system_advice(system=demo)
