"""The editor's API: batch writes guarded by the system version, layout saves, graph and version reads."""

from __future__ import annotations

import pytest

from workbench.models import Asset, AssetPosition, AuditEvent, DataFlow, System, TrustZone

pytestmark = pytest.mark.django_db


def batch_url(system: System) -> str:
    return f"/api/v1/systems/{system.slug}/batch/"


def etag(system: System) -> str:
    system.refresh_from_db()
    return f'"v{system.version}"'


@pytest.fixture
def as_editor(api_as):
    """The editor's client, made before a ``nothing_written`` block (making it adds a membership)."""
    return api_as("editor")


def post_batch(client, system, body, if_match=None):
    headers = {} if if_match is False else {"HTTP_IF_MATCH": if_match or etag(system)}
    return client.post(batch_url(system), body, format="json", **headers)


CREATE_TWO_AND_CONNECT = {
    "operations": [
        {"op": "create", "kind": "zone", "ref": "corp", "data": {"name": "Corp", "trust_level": 3}},
        {
            "op": "create",
            "kind": "asset",
            "ref": "api",
            "data": {"name": "Chat API", "kind": "inference_endpoint", "zone": "corp"},
        },
        {
            "op": "create",
            "kind": "asset",
            "ref": "reg",
            "data": {"name": "Registry", "kind": "model_registry", "zone": "corp"},
        },
        {"op": "create", "kind": "flow", "data": {"name": "Pull", "source": "api", "target": "reg"}},
    ],
    "positions": [{"asset": "api", "x": 10, "y": 20}],
}


def test_a_batch_creates_connected_elements_through_the_services(api_as, as_editor, system, nothing_written):
    before = etag(system)
    response = post_batch(as_editor, system, CREATE_TWO_AND_CONNECT, before)
    assert response.status_code == 200, response.json()
    body = response.json()
    system.refresh_from_db()
    assert body["version"] == system.version == int(before.strip('"v')) + 4
    assert response["ETag"] == f'"v{system.version}"'
    flow = DataFlow.objects.get(system=system, name="Pull")
    assert (flow.source_id, flow.target_id) == (body["refs"]["api"], body["refs"]["reg"])
    assert Asset.objects.get(pk=body["refs"]["api"]).zone == TrustZone.objects.get(system=system, name="Corp")
    assert (
        AuditEvent.objects.filter(
            system=system, verb="create", object_type__in=["asset", "dataflow", "trustzone"]
        ).count()
        == 4
    )
    assert AssetPosition.objects.get(asset_id=body["refs"]["api"]).x == 10


def test_a_stale_version_is_412_with_the_current_version_and_writes_nothing(
    api_as, as_editor, system, elements, nothing_written
):
    stale = etag(system)
    api_as("owner").patch(
        f"/api/v1/systems/{system.slug}/assets/{elements.asset.pk}/", {"name": "Renamed"}, format="json"
    )
    current = etag(system)
    with nothing_written(system):
        response = post_batch(as_editor, system, CREATE_TWO_AND_CONNECT, stale)
    assert response.status_code == 412
    assert response.json() == {
        "detail": "Someone else changed this system since you loaded it.",
        "code": "precondition_failed",
        "version": int(current.strip('"v')),
    }
    assert response["ETag"] == current


def test_if_match_is_required(api_as, as_editor, system, nothing_written):
    with nothing_written(system):
        response = post_batch(as_editor, system, CREATE_TWO_AND_CONNECT, if_match=False)
    assert response.status_code == 428
    assert response.json()["code"] == "precondition_required"


def test_one_bad_operation_rolls_back_the_whole_batch(api_as, as_editor, system, elements, nothing_written):
    body = {
        "operations": [
            {"op": "update", "kind": "asset", "id": elements.asset.pk, "data": {"name": "Kept?"}},
            {
                "op": "create",
                "kind": "flow",
                "data": {"name": "Loop", "source": elements.asset.pk, "target": elements.asset.pk},
            },
        ]
    }
    with nothing_written(system):
        response = post_batch(as_editor, system, body)
    assert response.status_code == 400
    assert any(key.startswith("operations.1.") for key in response.json()["errors"])


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "create", "kind": "asset", "data": {"name": "X", "kind": "not-a-kind"}},
        {"op": "create", "kind": "asset", "data": {"name": "X", "kind": "gpu_host", "zone": "nowhere"}},
        {"op": "create", "kind": "asset", "data": {"name": "X", "kind": "gpu_host", "evil": 1}},
        {"op": "update", "kind": "asset", "data": {"name": "no id"}},
        {"op": "delete", "kind": "flow", "id": 999_999},
        {"op": "create", "kind": "system", "data": {}},
        {"op": "drop", "kind": "asset", "id": 1},
        {"op": "create", "kind": "asset", "id": 3, "data": {"name": "X", "kind": "gpu_host"}},
    ],
)
def test_hostile_operations_are_400_and_write_nothing(api_as, as_editor, system, elements, nothing_written, operation):
    with nothing_written(system):
        response = post_batch(as_editor, system, {"operations": [operation]})
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"


def test_another_teams_element_cannot_be_named(api_as, as_editor, system, other_system, nothing_written):
    foreign = Asset.objects.create(team=other_system.team, system=other_system, name="Theirs", kind="gpu_host")
    body = {"operations": [{"op": "delete", "kind": "asset", "id": foreign.pk}]}
    with nothing_written(other_system):
        assert post_batch(as_editor, system, body).status_code == 400
    assert Asset.objects.filter(pk=foreign.pk).exists()


@pytest.mark.parametrize(("persona", "code"), [("viewer", 403), ("risk_owner", 403), ("outsider", 404), (None, 401)])
def test_roles_and_teams_are_enforced(api_as, system, nothing_written, persona, code):
    client = api_as(persona)
    with nothing_written(system):
        assert post_batch(client, system, CREATE_TWO_AND_CONNECT).status_code == code
        layout = client.put(f"/api/v1/systems/{system.slug}/layout/", {"positions": []}, format="json")
        assert layout.status_code == code


def test_read_only_token_cannot_batch(api_as, system, nothing_written):
    client = api_as("editor", "read_only_token")
    with nothing_written(system):
        assert post_batch(client, system, CREATE_TWO_AND_CONNECT).status_code == 403


def test_updates_and_deletes_apply_and_audit(api_as, as_editor, system, elements):
    body = {
        "operations": [
            {"op": "update", "kind": "asset", "id": elements.asset.pk, "data": {"description": "locked"}},
            {"op": "delete", "kind": "flow", "id": elements.flow.pk},
        ]
    }
    response = post_batch(as_editor, system, body)
    assert response.status_code == 200
    elements.asset.refresh_from_db()
    assert elements.asset.description == "locked"
    assert not DataFlow.objects.filter(pk=elements.flow.pk).exists()
    system.refresh_from_db()
    assert response.json()["version"] == system.version


def test_a_drag_saves_the_position_without_audit_or_version_bump(api_as, as_editor, system, elements):
    version, events = etag(system), AuditEvent.objects.count()
    client = as_editor
    url = f"/api/v1/systems/{system.slug}/layout/"
    for x in (1.5, 99.0):
        response = client.put(url, {"positions": [{"asset": str(elements.asset.pk), "x": x, "y": -4}]}, format="json")
        assert response.status_code == 200 and response.json() == {"saved": 1}
    assert AssetPosition.objects.get(asset=elements.asset).x == 99.0
    assert etag(system) == version and AuditEvent.objects.count() == events
    graph = client.get(f"/api/v1/systems/{system.slug}/graph/").json()
    assert graph["positions"][str(elements.asset.pk)] == [99.0, -4.0]


@pytest.mark.parametrize(
    "position", [{"x": 2e6, "y": 0}, {"x": -2e6, "y": 0}, {"x": "a", "y": 0}, {"x": "NaN", "y": 0}, {"y": 0}]
)
def test_hostile_positions_are_refused(api_as, as_editor, system, elements, position):
    body = {"positions": [{"asset": str(elements.asset.pk), **position}]}
    response = as_editor.put(f"/api/v1/systems/{system.slug}/layout/", body, format="json")
    assert response.status_code == 400
    assert not AssetPosition.objects.exists()


def test_positions_of_another_systems_asset_are_refused(api_as, as_editor, system, other_system):
    foreign = Asset.objects.create(team=other_system.team, system=other_system, name="Theirs", kind="gpu_host")
    body = {"positions": [{"asset": str(foreign.pk), "x": 1, "y": 1}]}
    assert as_editor.put(f"/api/v1/systems/{system.slug}/layout/", body, format="json").status_code == 400
    assert not AssetPosition.objects.exists()


def test_graph_and_version_reads(api_as, system, elements, owner):
    graph = api_as("viewer").get(f"/api/v1/systems/{system.slug}/graph/")
    assert graph.status_code == 200
    data = graph.json()
    assert data["can_edit"] is False and data["version"] == System.objects.get(pk=system.pk).version
    assert {a["name"] for a in data["assets"]} == {"Weights bucket", "GPU host"}
    assert [f["name"] for f in data["flows"]] == ["Checkpoint upload"]
    version = api_as("viewer").get(f"/api/v1/systems/{system.slug}/version/").json()
    assert version["version"] == data["version"] and version["last_change"]["actor_name"] == owner.username
    assert api_as("outsider").get(f"/api/v1/systems/{system.slug}/graph/").status_code == 404
    assert api_as("outsider").get(f"/api/v1/systems/{system.slug}/version/").status_code == 404
