"""Bad form input is refused with a 400 and a message, and nothing at all is written."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import AssetFactory, SystemFactory, TrustZoneFactory
from workbench.models import Asset, AttackerProfile, DataFlow, TrustZone
from workbench.services.elements import flow_save

pytestmark = pytest.mark.django_db

REQUIRED = "This field is required."
NOT_NEGATIVE = "Ensure this value is greater than or equal to 0."
ORDERED = "Values must satisfy minimum ≤ most likely ≤ maximum."
INVALID_CHOICE = "Select a valid choice."
SELF_LOOP = "A flow cannot go from an asset to itself."


@pytest.fixture
def editor_client(client_as: Any) -> Any:
    return client_as("editor")


def element_url(elements: Any, kind: str, action: str = "new") -> str:
    slug = elements.system.slug
    if action == "new":
        return reverse("workbench:element_new", args=[slug, kind])
    attr = {"zones": "zone", "assets": "asset", "flows": "flow", "attackers": "attacker"}[kind]
    return reverse("workbench:element_edit", args=[slug, kind, getattr(elements, attr).pk])


def assert_refused(response: Any, message: str) -> None:
    assert response.status_code == 400
    assert message in response.content.decode()


BAD_ELEMENT_INPUT = [
    ("zones", {"name": "   "}, REQUIRED),
    ("zones", {"name": "\t"}, REQUIRED),
    ("zones", {"trust_level": "7"}, "Ensure this value is less than or equal to 4."),
    ("assets", {"name": "  "}, REQUIRED),
    ("assets", {"value_min": "-5"}, NOT_NEGATIVE),
    ("assets", {"value_min": "500", "value_likely": "10", "value_max": "100"}, ORDERED),
    ("assets", {"value_min": "0", "value_likely": "1000", "value_max": "100"}, ORDERED),
    ("assets", {"value_min": "50", "value_likely": "10", "value_max": "100"}, ORDERED),
    ("assets", {"value_max": "-1", "value_likely": "-1", "value_min": "-1"}, NOT_NEGATIVE),
    ("assets", {"criticality": "0"}, "Ensure this value is greater than or equal to 1."),
    ("assets", {"rate_limit_per_minute": "60"}, "Set &#x27;rate limited&#x27; when giving a rate limit."),
    ("assets", {"authentication": "none", "mfa": "on"}, "MFA needs an authentication method."),
    ("assets", {"tags": "ok, " + "x" * 41}, "Each tag must be a non-empty string of at most 40 characters."),
    ("flows", {"name": " "}, REQUIRED),
    ("attackers", {"name": "    "}, REQUIRED),
    ("attackers", {"attempts_per_year": "-1"}, NOT_NEGATIVE),
    ("attackers", {"budget": "-100"}, NOT_NEGATIVE),
]


@pytest.mark.parametrize("action", ["new", "edit"])
@pytest.mark.parametrize(("kind", "overrides", "message"), BAD_ELEMENT_INPUT)
def test_bad_element_input_is_refused_and_nothing_is_written(
    editor_client, elements, form_data, nothing_written, kind, overrides, message, action
):
    url = element_url(elements, kind, action)
    with nothing_written(elements.system):
        response = editor_client.post(url, form_data(kind, elements, **overrides))

    assert_refused(response, message)


@pytest.mark.parametrize("action", ["new", "edit"])
def test_flow_from_an_asset_to_itself_is_refused(editor_client, elements, form_data, nothing_written, action):
    payload = form_data("flows", elements, source=elements.asset.pk, target=elements.asset.pk)
    with nothing_written(elements.system):
        response = editor_client.post(element_url(elements, "flows", action), payload)

    assert_refused(response, SELF_LOOP)


@pytest.mark.parametrize("end", ["source", "target"])
@pytest.mark.parametrize("action", ["new", "edit"])
def test_flow_across_systems_of_the_same_team_is_refused(
    editor_client, elements, form_data, nothing_written, end, action
):
    sibling_asset = AssetFactory(system=SystemFactory(team=elements.system.team), name="Sibling store")
    payload = form_data("flows", elements, **{end: sibling_asset.pk})
    with nothing_written(elements.system):
        response = editor_client.post(element_url(elements, "flows", action), payload)

    assert_refused(response, INVALID_CHOICE)
    assert not DataFlow.objects.filter(source=sibling_asset).exists()
    assert not DataFlow.objects.filter(target=sibling_asset).exists()


def test_flow_carrying_an_asset_of_another_system_is_refused(editor_client, elements, form_data, nothing_written):
    sibling_asset = AssetFactory(system=SystemFactory(team=elements.system.team))
    payload = form_data("flows", elements, carries=[sibling_asset.pk])
    with nothing_written(elements.system):
        response = editor_client.post(element_url(elements, "flows"), payload)

    assert_refused(response, INVALID_CHOICE)


@pytest.mark.parametrize(("field", "foreign"), [("zone", "zone"), ("hosted_on", "asset")])
def test_asset_pointing_into_another_system_is_refused(
    editor_client, elements, form_data, nothing_written, field, foreign
):
    sibling = SystemFactory(team=elements.system.team)
    other = TrustZoneFactory(system=sibling) if foreign == "zone" else AssetFactory(system=sibling)
    payload = form_data("assets", elements, **{field: other.pk})
    with nothing_written(elements.system):
        response = editor_client.post(element_url(elements, "assets"), payload)

    assert_refused(response, INVALID_CHOICE)


def test_attacker_entering_through_another_systems_zone_is_refused(editor_client, elements, form_data, nothing_written):
    foreign_zone = TrustZoneFactory(system=SystemFactory(team=elements.system.team))
    payload = form_data("attackers", elements, entry_zones=[foreign_zone.pk])
    with nothing_written(elements.system):
        response = editor_client.post(element_url(elements, "attackers"), payload)

    assert_refused(response, INVALID_CHOICE)


def test_zone_cannot_become_its_own_ancestor(editor_client, elements, form_data, nothing_written):
    child = TrustZoneFactory(system=elements.system, parent=elements.zone, name="Lab")
    payload = form_data("zones", elements, name=elements.zone.name, parent=child.pk)
    with nothing_written(elements.system):
        response = editor_client.post(element_url(elements, "zones", "edit"), payload)

    assert_refused(response, "Zones cannot be nested in a cycle.")
    assert TrustZone.objects.get(pk=elements.zone.pk).parent_id is None


def test_asset_cannot_be_hosted_on_itself(editor_client, elements, form_data, nothing_written):
    payload = form_data("assets", elements, hosted_on=elements.asset.pk)
    with nothing_written(elements.system):
        response = editor_client.post(element_url(elements, "assets", "edit"), payload)

    assert_refused(response, INVALID_CHOICE)


def test_duplicate_zone_name_is_refused(editor_client, elements, form_data, nothing_written):
    with nothing_written(elements.system):
        response = editor_client.post(element_url(elements, "zones"), form_data("zones", elements, name="Corp network"))

    assert_refused(response, "already exists")


def test_duplicate_attacker_name_is_refused(editor_client, elements, form_data, nothing_written):
    payload = form_data("attackers", elements, name=elements.attacker.name)
    with nothing_written(elements.system):
        response = editor_client.post(element_url(elements, "attackers"), payload)

    assert_refused(response, "already exists")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "   "}, REQUIRED),
        ({"risk_appetite": "-1"}, NOT_NEGATIVE),
        ({"risk_appetite": "-0.01"}, NOT_NEGATIVE),
        ({"currency": ""}, REQUIRED),
    ],
)
def test_bad_system_edit_is_refused_and_nothing_is_written(
    editor_client, elements, form_data, nothing_written, overrides, message
):
    url = reverse("workbench:system_edit", args=[elements.system.slug])
    with nothing_written(elements.system):
        response = editor_client.post(url, form_data("system", elements, **overrides))

    assert_refused(response, message)


def test_renaming_a_system_to_a_sibling_name_is_refused(editor_client, elements, form_data, nothing_written):
    sibling = SystemFactory(team=elements.system.team, name="Training platform")
    url = reverse("workbench:system_edit", args=[elements.system.slug])
    with nothing_written(elements.system):
        response = editor_client.post(url, form_data("system", elements, name=sibling.name))

    assert_refused(response, "already exists")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "  "}, REQUIRED),
        ({"risk_appetite": "-5"}, NOT_NEGATIVE),
        ({"name": "Inference platform"}, "already exists"),
    ],
)
def test_bad_new_system_is_refused_and_nothing_is_written(
    editor_client, elements, team_a, form_data, nothing_written, overrides, message
):
    payload = form_data("system", elements, team=team_a.pk, **overrides)
    with nothing_written(elements.system):
        response = editor_client.post(reverse("workbench:system_new"), payload)

    assert_refused(response, message)


def test_valid_asset_form_round_trips_tags_and_values(editor_client, elements, form_data):
    response = editor_client.post(element_url(elements, "assets"), form_data("assets", elements, name="  Vectors  "))

    assert response.status_code == 302
    asset = Asset.objects.get(system=elements.system, name="Vectors")
    assert asset.tags == ["pii", "prod"]
    assert (asset.value_min, asset.value_likely, asset.value_max) == (0, 10, 100)


def test_valid_attacker_form_sets_entry_points(editor_client, elements, form_data):
    response = editor_client.post(element_url(elements, "attackers"), form_data("attackers", elements))

    assert response.status_code == 302
    attacker = AttackerProfile.objects.get(system=elements.system, name="APT")
    assert list(attacker.entry_zones.all()) == [elements.zone]


# --- the same rules at service level ---------------------------------------------------------


def test_flow_save_refuses_a_self_loop(owner, system, nothing_written):
    asset = AssetFactory(system=system)
    with nothing_written(system), pytest.raises(ValidationError) as exc:
        flow_save(actor=owner, system=system, name="Loop", source=asset, target=asset)
    assert "A flow cannot go from an asset to itself." in exc.value.message_dict["target"]


@pytest.mark.parametrize("end", ["source", "target"])
def test_flow_save_refuses_an_asset_of_another_system_of_the_same_team(owner, system, end, nothing_written):
    ends = {"source": AssetFactory(system=system), "target": AssetFactory(system=system)}
    ends[end] = AssetFactory(system=SystemFactory(team=system.team))
    with nothing_written(system), pytest.raises(ValidationError) as exc:
        flow_save(actor=owner, system=system, name="Leak", **ends)
    assert "This asset belongs to another system." in exc.value.message_dict[end]


def test_flow_save_refuses_an_asset_of_another_team(owner, system, other_system, nothing_written):
    foreign, own = AssetFactory(system=other_system), AssetFactory(system=system)
    with nothing_written(system), pytest.raises(ValidationError) as exc:
        flow_save(actor=owner, system=system, name="Leak", source=foreign, target=own)
    assert "source" in exc.value.message_dict


def test_flow_update_to_a_self_loop_writes_nothing(owner, system, nothing_written):
    source, target = AssetFactory(system=system), AssetFactory(system=system)
    flow = flow_save(actor=owner, system=system, name="Sync", source=source, target=target)
    with nothing_written(system), pytest.raises(ValidationError):
        flow_save(actor=owner, system=system, flow=flow, target=flow.source)
    assert DataFlow.objects.get(pk=flow.pk).target_id != flow.source_id
