"""Write services: each change bumps ``System.version`` and appends one audit event, or does nothing at all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.factories import AssetFactory, SystemFactory, TrustZoneFactory
from tests.workbench.audit_support import last_event
from workbench.choices import AssetKind, Capability
from workbench.models import Asset, AttackerProfile, AuditEvent, DataFlow, System, Team, TrustZone
from workbench.services.audit import team_verify_audit
from workbench.services.elements import (
    asset_delete,
    asset_save,
    attacker_delete,
    attacker_save,
    flow_delete,
    flow_save,
    zone_delete,
    zone_save,
)
from workbench.services.systems import DEFAULT_ATTACKERS, system_create, system_delete, system_update

pytestmark = pytest.mark.django_db


def version_of(system: System) -> int:
    return System.objects.values_list("version", flat=True).get(pk=system.pk)


def event_count(team: Team) -> int:
    return AuditEvent.objects.filter(team=team).count()


# --- systems ---------------------------------------------------------------------------------


def test_system_create_records_creation_and_seeded_defaults(owner, team_a):
    system = system_create(actor=owner, team=team_a, name="  Training stack  ", risk_appetite=Decimal(500))

    assert system.name == "Training stack"
    assert version_of(system) == 1
    verbs = list(AuditEvent.objects.filter(team=team_a).values_list("verb", "object_type", "system_id", "actor_id"))
    assert verbs == [
        ("create", "system", system.pk, owner.pk),
        ("seed_defaults", "system", system.pk, owner.pk),
    ]
    assert system.zones.get().trust_level == 0
    assert system.attackers.count() == len(DEFAULT_ATTACKERS)
    assert team_verify_audit(team=team_a).ok


def test_system_create_without_defaults_writes_one_event(owner, team_a):
    system = system_create(actor=owner, team=team_a, name="Bare", seed_defaults=False)

    assert event_count(team_a) == 1
    assert not system.zones.exists()
    assert not system.attackers.exists()


def test_system_update_bumps_version_and_records_the_diff(owner, system):
    system_update(actor=owner, system=system, name="Renamed", risk_appetite=Decimal(42))

    assert version_of(system) == 2
    event = last_event(system.team)
    assert (event.verb, event.object_type, event.system_id) == ("update", "system", system.pk)
    assert event.before == {"name": "Inference platform", "risk_appetite": "1000000.00"}
    assert event.after == {"name": "Renamed", "risk_appetite": "42.00"}


def test_system_update_without_change_writes_no_event_and_no_bump(owner, system, nothing_written):
    system = System.objects.get(pk=system.pk)
    with nothing_written(system):
        system_update(actor=owner, system=system, name=system.name, description=system.description)


def test_system_update_with_an_equal_decimal_is_a_no_op(owner, system, nothing_written):
    # Loaded from the database the appetite is Decimal("1000000.00"); 1000000 is the same amount.
    system = System.objects.get(pk=system.pk)
    with nothing_written(system):
        system_update(actor=owner, system=system, risk_appetite=Decimal(1000000))


def test_system_update_from_a_stale_instance_never_lowers_the_version(owner, system):
    stale = System.objects.get(pk=system.pk)
    zone_save(actor=owner, system=system, name="DMZ")
    zone_save(actor=owner, system=system, name="Lab")
    assert version_of(system) == 3

    system_update(actor=owner, system=stale, name="Renamed")

    assert version_of(system) == 4


def test_system_delete_records_last_state_and_element_counts(owner, system):
    pk = system.pk
    system_delete(actor=owner, system=system)

    assert not System.objects.filter(pk=pk).exists()
    event = last_event(system.team)
    assert (event.verb, event.object_type, event.object_id, event.after) == ("delete", "system", str(pk), None)
    assert event.before["element_counts"] == {"zones": 1, "assets": 0, "flows": 0, "attackers": 5}


@pytest.mark.parametrize("persona", ["viewer", "risk_owner", "outsider"])
def test_system_services_refuse_non_editors(request, persona, team_a, system, nothing_written):
    actor = request.getfixturevalue(persona)
    with nothing_written(system):
        with pytest.raises(PermissionDenied):
            system_create(actor=actor, team=team_a, name="Sneaky")
        with pytest.raises(PermissionDenied):
            system_update(actor=actor, system=system, name="Sneaky")
        with pytest.raises(PermissionDenied):
            system_delete(actor=actor, system=system)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "Ok", "risk_appetite": Decimal(-1)}, "risk_appetite"),
        ({"name": "Ok", "colour": "red"}, "colour"),
    ],
    ids=["blank-name", "negative-appetite", "unknown-field"],
)
def test_system_create_with_bad_input_writes_nothing(owner, team_a, system, fields, field, nothing_written):
    with nothing_written(system), pytest.raises(ValidationError) as exc:
        system_create(actor=owner, team=team_a, **fields)
    assert field in exc.value.message_dict


def test_system_update_with_bad_input_writes_nothing(owner, system, nothing_written):
    with nothing_written(system), pytest.raises(ValidationError):
        system_update(actor=owner, system=system, name="Fine", risk_appetite=Decimal(-5))


# --- elements --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ElementCase:
    save: Callable[..., Any]
    delete: Callable[..., None]
    kwarg: str
    object_type: str
    create: Callable[[System], dict[str, Any]]
    change: dict[str, Any]


def _flow_fields(system: System) -> dict[str, Any]:
    return {"name": "Sync", "source": AssetFactory(system=system), "target": AssetFactory(system=system)}


ELEMENT_CASES = {
    "zone": ElementCase(
        zone_save, zone_delete, "zone", "trustzone", lambda s: {"name": "DMZ", "trust_level": 1}, {"trust_level": 3}
    ),
    "asset": ElementCase(
        asset_save,
        asset_delete,
        "asset",
        "asset",
        lambda s: {"name": "Weights", "kind": AssetKind.MODEL_WEIGHTS, "value_max": Decimal(10)},
        {"criticality": 5},
    ),
    "flow": ElementCase(flow_save, flow_delete, "flow", "dataflow", _flow_fields, {"encrypted": False}),
    "attacker": ElementCase(
        attacker_save,
        attacker_delete,
        "attacker",
        "attackerprofile",
        lambda s: {"name": "Insider", "capability": Capability.OC3},
        {"budget": Decimal(7)},
    ),
}
element_cases = pytest.mark.parametrize("case", list(ELEMENT_CASES.values()), ids=list(ELEMENT_CASES))


@element_cases
@pytest.mark.parametrize("persona", ["owner", "editor"])
def test_element_create_bumps_version_and_records_an_event(request, case, persona, system):
    actor = request.getfixturevalue(persona)
    element = case.save(actor=actor, system=system, **case.create(system))

    assert element.pk is not None
    assert element.team_id == system.team_id
    assert version_of(system) == 2
    event = last_event(system.team)
    assert (event.verb, event.object_type, event.object_id) == ("create", case.object_type, str(element.pk))
    assert (event.system_id, event.actor_id, event.before) == (system.pk, actor.pk, None)
    assert event.after["name"] == element.name
    assert team_verify_audit(team=system.team).ok


@element_cases
def test_element_update_bumps_version_and_records_only_the_change(case, owner, system):
    element = case.save(actor=owner, system=system, **case.create(system))
    ((field, value),) = case.change.items()
    old = getattr(element, field)

    case.save(actor=owner, system=system, **{case.kwarg: element}, **case.change)

    assert version_of(system) == 3
    event = last_event(system.team)
    assert event.verb == "update"
    places = getattr(type(element)._meta.get_field(field), "decimal_places", None)

    def audited(v):  # decimals are recorded at the column's precision
        return str(Decimal(v).quantize(Decimal(1).scaleb(-places))) if isinstance(v, Decimal) else v

    assert event.before == {field: audited(old)}
    assert event.after == {field: audited(value)}


@element_cases
def test_element_update_without_change_writes_nothing(case, owner, system, nothing_written):
    created = case.save(actor=owner, system=system, **case.create(system))
    element = type(created).objects.get(pk=created.pk)
    with nothing_written(system):
        case.save(actor=owner, system=system, **{case.kwarg: element}, name=element.name)


@element_cases
def test_element_delete_bumps_version_and_records_the_last_state(case, owner, system):
    element = case.save(actor=owner, system=system, **case.create(system))
    model, pk = type(element), element.pk

    case.delete(actor=owner, **{case.kwarg: element})

    assert not model.objects.filter(pk=pk).exists()
    assert version_of(system) == 3
    event = last_event(system.team)
    assert (event.verb, event.object_type, event.object_id, event.after) == ("delete", case.object_type, str(pk), None)
    assert event.before["name"] == element.name


@element_cases
@pytest.mark.parametrize("persona", ["viewer", "risk_owner", "outsider"])
def test_element_services_refuse_non_editors(request, case, persona, owner, system, nothing_written):
    element = case.save(actor=owner, system=system, **case.create(system))
    actor, fields = request.getfixturevalue(persona), case.create(system)
    with nothing_written(system):
        with pytest.raises(PermissionDenied):
            case.save(actor=actor, system=system, **fields)
        with pytest.raises(PermissionDenied):
            case.delete(actor=actor, **{case.kwarg: element})


@element_cases
def test_element_save_with_a_blank_name_writes_nothing(case, owner, system, nothing_written):
    fields = {**case.create(system), "name": " \t "}
    with nothing_written(system), pytest.raises(ValidationError) as exc:
        case.save(actor=owner, system=system, **fields)
    assert "name" in exc.value.message_dict


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"value_min": Decimal(-1)}, "value_min"),
        ({"value_min": Decimal(10), "value_likely": Decimal(5), "value_max": Decimal(1)}, "value_likely"),
        ({"value_min": Decimal(1), "value_likely": Decimal(50), "value_max": Decimal(10)}, "value_likely"),
        ({"criticality": 9}, "criticality"),
        ({"zone": "other-system"}, "zone"),
    ],
    ids=["negative-min", "min-above-max", "likely-above-max", "criticality-out-of-range", "zone-of-other-system"],
)
def test_asset_save_with_bad_values_writes_nothing(owner, system, fields, field, nothing_written):
    if fields.get("zone") == "other-system":
        fields = {"zone": TrustZoneFactory(system=SystemFactory(team=system.team))}
    with nothing_written(system), pytest.raises(ValidationError) as exc:
        asset_save(actor=owner, system=system, name="Weights", kind=AssetKind.MODEL_WEIGHTS, **fields)
    assert field in exc.value.message_dict


def test_attacker_save_with_negative_attempts_writes_nothing(owner, system, nothing_written):
    with nothing_written(system), pytest.raises(ValidationError) as exc:
        attacker_save(actor=owner, system=system, name="Spammer", attempts_per_year=Decimal("-0.5"))
    assert "attempts_per_year" in exc.value.message_dict


def test_attacker_save_with_an_entry_zone_of_another_system_writes_nothing(owner, system, nothing_written):
    foreign_zone = TrustZoneFactory(system=SystemFactory(team=system.team))
    with nothing_written(system), pytest.raises(ValidationError) as exc:
        attacker_save(actor=owner, system=system, name="Spy", entry_zones=[foreign_zone])
    assert "entry_zones" in exc.value.message_dict


def test_element_save_refuses_an_element_of_another_system(owner, outsider, system, other_system, nothing_written):
    # The outsider edits their own system but hands in team A's asset: it must not move across teams.
    asset = asset_save(actor=owner, system=system, name="Crown jewels", kind=AssetKind.MODEL_WEIGHTS)
    with nothing_written(system), pytest.raises((ValidationError, PermissionDenied)):
        asset_save(actor=outsider, system=other_system, asset=asset, name="Crown jewels")
    assert Asset.objects.get(pk=asset.pk).system_id == system.pk


def test_zone_delete_lists_the_assets_it_unzones(owner, system):
    zone = zone_save(actor=owner, system=system, name="DMZ")
    asset = asset_save(actor=owner, system=system, name="Gateway", kind=AssetKind.API_GATEWAY, zone=zone)

    zone_delete(actor=owner, zone=zone)

    assert Asset.objects.get(pk=asset.pk).zone_id is None
    assert last_event(system.team).before["unzoned_assets"] == [asset.pk]


def test_asset_delete_lists_the_flows_that_go_with_it(owner, system):
    fields = _flow_fields(system)
    flow = flow_save(actor=owner, system=system, **fields)

    asset_delete(actor=owner, asset=fields["source"])

    assert not DataFlow.objects.filter(pk=flow.pk).exists()
    assert last_event(system.team).before["deleted_flows"] == [flow.pk]


def test_flow_carries_change_is_recorded(owner, system):
    flow = flow_save(actor=owner, system=system, **_flow_fields(system))
    weights = AssetFactory(system=system, kind=AssetKind.MODEL_WEIGHTS)

    flow_save(actor=owner, system=system, flow=flow, carries=[weights])

    event = last_event(system.team)
    assert (event.verb, event.before, event.after) == ("update", {"carries": []}, {"carries": [weights.pk]})
    assert version_of(system) == 3


def test_every_service_keeps_the_chain_valid(owner, system):
    zone = zone_save(actor=owner, system=system, name="DMZ")
    fields = _flow_fields(system)
    flow = flow_save(actor=owner, system=system, **fields)
    attacker = attacker_save(actor=owner, system=system, name="Insider", entry_zones=[zone])
    system_update(actor=owner, system=system, description="Now with a DMZ")
    flow_delete(actor=owner, flow=flow)
    attacker_delete(actor=owner, attacker=attacker)
    zone_delete(actor=owner, zone=zone)

    report = team_verify_audit(team=system.team)
    assert report.ok, report
    assert report.checked == event_count(system.team) == 9
    assert list(TrustZone.objects.filter(system=system).values_list("name", flat=True)) == ["Internet"]
    assert not AttackerProfile.objects.filter(name="Insider").exists()


# --- teams and memberships -------------------------------------------------------------------
