"""Migrations 0009/0010: v1 rows enter the v2 domain, and the migrations reverse.

Rows are written with the historical models of 0009 (before the data migration), then 0010 runs
through Django's migration executor. On PostgreSQL the copy table also gets 0007's composite key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from tests.factories import AssetFactory, SystemFactory, TeamFactory
from tests.migration_steps import apps_at, migrated_to
from workbench.models import Asset, AssetCopy, AttackerProfile

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("workbench", "0009_domain_v2")]
AFTER = [("workbench", "0010_domain_v2_data")]


@pytest.fixture
def at_0009() -> Iterator[Any]:
    """The historical apps at 0009 (0010 unapplied); every app is migrated to its latest afterwards."""
    with migrated_to(BEFORE) as apps:
        yield apps


def _v1_rows(apps: Any) -> dict[str, int]:
    team = apps.get_model("workbench", "Team").objects.create(name="Legacy", slug="legacy")
    system = apps.get_model("workbench", "System").objects.create(team=team, name="Legacy", slug="legacy")
    asset_model = apps.get_model("workbench", "Asset")
    profile_model = apps.get_model("workbench", "AttackerProfile")

    def make(name: str, kind: str, **fields: Any) -> Any:
        return asset_model.objects.create(team=team, system=system, name=name, kind=kind, **fields)

    bucket = make("Bucket", "object_store")
    gpu = make("GPU", "gpu_host")
    weights = make("Weights", "model_weights", hosted_on=bucket)
    prompt = make("Prompt", "system_prompt", hosted_on=weights)  # data on data: v1 allowed it
    server = make("Server", "inference_endpoint", hosted_on=gpu, model_class="llm", output_granularity="label")
    classifier = make("Classifier", "inference_endpoint", model_class="classifier", output_granularity="label")
    for name in ("Malicious insider", "Compromised supplier", "Cybercrime group"):
        profile_model.objects.create(team=team, system=system, name=name)
    names = {"bucket": bucket, "gpu": gpu, "weights": weights, "prompt": prompt, "server": server}
    return {key: row.pk for key, row in {**names, "classifier": classifier}.items()}


def test_the_data_migration_moves_hosted_data_to_stored_copies_and_types_the_profiles(at_0009):
    ids = _v1_rows(at_0009)

    apps_at(AFTER)

    weights = Asset.objects.get(pk=ids["weights"])
    assert weights.hosted_on_id is None
    assert list(AssetCopy.objects.filter(asset=weights).values_list("holder_id", "mode", "position")) == [
        (ids["bucket"], "stored", 0)
    ]
    assert AssetCopy.objects.get(asset=weights).team_id == weights.team_id
    # A service keeps its host; data "hosted" on data stays as written (no copy could hold it).
    assert Asset.objects.get(pk=ids["server"]).hosted_on_id == ids["gpu"]
    assert Asset.objects.get(pk=ids["prompt"]).hosted_on_id == ids["weights"]
    assert not AssetCopy.objects.filter(asset_id=ids["prompt"]).exists()
    # An LLM's "label" was v1's "text only"; a classifier's label stays a label.
    assert Asset.objects.get(pk=ids["server"]).output_granularity == "text"
    assert Asset.objects.get(pk=ids["classifier"]).output_granularity == "label"
    assert dict(AttackerProfile.objects.values_list("name", "actor_type")) == {
        "Malicious insider": "insider",
        "Compromised supplier": "supplier",
        "Cybercrime group": "external",
    }


def test_the_data_migration_reverses_to_hosted_on(at_0009):
    ids = _v1_rows(at_0009)
    apps_at(AFTER)

    apps = apps_at(BEFORE)

    historical = apps.get_model("workbench", "Asset")
    assert historical.objects.get(pk=ids["weights"]).hosted_on_id == ids["bucket"]
    assert historical.objects.get(pk=ids["server"]).output_granularity == "label"
    assert not apps.get_model("workbench", "AssetCopy").objects.exists()


def test_the_schema_migration_reverses_and_reapplies():
    try:
        apps_at([("workbench", "0008_audit_keyed_chain")])
        assert "workbench_assetcopy" not in connection.introspection.table_names()
    finally:
        call_command("migrate", verbosity=0)
    assert "workbench_assetcopy" in connection.introspection.table_names()


@pytest.mark.postgres
def test_a_copy_of_another_team_than_its_system_is_refused_on_postgresql():
    from tests.service_plugin import require_service

    require_service("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")
    system, other = SystemFactory(), TeamFactory()
    weights = AssetFactory(system=system, kind="model_weights")
    bucket = AssetFactory(system=system)
    with pytest.raises(IntegrityError), transaction.atomic():
        AssetCopy.objects.create(team=other, system=system, asset=weights, holder=bucket, mode="stored")
    assert not AssetCopy.objects.exists()
