"""The workbench pages beyond the status matrix: what a write does, and references across systems.

Who gets which status from every page route is the route-derived matrix (tests/test_pages_matrix.py).
Here: a member sees the system's elements and edit links by role, an allowed write does exactly
one audited change, and element ids of another system or team are refused (404 or a form error).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse

from tests.factories import AssetFactory, DataFlowFactory, SystemFactory, TrustZoneFactory
from workbench.models import Asset, AttackerProfile, AuditEvent, DataFlow, System, TrustZone

pytestmark = pytest.mark.django_db

KINDS = {
    "zones": ("zone", TrustZone),
    "assets": ("asset", Asset),
    "flows": ("flow", DataFlow),
    "attackers": ("attacker", AttackerProfile),
}
ELEMENT_PAGES = [f"{kind}_{action}" for kind in KINDS for action in ("new", "edit", "delete")]
WRITE_PAGES = ["system_edit", "system_delete", *ELEMENT_PAGES]


def page_url(page: str, world: SimpleNamespace) -> str:
    slug = world.system.slug
    if page.startswith("system_"):
        return reverse(f"workbench:{page}", args=[slug])
    kind, action = page.split("_")
    if action == "new":
        return reverse("workbench:element_new", args=[slug, kind])
    element = getattr(world, KINDS[kind][0])
    return reverse(f"workbench:element_{action}", args=[slug, kind, element.pk])


def page_payload(page: str, world: SimpleNamespace, form_data: Any) -> dict[str, Any]:
    if page == "system_edit":
        return form_data("system", world)
    kind, action = page.split("_")
    if kind == "system" or action == "delete":
        return {}
    return form_data(kind, world)


# --- what members see and what writes do ----------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "editor", "viewer", "risk_owner"])
def test_every_member_can_view_system_detail(client_as, elements, persona):
    response = client_as(persona).get(page_url("system_detail", elements))

    assert response.status_code == 200
    for element in (elements.zone, elements.asset, elements.flow, elements.attacker):
        assert element.name in response.content.decode()


@pytest.mark.parametrize(
    ("persona", "can_edit"), [("owner", True), ("editor", True), ("viewer", False), ("risk_owner", False)]
)
def test_system_detail_shows_edit_links_only_to_editors(client_as, elements, persona, can_edit):
    response = client_as(persona).get(page_url("system_detail", elements))

    assert (page_url("system_edit", elements) in response.content.decode()) is can_edit
    assert (page_url("assets_edit", elements) in response.content.decode()) is can_edit


@pytest.mark.parametrize("page", WRITE_PAGES)
@pytest.mark.parametrize("persona", ["owner", "editor"])
def test_editor_and_owner_can_submit_write_pages(client_as, elements, form_data, persona, page):
    system = elements.system
    payload = page_payload(page, elements, form_data)
    events_before = AuditEvent.objects.filter(team=system.team).count()

    response = client_as(persona).post(page_url(page, elements), payload)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert AuditEvent.objects.filter(team=system.team).count() == events_before + 1
    if page == "system_delete":
        assert response.url == reverse("workbench:dashboard")
        assert not System.objects.filter(pk=system.pk).exists()
        return
    assert response.url == system.get_absolute_url()
    system.refresh_from_db()
    assert system.version == 2
    if page == "system_edit":
        assert system.name == payload["name"]
        return
    kind, action = page.split("_")
    attr, model = KINDS[kind]
    if action == "delete":
        assert not model.objects.filter(pk=getattr(elements, attr).pk).exists()
    else:
        assert model.objects.filter(system=system, name=payload["name"]).exists()
    if action == "edit":
        assert model.objects.get(pk=getattr(elements, attr).pk).name == payload["name"]


# --- cross-system and cross-team element references -----------------------------------------


@pytest.mark.parametrize("action", ["edit", "delete"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_outsider_cannot_reach_team_a_element_through_own_system(
    client_as, elements, other_system, nothing_written, kind, action
):
    element = getattr(elements, KINDS[kind][0])
    url = reverse(f"workbench:element_{action}", args=[other_system.slug, kind, element.pk])
    client = client_as("outsider")
    with nothing_written(elements.system):
        assert client.get(url).status_code == 404
        assert client.post(url, {"name": "Hijacked"}).status_code == 404


@pytest.mark.parametrize("kind", list(KINDS))
def test_element_of_a_sibling_system_is_404(client_as, elements, owner, nothing_written, kind):
    sibling = SystemFactory(team=elements.system.team)
    element = getattr(elements, KINDS[kind][0])
    url = reverse("workbench:element_delete", args=[sibling.slug, kind, element.pk])
    client = client_as("editor")
    with nothing_written(elements.system):
        assert client.post(url).status_code == 404


def test_unknown_element_kind_is_404(client_as, elements):
    url = reverse("workbench:element_new", args=[elements.system.slug, "secrets"])

    assert client_as("editor").get(url).status_code == 404


def test_editor_cannot_post_a_flow_from_another_teams_asset(
    client_as, elements, other_system, form_data, nothing_written
):
    foreign = AssetFactory(system=other_system, name="Bravo weights")
    url = page_url("flows_new", elements)
    payload = form_data("flows", elements, source=foreign.pk)
    client = client_as("editor")

    with nothing_written(elements.system), nothing_written(other_system):
        response = client.post(url, payload)

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert "Bravo weights" not in response.content.decode()


def test_editor_cannot_edit_a_flow_to_point_at_another_teams_asset(
    client_as, elements, other_system, form_data, nothing_written
):
    foreign = AssetFactory(system=other_system)
    url = page_url("flows_edit", elements)
    payload = form_data("flows", elements, target=foreign.pk)
    client = client_as("editor")

    with nothing_written(elements.system):
        response = client.post(url, payload)

    assert response.status_code == 400
    assert DataFlow.objects.get(pk=elements.flow.pk).target_id == elements.asset.pk


def test_outsider_cannot_create_a_system_in_team_a(client_as, elements, team_a, form_data, nothing_written):
    payload = {**form_data("system", elements), "team": team_a.pk, "name": "Planted"}
    client = client_as("outsider")
    with nothing_written(elements.system):
        response = client.post(reverse("workbench:system_new"), payload)

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize("persona", ["viewer", "risk_owner"])
def test_read_only_member_cannot_create_a_system(client_as, elements, team_a, form_data, nothing_written, persona):
    payload = {**form_data("system", elements), "team": team_a.pk, "name": "Planted"}
    client = client_as(persona)
    with nothing_written(elements.system):
        response = client.post(reverse("workbench:system_new"), payload)

    assert response.status_code == 400


def test_editor_creates_a_system_from_the_new_page(client_as, elements, team_a, form_data):
    payload = {**form_data("system", elements), "team": team_a.pk, "name": "Second platform"}

    response = client_as("editor").post(reverse("workbench:system_new"), payload)

    system = System.objects.get(team=team_a, name="Second platform")
    assert response.status_code == 302
    assert response.url == system.get_absolute_url()
    assert AuditEvent.objects.filter(system=system, verb="create").exists()


def test_dashboard_lists_only_the_users_teams_systems(client_as, elements, other_system):
    own = client_as("viewer").get(reverse("workbench:dashboard")).content.decode()
    theirs = client_as("outsider").get(reverse("workbench:dashboard")).content.decode()

    assert elements.system.name in own
    assert other_system.name not in own
    assert other_system.name in theirs
    assert elements.system.name not in theirs


# --- query budget ----------------------------------------------------------------------------


@pytest.fixture
def big_system(elements) -> System:
    """Team A's system grown to 30 assets in 3 zones and 40 flows that each carry an asset."""
    system = elements.system
    zones = [TrustZoneFactory(system=system, parent=elements.zone) for _ in range(3)]
    assets = [AssetFactory(system=system, zone=zones[i % 3], hosted_on=elements.other_asset) for i in range(28)]
    assets += [elements.asset, elements.other_asset]
    for i in range(39):
        flow = DataFlowFactory(system=system, source=assets[i % 30], target=assets[(i + 1) % 30])
        flow.carries.add(assets[(i + 7) % 30])
    for attacker in system.attackers.all():
        attacker.entry_assets.add(*assets[:3])
    assert (system.assets.count(), system.flows.count()) == (30, 40)
    return system


def test_system_detail_page_uses_a_bounded_number_of_queries(client_as, big_system, django_assert_max_num_queries):
    client = client_as("editor")
    url = big_system.get_absolute_url()
    # 14 + the diagrams panel (diagrams, attack paths) + the activity feed + the assets' copies and served models
    with django_assert_max_num_queries(19):
        response = client.get(url)

    assert response.status_code == 200
    assert response.content.decode().count("crosses zones") > 0
