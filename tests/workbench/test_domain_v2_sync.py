"""Inventory sync of the risk method v2 domain: relations by external id, new fields, one refusal for all.

Runs on SQLite by default and on PostgreSQL with ``DATABASE_URL`` (its writer inserts copies and
served models with ``unnest``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import db_state
from tests.workbench.inventory_sync_support import asset, flow, post_sync, write_statements
from workbench.models import Asset, AssetCopy, AuditEvent, System
from workbench.services.elements import asset_save

pytestmark = pytest.mark.django_db

M = 1_000_000


@pytest.fixture
def api(api_client: Any, editor: Any) -> Any:
    api_client.force_login(editor)
    return api_client


def rows(system: System) -> dict[str, Asset]:
    return {a.external_id: a for a in Asset.objects.filter(system=system, source="cmdb")}


def relations(system: System) -> dict[str, Any]:
    keys = {a.pk: a.external_id or a.name for a in Asset.objects.filter(system=system)}
    copies = AssetCopy.objects.filter(system=system).order_by("asset_id", "mode", "position")
    shown: dict[str, Any] = {}
    for asset_id, holder_id, mode in copies.values_list("asset_id", "holder_id", "mode"):
        shown.setdefault(keys[asset_id], {}).setdefault(mode, []).append(keys[holder_id])
    for endpoint, model in Asset.serves.through.objects.filter(from_asset__system=system).values_list(
        "from_asset_id", "to_asset_id"
    ):
        shown.setdefault(keys[endpoint], {}).setdefault("serves", []).append(keys[model])
    return shown


@contextmanager
def untouched(system: System) -> Iterator[None]:
    def state() -> dict[str, Any]:
        return {**db_state(system), "relations": relations(system), "copies": AssetCopy.objects.count()}

    before = state()
    yield
    assert state() == before


def platform(**changes: Any) -> dict[str, Any]:
    """Weights on a bucket and a replica, loaded on a GPU host, served by an API; flows pulling."""
    assets = {
        "bucket": asset("bucket"),
        "replica": asset("replica"),
        "gpu": asset("gpu", kind="gpu_host", instances=8),
        "weights": asset(
            "weights",
            kind="model_weights",
            value_min=10 * M,
            value_likely=40 * M,
            value_max=100 * M,
            replication_value_min=M,
            replication_value_likely=5 * M,
            replication_value_max=15 * M,
            stored_on=["bucket", "replica"],
            loaded_on=["gpu"],
        ),
        "api": asset(
            "api",
            kind="inference_endpoint",
            model_class="llm",
            output_granularity="text",
            streaming=True,
            compute_cost_min=100,
            compute_cost_likely=500,
            compute_cost_max=2000,
            serves=["weights"],
            hosted_on="gpu",
        ),
    }
    for key, fields in changes.items():
        assets[key] = {**assets[key], **fields}
    return {
        "source": "cmdb",
        "assets": list(assets.values()),
        "flows": [flow("bucket", "gpu", initiator="target", carries=["weights"]), flow("api", "gpu")],
    }


def test_a_sync_round_trip_by_external_id_and_an_unchanged_resync_writes_nothing(api, system):
    first = post_sync(api, system, platform())
    assert first.status_code == 200, first.json()

    assert relations(system) == {
        "weights": {"stored": ["bucket", "replica"], "loaded": ["gpu"]},
        "api": {"serves": ["weights"]},
    }
    stored = rows(system)
    assert (stored["gpu"].instances, stored["api"].hosted_on_id, stored["api"].streaming) == (8, stored["gpu"].pk, True)
    assert (stored["weights"].replication_value_likely, stored["api"].compute_cost_max) == (5 * M, 2000)
    read = {row["external_id"]: row for row in api.get(f"/api/v1/systems/{system.slug}/assets/").json()["results"]}
    assert read["weights"]["stored_on"] == [stored["bucket"].pk, stored["replica"].pk]
    assert read["api"]["serves"] == [stored["weights"].pk]
    assert system.flows.get(external_id="bucket->gpu").initiator == "target"

    system.refresh_from_db()
    version, events = system.version, AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as queries:
        again = post_sync(api, system, platform())
    assert again.json()["changed"] is False
    assert write_statements(queries.captured_queries) == []
    system.refresh_from_db()
    assert (system.version, AuditEvent.objects.count()) == (version, events)


def test_a_new_system_of_record_is_an_update_and_loaded_order_is_not(api, system):
    post_sync(api, system, platform())
    before = rows(system)["weights"].updated_at

    body = post_sync(api, system, platform(weights={"stored_on": ["replica", "bucket"]})).json()

    assert [entry["changed"] for entry in body["assets"] if entry["status"] == "updated"] == [["stored_on"]]
    assert relations(system)["weights"]["stored"] == ["replica", "bucket"]
    assert rows(system)["weights"].updated_at > before  # the ?updated_since= feed sees relation changes
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event.after["updated_assets"] == [{"weights": ["stored_on"]}]

    two_hosts = platform()
    two_hosts["assets"].append(asset("gpu2", kind="gpu_host"))
    two_hosts["assets"][3]["loaded_on"] = ["gpu", "gpu2"]
    post_sync(api, system, two_hosts)
    two_hosts["assets"][3]["loaded_on"] = ["gpu2", "gpu"]
    assert post_sync(api, system, two_hosts).json()["changed"] is False


def test_lists_replace_what_is_stored_and_an_empty_list_clears_it(api, system):
    post_sync(api, system, platform())

    post_sync(api, system, platform(weights={"stored_on": ["bucket"], "loaded_on": []}, api={"serves": []}))

    assert relations(system) == {"weights": {"stored": ["bucket"]}}


def test_hosted_on_a_data_asset_in_a_sync_is_its_stored_copy(api, system):
    payload = platform(weights={"stored_on": ["bucket"], "hosted_on": "bucket"})
    assert post_sync(api, system, payload).status_code == 200
    assert rows(system)["weights"].hosted_on_id is None
    assert relations(system)["weights"]["stored"] == ["bucket"]

    without_list = platform()
    del without_list["assets"][3]["stored_on"]
    without_list["assets"][3]["hosted_on"] = "replica"
    post_sync(api, system, without_list)
    assert relations(system)["weights"]["stored"] == ["replica"]


BAD = {
    "unknown store": ({"weights": {"stored_on": ["ghost"]}}, "weights", "stored_on"),
    "store listed twice": ({"weights": {"stored_on": ["bucket", "bucket"]}}, "weights", "stored_on"),
    "not a list": ({"weights": {"loaded_on": "gpu"}}, "weights", "loaded_on"),
    "copy on a data asset": (
        {"api": {"serves": []}, "weights": {"loaded_on": ["api", "weights"]}},
        "weights",
        "loaded_on",
    ),
    # Both items are in the payload: the one that lists the relation is told.
    "stored on a data asset": ({"bucket": {"kind": "training_data"}}, "weights", "stored_on"),
    "copies of a store": ({"bucket": {"stored_on": ["replica"]}}, "bucket", "stored_on"),
    "a host serving": ({"gpu": {"serves": ["weights"]}}, "gpu", "serves"),
    "serving a store": ({"api": {"serves": ["bucket"]}}, "api", "serves"),
    "clone worth more than the weights": (
        {"weights": {"replication_value_max": 200 * M}},
        "weights",
        "replication_value_max",
    ),
    "replication value of a store": (
        {"bucket": {"replication_value_min": 1, "replication_value_likely": 2, "replication_value_max": 3}},
        "bucket",
        "replication_value_min",
    ),
    "partial compute cost": ({"api": {"compute_cost_max": None}}, "api", "compute_cost_max"),
    "compute cost out of order": ({"api": {"compute_cost_min": 900}}, "api", "compute_cost_likely"),
    "compute cost on a host": (
        {"gpu": {"compute_cost_min": 1, "compute_cost_likely": 2, "compute_cost_max": 3}},
        "gpu",
        "compute_cost_min",
    ),
    "no instance": ({"gpu": {"instances": 0}}, "gpu", "instances"),
    "instances as text": ({"gpu": {"instances": "8"}}, "gpu", "instances"),
    "hosted_on disagrees with stored_on": ({"weights": {"hosted_on": "replica"}}, "weights", "hosted_on"),
    "hosted on the weights": ({"api": {"hosted_on": "weights"}}, "api", "hosted_on"),
    "an unknown initiator": ({}, None, "initiator"),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_one_bad_item_refuses_the_whole_sync_with_its_field(api, system, case):
    changes, key, field = BAD[case]
    post_sync(api, system, platform())
    payload = platform(**changes)
    if key is None:
        payload["flows"][0]["initiator"] = "both"

    with untouched(system):
        response = post_sync(api, system, payload)

    assert response.status_code == 422, response.json()
    section = "flows" if key is None else "assets"
    errors = {entry["external_id"]: entry["errors"] for entry in response.json()["errors"][section]}
    assert field in errors["bucket->gpu" if key is None else key], errors


def test_a_kind_change_that_breaks_a_relation_kept_by_another_asset_is_refused(api, system):
    post_sync(api, system, platform())
    payload = {"source": "cmdb", "assets": [{"external_id": "gpu", "kind": "checkpoint"}]}

    with untouched(system):
        response = post_sync(api, system, payload)

    assert response.status_code == 422
    errors = response.json()["errors"]["assets"][0]
    assert errors["external_id"] == "gpu" and "kind" in errors["errors"]


def test_a_full_sync_may_not_delete_a_store_an_asset_keeps_a_copy_on(api, system):
    post_sync(api, system, platform())
    payload = platform()
    payload["mode"] = "full"
    payload["assets"] = [item for item in payload["assets"] if item["external_id"] != "replica"]
    del payload["assets"][2]["stored_on"]  # weights keep their stored copies, replica included

    with untouched(system):
        response = post_sync(api, system, payload)

    assert response.status_code == 422
    errors = {entry["external_id"]: entry["errors"] for entry in response.json()["errors"]["assets"]}
    assert "stored_on" in errors["weights"]
    payload["assets"][2]["stored_on"] = ["bucket"]
    assert post_sync(api, system, payload).status_code == 200
    assert relations(system)["weights"]["stored"] == ["bucket"]


def test_a_dry_run_with_relations_writes_nothing(api, system):
    payload = {**platform(), "dry_run": True}
    with untouched(system):
        body = post_sync(api, system, payload).json()
    assert body["summary"]["assets"]["created"] == 5


def test_a_sync_that_names_no_relation_reads_no_relation_table(api, system):
    plain = {"source": "cmdb", "assets": [asset(f"a{i}", kind="gpu_host") for i in range(20)]}
    post_sync(api, system, plain)

    with CaptureQueriesContext(connection) as queries:
        assert post_sync(api, system, plain).json()["changed"] is False
    tables = (AssetCopy._meta.db_table, Asset.serves.through._meta.db_table)
    assert not [q["sql"] for q in queries.captured_queries if any(table in q["sql"] for table in tables)]


def test_a_sync_replaces_a_copy_made_in_the_workbench(api, system, owner):
    post_sync(api, system, platform())
    laptop = asset_save(actor=owner, system=system, name="Laptop", kind="workstation")
    weights = rows(system)["weights"]
    asset_save(actor=owner, system=system, asset=weights, loaded_on=[laptop])
    assert relations(system)["weights"]["loaded"] == ["Laptop"]

    body = post_sync(api, system, platform()).json()

    assert relations(system)["weights"]["loaded"] == ["gpu"]
    assert [entry["changed"] for entry in body["assets"] if entry["status"] == "updated"] == [["loaded_on"]]
