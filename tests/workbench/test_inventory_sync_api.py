"""Inventory sync over HTTP: who may sync, Idempotency-Key replays, large payloads as Jobs, query budget."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import MembershipFactory, UserFactory
from tests.workbench.inventory_sync_support import asset, bulk_batches, inventory, post_sync, sync_url
from workbench.choices import JobKind, JobStatus, Role
from workbench.models import Asset, DataFlow, InventorySync, Job, System
from workbench.services.tokens import token_issue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _reset_anonymous_throttle() -> None:
    cache.delete("throttle_anon_127.0.0.1")


@pytest.fixture(autouse=True)
def _no_recompute(held_changes: list[int]) -> None:
    """Jobs run their on-commit callbacks here; the recompute they schedule is another test's subject."""


def login(persona: Any) -> APIClient:
    client = APIClient()
    client.force_login(persona)
    return client


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


PAYLOAD = {"source": "cmdb", "assets": [asset("a"), asset("b")], "flows": [{"source": "a", "target": "b"}]}


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("owner", 200), ("editor", 200), ("viewer", 403), ("risk_owner", 403), ("outsider", 404)],
)
def test_only_editors_and_admins_of_the_team_may_sync(request, system, nothing_written, persona, expected):
    client = login(request.getfixturevalue(persona))

    if expected == 200:
        assert post_sync(client, system, PAYLOAD).status_code == 200
        assert Asset.objects.filter(system=system, source="cmdb").count() == 2
        return
    with nothing_written(system):
        response = post_sync(client, system, PAYLOAD)
    assert response.status_code == expected
    assert set(response.json()) == {"detail", "code"}


def test_anonymous_gets_401(system, nothing_written):
    with nothing_written(system):
        response = post_sync(APIClient(), system, PAYLOAD)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_session_without_csrf_token_is_refused(editor, system, nothing_written):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(editor)

    with nothing_written(system):
        response = post_sync(client, system, PAYLOAD)

    assert response.status_code == 403


def test_a_read_write_token_of_an_editor_may_sync(editor, system):
    _, raw = token_issue(user=editor, team=system.team, name="cmdb", read_only=False)

    response = post_sync(bearer(raw), system, PAYLOAD)

    assert response.status_code == 200
    assert response.json()["summary"]["assets"]["created"] == 2


def test_a_read_only_token_is_refused(editor, system, nothing_written):
    _, raw = token_issue(user=editor, team=system.team, name="ci")

    with nothing_written(system):
        response = post_sync(bearer(raw), system, PAYLOAD)

    assert response.status_code == 403


def test_a_token_scoped_to_another_team_cannot_reach_the_system(system, other_system, nothing_written):
    user = UserFactory(username="dana")
    MembershipFactory(team=system.team, user=user, role=Role.EDITOR)
    MembershipFactory(team=other_system.team, user=user, role=Role.EDITOR)
    _, raw = token_issue(user=user, team=other_system.team, name="cmdb", read_only=False)

    with nothing_written(system):
        response = post_sync(bearer(raw), system, PAYLOAD)

    assert response.status_code == 404


def test_a_read_write_token_of_a_user_demoted_to_viewer_is_refused(editor, system, nothing_written):
    _, raw = token_issue(user=editor, team=system.team, name="cmdb", read_only=False)
    editor.memberships.update(role=Role.VIEWER)

    with nothing_written(system):
        assert post_sync(bearer(raw), system, PAYLOAD).status_code == 403


def test_get_is_not_allowed(editor, system):
    response = login(editor).get(sync_url(system))

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


# --- Idempotency-Key -----------------------------------------------------------------------------


def test_the_same_key_replays_the_stored_answer_without_syncing_again(editor, system):
    client = login(editor)
    first = post_sync(client, system, PAYLOAD, HTTP_IDEMPOTENCY_KEY="k-1")
    Asset.objects.filter(system=system, external_id="a").update(name="Edited since")
    version = System.objects.values_list("version", flat=True).get(pk=system.pk)

    again = post_sync(client, system, PAYLOAD, HTTP_IDEMPOTENCY_KEY="k-1")

    assert again.status_code == first.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Asset.objects.get(system=system, external_id="a").name == "Edited since"  # not synced again
    assert System.objects.values_list("version", flat=True).get(pk=system.pk) == version


def test_the_same_key_with_another_body_is_a_409(editor, system, nothing_written):
    client = login(editor)
    post_sync(client, system, PAYLOAD, HTTP_IDEMPOTENCY_KEY="k-1")
    changed = {**PAYLOAD, "assets": [asset("a", name="Other")]}

    with nothing_written(system):
        response = post_sync(client, system, changed, HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"


def test_a_refused_payload_is_replayed_as_refused(editor, system, nothing_written):
    client = login(editor)
    bad = {"source": "cmdb", "assets": [asset("a", kind="toaster")]}
    first = post_sync(client, system, bad, HTTP_IDEMPOTENCY_KEY="k-2")

    with nothing_written(system):
        again = post_sync(client, system, bad, HTTP_IDEMPOTENCY_KEY="k-2")

    assert first.status_code == again.status_code == 422
    assert again.json() == first.json()


def test_a_key_older_than_a_day_is_not_replayed(editor, system):
    client = login(editor)
    post_sync(client, system, PAYLOAD, HTTP_IDEMPOTENCY_KEY="old")
    InventorySync.objects.update(created_at=timezone.now() - timedelta(hours=25))
    changed = {**PAYLOAD, "assets": [asset("a", name="Renamed")]}

    response = post_sync(client, system, changed, HTTP_IDEMPOTENCY_KEY="old")

    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response
    assert response.json()["summary"]["assets"]["updated"] == 1
    assert InventorySync.objects.filter(idempotency_key="old").count() == 1  # the expired row is gone


def test_keys_belong_to_one_user(editor, owner, system):
    post_sync(login(editor), system, PAYLOAD, HTTP_IDEMPOTENCY_KEY="shared")

    response = post_sync(login(owner), system, {**PAYLOAD, "assets": [asset("c")]}, HTTP_IDEMPOTENCY_KEY="shared")

    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response
    assert InventorySync.objects.filter(system=system, idempotency_key="shared").count() == 2


def test_dry_runs_ignore_the_key(editor, system, nothing_written):
    with nothing_written(system):
        response = post_sync(login(editor), system, {**PAYLOAD, "dry_run": True}, HTTP_IDEMPOTENCY_KEY="k-3")

    assert response.status_code == 200
    assert not InventorySync.objects.exists()


def test_a_sync_without_a_key_stores_no_request_row(editor, system):
    post_sync(login(editor), system, PAYLOAD)

    assert not InventorySync.objects.exists()


@pytest.mark.parametrize("key", ["k" * 201, "schlüssel", "a\tb"])
def test_a_malformed_key_is_a_400(editor, system, nothing_written, key):
    client = login(editor)
    with nothing_written(system):
        response = client.post(sync_url(system), PAYLOAD, format="json", headers={"Idempotency-Key": key})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_key"


# --- large payloads: a Job ------------------------------------------------------------------------


@pytest.fixture
def small_inline_limit(settings: Any) -> Iterator[int]:
    """A 10-item inline limit, and the sync task run in-process even when REDIS_URL is set (CI):
    the worker path has its own test (test_inventory_sync_worker.py)."""
    from workbench.celery import app

    settings.INVENTORY_SYNC_INLINE_ITEMS = 10
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield 10
    app.conf.task_always_eager = eager


def job_url(system: System, job_id: int) -> str:
    return reverse("inventory-sync-job", kwargs={"version": "v1", "slug": system.slug, "job_id": job_id})


def test_a_payload_above_the_limit_is_a_job_processed_after_commit(
    editor, system, small_inline_limit, django_capture_on_commit_callbacks
):
    client = login(editor)
    payload = inventory(6)  # 6 assets + 12 flows = 18 items

    with django_capture_on_commit_callbacks(execute=True):
        response = post_sync(client, system, payload, HTTP_IDEMPOTENCY_KEY="big-1")

    assert response.status_code == 202
    body = response.json()
    assert body["items"] == 18
    job = Job.objects.get(pk=body["job"]["id"])
    assert body["job"]["url"] == f"http://testserver{job_url(system, job.pk)}"
    assert response["Location"] == body["job"]["url"]
    assert (job.kind, job.status, job.system_id) == (JobKind.SYNC, JobStatus.SUCCEEDED, system.pk)
    assert job.result["summary"]["assets"]["created"] == 6
    assert DataFlow.objects.filter(system=system, origin="cmdb").count() == 12
    assert bytes(InventorySync.objects.get(job=job).payload) == b""  # the body is dropped once processed

    status = client.get(job_url(system, job.pk))
    assert status.status_code == 200
    assert status.json()["status"] == "succeeded"
    result = status.json()["result"]
    assert result["status_code"] == 200
    # The per-item answer comes from the compressed copy; the Job row keeps only the summary.
    assert [entry["external_id"] for entry in result["assets"]] == [item["external_id"] for item in payload["assets"]]
    assert {entry["status"] for entry in result["assets"] + result["flows"]} == {"created"}
    stored = set(Asset.objects.filter(system=system).values_list("pk", flat=True))
    assert {entry["id"] for entry in result["assets"]} == stored
    assert result["summary"] == job.result["summary"] and "assets" not in job.result

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        replay = post_sync(client, system, payload, HTTP_IDEMPOTENCY_KEY="big-1")
    assert replay.status_code == 202 and replay.json() == body
    assert callbacks == []  # nothing queued twice


def test_an_invalid_large_payload_fails_its_job_with_the_item_errors(
    editor, system, small_inline_limit, django_capture_on_commit_callbacks, nothing_written
):
    payload = inventory(6)
    payload["assets"][4]["kind"] = "toaster"

    with django_capture_on_commit_callbacks(execute=True):
        response = post_sync(login(editor), system, payload)

    job = Job.objects.get(pk=response.json()["job"]["id"])
    assert job.status == JobStatus.FAILED
    assert job.error == "1 invalid item; nothing was written."
    assert job.result["status_code"] == 422
    assert job.result["errors"]["assets"][0]["index"] == 4
    assert not Asset.objects.filter(system=system, source="cmdb").exists()


def test_a_broker_outage_fails_the_accepted_job_instead_of_losing_it(
    editor, system, small_inline_limit, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    from workbench.tasks import inventory_sync_job

    def broker_down(**kwargs: Any) -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(inventory_sync_job, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_sync(login(editor), system, inventory(6))

    assert response.status_code == 202, "the request that was accepted still answers"
    job = Job.objects.get(pk=response.json()["job"]["id"])
    assert (job.status, job.error) == (JobStatus.FAILED, "Could not queue the sync (ConnectionError); send it again.")
    assert bytes(InventorySync.objects.get(job=job).payload) == b""  # nothing left for a worker to pick up
    assert "could not enqueue inventory sync" in caplog.text
    assert not Asset.objects.filter(system=system, source="cmdb").exists()


def test_the_limit_is_five_thousand_items(editor, system):
    client = login(editor)
    payload = inventory(2500, flows_per_asset=1, dry_run=True)  # 2,500 + 2,500 = 5,000 items

    assert post_sync(client, system, payload).status_code == 200

    payload["assets"].append(asset("one-more"))
    response = post_sync(client, system, payload)
    assert response.status_code == 202
    assert Job.objects.filter(system=system, kind=JobKind.SYNC).count() == 1


def test_job_status_is_team_scoped(editor, viewer, outsider, system, small_inline_limit):
    response = post_sync(login(editor), system, inventory(6))
    url = job_url(system, response.json()["job"]["id"])

    assert login(viewer).get(url).status_code == 200
    assert login(outsider).get(url).status_code == 404
    assert APIClient().get(url).status_code == 401
    other_job = Job.objects.create(team=system.team, system=system, kind=JobKind.RECOMPUTE)
    assert login(viewer).get(job_url(system, other_job.pk)).status_code == 404


# --- bounded queries --------------------------------------------------------------------------

# Per request: session and user (2), system and role (2), savepoint, lock, role, zones, stored assets,
# flows and carried assets (7), then the writes, the version bump (2), the audit event (4), release.
UNCHANGED_BUDGET = 12
# A sync that grows the system also counts its assets and flows once against the size limits.
FIRST_SYNC_BUDGET = 23  # + per table (assets, flows): one INSERT, and on PostgreSQL one draw of keys
CHANGED_BUDGET = 21  # + one UPDATE per table: assets, flows
ASSET_COLUMNS = 42  # columns of an asset INSERT (SQLite batches them by its 999-variable limit)


@pytest.mark.parametrize("assets", [10, 400])
def test_first_sync_uses_a_bounded_number_of_queries(editor, system, django_assert_max_num_queries, assets):
    client, payload = login(editor), inventory(assets)
    # One INSERT per table on PostgreSQL; SQLite's 999-variable limit splits them into batches.
    extra_batches = bulk_batches(assets, ASSET_COLUMNS) - 1 + bulk_batches(2 * assets, 14) - 1

    with django_assert_max_num_queries(FIRST_SYNC_BUDGET + extra_batches):
        response = post_sync(client, system, payload)

    assert response.json()["summary"]["assets"]["created"] == assets


@pytest.mark.parametrize("assets", [10, 1500])
def test_unchanged_and_changed_resyncs_use_a_fixed_number_of_queries(
    editor, system, django_assert_max_num_queries, assets
):
    client = login(editor)
    payload = inventory(assets)
    post_sync(client, system, payload)

    with django_assert_max_num_queries(UNCHANGED_BUDGET):
        assert post_sync(client, system, payload).json()["changed"] is False

    for item in payload["assets"][::10]:
        item["name"] += " (moved)"
    for item in payload["flows"][::10]:
        item["encrypted"] = False
    with django_assert_max_num_queries(CHANGED_BUDGET):
        body = post_sync(client, system, payload).json()
    assert body["summary"]["assets"]["updated"] == len(payload["assets"][::10])
    assert body["summary"]["flows"]["updated"] == len(payload["flows"][::10])
