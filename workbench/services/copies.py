"""An asset's relations of risk method v2: its copies (stored on, loaded on) and what it serves.

Used by ``asset_save`` inside its transaction, after the asset row is validated and saved, so a
refused relation rolls the whole write back and one write is one version bump and one audit
event (``Asset.audit_relations`` and the ``serves`` many-to-many are part of the audit snapshot).

``hosted_on`` on a data asset is accepted as a synonym for a one-element ``stored_on`` (v1
clients and inventories said "the weights are hosted on the bucket"): it becomes the asset's
system of record and the ``hosted_on`` column stays empty, which is now the machine a service or
agent runs on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from workbench.choices import CopyMode
from workbench.models import Asset, AssetCopy, System
from workbench.models.rules import (
    DATA_KIND_VALUES,
    MAX_RELATED,
    MODEL_KIND_VALUES,
    SERVING_KIND_VALUES,
    copy_error,
    serves_error,
)

COPY_FIELDS = {"stored_on": CopyMode.STORED, "loaded_on": CopyMode.LOADED}
SYNONYM_CONFLICT = "On a data asset hosted_on means its first stored copy: give stored_on, or the same first store."


def _members(name: str, members: Iterable[Asset] | None) -> list[Asset] | None:
    if members is None:
        return None
    listed = list(members)
    if len(listed) > MAX_RELATED:
        raise ValidationError({name: f"At most {MAX_RELATED} assets."})
    return listed


@dataclass
class AssetRelations:
    """The relations one ``asset_save`` call sets (None: leave that relation as it is)."""

    old_kind: str | None
    stored_on: list[Asset] | None = None
    loaded_on: list[Asset] | None = None
    serves: list[Asset] | None = None

    def write(self, asset: Asset) -> None:
        """Check every member and the asset's kind against its relations, then write them.

        Raises ``ValidationError`` keyed by field; the caller's transaction then rolls back.
        """
        errors: dict[str, list[str]] = {}
        for name, members in (("stored_on", self.stored_on), ("loaded_on", self.loaded_on)):
            if members is not None:
                _check_members(asset, name, members, lambda holder: copy_error(asset.kind, holder.kind), errors)
        if self.serves is not None:
            _check_members(asset, "serves", self.serves, lambda model: serves_error(asset.kind, model.kind), errors)
        if self.old_kind is not None and self.old_kind != asset.kind:
            _check_kind_change(asset, self, errors)
        if errors:
            raise ValidationError(errors)
        for name, mode in COPY_FIELDS.items():
            members = getattr(self, name)
            if members is not None:
                _replace_copies(asset, mode, [member.pk for member in members])
        if self.serves is not None:
            asset.serves.set(self.serves)


def relations_for(
    asset: Asset,
    fields: dict[str, Any],
    *,
    stored_on: Iterable[Asset] | None,
    loaded_on: Iterable[Asset] | None,
    serves: Iterable[Asset] | None,
) -> AssetRelations | None:
    """The relation writes of one save, or None when there is nothing to write or check.

    Rewrites ``fields`` in place when ``hosted_on`` is given for a data asset (the synonym).
    """
    stored = _members("stored_on", stored_on)
    kind = fields.get("kind", asset.kind)
    if kind in DATA_KIND_VALUES and "hosted_on" in fields:
        host = fields["hosted_on"]
        fields["hosted_on"] = None
        if host is not None:
            if stored is None:
                stored = [host]
            elif not stored or stored[0] != host:
                raise ValidationError({"hosted_on": SYNONYM_CONFLICT})
    old_kind = asset.kind if asset.pk is not None else None
    relations = AssetRelations(old_kind, stored, _members("loaded_on", loaded_on), _members("serves", serves))
    kind_changes = old_kind is not None and "kind" in fields and fields["kind"] != old_kind
    if relations.stored_on is None and relations.loaded_on is None and relations.serves is None and not kind_changes:
        return None
    return relations


def _check_members(asset: Asset, name: str, members: list[Asset], problem: Any, errors: dict[str, list[str]]) -> None:
    seen: set[int] = set()
    for member in members:
        if member.system_id != asset.system_id:
            message = "Every selected asset must belong to this system."
        elif member.pk == asset.pk:
            message = "An asset cannot be related to itself."
        elif member.pk in seen:
            message = f"“{member.name}” is listed twice."
        else:
            found = problem(member)
            message = f"“{member.name}”: {found}" if found else ""
        seen.add(member.pk)
        if message and message not in errors.get(name, []):
            errors.setdefault(name, []).append(message)


def _check_kind_change(asset: Asset, relations: AssetRelations, errors: dict[str, list[str]]) -> None:
    """A new kind must fit the relations the asset keeps (those this save does not replace)."""
    problems: list[str] = []
    kept_modes = [mode for name, mode in COPY_FIELDS.items() if getattr(relations, name) is None]
    if asset.kind not in DATA_KIND_VALUES and asset.copies.filter(mode__in=kept_modes).exists():
        problems.append("Only data assets have copies: remove its stored and loaded copies first.")
    if asset.kind in DATA_KIND_VALUES:
        if asset.held_copies.exists():
            problems.append("It holds copies of data assets; a data asset cannot hold copies.")
        if asset.hosted_assets.exists():
            problems.append("Services run on it; a data asset cannot host anything.")
    if asset.kind not in SERVING_KIND_VALUES and relations.serves is None and asset.serves.exists():
        problems.append("Only endpoints, gateways and agents serve models: remove what it serves first.")
    if asset.kind not in MODEL_KIND_VALUES and asset.served_by.exists():
        problems.append("Endpoints serve it as a model; a model keeps a model kind.")
    if problems:
        errors.setdefault("kind", []).extend(problems)


def _replace_copies(asset: Asset, mode: str, holders: list[int]) -> None:
    """Make the asset's copies of ``mode`` be ``holders``; stored copies keep their order.

    Loaded copies are a set: the same holders in another order change nothing (no audit noise).
    """
    current = list(asset.copies.filter(mode=mode).order_by("position").values_list("holder_id", flat=True))
    same = current == holders if mode == CopyMode.STORED else set(current) == set(holders)
    if same:
        return
    asset.copies.filter(mode=mode).delete()
    scope = {"team_id": asset.team_id, "system_id": asset.system_id}
    AssetCopy.objects.bulk_create(
        AssetCopy(**scope, asset=asset, holder_id=holder, mode=mode, position=i) for i, holder in enumerate(holders)
    )


def copies_held_by(*, system: System, holder: Asset) -> list[list[Any]]:
    """``[asset id, mode]`` of every copy ``holder`` holds: what its deletion takes along (audit)."""
    rows = AssetCopy.objects.filter(system=system, holder=holder).order_by("asset_id", "mode")
    return [[asset_id, mode] for asset_id, mode in rows.values_list("asset_id", "mode")]
