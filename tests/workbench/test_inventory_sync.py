"""Inventory sync: created/updated/unchanged per item, idempotency, full prune, dry run, one bump."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.factories import AssetFactory, DataFlowFactory
from tests.workbench.inventory_sync_support import (
    asset,
    flow,
    inventory,
    post_sync,
    updated_columns,
    updated_row_count,
    write_statements,
)
from workbench.choices import JobStatus
from workbench.models import Asset, AuditEvent, DataFlow, InventorySync, Job, System
from workbench.services.inventory import write as write_module
from workbench.tasks import inventory_sync_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_client: Any, editor: Any) -> Any:
    api_client.force_login(editor)
    return api_client


@pytest.fixture
def recomputes(held_changes: list[int]) -> list[int]:
    """System ids whose committed changes would have queued a recompute (held, not queued)."""
    return held_changes


def version(system: System) -> int:
    return System.objects.values_list("version", flat=True).get(pk=system.pk)


def stored(system: System, source: str = "cmdb") -> dict[str, Asset]:
    return {a.external_id: a for a in Asset.objects.filter(system=system, source=source)}


def test_first_sync_creates_every_item_and_reports_it(api, system, recomputes, django_capture_on_commit_callbacks):
    payload = inventory(3)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_sync(api, system, payload)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["summary"]["assets"] == {"created": 3, "updated": 0, "unchanged": 0, "deleted": 0}
    assert body["summary"]["flows"] == {"created": 6, "updated": 0, "unchanged": 0, "deleted": 0}
    assert [item["status"] for item in body["assets"]] == ["created"] * 3
    rows = stored(system)
    assert sorted(rows) == ["a0", "a1", "a2"]
    assert {item["external_id"]: item["id"] for item in body["assets"]} == {k: a.pk for k, a in rows.items()}
    assert rows["a0"].value_likely == Decimal(5000)
    assert rows["a0"].tags == ["cmdb"]
    assert rows["a0"].team_id == system.team_id
    a0_out = DataFlow.objects.get(system=system, origin="cmdb", external_id="a0->a1")
    assert (a0_out.source_id, a0_out.target_id) == (rows["a0"].pk, rows["a1"].pk)
    assert a0_out.name == "a0 → a1"
    assert body["version"] == version(system)
    assert recomputes == [system.pk]


def test_one_version_bump_and_one_audit_event_per_sync(api, system, recomputes, django_capture_on_commit_callbacks):
    before_version, before_events = version(system), AuditEvent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        post_sync(api, system, inventory(40))

    assert version(system) == before_version + 1
    events = list(AuditEvent.objects.order_by("sequence")[before_events:])
    assert [(e.verb, e.object_type, e.object_id) for e in events] == [("inventory_sync", "inventory", "cmdb")]
    assert events[0].after["assets"]["created"] == 40
    assert events[0].after["flows"]["created"] == 80
    assert len(events[0].after["created_assets"]) == 40
    assert recomputes == [system.pk]


def test_same_payload_twice_writes_nothing_the_second_time(api, system, recomputes, django_capture_on_commit_callbacks):
    payload = inventory(30)
    with django_capture_on_commit_callbacks(execute=True):
        post_sync(api, system, payload)
    stamps = dict(Asset.objects.filter(system=system).values_list("pk", "updated_at"))
    flow_stamps = dict(DataFlow.objects.filter(system=system).values_list("pk", "updated_at"))
    state = (version(system), AuditEvent.objects.count(), len(recomputes))

    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        response = post_sync(api, system, payload)

    assert response.status_code == 200
    body = response.json()
    assert body["changed"] is False
    assert body["summary"]["assets"] == {"created": 0, "updated": 0, "unchanged": 30, "deleted": 0}
    assert body["summary"]["flows"]["unchanged"] == 60
    assert write_statements(queries.captured_queries) == []
    assert (version(system), AuditEvent.objects.count(), len(recomputes)) == state
    assert dict(Asset.objects.filter(system=system).values_list("pk", "updated_at")) == stamps
    assert dict(DataFlow.objects.filter(system=system).values_list("pk", "updated_at")) == flow_stamps


def test_decimal_strings_as_the_read_api_writes_them_are_unchanged(api, system):
    post_sync(api, system, {"source": "cmdb", "assets": [asset("a", value_min=10, size_gb=1.5)]})
    again = asset("a", value_min="10.00", size_gb="1.500", value_likely="5000.00", value_max=20000.0)

    body = post_sync(api, system, {"source": "cmdb", "assets": [again]}).json()

    assert body["assets"][0]["status"] == "unchanged"


def test_changed_item_updates_only_its_changed_columns(api, system):
    payload = inventory(5)
    post_sync(api, system, payload)
    untouched = dict(Asset.objects.filter(system=system).exclude(external_id="a3").values_list("pk", "updated_at"))
    payload["assets"][3] = asset("a3", name="Renamed store", internet_facing=True)

    with CaptureQueriesContext(connection) as queries:
        body = post_sync(api, system, payload).json()

    assert body["summary"]["assets"] == {"created": 0, "updated": 1, "unchanged": 4, "deleted": 0}
    assert body["assets"][3] == {
        "index": 3,
        "external_id": "a3",
        "status": "updated",
        "id": stored(system)["a3"].pk,
        "changed": ["name", "internet_facing"],
    }
    updates = [sql for sql in write_statements(queries.captured_queries) if '"workbench_asset"' in sql]
    assert len(updates) == 1
    assert updated_columns(updates[0]) == ["internet_facing", "name", "updated_at"]
    assert updated_row_count(queries.captured_queries, updates[0]) == 1  # a3's, as updated_at shows:
    assert stored(system)["a3"].name == "Renamed store"
    assert dict(Asset.objects.filter(system=system).exclude(external_id="a3").values_list("pk", "updated_at")) == (
        untouched
    )


def test_omitted_fields_keep_their_value(api, system):
    post_sync(api, system, {"source": "cmdb", "assets": [asset("a", criticality=5, description="Primary")]})

    body = post_sync(api, system, {"source": "cmdb", "assets": [{"external_id": "a", "monitored": True}]}).json()

    assert body["assets"][0]["changed"] == ["monitored"]
    row = stored(system)["a"]
    assert (row.criticality, row.description, row.monitored, row.name) == (5, "Primary", True, "Asset a")


def test_zone_by_name_or_id_and_hosted_on_by_external_id(api, system, elements):
    payload = {
        "source": "cmdb",
        "assets": [
            asset("weights", kind="model_weights", zone="Corp network", hosted_on="bucket"),
            asset("bucket", zone=elements.zone.pk),
            asset("server", kind="inference_endpoint", hosted_on="gpu"),
            asset("gpu", kind="gpu_host"),
        ],
    }
    body = post_sync(api, system, payload).json()

    rows = stored(system)
    assert body["summary"]["assets"]["created"] == 4
    assert rows["weights"].zone_id == rows["bucket"].zone_id == elements.zone.pk
    assert rows["server"].hosted_on_id == rows["gpu"].pk
    # On a data asset hosted_on names its one stored copy (risk method v2): the column stays empty.
    assert rows["weights"].hosted_on_id is None
    assert list(rows["weights"].copies.values_list("holder_id", "mode")) == [(rows["bucket"].pk, "stored")]
    assert post_sync(api, system, payload).json()["changed"] is False


def test_flows_carry_assets_and_changes_to_carries_are_updates(api, system):
    payload = {
        "source": "cmdb",
        "assets": [asset("gpu", kind="gpu_host"), asset("store"), asset("weights", kind="model_weights")],
        "flows": [flow("gpu", "store", carries=["weights"], encrypted=False)],
    }
    post_sync(api, system, payload)
    row = DataFlow.objects.get(system=system, external_id="gpu->store")
    assert list(row.carries.values_list("external_id", flat=True)) == ["weights"]
    assert row.encrypted is False

    payload["flows"][0]["carries"] = []
    body = post_sync(api, system, payload).json()

    assert body["flows"][0]["status"] == "updated"
    assert body["flows"][0]["changed"] == ["carries"]
    assert row.carries.count() == 0


def test_flow_endpoints_may_be_stored_assets_of_the_source_in_upsert_mode(api, system):
    post_sync(api, system, {"source": "cmdb", "assets": [asset("a"), asset("b")]})

    body = post_sync(api, system, {"source": "cmdb", "flows": [flow("a", "b")]}).json()

    assert body["summary"]["flows"]["created"] == 1
    assert body["summary"]["assets"] == {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0}


def test_upsert_leaves_absent_assets_and_other_sources_alone(api, system, elements):
    post_sync(api, system, inventory(4))
    post_sync(api, system, {"source": "mlflow", "assets": [asset("a0")]})

    body = post_sync(api, system, {"source": "cmdb", "assets": [asset("a0")]}).json()

    assert body["summary"]["assets"]["deleted"] == 0
    assert sorted(stored(system)) == ["a0", "a1", "a2", "a3"]
    assert list(stored(system, "mlflow")) == ["a0"]
    assert Asset.objects.filter(pk=elements.asset.pk).exists()


def test_full_mode_prunes_exactly_the_missing_assets_and_their_flows(api, system, elements):
    post_sync(api, system, inventory(5))
    post_sync(api, system, {"source": "mlflow", "assets": [asset("a4")]})
    rows = stored(system)
    manual = DataFlowFactory(system=system, source=elements.asset, target=rows["a4"], name="Manual flow")
    kept = inventory(5, mode="full")
    kept["assets"] = [a for a in kept["assets"] if a["external_id"] != "a4"]
    kept["flows"] = [f for f in kept["flows"] if "a4" not in (f["source"], f["target"])]

    body = post_sync(api, system, kept).json()

    assert body["summary"]["assets"] == {"created": 0, "updated": 0, "unchanged": 4, "deleted": 1}
    assert body["deleted"]["assets"] == [{"id": rows["a4"].pk, "external_id": "a4", "name": "Asset a4"}]
    deleted_flows = {(f["origin"], f["external_id"]) for f in body["deleted"]["flows"]}
    assert deleted_flows == {("cmdb", "a2->a4"), ("cmdb", "a3->a4"), ("cmdb", "a4->a0"), ("cmdb", "a4->a1"), ("", "")}
    assert body["summary"]["flows"]["deleted"] == 5
    assert sorted(stored(system)) == ["a0", "a1", "a2", "a3"]
    assert not DataFlow.objects.filter(pk=manual.pk).exists()
    assert DataFlow.objects.filter(system=system, origin="cmdb").count() == 6
    assert list(stored(system, "mlflow")) == ["a4"]  # another source's a4 is not this source's
    assert Asset.objects.filter(pk=elements.asset.pk).exists()  # manual assets have no source


def test_full_mode_prunes_the_sources_flows_missing_from_the_payload(api, system):
    post_sync(api, system, inventory(3))
    payload = inventory(3, mode="full")
    payload["flows"] = payload["flows"][:2]

    body = post_sync(api, system, payload).json()

    assert body["summary"]["flows"] == {"created": 0, "updated": 0, "unchanged": 2, "deleted": 4}
    assert DataFlow.objects.filter(system=system).count() == 2


def test_full_mode_refuses_a_flow_whose_stored_end_would_be_pruned(api, system, nothing_written):
    post_sync(api, system, inventory(3))
    payload = {"source": "cmdb", "mode": "full", "assets": [asset("a0")], "flows": [{"external_id": "a0->a1"}]}

    with nothing_written(system):
        response = post_sync(api, system, payload)

    assert response.status_code == 422
    assert response.json()["errors"]["flows"][0]["errors"] == {
        "target": ["Its stored target asset 'a1' is not in this full sync and would be deleted."]
    }


def test_dry_run_reports_the_same_results_and_writes_nothing(api, system, nothing_written):
    post_sync(api, system, inventory(3))
    payload = inventory(4, mode="full", dry_run=True)
    payload["assets"][0]["name"] = "Changed"
    payload["assets"] = payload["assets"][:1] + payload["assets"][2:]
    payload["flows"] = [flow("a0", "a2")]

    with nothing_written(system), CaptureQueriesContext(connection) as queries:
        body = post_sync(api, system, payload).json()

    assert write_statements(queries.captured_queries) == []
    assert body["dry_run"] is True and body["changed"] is True
    assert body["summary"]["assets"] == {"created": 1, "updated": 1, "unchanged": 1, "deleted": 1}
    assert body["assets"][2] == {"index": 2, "external_id": "a3", "status": "created", "id": None}
    real = dict(payload, dry_run=False)
    assert post_sync(api, system, real).json()["summary"] == body["summary"]


def test_manual_edits_of_a_synced_asset_are_overwritten_only_where_the_source_speaks(api, system):
    post_sync(api, system, {"source": "cmdb", "assets": [asset("a")]})
    Asset.objects.filter(system=system, external_id="a").update(criticality=5, name="Edited by hand")

    body = post_sync(api, system, {"source": "cmdb", "assets": [asset("a")]}).json()

    assert body["assets"][0]["changed"] == ["name"]
    assert stored(system)["a"].criticality == 5


def test_a_payload_about_a_manual_asset_key_does_not_touch_it(api, system):
    manual = AssetFactory(system=system, name="Manual", source="", external_id="")
    post_sync(api, system, {"source": "cmdb", "assets": [asset("x")]})

    manual.refresh_from_db()
    assert manual.name == "Manual"
    assert Asset.objects.filter(system=system).count() == 2


def test_many_different_column_sets_are_written_in_a_bounded_number_of_statements(api, system):
    post_sync(api, system, inventory(12, flows_per_asset=0))
    changes = [
        {"name": "N"},
        {"criticality": 5},
        {"description": "D"},
        {"monitored": True},
        {"logging": True},
        {"third_party": True},
        {"encrypted_at_rest": True},
        {"tags": ["x"]},
        {"name": "M", "criticality": 2},
    ]
    payload = inventory(12, flows_per_asset=0)
    for item, change in zip(payload["assets"], changes, strict=False):
        item.update(change)

    with CaptureQueriesContext(connection) as queries:
        body = post_sync(api, system, payload).json()

    updates = [sql for sql in write_statements(queries.captured_queries) if sql.startswith('UPDATE "workbench_asset"')]
    assert len(updates) == write_module.MAX_UPDATE_GROUPS
    assert body["summary"]["assets"] == {"created": 0, "updated": 9, "unchanged": 3, "deleted": 0}
    rows = stored(system)
    assert (rows["a0"].name, rows["a1"].criticality, rows["a7"].tags) == ("N", 5, ["x"])
    assert (rows["a8"].name, rows["a8"].criticality, rows["a8"].description, rows["a2"].description) == (
        "M",
        2,
        "",
        "D",
    )
    assert rows["a8"].tags == ["cmdb"] and rows["a9"].name == "Asset a9"


def test_the_worker_task_finishes_a_job_once(editor, system, settings, recomputes):
    settings.INVENTORY_SYNC_INLINE_ITEMS = 1
    client = APIClient()
    client.force_login(editor)
    job_id = post_sync(client, system, inventory(2)).json()["job"]["id"]  # not run: no commit here
    sync = InventorySync.objects.get(job_id=job_id)
    assert sync.payload

    first = inventory_sync_job.run(sync_id=sync.pk)
    again = inventory_sync_job.run(sync_id=sync.pk)

    assert first == {"status": "finished", "job_id": job_id, "status_code": 200}
    assert again == {"status": "done", "job_id": job_id}
    assert Job.objects.get(pk=job_id).status == JobStatus.SUCCEEDED
    assert Asset.objects.filter(system=system, source="cmdb").count() == 2
    assert inventory_sync_job.run(sync_id=sync.pk + 1000) == {"status": "gone"}


def test_a_queued_sync_whose_body_is_gone_fails_its_job_and_writes_nothing(editor, system, settings, recomputes):
    settings.INVENTORY_SYNC_INLINE_ITEMS = 1
    client = APIClient()
    client.force_login(editor)
    job_id = post_sync(client, system, inventory(2)).json()["job"]["id"]
    sync = InventorySync.objects.get(job_id=job_id)
    InventorySync.objects.filter(pk=sync.pk).update(payload=b"")  # e.g. queued across the 0006 upgrade

    assert inventory_sync_job.run(sync_id=sync.pk) == {"status": "gone", "job_id": job_id}
    job = Job.objects.get(pk=job_id)
    assert job.status == JobStatus.FAILED and "send the sync again" in job.error
    assert not Asset.objects.filter(system=system, source="cmdb").exists()


def test_a_job_whose_user_lost_the_editor_role_fails_without_writing(editor, system, settings, recomputes):
    settings.INVENTORY_SYNC_INLINE_ITEMS = 1
    client = APIClient()
    client.force_login(editor)
    job_id = post_sync(client, system, inventory(2)).json()["job"]["id"]
    editor.memberships.update(role="viewer")

    inventory_sync_job.run(sync_id=InventorySync.objects.get(job_id=job_id).pk)

    job = Job.objects.get(pk=job_id)
    assert (job.status, job.result["status_code"]) == (JobStatus.FAILED, 403)
    assert not Asset.objects.filter(system=system, source="cmdb").exists()
