"""API v1 elements of a system (zones, assets, flows, attacker profiles): writes through services.

Every accepted write leaves exactly what the service leaves (row, audit event, version bump);
every refused one leaves nothing (``nothing_written``) and answers the one error shape.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import AssetFactory, TrustZoneFactory, make_system
from workbench.models import Asset, AttackerProfile, AuditEvent, DataFlow, System, TrustZone
from workbench.services.audit import team_verify_audit

pytestmark = pytest.mark.django_db

MODELS = {"zones": TrustZone, "assets": Asset, "flows": DataFlow, "attackers": AttackerProfile}


def url(system: System, kind: str, pk: int | None = None) -> str:
    base = f"/api/v1/systems/{system.slug}/{kind}/"
    return base if pk is None else f"{base}{pk}/"


def valid_body(kind: str, world: Any) -> dict[str, Any]:
    return {
        "zones": {"name": "DMZ", "trust_level": 1, "parent": world.zone.pk},
        "assets": {
            "name": "Feature store",
            "kind": "vector_store",
            "zone": world.zone.pk,
            "value_min": "0",
            "value_likely": "10",
            "value_max": "100",
            "tags": ["pii", "prod"],
            "internet_facing": True,
        },
        "flows": {
            "name": "Pull weights",
            "source": world.other_asset.pk,
            "target": world.asset.pk,
            "protocol": "s3",
            "carries": [world.asset.pk],
        },
        "attackers": {
            "name": "APT",
            "capability": "OC4",
            "attempts_per_year": "0.2",
            "budget": "1000000",
            "entry_zones": [world.zone.pk],
            "entry_assets": [world.asset.pk],
        },
    }[kind]


def existing(kind: str, world: Any) -> Any:
    return {"zones": world.zone, "assets": world.asset, "flows": world.flow, "attackers": world.attacker}[kind]


def version(system: System) -> int:
    return System.objects.values_list("version", flat=True).get(pk=system.pk)


def last_event(system: System) -> AuditEvent:
    return AuditEvent.objects.filter(team=system.team).latest("sequence")


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


KINDS = list(MODELS)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("auth", ["session", "token"])
def test_editor_creates_an_element_through_the_service(api_as, elements, kind, auth):
    system = elements.system
    before = version(system)

    response = api_as("editor", auth).post(url(system, kind), valid_body(kind, elements), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    created = MODELS[kind].objects.get(pk=body["id"])
    assert created.system_id == system.pk
    assert created.team_id == system.team_id
    assert response["Location"].endswith(url(system, kind, created.pk))
    assert response["ETag"].startswith('"')
    assert version(system) == before + 1
    event = last_event(system)
    assert (event.verb, event.object_id, event.actor.username) == ("create", str(created.pk), "bob")
    assert team_verify_audit(team=system.team).ok


def test_created_relations_are_stored(api_as, elements):
    client = api_as("editor")
    flow = client.post(url(elements.system, "flows"), valid_body("flows", elements), format="json").json()
    attacker = client.post(url(elements.system, "attackers"), valid_body("attackers", elements), format="json").json()

    stored = DataFlow.objects.get(pk=flow["id"])
    assert list(stored.carries.values_list("pk", flat=True)) == [elements.asset.pk]
    assert flow["crosses_zones"] is False
    profile = AttackerProfile.objects.get(pk=attacker["id"])
    assert list(profile.entry_zones.values_list("pk", flat=True)) == [elements.zone.pk]
    assert attacker["entry_assets"] == [elements.asset.pk]


@pytest.mark.parametrize("kind", KINDS)
def test_detail_carries_an_etag_that_changes_with_the_element(api_as, elements, kind):
    client = api_as("editor")
    target = url(elements.system, kind, existing(kind, elements).pk)
    first = client.get(target)
    assert first.status_code == 200
    assert client.get(target)["ETag"] == first["ETag"]

    changed = client.patch(target, {"description": "changed by the API"}, format="json", HTTP_IF_MATCH=first["ETag"])

    assert changed.status_code == 200, changed.json()
    assert changed.json()["description"] == "changed by the API"
    assert changed["ETag"] != first["ETag"]
    assert client.get(target)["ETag"] == changed["ETag"]
    event = last_event(elements.system)
    assert (event.verb, event.after) == ("update", {"description": "changed by the API"})


@pytest.mark.parametrize("kind", KINDS)
def test_stale_if_match_is_412_and_changes_nothing(api_as, elements, kind, nothing_written):
    client = api_as("editor")
    target = url(elements.system, kind, existing(kind, elements).pk)
    stale = client.get(target)["ETag"]
    client.patch(target, {"description": "someone else was first"}, format="json")

    with nothing_written(elements.system):
        patched = client.patch(target, {"description": "lost update"}, format="json", HTTP_IF_MATCH=stale)
        deleted = client.delete(target, HTTP_IF_MATCH=stale)

    assert_error(patched, 412, "precondition_failed")
    assert_error(deleted, 412, "precondition_failed")


def test_if_match_star_and_lists_are_honoured(api_as, elements):
    client = api_as("editor")
    target = url(elements.system, "assets", elements.asset.pk)
    current = client.get(target)["ETag"]

    assert client.patch(target, {"criticality": 4}, format="json", HTTP_IF_MATCH="*").status_code == 200
    new = client.get(target)["ETag"]
    assert client.patch(target, {"criticality": 5}, format="json", HTTP_IF_MATCH=f'"x", {new}').status_code == 200
    assert client.patch(target, {"criticality": 1}, format="json", HTTP_IF_MATCH=f"W/{current}").status_code == 412


def test_patch_without_a_change_bumps_nothing(api_as, elements, nothing_written):
    client = api_as("editor")
    target = url(elements.system, "assets", elements.asset.pk)

    with nothing_written(elements.system):
        response = client.patch(target, {"name": elements.asset.name}, format="json")

    assert response.status_code == 200


@pytest.mark.parametrize("kind", KINDS)
def test_delete_goes_through_the_service(api_as, elements, kind):
    system = elements.system
    target = existing(kind, elements)
    client = api_as("owner", "token")
    etag = client.get(url(system, kind, target.pk))["ETag"]

    response = client.delete(url(system, kind, target.pk), HTTP_IF_MATCH=etag)

    assert response.status_code == 204
    assert not MODELS[kind].objects.filter(pk=target.pk).exists()
    assert client.get(url(system, kind, target.pk)).status_code == 404
    event = last_event(system)
    assert (event.verb, event.object_id) == ("delete", str(target.pk))


def test_deleting_an_asset_deletes_its_flows_and_lists_them_in_the_audit(api_as, elements):
    response = api_as("editor").delete(url(elements.system, "assets", elements.asset.pk))

    assert response.status_code == 204
    assert not DataFlow.objects.filter(pk=elements.flow.pk).exists()
    assert last_event(elements.system).before["deleted_flows"] == [elements.flow.pk]


@pytest.mark.parametrize("persona", ["viewer", "risk_owner"])
@pytest.mark.parametrize("body", [{}, {"name": 7}, "junk"])
def test_read_only_roles_get_403_before_the_body_is_read(api_as, elements, persona, body, nothing_written):
    client = api_as(persona)
    with nothing_written(elements.system):
        created = client.post(url(elements.system, "assets"), body, format="json")
        patched = client.patch(url(elements.system, "assets", elements.asset.pk), body, format="json")
        deleted = client.delete(url(elements.system, "assets", elements.asset.pk))

    for response in (created, patched, deleted):
        assert_error(response, 403, "permission_denied")


def test_read_only_token_of_an_editor_is_refused_on_writes(api_as, elements, nothing_written):
    client = api_as("editor", "read_only_token")
    with nothing_written(elements.system):
        response = client.post(url(elements.system, "zones"), {"name": "DMZ"}, format="json")

    assert_error(response, 403, "permission_denied")
    assert client.get(url(elements.system, "zones")).status_code == 200


@pytest.mark.parametrize("kind", KINDS)
def test_another_teams_elements_are_404_and_its_lists_too(api_as, elements, kind, nothing_written):
    client = api_as("outsider", "token")
    target = url(elements.system, kind, existing(kind, elements).pk)
    with nothing_written(elements.system):
        responses = [
            client.get(url(elements.system, kind)),
            client.post(url(elements.system, kind), valid_body(kind, elements), format="json"),
            client.get(target),
            client.patch(target, {"name": "pwned"}, format="json"),
            client.delete(target),
        ]

    for response in responses:
        assert_error(response, 404, "not_found")


def test_an_element_is_only_reachable_under_its_own_system(api_as, elements, owner, team_a):
    sibling = make_system(actor=owner, team=team_a, name="Sibling", seed_defaults=False)

    response = api_as("editor").get(url(sibling, "assets", elements.asset.pk))

    assert response.status_code == 404
    assert api_as("editor").get(url(sibling, "assets")).json()["results"] == []


@pytest.mark.parametrize(
    ("kind", "body_of"),
    [
        ("assets", lambda foreign: {"name": "x", "kind": "gpu_host", "zone": foreign.zone.pk}),
        ("assets", lambda foreign: {"name": "x", "kind": "checkpoint", "hosted_on": foreign.asset.pk}),
        ("zones", lambda foreign: {"name": "x", "parent": foreign.zone.pk}),
        ("flows", lambda foreign: {"name": "x", "source": foreign.asset.pk, "target": foreign.other.pk}),
        ("attackers", lambda foreign: {"name": "x", "entry_zones": [foreign.zone.pk]}),
        ("attackers", lambda foreign: {"name": "x", "entry_assets": [foreign.asset.pk]}),
    ],
)
def test_ids_of_another_systems_elements_do_not_exist(api_as, elements, other_system, kind, body_of, nothing_written):
    foreign_zone = TrustZoneFactory(system=other_system)
    foreign = type(
        "Foreign",
        (),
        {
            "zone": foreign_zone,
            "asset": AssetFactory(system=other_system, zone=foreign_zone),
            "other": AssetFactory(system=other_system),
        },
    )
    client = api_as("editor")
    with nothing_written(elements.system):
        response = client.post(url(elements.system, kind), body_of(foreign), format="json")

    body = assert_error(response, 400, "invalid")
    assert set(body["errors"]) <= {"zone", "hosted_on", "parent", "source", "target", "entry_zones", "entry_assets"}
    assert body["errors"]


@pytest.mark.parametrize(
    ("kind", "body", "field"),
    [
        ("assets", {"name": "x", "kind": "gpu_host", "colour": "red"}, "colour"),
        ("assets", {"name": "x", "kind": "gpu_host", "system": 1}, "system"),
        ("assets", {"name": "x", "kind": "gpu_host", "updated_at": "2020-01-01T00:00:00Z"}, "updated_at"),
        ("assets", {"name": "x", "kind": "toaster"}, "kind"),
        ("assets", {"name": "x" * 10_000, "kind": "gpu_host"}, "name"),
        ("assets", {"name": "   ", "kind": "gpu_host"}, "name"),
        ("assets", {"name": "nul\x00byte", "kind": "gpu_host"}, "name"),
        ("assets", {"name": ["a"], "kind": "gpu_host"}, "name"),
        ("assets", {"name": {"nested": {"junk": [1, 2]}}, "kind": "gpu_host"}, "name"),
        ("assets", {"name": "x", "kind": "gpu_host", "criticality": 9}, "criticality"),
        ("assets", {"name": "x", "kind": "gpu_host", "criticality": "high"}, "criticality"),
        ("assets", {"name": "x", "kind": "gpu_host", "zone": 2**70}, "zone"),
        ("assets", {"name": "x", "kind": "gpu_host", "zone": True}, "zone"),
        ("assets", {"name": "x", "kind": "gpu_host", "value_max": "1e400"}, "value_max"),
        ("assets", {"name": "x", "kind": "gpu_host", "value_min": "-1"}, "value_min"),
        ("assets", {"name": "x", "kind": "gpu_host", "value_min": "5", "value_max": "1"}, "value_likely"),
        ("assets", {"name": "x", "kind": "gpu_host", "tags": "pii"}, "tags"),
        ("assets", {"name": "x", "kind": "gpu_host", "tags": [{"a": 1}]}, "tags"),
        ("assets", {"name": "x", "kind": "gpu_host", "tags": ["t" * 41]}, "tags"),
        ("assets", {"name": "x", "kind": "gpu_host", "tags": ["t"] * 33}, "tags"),
        ("assets", {"name": "x", "kind": "gpu_host", "external_id": "e-1"}, "source"),
        ("assets", {"name": "x", "kind": "gpu_host", "mfa": True, "authentication": "none"}, "mfa"),
        ("zones", {"name": "x", "trust_level": 5}, "trust_level"),
        ("zones", {"name": "Corp network"}, "non_field_errors"),
        ("attackers", {"name": "x", "capability": "OC9"}, "capability"),
        ("attackers", {"name": "x", "entry_zones": "1"}, "entry_zones"),
        ("flows", {"name": "x"}, "source"),
    ],
)
def test_invalid_bodies_are_400_naming_the_field(api_as, elements, kind, body, field, nothing_written):
    client = api_as("editor")
    with nothing_written(elements.system):
        response = client.post(url(elements.system, kind), body, format="json")

    assert field in assert_error(response, 400, "invalid")["errors"]


def test_a_flow_from_an_asset_to_itself_is_refused(api_as, elements, nothing_written):
    body = {"name": "loop", "source": elements.asset.pk, "target": elements.asset.pk}
    client = api_as("editor")
    with nothing_written(elements.system):
        response = client.post(url(elements.system, "flows"), body, format="json")

    assert "target" in assert_error(response, 400, "invalid")["errors"]


def test_a_zone_cannot_become_its_own_ancestor(api_as, elements, nothing_written):
    child = TrustZoneFactory(system=elements.system, parent=elements.zone)
    client = api_as("editor")
    with nothing_written(elements.system):
        response = client.patch(url(elements.system, "zones", elements.zone.pk), {"parent": child.pk}, format="json")

    assert "parent" in assert_error(response, 400, "invalid")["errors"]


def test_an_asset_cannot_be_hosted_on_itself(api_as, elements, nothing_written):
    target = url(elements.system, "assets", elements.asset.pk)
    client = api_as("editor")
    with nothing_written(elements.system):
        response = client.patch(target, {"hosted_on": elements.asset.pk}, format="json")

    assert "hosted_on" in assert_error(response, 400, "invalid")["errors"]


@pytest.mark.parametrize(
    "raw",
    [
        b"[1, 2, 3]",
        b'"just a string"',
        b"null",
        b'{"name": "x", "kind": ',
        b'{"name": "\\ud800", "kind": "gpu_host"}',
        b'{"name": NaN, "kind": "gpu_host"}',
        b"\xff\xfe not utf-8",
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["list", "string", "null", "truncated", "lone-surrogate", "nan", "not-utf8", "deep-nesting"],
)
def test_hostile_json_is_a_clear_400(api_as, elements, raw, nothing_written):
    client = api_as("editor")
    with nothing_written(elements.system):
        response = client.post(url(elements.system, "assets"), raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] in {"invalid", "parse_error"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
def test_bodies_must_be_json(api_as, elements, content_type, nothing_written):
    client = api_as("editor")
    with nothing_written(elements.system):
        response = client.post(url(elements.system, "zones"), "name=x", content_type=content_type)

    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("path", ["assets/abc/", "assets/-1/", "assets/99999999999999999999999/", "widgets/"])
def test_unknown_element_paths_are_json_404s(api_as, elements, path):
    response = api_as("editor").get(f"/api/v1/systems/{elements.system.slug}/{path}")

    assert_error(response, 404, "not_found")


def test_put_is_not_offered_patch_is(api_as, elements):
    response = api_as("editor").put(url(elements.system, "assets", elements.asset.pk), {"name": "x"}, format="json")

    assert_error(response, 405, "method_not_allowed")
