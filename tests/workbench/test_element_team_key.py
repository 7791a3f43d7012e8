"""On PostgreSQL an asset's or flow's team must be its system's team (one composite key, 0007)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from tests.factories import AssetFactory, DataFlowFactory, SystemFactory, TeamFactory
from tests.service_plugin import require_service
from workbench.models import Asset, DataFlow

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres() -> None:
    require_service("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")


def _foreign_keys(table: str) -> set[tuple[str, ...]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {tuple(info["columns"]) for info in constraints.values() if info["foreign_key"]}


def test_elements_have_one_composite_key_to_their_system_and_team():
    for model in (Asset, DataFlow):
        keys = _foreign_keys(model._meta.db_table)
        assert ("system_id", "team_id") in keys
        assert ("system_id",) not in keys and ("team_id",) not in keys


def test_an_element_of_another_team_than_its_system_is_refused_at_commit():
    system, other = SystemFactory(), TeamFactory()
    flow = DataFlowFactory(system=system)
    with pytest.raises(IntegrityError), transaction.atomic():
        Asset.objects.filter(pk=flow.source_id).update(team_id=other.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        DataFlow.objects.filter(pk=flow.pk).update(team_id=other.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        AssetFactory(system=system, team=other, name="Stray")
    assert Asset.objects.get(pk=flow.source_id).team_id == system.team_id
    assert DataFlow.objects.get(pk=flow.pk).team_id == system.team_id
    assert not Asset.objects.filter(name="Stray").exists()


def test_the_migration_reverses_to_the_single_keys_and_back():
    call_command("migrate", "workbench", "0006", verbosity=0)
    try:
        assert {("system_id",), ("team_id",)} <= _foreign_keys(Asset._meta.db_table)
        assert ("system_id", "team_id") not in _foreign_keys(Asset._meta.db_table)
    finally:
        call_command("migrate", "workbench", verbosity=0)
    assert ("system_id", "team_id") in _foreign_keys(DataFlow._meta.db_table)
