"""Risk method v2 domain through the services and models: copies, serves, money fields, new choices.

Every refused write leaves nothing (rows, copies, served models, audit, version); every accepted
one is one version bump and one audit event with the relations in its before/after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tests.conftest import db_state
from tests.factories import AssetFactory, SystemFactory, make_system
from workbench.models import Asset, AssetCopy, AttackerProfile, AuditEvent, DataFlow, System
from workbench.services.elements import asset_delete, asset_save, attacker_save, flow_save
from workbench.services.systems import DEFAULT_ATTACKERS

pytestmark = pytest.mark.django_db

M = Decimal(1_000_000)


def relation_state(system: System) -> dict[str, Any]:
    copies = sorted(AssetCopy.objects.values_list("asset_id", "holder_id", "mode", "position"))
    serves = sorted(Asset.serves.through.objects.values_list("from_asset_id", "to_asset_id"))
    return {**db_state(system), "copies": copies, "serves": serves}


@pytest.fixture
def untouched() -> Callable[[System], AbstractContextManager[None]]:
    @contextmanager
    def _check(system: System) -> Iterator[None]:
        before = relation_state(system)
        yield
        assert relation_state(system) == before

    return _check


@pytest.fixture
def world(system: System, owner: Any) -> SimpleNamespace:
    """Weights, two stores, a GPU host, an endpoint and another system's store."""

    def make(name: str, kind: str, **fields: Any) -> Asset:
        return asset_save(actor=owner, system=system, name=name, kind=kind, **fields)

    values = {"value_min": 10 * M, "value_likely": 40 * M, "value_max": 100 * M}
    return SimpleNamespace(
        system=system,
        owner=owner,
        weights=make("Weights", "model_weights", **values),
        corpus=make("Corpus", "training_data"),
        bucket=make("Bucket", "object_store"),
        replica=make("Replica", "object_store"),
        gpu=make("GPU", "gpu_host"),
        api=make("API", "inference_endpoint", model_class="llm", output_granularity="text"),
        foreign=AssetFactory(system=SystemFactory(team=system.team), name="Elsewhere"),
    )


def stored_on(asset: Asset) -> list[int]:
    return asset.audit_relations()["stored_on"]


def loaded_on(asset: Asset) -> list[int]:
    return asset.audit_relations()["loaded_on"]


def test_copies_are_stored_in_order_and_loaded_as_a_set(world):
    w = world
    asset_save(actor=w.owner, system=w.system, asset=w.weights, stored_on=[w.replica, w.bucket], loaded_on=[w.gpu])

    assert stored_on(w.weights) == [w.replica.pk, w.bucket.pk]  # the first is the system of record
    assert loaded_on(w.weights) == [w.gpu.pk]
    asset_save(actor=w.owner, system=w.system, asset=w.weights, stored_on=[w.bucket, w.replica])
    assert stored_on(w.weights) == [w.bucket.pk, w.replica.pk]


def test_one_write_of_fields_and_relations_is_one_version_and_one_audit_event(world):
    w = world
    w.system.refresh_from_db()
    version, events = w.system.version, AuditEvent.objects.count()

    asset_save(actor=w.owner, system=w.system, asset=w.weights, criticality=5, stored_on=[w.bucket], loaded_on=[w.gpu])

    w.system.refresh_from_db()
    assert (w.system.version, AuditEvent.objects.count()) == (version + 1, events + 1)
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event.before == {"criticality": 3, "loaded_on": [], "stored_on": []}
    assert event.after == {"criticality": 5, "loaded_on": [w.gpu.pk], "stored_on": [w.bucket.pk]}


def test_the_same_relations_again_write_nothing(world, untouched):
    w = world
    asset_save(actor=w.owner, system=w.system, asset=w.weights, stored_on=[w.bucket, w.replica], loaded_on=[w.gpu])
    asset_save(actor=w.owner, system=w.system, asset=w.api, serves=[w.weights])

    with untouched(w.system):
        asset_save(actor=w.owner, system=w.system, asset=w.weights, stored_on=[w.bucket, w.replica], loaded_on=[w.gpu])
        asset_save(actor=w.owner, system=w.system, asset=w.api, serves=[w.weights])


def test_an_endpoint_serves_models_and_the_audit_records_it(world):
    w = world
    asset_save(actor=w.owner, system=w.system, asset=w.api, serves=[w.weights])

    assert list(w.api.serves.values_list("pk", flat=True)) == [w.weights.pk]
    assert list(w.weights.served_by.values_list("pk", flat=True)) == [w.api.pk]
    event = AuditEvent.objects.order_by("-sequence").first()
    assert (event.before, event.after) == ({"serves": []}, {"serves": [w.weights.pk]})


@pytest.mark.parametrize(
    ("relations", "field", "message"),
    [
        (lambda w: {"asset": w.bucket, "stored_on": [w.replica]}, "stored_on", "Only data assets"),
        (lambda w: {"asset": w.weights, "stored_on": [w.corpus]}, "stored_on", "not on another data asset"),
        (lambda w: {"asset": w.weights, "loaded_on": [w.foreign]}, "loaded_on", "belong to this system"),
        (lambda w: {"asset": w.weights, "stored_on": [w.bucket, w.bucket]}, "stored_on", "listed twice"),
        (lambda w: {"asset": w.gpu, "serves": [w.weights]}, "serves", "Only inference endpoints"),
        (lambda w: {"asset": w.api, "serves": [w.corpus]}, "serves", "serves models"),
        (lambda w: {"asset": w.api, "serves": [w.foreign]}, "serves", "belong to this system"),
        (lambda w: {"asset": w.weights, "hosted_on": w.bucket, "stored_on": [w.replica]}, "hosted_on", "first"),
        (lambda w: {"asset": w.gpu, "hosted_on": w.weights}, "hosted_on", "not a data asset"),
    ],
    ids=[
        "copy of a store",
        "copy on a data asset",
        "copy in another system",
        "same store twice",
        "a host serving",
        "serving training data",
        "serving another system's asset",
        "hosted_on and stored_on disagree",
        "hosted on weights",
    ],
)
def test_a_bad_relation_is_refused_with_its_field_and_nothing_is_written(world, untouched, relations, field, message):
    w = world
    with untouched(w.system), pytest.raises(ValidationError) as refused:
        asset_save(actor=w.owner, system=w.system, **relations(w))

    assert field in refused.value.message_dict
    assert message in " ".join(refused.value.message_dict[field])


def test_hosted_on_a_data_asset_is_its_one_stored_copy(world):
    w = world
    notes = asset_save(actor=w.owner, system=w.system, name="Notes", kind="eval_data", hosted_on=w.bucket)

    notes.refresh_from_db()
    assert notes.hosted_on_id is None
    assert stored_on(notes) == [w.bucket.pk]
    # A data asset with a hosted_on column set (v1 rows the migration could not move) is refused.
    notes.hosted_on = w.replica
    with pytest.raises(ValidationError) as refused:
        notes.full_clean()
    assert "hosted_on" in refused.value.message_dict


@pytest.mark.parametrize(
    ("target", "change", "problem"),
    [
        ("weights", {"kind": "object_store"}, "Only data assets have copies"),
        ("bucket", {"kind": "checkpoint"}, "holds copies"),
        ("api", {"kind": "gpu_host"}, "serve models"),
        ("weights", {"kind": "training_data"}, "a model keeps a model kind"),
    ],
    ids=["weights become a store", "store becomes data", "endpoint becomes a host", "served model becomes data"],
)
def test_a_kind_change_that_breaks_a_kept_relation_is_refused(world, untouched, target, change, problem):
    w = world
    asset_save(actor=w.owner, system=w.system, asset=w.weights, stored_on=[w.bucket])
    asset_save(actor=w.owner, system=w.system, asset=w.api, serves=[w.weights])

    with untouched(w.system), pytest.raises(ValidationError) as refused:
        asset_save(actor=w.owner, system=w.system, asset=getattr(w, target), **change)
    assert problem in " ".join(refused.value.message_dict["kind"])


def test_a_kind_change_that_replaces_the_relations_in_the_same_write_is_accepted(world):
    w = world
    asset_save(actor=w.owner, system=w.system, asset=w.weights, stored_on=[w.bucket])
    asset_save(actor=w.owner, system=w.system, asset=w.gpu, kind="object_store")  # no relations: fine

    asset_save(actor=w.owner, system=w.system, asset=w.weights, kind="training_data", stored_on=[w.gpu])
    assert stored_on(w.weights) == [w.gpu.pk]


def test_deleting_a_holder_takes_its_copies_and_the_audit_lists_them(world):
    w = world
    asset_save(actor=w.owner, system=w.system, asset=w.weights, stored_on=[w.bucket, w.replica])

    asset_delete(actor=w.owner, asset=w.bucket)

    assert stored_on(w.weights) == [w.replica.pk]
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event.verb == "delete" and event.before["deleted_copies"] == [[w.weights.pk, "stored"]]


VALUES = {"value_min": 10 * M, "value_likely": 40 * M, "value_max": 100 * M}


@pytest.mark.parametrize(
    ("kind", "fields", "field"),
    [
        ("model_weights", {"replication_value_min": M, "replication_value_likely": 2 * M}, "replication_value_max"),
        (
            "model_weights",
            {"replication_value_min": 3 * M, "replication_value_likely": 2 * M},
            "replication_value_likely",
        ),
        (
            "model_weights",
            {"replication_value_min": 11 * M, "replication_value_likely": 12 * M},
            "replication_value_min",
        ),
        ("adapter", {"replication_value_min": M, "replication_value_likely": 50 * M}, "replication_value_likely"),
        ("training_data", {"replication_value_min": M, "replication_value_likely": 2 * M}, "replication_value_min"),
        ("inference_endpoint", {"compute_cost_min": Decimal(5), "compute_cost_likely": Decimal(9)}, "compute_cost_max"),
        ("gpu_host", {"compute_cost_min": 1, "compute_cost_likely": 2, "compute_cost_max": 3}, "compute_cost_min"),
        (
            "api_gateway",
            {"compute_cost_min": 5, "compute_cost_likely": 2, "compute_cost_max": 9},
            "compute_cost_likely",
        ),
        ("gpu_host", {"instances": 0}, "instances"),
    ],
    ids=[
        "replication value without its maximum",
        "replication value out of order",
        "clone worth more than the weights (min)",
        "clone worth more than the weights (likely)",
        "replication value on data",
        "compute cost without its maximum",
        "compute cost on a host",
        "compute cost out of order",
        "no instance",
    ],
)
def test_money_fields_and_instances_are_checked(system, owner, kind, fields, field, untouched):
    if "replication_value_min" in fields and "replication_value_max" not in fields and field != "replication_value_max":
        fields = {**fields, "replication_value_max": 60 * M}
    with untouched(system), pytest.raises(ValidationError) as refused:
        asset_save(actor=owner, system=system, name="Probe", kind=kind, **VALUES, **fields)
    assert field in refused.value.message_dict


def test_valid_money_fields_are_stored(system, owner):
    weights = asset_save(
        actor=owner,
        system=system,
        name="Weights",
        kind="model_weights",
        **VALUES,
        replication_value_min=M,
        replication_value_likely=5 * M,
        replication_value_max=100 * M,  # equal to the value's maximum: allowed
    )
    api = asset_save(
        actor=owner,
        system=system,
        name="API",
        kind="ai_agent",
        compute_cost_min=100,
        compute_cost_likely=400,
        compute_cost_max=2000,
        instances=3,
        runs_untrusted_code=True,
        streaming=True,
        prompt_cache_shared=True,
    )
    weights.refresh_from_db()
    api.refresh_from_db()
    assert (weights.replication_value_likely, api.compute_cost_max, api.instances) == (5 * M, 2000, 3)
    assert (api.runs_untrusted_code, api.streaming, api.prompt_cache_shared) == (True, True, True)


def test_the_database_refuses_money_fields_that_bypass_clean(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        Asset.objects.filter(pk=world.gpu.pk).update(compute_cost_min=1, compute_cost_likely=2, compute_cost_max=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        Asset.objects.filter(pk=world.weights.pk).update(
            replication_value_min=M, replication_value_likely=2 * M, replication_value_max=None
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Asset.objects.filter(pk=world.weights.pk).update(
            replication_value_min=M, replication_value_likely=50 * M, replication_value_max=60 * M
        )


def test_flows_have_an_initiator_and_profiles_an_actor_type(world):
    w = world
    pull = flow_save(actor=w.owner, system=w.system, name="Pull", source=w.bucket, target=w.gpu, initiator="target")
    push = flow_save(actor=w.owner, system=w.system, name="Push", source=w.gpu, target=w.bucket)
    assert (pull.initiator, push.initiator) == ("target", "source")
    with pytest.raises(ValidationError) as refused:
        flow_save(actor=w.owner, system=w.system, name="Odd", source=w.gpu, target=w.replica, initiator="both")
    assert "initiator" in refused.value.message_dict

    thief = attacker_save(actor=w.owner, system=w.system, name="Burglar", actor_type="physical")
    assert thief.actor_type == "physical"
    with pytest.raises(ValidationError):
        attacker_save(actor=w.owner, system=w.system, name="Ghost", actor_type="alien")
    assert not AttackerProfile.objects.filter(name="Ghost").exists()
    assert DataFlow.objects.filter(system=w.system, name="Odd").count() == 0


def test_new_systems_seed_profiles_with_their_actor_types(owner, team_a):
    system = make_system(actor=owner, team=team_a, name="Seeded")
    types = dict(system.attackers.values_list("name", "actor_type"))
    assert types == {spec["name"]: str(spec["actor_type"]) for spec in DEFAULT_ATTACKERS}
    assert types["Malicious insider"] == "insider" and types["Compromised supplier"] == "supplier"
    assert {types[name] for name in ("Anonymous API user", "Cybercrime group", "Nation-state operation")} == {
        "external"
    }


def test_the_new_vocabulary_is_accepted(system, owner):
    tool = asset_save(actor=owner, system=system, name="MCP", kind="agent_tool", authentication="token")
    cloud = asset_save(actor=owner, system=system, name="Bucket", kind="object_store", authentication="iam")
    embed = asset_save(
        actor=owner, system=system, name="Embed", kind="inference_endpoint", output_granularity="embeddings"
    )
    assert (tool.kind, tool.authentication, cloud.authentication, embed.output_granularity) == (
        "agent_tool",
        "token",
        "iam",
        "embeddings",
    )
