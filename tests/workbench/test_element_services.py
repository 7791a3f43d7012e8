"""``ELEMENT_SERVICES``: the table the pages and the API write elements through."""

from __future__ import annotations

from typing import Any

import pytest

from workbench.models import Asset, AttackerProfile, DataFlow, System, TrustZone
from workbench.services.elements import ELEMENT_SERVICES

pytestmark = pytest.mark.django_db


def test_every_element_model_has_its_services() -> None:
    assert set(ELEMENT_SERVICES) == {TrustZone, Asset, DataFlow, AttackerProfile}


def test_create_change_and_delete_one_element_through_the_table(owner: Any, system: System) -> None:
    zones = ELEMENT_SERVICES[TrustZone]

    created = zones.save_instance(actor=owner, system=system, instance=None, name="DMZ", trust_level=1)
    changed = zones.save_instance(actor=owner, system=system, instance=created, trust_level=2)
    assert (changed.pk, TrustZone.objects.get(pk=created.pk).trust_level) == (created.pk, 2)

    zones.delete_instance(actor=owner, instance=changed)
    assert not TrustZone.objects.filter(pk=created.pk).exists()
