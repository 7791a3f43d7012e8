"""Size limits (issue 13, point 5): assets and flows per system, items per sync, and an editor
graph of bounded size whatever the system's size."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.api.test_api_errors import shape
from tests.workbench.inventory_sync_support import asset, flow, inventory, post_sync
from workbench.models import Asset, DataFlow, Job, System
from workbench.services.synthetic import system_generate

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(editor) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(editor)
    return client


def _full_at(settings: Any, system: System, **extra: int) -> None:
    """Caps equal to what the system holds now (plus ``extra``): the next row is one too many."""
    settings.MAX_ASSETS_PER_SYSTEM = Asset.objects.filter(system=system).count() + extra.get("assets", 0)
    settings.MAX_FLOWS_PER_SYSTEM = DataFlow.objects.filter(system=system).count() + extra.get("flows", 0)


def _api(client: Client, method: str, url: str, body: Any, **headers: str) -> Any:
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json", headers=headers)


# --- assets and flows per system --------------------------------------------------------------


def test_an_asset_past_the_systems_limit_is_a_422_and_an_update_still_works(
    editor_client, elements, settings, nothing_written
):
    _full_at(settings, elements.system)
    url = f"/api/v1/systems/{elements.system.slug}/assets/"

    with nothing_written(elements.system):
        response = _api(editor_client, "post", url, {"name": "One too many", "kind": "gpu_host"})

    assert response.status_code == 422
    body = shape(response)
    assert body["code"] == "system_too_large"
    assert "more than the limit of 2 per system" in body["detail"]
    assert set(body["errors"]) == {"assets"}
    # A full system still takes changes to what it holds.
    edited = _api(editor_client, "patch", f"{url}{elements.asset.pk}/", {"description": "Still editable"})
    assert edited.status_code == 200, edited.content


def test_a_flow_past_the_systems_limit_is_a_422(editor_client, elements, settings, nothing_written):
    _full_at(settings, elements.system, assets=10)
    url = f"/api/v1/systems/{elements.system.slug}/flows/"
    body = {"name": "Back", "source": elements.asset.pk, "target": elements.other_asset.pk}

    with nothing_written(elements.system):
        response = _api(editor_client, "post", url, body)

    assert response.status_code == 422
    assert shape(response)["code"] == "system_too_large"


def test_the_asset_form_past_the_limit_is_a_form_error(editor_client, elements, settings, form_data, nothing_written):
    _full_at(settings, elements.system)
    url = f"/systems/{elements.system.slug}/assets/new/"

    with nothing_written(elements.system):
        response = editor_client.post(url, form_data("assets", elements))

    assert response.status_code == 400
    assert "more than the limit of 2 per system" in response.content.decode()


def test_an_editor_batch_past_the_limit_is_a_422_and_writes_none_of_its_operations(
    editor_client, elements, settings, nothing_written
):
    _full_at(settings, elements.system, assets=1)
    system = elements.system
    operations = [
        {"op": "update", "kind": "asset", "id": elements.asset.pk, "data": {"name": "Renamed first"}},
        {"op": "create", "kind": "asset", "data": {"name": "Fits", "kind": "gpu_host"}},
        {"op": "create", "kind": "asset", "data": {"name": "Does not fit", "kind": "gpu_host"}},
    ]

    with nothing_written(system):
        response = _api(
            editor_client,
            "post",
            f"/api/v1/systems/{system.slug}/batch/",
            {"operations": operations},
            **{"If-Match": f'"v{system.version}"'},
        )

    assert response.status_code == 422
    assert shape(response)["code"] == "system_too_large"
    assert Asset.objects.get(pk=elements.asset.pk).name == elements.asset.name


# --- inventory sync ----------------------------------------------------------------------------


def test_a_sync_with_more_items_than_allowed_is_a_413_before_parsing(editor_client, system, settings, nothing_written):
    settings.MAX_SYNC_ITEMS = 5
    payload = inventory(3, flows_per_asset=1)  # 3 assets + 3 flows
    payload["assets"].append("not even an object")  # never looked at

    with nothing_written(system):
        response = post_sync(editor_client, system, payload)

    assert response.status_code == 413
    body = shape(response)
    assert body["code"] == "too_many_items"
    assert "at most 5 items" in body["detail"] and "this one has 7" in body["detail"]


def test_a_large_sync_past_the_item_limit_is_refused_before_it_becomes_a_job(
    editor_client, system, settings, nothing_written
):
    settings.MAX_SYNC_ITEMS = 10
    settings.INVENTORY_SYNC_INLINE_ITEMS = 2

    with nothing_written(system):
        response = post_sync(editor_client, system, inventory(6, flows_per_asset=1))

    assert response.status_code == 413
    assert not Job.objects.filter(system=system).exists()


def test_a_sync_that_would_pass_the_asset_limit_is_a_422_and_writes_nothing(
    editor_client, system, settings, nothing_written
):
    settings.MAX_ASSETS_PER_SYSTEM = 4

    with nothing_written(system):
        response = post_sync(editor_client, system, inventory(5, flows_per_asset=1))
        dry = post_sync(editor_client, system, {**inventory(5, flows_per_asset=1), "dry_run": True})

    assert response.status_code == 422
    body = shape(response)
    assert body["code"] == "system_too_large"
    assert "would hold 5 assets, more than the limit of 4" in body["detail"]
    assert dry.status_code == 422


def test_a_sync_that_would_pass_the_flow_limit_is_a_422(editor_client, system, settings, nothing_written):
    settings.MAX_FLOWS_PER_SYSTEM = 3

    with nothing_written(system):
        response = post_sync(editor_client, system, inventory(4, flows_per_asset=1))

    assert response.status_code == 422
    assert set(shape(response)["errors"]) == {"flows"}


def test_a_full_sync_makes_room_by_pruning_what_it_replaces(editor_client, system, settings):
    settings.MAX_ASSETS_PER_SYSTEM = 3
    first = post_sync(editor_client, system, {"source": "cmdb", "assets": [asset("a"), asset("b"), asset("c")]})
    replaced = {"source": "cmdb", "mode": "full", "assets": [asset("d"), asset("e")], "flows": [flow("d", "e")]}

    second = post_sync(editor_client, system, replaced)
    refused = post_sync(editor_client, system, {"source": "other", "assets": [asset("x"), asset("y")]})

    assert first.status_code == second.status_code == 200, second.content
    assert sorted(Asset.objects.filter(system=system).values_list("external_id", flat=True)) == ["d", "e"]
    assert refused.status_code == 422


# --- the editor graph --------------------------------------------------------------------------


def test_the_graph_of_a_system_past_the_drawing_limit_answers_zones_and_counts_in_bounded_size(
    client_as, editor, team_a, settings
):
    settings.EDITOR_GRAPH_MAX_ELEMENTS = 200
    small = system_generate(actor=editor, team=team_a, name="Small", assets=30, flows_per_asset=2)
    huge = system_generate(actor=editor, team=team_a, name="Huge", assets=1500, flows_per_asset=3)
    client = client_as("viewer")

    drawn = client.get(f"/api/v1/systems/{small.slug}/graph/")
    summary = client.get(f"/api/v1/systems/{huge.slug}/graph/")

    assert drawn.json()["level"] == "full"
    assert len(drawn.json()["assets"]) == 30
    body = summary.json()
    assert body["level"] == "zones"
    assert (body["assets"], body["flows"], body["positions"], body["findings"]) == ([], [], {}, {})
    assert body["can_edit"] is False
    assert body["totals"] == {"zones": huge.zones.count(), "assets": 1500, "flows": huge.flows.count()}
    counted = {zone["id"]: zone["asset_count"] for zone in body["zones"]}
    assert sum(counted.values()) + body["unzoned_assets"] == 1500
    assert sum(pair["count"] for pair in body["zone_flows"]) == huge.flows.count()
    assert len(summary.content) < 10_000  # the full graph of this system is over 1 MB


def test_the_graph_of_one_zone_is_drawn_in_full_when_it_fits(client_as, editor, team_a, settings):
    settings.EDITOR_GRAPH_MAX_ELEMENTS = 400
    huge = system_generate(actor=editor, team=team_a, name="Huge", assets=600, flows_per_asset=2)
    client = client_as("editor")
    summary = client.get(f"/api/v1/systems/{huge.slug}/graph/").json()
    smallest = min((zone for zone in summary["zones"] if zone["asset_count"]), key=lambda zone: zone["asset_count"])

    zone = client.get(f"/api/v1/systems/{huge.slug}/graph/", {"zone": smallest["id"]}).json()

    assert summary["level"] == "zones"
    assert zone["level"] == "full" and zone["zone"] == smallest["id"]
    assert {row["zone"] for row in zone["assets"]} == {smallest["id"]}
    assert len(zone["assets"]) == smallest["asset_count"]
    in_zone = {row["id"] for row in zone["assets"]}
    assert all(row["source"] in in_zone and row["target"] in in_zone for row in zone["flows"])
    assert zone["can_edit"] is True


@pytest.mark.parametrize("value", ["abc", "0", "99999999999999999999"])
def test_a_bad_zone_of_the_graph_is_a_400(client_as, elements, other_system, value):
    client = client_as("viewer")
    url = f"/api/v1/systems/{elements.system.slug}/graph/"

    bad = client.get(url, {"zone": value})
    foreign = client.get(url, {"zone": other_system.zones.first().pk})

    assert bad.status_code == 400 and "zone" in shape(bad)["errors"]
    assert foreign.status_code == 400
