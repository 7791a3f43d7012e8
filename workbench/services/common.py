"""Shared machinery for write services: permission checks, snapshots, version bumps.

Every service that changes a system's model runs inside one transaction that (1) checks the
actor's role, (2) validates with ``full_clean``, (3) saves, (4) bumps ``System.version`` and
(5) appends an audit event with a before/after diff. Callers never do any of this by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F

from workbench.background import system_changed
from workbench.models import System
from workbench.permissions import TeamCapability, require
from workbench.services.audit import audit_instance

Actor = AbstractBaseUser | AnonymousUser
M = TypeVar("M", bound=models.Model)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(instance: models.Model) -> dict[str, Any]:
    """A JSON-safe dict of the concrete and many-to-many fields, for audit diffs.

    A model with relations kept in rows of their own (an asset's copies) adds them through an
    ``audit_relations()`` method, so a change of those alone is a change too.
    """
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in {"created_at", "updated_at", "team"}:
            continue
        value = getattr(instance, field.attname)
        if isinstance(field, models.DecimalField) and value is not None:
            # 1000000 and 1000000.00 are the same amount: compare at the column's precision.
            value = Decimal(value).quantize(Decimal(1).scaleb(-field.decimal_places))
        data[field.attname] = _plain(value)
    if instance.pk is not None:
        for m2m in instance._meta.many_to_many:
            data[m2m.name] = sorted(getattr(instance, m2m.name).values_list("pk", flat=True))
        relations = getattr(instance, "audit_relations", None)
        if callable(relations):
            data.update(relations())
    return data


def diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Reduce two snapshots to the keys that changed (identity keys kept for context)."""
    if before is None or after is None:
        return dict(before or {}), dict(after or {})
    keys = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    return {k: before.get(k) for k in sorted(keys)}, {k: after.get(k) for k in sorted(keys)}


def bump_version(system: System) -> int:
    """Increase the system's version in the caller's transaction; after it commits the recompute
    is queued and obsolete plans are retired, once per system per transaction
    (``workbench.background.changes``)."""
    System.objects.filter(pk=system.pk).update(version=F("version") + 1)
    system.version = System.objects.values_list("version", flat=True).get(pk=system.pk)
    system_changed(system.pk)
    return system.version


def apply_fields(instance: models.Model, fields: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Set only whitelisted attributes; unknown keys are a validation error, not ignored."""
    allowed_set = set(allowed)
    unknown = sorted(set(fields) - allowed_set)
    if unknown:
        raise ValidationError({key: "Unknown field." for key in unknown})
    for key, value in fields.items():
        setattr(instance, key, value)


def set_m2m(instance: models.Model, m2m: Mapping[str, Iterable[models.Model]], system: System) -> None:
    """Replace many-to-many sets after checking every member belongs to the same system."""
    for name, members in m2m.items():
        members = list(members)
        foreign = [m for m in members if getattr(m, "system_id", None) != system.pk]
        if foreign:
            raise ValidationError({name: "Every selected item must belong to this system."})
        getattr(instance, name).set(members)


def save_element(
    *,
    actor: Actor,
    system: System,
    instance: M,
    fields: Mapping[str, Any],
    allowed: Iterable[str],
    m2m: Mapping[str, Iterable[models.Model]] | None = None,
    after_save: Callable[[M], None] | None = None,
) -> M:
    """Create or update one element of a system (zone, asset, flow, attacker profile).

    ``after_save`` writes relations kept in rows of their own, in the same transaction and
    before the "after" snapshot; a ``ValidationError`` it raises rolls the whole write back.
    """
    require(actor, system.team, TeamCapability.EDIT_MODEL)
    creating = instance.pk is None
    if not creating and instance.system_id != system.pk:  # type: ignore[attr-defined]
        raise ValidationError("This element belongs to another system.")
    before = None if creating else snapshot(instance)
    with transaction.atomic():
        apply_fields(instance, fields, allowed)
        instance.team_id = system.team_id  # type: ignore[attr-defined]
        instance.system_id = system.pk  # type: ignore[attr-defined]
        instance.full_clean()
        instance.save()
        if m2m:
            set_m2m(instance, m2m, system)
        if after_save is not None:
            after_save(instance)
        after = snapshot(instance)
        if not creating and before == after:
            return instance
        bump_version(system)
        old, new = diff(before, after)
        audit_instance(
            actor=actor,
            verb="create" if creating else "update",
            instance=instance,
            system=system,
            before=None if creating else old,
            after=new,
        )
    return instance


def delete_element(
    *, actor: Actor, system: System, instance: models.Model, extra: dict[str, Any] | None = None
) -> None:
    """Delete an element, recording its last state (and anything that cascades) in the audit."""
    require(actor, system.team, TeamCapability.EDIT_MODEL)
    with transaction.atomic():
        before = snapshot(instance)
        if extra:
            before.update(extra)
        key, label = instance.pk, str(instance)
        instance.delete()
        bump_version(system)
        audit_instance(
            actor=actor, verb="delete", instance=instance, system=system, key=key, label=label, before=before
        )
