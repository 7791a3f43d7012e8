"""Risk method v2 domain through the REST API and the classic forms: relations as id lists, new fields.

Reads show what writes stored; refused writes answer 400 with the field and leave nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse

from tests.api.conftest import client_for
from tests.conftest import db_state
from tests.factories import AssetFactory, SystemFactory
from workbench.models import Asset, AssetCopy, AuditEvent, System
from workbench.services.elements import asset_save, flow_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_as(request: pytest.FixtureRequest) -> Any:
    """An API client acting as a persona, by session or token (``tests.api.conftest.client_for``)."""
    return lambda persona, auth="session": client_for(request.getfixturevalue(persona), auth)


def url(system: System, kind: str, pk: int | None = None) -> str:
    base = f"/api/v1/systems/{system.slug}/{kind}/"
    return base if pk is None else f"{base}{pk}/"


@contextmanager
def untouched(system: System) -> Iterator[None]:
    def state() -> dict[str, Any]:
        copies = sorted(AssetCopy.objects.values_list("asset_id", "holder_id", "mode", "position"))
        return {**db_state(system), "copies": copies, "serves": Asset.serves.through.objects.count()}

    before = state()
    yield
    assert state() == before


@pytest.fixture
def world(elements: SimpleNamespace, owner: Any) -> SimpleNamespace:
    """``elements`` (a bucket and a GPU host) plus a replica, weights and another system's store."""
    system = elements.system
    return SimpleNamespace(
        system=system,
        owner=owner,
        bucket=elements.asset,
        gpu=elements.other_asset,
        replica=asset_save(actor=owner, system=system, name="Replica", kind="object_store"),
        weights=asset_save(actor=owner, system=system, name="Weights", kind="model_weights", value_max=9_000_000),
        foreign=AssetFactory(system=SystemFactory(team=system.team), name="Elsewhere"),
        elements=elements,
    )


def test_create_read_and_update_an_asset_with_its_copies_and_money_fields(api_as, world):
    client, w = api_as("editor", "token"), world
    body = {
        "name": "Checkpoint 7",
        "kind": "checkpoint",
        "value_min": "1000000",
        "value_likely": "4000000",
        "value_max": "9000000",
        "replication_value_min": "100000",
        "replication_value_likely": "500000",
        "replication_value_max": "1000000",
        "stored_on": [w.replica.pk, w.bucket.pk],
        "loaded_on": [w.gpu.pk],
    }
    created = client.post(url(w.system, "assets"), body, format="json")
    assert created.status_code == 201, created.json()
    read = client.get(url(w.system, "assets", created.json()["id"]))

    asset = read.json()
    assert (asset["stored_on"], asset["loaded_on"], asset["serves"]) == ([w.replica.pk, w.bucket.pk], [w.gpu.pk], [])
    assert (asset["replication_value_likely"], asset["compute_cost_likely"], asset["instances"]) == (
        "500000.00",
        None,
        1,
    )
    events = AuditEvent.objects.count()
    patched = client.patch(
        url(w.system, "assets", asset["id"]),
        {"stored_on": [w.bucket.pk, w.replica.pk]},
        format="json",
        HTTP_IF_MATCH=read["ETag"],
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["stored_on"] == [w.bucket.pk, w.replica.pk]  # a new system of record
    assert patched["ETag"] != read["ETag"] and AuditEvent.objects.count() == events + 1
    stale = client.patch(url(w.system, "assets", asset["id"]), {"loaded_on": []}, HTTP_IF_MATCH=read["ETag"])
    assert stale.status_code == 412


def test_an_endpoint_serves_a_model_with_a_compute_cost(api_as, world):
    client, w = api_as("editor"), world
    body = {
        "name": "Chat API",
        "kind": "inference_endpoint",
        "model_class": "llm",
        "output_granularity": "text",
        "streaming": True,
        "prompt_cache_shared": True,
        "compute_cost_min": 100,
        "compute_cost_likely": 400,
        "compute_cost_max": 2000,
        "serves": [w.weights.pk],
    }
    created = client.post(url(w.system, "assets"), body, format="json")

    assert created.status_code == 201, created.json()
    assert created.json()["serves"] == [w.weights.pk]
    assert (created.json()["streaming"], created.json()["compute_cost_max"]) == (True, "2000.00")
    listed = client.get(url(w.system, "assets"), {"serves": w.weights.pk}).json()["results"]
    assert [row["name"] for row in listed] == ["Chat API"]


def test_hosted_on_a_data_asset_is_read_back_as_its_stored_copy(api_as, world):
    client, w = api_as("editor"), world
    created = client.post(
        url(w.system, "assets"), {"name": "Evals", "kind": "eval_data", "hosted_on": w.bucket.pk}, format="json"
    ).json()

    assert (created["hosted_on"], created["stored_on"]) == (None, [w.bucket.pk])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (lambda w: {"stored_on": [w.foreign.pk]}, "stored_on"),  # another system's asset "does not exist"
        (lambda w: {"stored_on": [w.replica.pk, w.replica.pk]}, "stored_on"),
        (lambda w: {"loaded_on": [w.weights.pk]}, "loaded_on"),
        (lambda w: {"serves": [w.weights.pk]}, "serves"),  # weights serve nothing
        (lambda w: {"stored_on": "x"}, "stored_on"),
        (lambda w: {"stored_on": list(range(1, 300))}, "stored_on"),
        (lambda w: {"replication_value_min": "1", "replication_value_likely": "2"}, "replication_value_max"),
        (lambda w: {"compute_cost_min": 1, "compute_cost_likely": 2, "compute_cost_max": 3}, "compute_cost_min"),
        (lambda w: {"instances": 0}, "instances"),
        (lambda w: {"kind": "object_store"}, "kind"),  # it has copies
    ],
    ids=[
        "foreign store",
        "twice",
        "loaded on data",
        "weights serving",
        "not a list",
        "too many",
        "partial replication value",
        "compute cost on weights",
        "no instance",
        "kind change with copies",
    ],
)
def test_bad_relations_and_fields_are_a_400_on_the_field_and_write_nothing(api_as, world, body, field):
    client, w = api_as("editor"), world
    asset_save(actor=w.owner, system=w.system, asset=w.weights, stored_on=[w.bucket])

    with untouched(w.system):
        response = client.patch(url(w.system, "assets", w.weights.pk), body(w), format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert field in response.json()["errors"], response.json()


def test_flows_and_profiles_read_and_write_their_new_fields(api_as, world):
    client, w = api_as("editor"), world
    flow = client.post(
        url(w.system, "flows"),
        {"name": "Pull weights", "source": w.bucket.pk, "target": w.gpu.pk, "initiator": "target"},
        format="json",
    )
    assert flow.status_code == 201 and flow.json()["initiator"] == "target"
    pulls = client.get(url(w.system, "flows"), {"initiator": "target"}).json()["results"]
    assert [row["name"] for row in pulls] == ["Pull weights"]
    assert client.get(url(w.system, "flows"), {"initiator": "sideways"}).status_code == 400

    profile = client.post(url(w.system, "attackers"), {"name": "Cleaner", "actor_type": "physical"}, format="json")
    assert profile.status_code == 201 and profile.json()["actor_type"] == "physical"
    insiders = client.get(url(w.system, "attackers"), {"actor_type": "insider"}).json()["results"]
    assert [row["name"] for row in insiders] == ["Malicious insider"]
    refused = client.post(url(w.system, "attackers"), {"name": "Ghost", "actor_type": "alien"}, format="json")
    assert refused.status_code == 400 and "actor_type" in refused.json()["errors"]


def test_assets_filter_by_where_their_copies_are(api_as, world):
    client, w = api_as("viewer"), world
    asset_save(actor=w.owner, system=w.system, asset=w.weights, stored_on=[w.bucket], loaded_on=[w.gpu])

    def names(**query: Any) -> list[str]:
        return [row["name"] for row in client.get(url(w.system, "assets"), query).json()["results"]]

    assert names(stored_on=w.bucket.pk) == ["Weights"]
    assert names(loaded_on=w.gpu.pk) == ["Weights"]
    assert names(stored_on=w.gpu.pk) == []


# --- the classic forms ---------------------------------------------------------------------------


def form_url(system: System, kind: str, pk: int | None = None) -> str:
    if pk is None:
        return reverse("workbench:element_new", args=[system.slug, kind])
    return reverse("workbench:element_edit", args=[system.slug, kind, pk])


def asset_form(world: SimpleNamespace, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "Checkpoint 9",
        "kind": "checkpoint",
        "criticality": "4",
        "value_min": "0",
        "value_likely": "10",
        "value_max": "100",
        "authentication": "sso",
        **overrides,
    }


def test_the_asset_form_sets_copies_with_the_system_of_record_first(client_as, world):
    client, w = client_as("editor"), world
    response = client.post(
        form_url(w.system, "assets"),
        asset_form(w, stored_on=[w.bucket.pk, w.replica.pk], system_of_record=w.replica.pk, loaded_on=[w.gpu.pk]),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    checkpoint = Asset.objects.get(system=w.system, name="Checkpoint 9")
    assert checkpoint.audit_relations() == {"stored_on": [w.replica.pk, w.bucket.pk], "loaded_on": [w.gpu.pk]}
    assert checkpoint.instances == 1  # left out of the POST: the default

    page = client.get(form_url(w.system, "assets", checkpoint.pk)).content.decode()
    assert 'name="system_of_record"' in page and f'<option value="{w.replica.pk}" selected>' in page


def test_the_asset_form_refuses_hosting_a_data_asset_and_offers_only_valid_choices(client_as, world):
    client, w = client_as("editor"), world
    with untouched(w.system):
        response = client.post(form_url(w.system, "assets"), asset_form(w, hosted_on=w.bucket.pk))
    assert response.status_code == 400 and "not hosted" in response.content.decode()

    with untouched(w.system):
        response = client.post(form_url(w.system, "assets"), asset_form(w, stored_on=[w.weights.pk]))
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()


def test_the_endpoint_form_serves_models_and_the_flow_and_profile_forms_take_the_new_fields(client_as, world):
    client, w = client_as("editor"), world
    response = client.post(
        form_url(w.system, "assets"),
        asset_form(
            w,
            name="Chat",
            kind="inference_endpoint",
            serves=[w.weights.pk],
            compute_cost_min="10",
            compute_cost_likely="20",
            compute_cost_max="30",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    chat = Asset.objects.get(system=w.system, name="Chat")
    assert list(chat.serves.values_list("pk", flat=True)) == [w.weights.pk] and chat.compute_cost_likely == 20

    flow = {"name": "Pull", "source": w.replica.pk, "target": w.gpu.pk, "initiator": "target", "protocol": "s3"}
    assert client.post(form_url(w.system, "flows"), flow).status_code == 302
    assert w.system.flows.get(name="Pull").initiator == "target"
    profile = {
        "name": "Cleaner",
        "capability": "OC2",
        "actor_type": "physical",
        "attempts_per_year": "1",
        "budget": "0",
    }
    assert client.post(form_url(w.system, "attackers"), profile).status_code == 302
    assert w.system.attackers.get(name="Cleaner").actor_type == "physical"


def test_the_system_page_shows_copies_serving_initiators_and_actor_types(client_as, world):
    w = world
    asset_save(actor=w.owner, system=w.system, asset=w.weights, stored_on=[w.bucket], loaded_on=[w.gpu])
    api = asset_save(actor=w.owner, system=w.system, name="Chat", kind="inference_endpoint", serves=[w.weights])
    flow_save(actor=w.owner, system=w.system, name="Pull", source=w.bucket, target=api, initiator="target")

    page = client_as("viewer").get(w.system.get_absolute_url()).content.decode()

    for text in ("stored on Weights bucket", "loaded on GPU host", "serves Weights", "pulled by target", "Insider"):
        assert text in page, text
