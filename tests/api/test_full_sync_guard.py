"""A ``full`` sync without assets deletes nothing unless it says ``"prune_all": true``
(issue 13, point 8): an empty export from a broken collector used to wipe the source."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.api.test_api_errors import shape
from tests.workbench.inventory_sync_support import asset, flow, post_sync
from workbench.models import Asset, DataFlow, System

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(editor) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(editor)
    return client


@pytest.fixture
def synced(editor_client: Client, system: System) -> System:
    payload = {"source": "cmdb", "assets": [asset("a"), asset("b")], "flows": [flow("a", "b")]}
    assert post_sync(editor_client, system, payload).status_code == 200
    return system


@pytest.mark.parametrize(
    "payload",
    [
        {"source": "cmdb", "mode": "full"},
        {"source": "cmdb", "mode": "full", "assets": []},
        {"source": "cmdb", "mode": "full", "assets": [], "flows": []},
        {"source": "cmdb", "mode": "full", "assets": [], "dry_run": True},
        {"source": "cmdb", "mode": "full", "assets": [], "prune_all": False},
    ],
)
def test_a_full_sync_without_assets_is_a_422_and_deletes_nothing(editor_client, synced, nothing_written, payload):
    with nothing_written(synced):
        response = post_sync(editor_client, synced, payload)

    assert response.status_code == 422
    body = shape(response)
    assert body["code"] == "prune_all_required"
    assert '"prune_all": true' in body["detail"] and "'cmdb'" in body["detail"]


def test_prune_all_deletes_every_asset_of_the_source_and_their_flows(editor_client, synced):
    other = post_sync(editor_client, synced, {"source": "ci", "assets": [asset("keep")]})
    # A full sync that names assets needs no flag: it prunes what it leaves out.
    partial = post_sync(editor_client, synced, {"source": "cmdb", "mode": "full", "assets": [asset("a")]})

    response = post_sync(editor_client, synced, {"source": "cmdb", "mode": "full", "assets": [], "prune_all": True})

    assert other.status_code == partial.status_code == response.status_code == 200, response.content
    assert [entry["external_id"] for entry in partial.json()["deleted"]["assets"]] == ["b"]
    assert response.json()["summary"]["assets"]["deleted"] == 1
    assert list(Asset.objects.filter(system=synced).values_list("external_id", flat=True)) == ["keep"]
    assert not DataFlow.objects.filter(system=synced).exists()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"source": "cmdb", "mode": "full", "prune_all": "yes"}, "Expected true or false."),
        ({"source": "cmdb", "assets": [], "prune_all": True}, "Only a sync with mode 'full' prunes"),
        ({"source": "cmdb", "mode": "sideways", "prune_all": 1}, "Expected true or false."),
    ],
)
def test_a_bad_prune_all_is_a_400(editor_client, synced, nothing_written, payload: dict[str, Any], message: str):
    with nothing_written(synced):
        response = post_sync(editor_client, synced, payload)

    assert response.status_code == 400
    errors = shape(response)["errors"]
    assert message in errors["prune_all"][0]
