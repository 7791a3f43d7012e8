"""Inventory sync of an asset's relations of risk method v2: ``stored_on``, ``loaded_on``, ``serves``.

Items name related assets by external id in the sync's source, as ``hosted_on`` does. A list
replaces the stored one (``stored_on`` keeps its order: the first is the system of record;
``loaded_on`` and ``serves`` are sets, so the same members in another order change nothing).
``hosted_on`` on a data asset stands for a one-element ``stored_on`` (see
``workbench.services.copies``).

Cost: nothing unless the payload needs it. The stored relations are read in two queries (three
when an asset turns into a data asset) only when some item sets a relation, changes an asset's
kind, uses the ``hosted_on`` synonym or a full sync deletes assets; writes are one DELETE and one
INSERT per table, whatever the number of items.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from workbench.choices import CopyMode
from workbench.models import Asset, AssetCopy, System
from workbench.models.rules import DATA_KIND_VALUES, copy_error, serves_error
from workbench.services.copies import SYNONYM_CONFLICT

Token = tuple[str, Any]
RELATIONS = ("stored_on", "loaded_on", "serves")
COPY_MODES = {"stored_on": CopyMode.STORED.value, "loaded_on": CopyMode.LOADED.value}
# Kinds that satisfy the other side of a rule, to check one side of a relation at a time.
_ANY_DATA, _ANY_HOLDER, _ANY_MODEL, _ANY_ENDPOINT = "model_weights", "object_store", "model_weights", "api_gateway"


def _in_source(prefix: str, source: str) -> Q:
    return Q(**{f"{prefix}__source": source}) & ~Q(**{f"{prefix}__external_id": ""})


@dataclass
class StoredRelations:
    """The stored relations that touch the source's assets (either end)."""

    copies: dict[tuple[int, str], list[tuple[int, int]]] = field(
        default_factory=dict
    )  # (asset, mode) -> [(holder, row)]
    serves: dict[int, dict[int, int]] = field(default_factory=dict)  # endpoint -> {model: through row}
    kinds: dict[int, str] = field(default_factory=dict)  # kinds of the assets outside the source they touch
    hosted: dict[int, int] = field(default_factory=dict)  # asset outside the source -> its host in the source

    @classmethod
    def read(cls, system: System, source: str, *, hosted: bool) -> StoredRelations:
        stored = cls()
        copies = AssetCopy.objects.filter(system=system).filter(
            _in_source("asset", source) | _in_source("holder", source)
        )
        rows = copies.order_by("asset_id", "mode", "position").values_list(
            "id", "asset_id", "holder_id", "mode", "asset__kind", "holder__kind"
        )
        for pk, asset_id, holder_id, mode, asset_kind, holder_kind in rows:
            stored.copies.setdefault((asset_id, mode), []).append((holder_id, pk))
            stored.kinds[asset_id], stored.kinds[holder_id] = asset_kind, holder_kind
        through = Asset.serves.through.objects.filter(from_asset__system=system).filter(
            _in_source("from_asset", source) | _in_source("to_asset", source)
        )
        for pk, endpoint, model, endpoint_kind, model_kind in through.values_list(
            "id", "from_asset_id", "to_asset_id", "from_asset__kind", "to_asset__kind"
        ):
            stored.serves.setdefault(endpoint, {})[model] = pk
            stored.kinds[endpoint], stored.kinds[model] = endpoint_kind, model_kind
        if hosted:
            guests = Asset.objects.filter(system=system).filter(_in_source("hosted_on", source))
            for pk, host, kind in guests.exclude(source=source).values_list("id", "hosted_on_id", "kind"):
                stored.hosted[pk] = host
                stored.kinds[pk] = kind
        return stored

    @property
    def owners(self) -> set[int]:
        """Assets with stored copies or served models."""
        return {asset_id for asset_id, _ in self.copies} | set(self.serves)

    def members(self, asset_id: int | None, name: str) -> list[int]:
        """The stored members of one relation of one asset (stored copies in order)."""
        if asset_id is None:
            return []
        if name == "serves":
            return list(self.serves.get(asset_id, {}))
        return [holder for holder, _ in self.copies.get((asset_id, COPY_MODES[name]), [])]


def needs_relations(items: Iterable[Any], rows: dict[str, dict[str, Any]], *, pruning: bool) -> tuple[bool, bool]:
    """Whether the plan must read stored relations, and whether also the assets hosted on the source's."""
    needed, to_data = pruning, False
    for item in items:
        fields = item.fields
        row = rows.get(item.external_id)
        kind = fields.get("kind", row["kind"] if row is not None else None)
        if row is not None and kind != row["kind"]:
            needed = True
            to_data = to_data or kind in DATA_KIND_VALUES
        elif any(name in fields for name in RELATIONS) or (
            fields.get("hosted_on") is not None and kind in DATA_KIND_VALUES
        ):
            needed = True
    return needed, to_data


def plan_relations(
    item: Any,
    row: dict[str, Any] | None,
    stored: StoredRelations,
    token: Callable[[int], Token],
    known: set[str],
    fail: Callable[[str, str], None],
    synonym: str | None,
) -> tuple[dict[str, list[Token]], list[str]]:
    """The relations an item sets (as tokens) and the names of those that change."""
    if (
        synonym is None
        and not stored.copies
        and not stored.serves
        and not any(name in item.fields for name in RELATIONS)
    ):
        return {}, []  # the common case: nothing relates, nothing to compare
    wanted: dict[str, list[Token]] = {}
    for name in RELATIONS:
        if name not in item.fields:
            continue
        tokens = []
        for key in item.fields[name]:
            if key == item.external_id:
                fail(name, "An asset cannot be related to itself.")
            elif key not in known:
                fail(name, f"No asset with external_id {key!r} in this sync's source.")
            tokens.append(("ext", key))
        wanted[name] = tokens
    if synonym is not None:
        if "stored_on" not in wanted:
            wanted["stored_on"] = [("ext", synonym)]
        elif wanted["stored_on"][:1] != [("ext", synonym)]:
            fail("hosted_on", SYNONYM_CONFLICT)
    pk = row["id"] if row is not None else None
    changed = []
    for name in RELATIONS:
        current = [token(member) for member in stored.members(pk, name)]
        if name in wanted:
            same = current == wanted[name] if name == "stored_on" else set(current) == set(wanted[name])
            if not same:
                changed.append(name)
        else:
            for kept in current:
                if kept[0] == "ext" and kept[1] not in known:
                    fail(name, f"Its stored {name} asset {kept[1]!r} is not in this full sync and would be deleted.")
    return wanted, changed


def check_kinds(
    ops: list[Any], rows: dict[str, dict[str, Any]], stored: StoredRelations, token: Any, errors: Any
) -> None:
    """After every item is planned: every relation (set or kept) must fit its ends' final kinds.

    A problem is reported on the item that caused it: the one that sets the relation, or the one
    whose kind change breaks a relation it keeps. Cheap when nothing relates: one pass over the items.
    """
    owners = stored.owners
    related = [op for op in ops if op.relations or op.host is not None or op.pk in owners]
    retyped = {("ext", op.item.external_id) for op in ops if op.pk is not None and op.kind != op.stored_kind}
    if not related and not retyped:
        return
    by_token = {("ext", op.item.external_id): op for op in ops}

    def kind_of(key: Token) -> Any:
        op = by_token.get(key)
        if op is not None:
            return op.kind
        if key[0] == "ext":
            return rows[key[1]]["kind"]
        return stored.kinds.get(key[1])

    def fail(op: Any, name: str, message: str) -> None:
        errors.add("assets", op.item.index, op.item.external_id, name, message)

    def blame(member: Token, message: str) -> None:
        op = by_token.get(member)
        if op is not None:
            fail(op, "kind", message)

    for op in related if not retyped else ops:
        for name in RELATIONS:
            given = name in op.relations
            members = op.relations[name] if given else [token(pk) for pk in stored.members(op.pk, name)]
            if not members:
                continue
            own = copy_error(op.kind, _ANY_HOLDER) if name != "serves" else serves_error(op.kind, _ANY_MODEL)
            if own:
                fail(op, name if given else "kind", own)
                continue
            for member in members:
                kind = kind_of(member)
                problem = copy_error(_ANY_DATA, kind) if name != "serves" else serves_error(_ANY_ENDPOINT, kind)
                if problem and given:
                    fail(op, name, f"{member[1]}: {problem}")
                elif problem:
                    blame(member, f"It is in {name} of {op.item.external_id!r}: {problem}")
        row = rows.get(op.item.external_id)
        host = op.host if op.host is not None else (token(row["hosted_on_id"]) if row and row["hosted_on_id"] else None)
        if host is not None and kind_of(host) in DATA_KIND_VALUES:
            if op.host is not None:
                fail(op, "hosted_on", "The host must be a machine, store or service, not a data asset.")
            else:
                blame(host, f"{op.item.external_id!r} is hosted on it; a data asset cannot host anything.")
    if not retyped:
        return
    # Relations of assets this sync does not list, onto assets whose kind it changes.
    listed = {op.pk for op in ops if op.pk is not None}
    for (asset_id, mode), holders in stored.copies.items():
        if asset_id not in listed:
            for holder, _ in holders:
                if token(holder) in retyped and (problem := copy_error(_ANY_DATA, kind_of(token(holder)))):
                    blame(token(holder), f"It holds a {mode} copy of asset {asset_id}: {problem}")
    for endpoint, models in stored.serves.items():
        if endpoint not in listed:
            for model in models:
                if token(model) in retyped and (problem := serves_error(_ANY_ENDPOINT, kind_of(token(model)))):
                    blame(token(model), f"Asset {endpoint} serves it: {problem}")
    guests = dict(stored.hosted)
    guests |= {row["id"]: row["hosted_on_id"] for row in rows.values() if row["id"] not in listed}
    for guest, host_id in guests.items():
        if host_id is not None and token(host_id) in retyped and kind_of(token(host_id)) in DATA_KIND_VALUES:
            blame(token(host_id), f"Asset {guest} is hosted on it; a data asset cannot host anything.")


def write_relations(writer: Any, ops: list[Any], stored: StoredRelations | None, system: System, ids: Any) -> set[int]:
    """Replace the relations that changed: one DELETE and one INSERT per table.

    Returns the stored assets whose relations changed (their ``updated_at`` must move: the API's
    ``?updated_since=`` feed shows relations).
    """
    touched: set[int] = set()
    if stored is None:
        return touched
    drop_copies: list[int] = []
    add_copies: list[dict[str, Any]] = []
    drop_serves: list[int] = []
    add_serves: list[dict[str, Any]] = []
    for op in ops:
        for name in RELATIONS:
            if name not in op.relations or (not op.created and name not in op.changed):
                continue
            members = [ids(member) for member in op.relations[name]]
            if not op.created:
                touched.add(op.pk)
            if name == "serves":
                current = stored.serves.get(op.pk, {})
                drop_serves.extend(row for model, row in current.items() if model not in members)
                add_serves.extend(
                    {"from_asset_id": op.pk, "to_asset_id": model} for model in members if model not in current
                )
                continue
            mode = COPY_MODES[name]
            drop_copies.extend(row for _, row in stored.copies.get((op.pk, mode), []))
            add_copies.extend(
                {"asset_id": op.pk, "holder_id": holder, "mode": mode, "position": position}
                for position, holder in enumerate(members)
            )
    if drop_copies:
        AssetCopy.objects.filter(pk__in=drop_copies).delete()
    if drop_serves:
        Asset.serves.through.objects.filter(pk__in=drop_serves).delete()
    writer.insert(AssetCopy, add_copies, {"team_id": system.team_id, "system_id": system.pk})
    writer.insert(Asset.serves.through, add_serves, {})
    return touched
