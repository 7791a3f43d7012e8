"""threats 0011 / mitigations 0006: the control catalogue moves to threats without losing a row.

A database at the old head (catalogue state in mitigations) gets controls, threat-control links
and a plan through the historical models; migrating forward must leave every row where it was,
the plan pointing to its control, and the content types (so the permissions) relabelled, not
recreated. Migrating back relabels them again. Runs on SQLite and, with DATABASE_URL, PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from mitigations.models import MitigationPlan
from tests.migration_steps import apps_at, migrated_to
from threats.models import Control, ThreatControl

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("threats", "0010_plan_effects"), ("mitigations", "0005_control_v2")]
AFTER = [("threats", "0011_control_catalogue"), ("mitigations", "0006_control_catalogue")]


@pytest.fixture
def at_old_head() -> Iterator[Any]:
    """The historical apps before the move; every app is migrated to its latest afterwards."""
    with migrated_to(BEFORE) as apps:
        yield apps


def _old_rows(apps: Any) -> dict[str, Any]:
    team = apps.get_model("workbench", "Team").objects.create(name="Legacy", slug="legacy")
    system = apps.get_model("workbench", "System").objects.create(team=team, name="Legacy", slug="legacy")
    threat = apps.get_model("threats", "ThreatTemplate").objects.create(
        code="T-OLD", name="Old threat", description="", stride="I", target="asset", rule={},
        base_probability=[0.1] * 5, definition={}, library_version="1", content_hash="h",
    )  # fmt: skip
    control_model = apps.get_model("mitigations", "Control")
    costs = {f"cost_{kind}_{end}": Decimal(1) for kind in ("one_off", "yearly") for end in ("min", "max")}
    controls = [
        control_model.objects.create(
            code=code,
            name=code,
            description="",
            type="preventive",
            rand_sl=2,
            definition={},
            library_version="1",
            content_hash="h",
            **costs,
        )  # fmt: skip
        for code in ("M-FIRST", "M-SECOND")
    ]
    link = apps.get_model("mitigations", "ThreatControl").objects.create(
        threat=threat, control=controls[1], effectiveness=Decimal("0.400"), effectiveness_by_oc=[0.4] * 5,
        evidence_source="src", evidence_figure="fig",
    )  # fmt: skip
    plan = apps.get_model("mitigations", "MitigationPlan").objects.create(
        team=team, system=system, control=controls[1], content_hash="p"
    )
    return {"threat": threat.pk, "controls": [c.pk for c in controls], "link": link.pk, "plan": plan.pk}


def _content_type_ids(app_label: str) -> dict[str, int]:
    rows = ContentType.objects.filter(app_label=app_label, model__in=("control", "threatcontrol"))
    return dict(rows.values_list("model", "pk"))


def test_the_move_keeps_every_control_link_plan_and_content_type(at_old_head):
    ids = _old_rows(at_old_head)
    old_types = _content_type_ids("mitigations")
    assert set(old_types) == {"control", "threatcontrol"}  # the reverse run relabelled them back
    permissions = set(Permission.objects.filter(content_type_id__in=old_types.values()).values_list("pk", flat=True))
    assert len(permissions) == 8

    apps_at(AFTER)
    ContentType.objects.clear_cache()

    first, second = ids["controls"]
    assert sorted(Control.objects.values_list("pk", "code")) == [(first, "M-FIRST"), (second, "M-SECOND")]
    link = ThreatControl.objects.get()
    assert (link.pk, link.threat_id, link.control_id, link.effectiveness) == (
        ids["link"],
        ids["threat"],
        ids["controls"][1],
        Decimal("0.400"),
    )
    plan = MitigationPlan.objects.get(pk=ids["plan"])
    assert plan.control.code == "M-SECOND"
    assert list(plan.control.threats.values_list("code", flat=True)) == ["T-OLD"]
    # Same content type rows, relabelled: the permissions hang on them unchanged.
    assert _content_type_ids("threats") == old_types
    assert _content_type_ids("mitigations") == {}
    assert ContentType.objects.get_for_model(Control).pk == old_types["control"]
    assert set(Permission.objects.filter(content_type__app_label="threats").values_list("pk", flat=True)) >= (
        permissions
    )
