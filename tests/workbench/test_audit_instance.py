"""``audit_instance``: the one way services name the row an audit event is about."""

from __future__ import annotations

from typing import Any

import pytest

from workbench.models import System, Team, TrustZone
from workbench.services.audit import audit_instance, team_verify_audit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def anchor_file(settings, tmp_path):
    settings.AUDIT_ANCHOR_PATH = str(tmp_path / "anchors.jsonl")


def test_names_the_row_by_model_key_and_str_in_the_systems_team(owner: Any, system: System) -> None:
    zone = TrustZone.objects.create(team=system.team, system=system, name="DMZ", trust_level=1)

    event = audit_instance(actor=owner, verb="touch", instance=zone, system=system, after={"a": 1})

    assert (event.team_id, event.system_id) == (system.team_id, system.pk)
    assert (event.object_type, event.object_id, event.object_repr) == ("trustzone", str(zone.pk), str(zone))
    assert (event.verb, event.before, event.after, event.actor_name) == ("touch", None, {"a": 1}, "alice")
    assert team_verify_audit(team=system.team).ok


def test_a_deleted_row_is_named_by_the_key_and_label_it_had(owner: Any, team_a: Team) -> None:
    gone = System.objects.create(team=team_a, slug="gone", name="Gone")
    key = gone.pk
    gone.delete()

    event = audit_instance(actor=owner, verb="delete", instance=gone, team=team_a, key=key, label="Gone")

    assert (event.object_type, event.object_id, event.object_repr) == ("system", str(key), "Gone")
    assert event.system_id is None


def test_without_a_team_or_a_system_nothing_is_written(owner: Any, team_a: Team) -> None:
    with pytest.raises(ValueError, match="team or a system"):
        audit_instance(actor=owner, verb="touch", instance=team_a)
