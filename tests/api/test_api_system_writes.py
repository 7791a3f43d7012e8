"""API v1 systems, writes: create (team from the body or the token), PATCH with If-Match, delete."""

from __future__ import annotations

import pytest

from tests.factories import MembershipFactory
from workbench.models import AuditEvent, System, TrustZone

pytestmark = pytest.mark.django_db

LIST = "/api/v1/systems/"


def detail(system: System | str) -> str:
    return f"{LIST}{system if isinstance(system, str) else system.slug}/"


def test_editor_creates_a_system_in_a_named_team_with_defaults(api_as, editor, team_a):
    response = api_as("editor").post(LIST, {"name": "Fraud models", "team": "acme", "currency": "EUR"}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["slug"], body["team"], body["currency"], body["version"]) == ("fraud-models", "acme", "EUR", 1)
    assert response["ETag"] == '"v1"'
    assert response["Location"].endswith(detail("fraud-models"))
    assert [z["name"] for z in body["zones"]] == ["Internet"]
    assert len(body["attackers"]) == 5
    assert AuditEvent.objects.filter(team=team_a, verb="create", object_type="system").count() == 1


def test_seeding_defaults_can_be_declined(api_as, editor):
    response = api_as("editor").post(LIST, {"name": "Bare", "team": "acme", "seed_defaults": False}, format="json")

    assert response.status_code == 201
    assert (response.json()["zones"], response.json()["attackers"]) == ([], [])


def test_a_token_creates_in_its_own_team_by_default(api_as, editor, team_a):
    response = api_as("editor", "token").post(LIST, {"name": "From CI"}, format="json")

    assert response.status_code == 201
    assert System.objects.get(slug=response.json()["slug"]).team == team_a


def test_a_session_must_name_the_team(api_as, editor, nothing_written):
    client = api_as("editor")
    with nothing_written():
        response = client.post(LIST, {"name": "Where?"}, format="json")

    assert response.status_code == 400
    assert "team" in response.json()["errors"]


@pytest.mark.parametrize(("persona", "team"), [("outsider", "acme"), ("editor", "bravo"), ("editor", "nope")])
def test_a_team_one_is_not_in_does_not_exist(api_as, persona, team, team_b, nothing_written):
    client = api_as(persona)
    with nothing_written():
        response = client.post(LIST, {"name": "Sneaky", "team": team}, format="json")

    assert response.status_code == 400
    assert "team" in response.json()["errors"]


def test_a_token_cannot_create_in_another_of_its_users_teams(api_as, editor, team_b, nothing_written):
    MembershipFactory(team=team_b, user=editor, role="editor")
    client = api_as("editor", "token")  # the token is scoped to the first team, acme
    with nothing_written():
        response = client.post(LIST, {"name": "Sneaky", "team": "bravo"}, format="json")

    assert response.status_code == 400
    assert "team" in response.json()["errors"]


@pytest.mark.parametrize("persona", ["viewer", "risk_owner"])
def test_read_only_roles_cannot_create(api_as, persona, team_a, nothing_written):
    client = api_as(persona)
    with nothing_written():
        response = client.post(LIST, {"name": "Mine", "team": "acme"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_duplicate_name_in_a_team_is_400(api_as, system, nothing_written):
    client = api_as("owner")
    with nothing_written():
        response = client.post(LIST, {"name": system.name, "team": "acme"}, format="json")

    assert response.status_code == 400


def test_patch_with_the_current_etag_changes_the_system_and_its_etag(api_as, system):
    client = api_as("editor", "token")
    etag = client.get(detail(system))["ETag"]
    assert etag == '"v1"'

    response = client.patch(
        detail(system), {"name": "Renamed", "risk_appetite": "250000.00"}, format="json", HTTP_IF_MATCH=etag
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["name"], body["slug"], body["risk_appetite"], body["version"]) == (
        "Renamed",
        system.slug,
        "250000.00",
        2,
    )
    assert response["ETag"] == '"v2"'
    event = AuditEvent.objects.filter(team=system.team).latest("sequence")
    assert (event.verb, event.after) == ("update", {"name": "Renamed", "risk_appetite": "250000.00"})


def test_an_element_change_moves_the_systems_etag(api_as, system):
    client = api_as("editor")
    before = client.get(detail(system))["ETag"]
    client.post(f"{detail(system)}zones/", {"name": "DMZ"}, format="json")

    response = client.patch(detail(system), {"description": "stale"}, format="json", HTTP_IF_MATCH=before)

    assert response.status_code == 412
    assert client.get(detail(system))["ETag"] != before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"currency": "euro"}, "currency"),
        ({"risk_appetite": "-5"}, "risk_appetite"),
        ({"risk_appetite": "1" * 30}, "risk_appetite"),
        ({"review_due": "tomorrow"}, "review_due"),
        ({"name": ""}, "name"),
        ({"slug": "hijack"}, "slug"),
        ({"team": "bravo"}, "team"),
        ({"version": 99}, "version"),
    ],
)
def test_invalid_system_changes_are_400(api_as, system, body, field, nothing_written):
    client = api_as("editor")
    with nothing_written(system):
        response = client.patch(detail(system), body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_delete_needs_the_current_etag_when_one_is_sent(api_as, system):
    client = api_as("owner")
    client.patch(detail(system), {"description": "v2"}, format="json")

    assert client.delete(detail(system), HTTP_IF_MATCH='"v1"').status_code == 412
    assert client.delete(detail(system), HTTP_IF_MATCH='"v2"').status_code == 204
    assert not System.objects.filter(pk=system.pk).exists()
    assert not TrustZone.objects.filter(system_id=system.pk).exists()
    assert AuditEvent.objects.filter(verb="delete", object_type="system", object_id=str(system.pk)).exists()


@pytest.mark.parametrize("persona", ["viewer", "risk_owner"])
def test_read_only_roles_cannot_change_or_delete(api_as, system, persona, nothing_written):
    client = api_as(persona)
    with nothing_written(system):
        patched = client.patch(detail(system), {"name": "x"}, format="json")
        deleted = client.delete(detail(system))

    assert (patched.status_code, deleted.status_code) == (403, 403)


def test_outsider_cannot_see_change_or_delete(api_as, system, nothing_written):
    client = api_as("outsider", "token")
    with nothing_written(system):
        responses = [
            client.get(detail(system)),
            client.patch(detail(system), {"name": "x"}, format="json"),
            client.delete(detail(system)),
        ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert client.get(LIST).json()["results"] == []
