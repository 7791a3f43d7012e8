"""The engines' snapshot, the demo and the synthetic generator speak the risk method v2 domain."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from threats.services.snapshot import attackers_snapshot, system_snapshot
from workbench.demo import load_demo
from workbench.demo_data import ATTACKER_ENTRIES
from workbench.models import Asset, AssetCopy, AttackerProfile, DataFlow, System
from workbench.models.rules import DATA_KIND_VALUES
from workbench.services.elements import asset_save, attacker_save, flow_save
from workbench.services.synthetic import system_generate

pytestmark = pytest.mark.django_db

M = Decimal(1_000_000)


# --- the snapshot ---------------------------------------------------------------------------------


def test_the_snapshot_carries_every_v2_field_in_six_queries(system, owner, django_assert_num_queries):
    def make(name: str, kind: str, **fields: Any) -> Asset:
        return asset_save(actor=owner, system=system, name=name, kind=kind, **fields)

    bucket, replica, gpu = make("Bucket", "object_store"), make("Replica", "object_store"), make("GPU", "gpu_host")
    weights = make(
        "Weights",
        "model_weights",
        value_min=10 * M,
        value_likely=40 * M,
        value_max=100 * M,
        replication_value_min=M,
        replication_value_likely=5 * M,
        replication_value_max=20 * M,
        stored_on=[replica, bucket],
        loaded_on=[gpu],
    )
    adapter = make("Adapter", "adapter", stored_on=[bucket])
    make(
        "API",
        "ai_agent",
        serves=[weights, adapter],
        compute_cost_min=10,
        compute_cost_likely=20,
        compute_cost_max=90,
        runs_untrusted_code=True,
        prompt_cache_shared=True,
        streaming=True,
        hosted_on=gpu,
    )
    make("Fleet", "edge_device", instances=5000)
    pull = flow_save(actor=owner, system=system, name="Pull", source=bucket, target=gpu, initiator="target")
    attacker_save(actor=owner, system=system, name="Cleaner", actor_type="physical")

    with django_assert_num_queries(6):
        snapshot = system_snapshot(system=system)
    by_name = {a.name: a for a in snapshot.assets}

    w, a = by_name["Weights"], by_name["API"]
    assert (w.stored_on, w.loaded_on, w.serves) == ((replica.pk, bucket.pk), (gpu.pk,), ())
    assert w.replication_value == (1e6, 5e6, 2e7) and w.compute_cost_per_day is None
    assert a.serves == tuple(sorted((weights.pk, adapter.pk))) and a.compute_cost_per_day == (10.0, 20.0, 90.0)
    assert (a.runs_untrusted_code, a.prompt_cache_shared, a.streaming, a.hosted_on_id) == (True, True, True, gpu.pk)
    assert (by_name["Fleet"].instances, by_name["Adapter"].stored_on, by_name["Bucket"].stored_on) == (
        5000,
        (bucket.pk,),
        (),
    )
    assert {f.name: f.initiator for f in snapshot.flows} == {pull.name: "target"}
    types = {p.name: p.actor_type for p in attackers_snapshot(system=system)}
    assert types["Cleaner"] == "physical" and types["Malicious insider"] == "insider"


# --- the demo -------------------------------------------------------------------------------------


@pytest.fixture
def demo() -> System:
    system = load_demo(password="demo-password-for-tests")["system"]
    system.refresh_from_db()
    return system


def _asset(system: System, name: str) -> Asset:
    return Asset.objects.get(system=system, name=name)


def _names(pks: list[int]) -> list[str]:
    names = dict(Asset.objects.filter(pk__in=pks).values_list("pk", "name"))
    return [names[pk] for pk in pks]


def test_the_flagship_weights_have_their_real_copies(demo):
    copies = _asset(demo, "Flagship LLM weights").audit_relations()

    assert _names(copies["stored_on"]) == ["Weights bucket", "DR weights replica"]  # system of record first
    assert set(_names(copies["loaded_on"])) == {"GPU serving hosts", "Eval host"}
    assert "separate cloud account" in _asset(demo, "DR weights replica").description
    assert _asset(demo, "GPU serving hosts").instances > 1


def test_every_data_asset_lives_in_copies_and_adapters_and_checkpoints_are_loaded_where_used(demo):
    for asset in Asset.objects.filter(system=demo, kind__in=sorted(DATA_KIND_VALUES)):
        assert asset.hosted_on_id is None and asset.audit_relations()["stored_on"], asset.name
    adapters = _asset(demo, "Fine-tune adapters").audit_relations()
    checkpoints = _asset(demo, "Training checkpoints").audit_relations()
    assert "GPU serving hosts" in _names(adapters["loaded_on"])
    assert len(checkpoints["stored_on"]) == 2 and _names(checkpoints["loaded_on"]) == ["Training cluster"]


def test_the_public_api_serves_the_flagship_at_a_fraction_of_its_value_and_burns_compute(demo):
    api, weights = _asset(demo, "Public inference API"), _asset(demo, "Flagship LLM weights")

    assert set(api.serves.values_list("name", flat=True)) == {weights.name, "Fine-tune adapters"}
    # No value of its own: what it leaks is priced from what it serves.
    assert (api.value_min, api.value_likely, api.value_max) == (0, 0, 0)
    fraction = weights.replication_value_likely / weights.value_likely
    assert Decimal("0.10") <= fraction <= Decimal("0.20")
    for bound in ("min", "max"):
        assert getattr(weights, f"replication_value_{bound}") <= Decimal("0.2") * getattr(weights, f"value_{bound}")
    assert 0 < api.compute_cost_min <= api.compute_cost_likely <= api.compute_cost_max
    assert api.streaming and api.prompt_cache_shared


def test_people_have_personnel_types_and_the_default_profiles_their_entry_points(demo):
    people = dict(Asset.objects.filter(system=demo, kind="human_role").values_list("name", "personnel"))
    assert people == {"ML engineers": "employee", "Contractor": "contractor", "GPU cloud support": "vendor"}
    profiles = {p.name: p for p in AttackerProfile.objects.filter(system=demo).prefetch_related("entry_assets")}
    insider, supplier = profiles["Malicious insider"], profiles["Compromised supplier"]
    assert insider.actor_type == "insider" and supplier.actor_type == "supplier"
    assert {a.name for a in insider.entry_assets.all()} == set(ATTACKER_ENTRIES["Malicious insider"])
    assert {people.get(a.name) for a in insider.entry_assets.all()} == {"employee"}
    # The supplier enters where supplied content comes in; the vendor's staff are people of their
    # own (personnel type "vendor"), reached by phishing, not a second entry of the same profile.
    assert {a.name for a in supplier.entry_assets.all()} == set(ATTACKER_ENTRIES["Compromised supplier"])
    assert "Public package index" in ATTACKER_ENTRIES["Compromised supplier"]


def test_pulls_point_the_way_the_payload_moves_and_are_initiated_by_the_client(demo):
    flows = {f.name: f for f in DataFlow.objects.filter(system=demo).select_related("source", "target")}
    for name, source, target in (
        ("Load weights", "Weights bucket", "GPU serving hosts"),
        ("CI package installs", "Public package index", "CI pipeline"),
        ("Notebook package installs", "Public package index", "Notebook server"),
        ("Load eval weights", "Weights bucket", "Eval host"),
    ):
        flow = flows[name]
        assert (flow.source.name, flow.target.name, flow.initiator) == (source, target, "target"), name
    assert flows["Publish weights"].initiator == "source"


def test_loading_twice_gives_the_same_relations(demo):
    def counts() -> tuple[int, int, int]:
        return AssetCopy.objects.count(), Asset.serves.through.objects.count(), Asset.objects.count()

    first = counts()
    load_demo(password="demo-password-for-tests")
    assert counts() == first


def test_loading_completes_a_demo_migrated_from_v1_and_keeps_what_the_team_added(demo):
    weights = _asset(demo, "Flagship LLM weights")
    AssetCopy.objects.filter(asset=weights).exclude(position=0, mode="stored").delete()  # what 0010 leaves
    corpus = _asset(demo, "Training corpus")
    owner = demo.owner
    asset_save(actor=owner, system=demo, asset=corpus, loaded_on=[_asset(demo, "Notebook server")])

    load_demo(password="demo-password-for-tests")

    assert _names(weights.audit_relations()["stored_on"]) == ["Weights bucket", "DR weights replica"]
    assert _names(corpus.audit_relations()["loaded_on"]) == ["Notebook server"]


# --- the synthetic generator ----------------------------------------------------------------------


def test_generated_systems_keep_data_in_copies_and_endpoints_serve_models(editor, team_a):
    system = system_generate(actor=editor, team=team_a, name="Synthetic", assets=300, seed=3)

    data = Asset.objects.filter(system=system, kind__in=sorted(DATA_KIND_VALUES))
    assert data.exists() and not data.filter(hosted_on__isnull=False).exists()
    assert not data.filter(copies__isnull=True).exists()  # every data asset has a copy somewhere
    assert AssetCopy.objects.filter(system=system, mode="loaded", holder__kind="gpu_host").exists()
    endpoints = Asset.objects.filter(system=system, kind__in=["inference_endpoint", "api_gateway"])
    assert endpoints.exists() and not endpoints.filter(serves__isnull=True).exists()
    assert set(AttackerProfile.objects.filter(system=system).values_list("actor_type", flat=True)) == {
        "external",
        "insider",
        "supplier",
    }
    snapshot = system_snapshot(system=system)
    assert any(asset.stored_on for asset in snapshot.assets) and any(asset.serves for asset in snapshot.assets)
