"""Checking the items of a sync: each asset and flow against its fields' checks, with every error kept.

One bad item refuses the whole payload, so nothing stops at the first problem: ``ItemErrors``
collects every item's errors (the answer lists them all, per section). Checks that need the
stored rows (zones, references, merged values) are the planner's (``inventory.plan``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from workbench.services.inventory.checks import KEY_MAX, Invalid, asset_checkers, check_key, flow_checkers


@dataclass(slots=True)
class Item:
    """A checked asset or flow: its position, key and the cleaned values it sets."""

    index: int
    external_id: str
    fields: dict[str, Any]


@dataclass
class ItemErrors:
    """Errors per (section, index), in the order they were found."""

    by_item: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)

    def add(self, section: str, index: int, external_id: Any, name: str, message: str) -> None:
        entry = self.by_item.setdefault(
            (section, index),
            {
                "index": index,
                "external_id": external_id[:KEY_MAX] if isinstance(external_id, str) else None,
                "errors": {},
            },
        )
        entry["errors"].setdefault(name, []).append(message)

    def __bool__(self) -> bool:
        return bool(self.by_item)

    def count(self, section: str) -> int:
        return sum(1 for key in self.by_item if key[0] == section)

    def listing(self, section: str, limit: int) -> list[dict[str, Any]]:
        keys = sorted(key for key in self.by_item if key[0] == section)
        return [self.by_item[key] for key in keys[:limit]]


def _parse_values(
    section: str, index: int, raw: dict[Any, Any], checkers: dict[str, Callable[[Any], Any]], errors: ItemErrors
) -> dict[str, Any] | None:
    """The cleaned values an item sets, or None when any failed (each failure is recorded)."""
    external_id = raw.get("external_id")
    ok = True
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "external_id":
            continue
        check = checkers.get(key)
        if check is None:
            errors.add(section, index, external_id, str(key)[:60], "Unknown field.")
            ok = False
            continue
        try:
            values[key] = check(value)
        except Invalid as exc:
            errors.add(section, index, external_id, key, str(exc))
            ok = False
    return values if ok else None


def _item_key(section: str, index: int, external_id: Any, first_seen: dict[str, int], errors: ItemErrors) -> str | None:
    """The item's checked, not yet seen key, or None (error recorded)."""
    if external_id is None:
        errors.add(section, index, None, "external_id", "This field is required.")
        return None
    try:
        key = check_key(external_id)
    except Invalid as exc:
        errors.add(section, index, external_id, "external_id", str(exc))
        return None
    if key in first_seen:
        errors.add(section, index, key, "external_id", f"Duplicate external_id (first at index {first_seen[key]}).")
        return None
    first_seen[key] = index
    return key


# What a key reader returns for an item that has no key to check (its error is already recorded).
NO_KEY = object()
KeyOf = Callable[[int, dict[str, Any], dict[str, Any] | None, "ItemErrors"], Any]


def _parse_items(
    section: str,
    noun: str,
    raw_items: list[Any],
    checkers: dict[str, Callable[[Any], Any]],
    key_of: KeyOf,
    errors: ItemErrors,
) -> tuple[list[Item], set[str]]:
    """Check every item of one section: its shape, its values, then its key as ``key_of`` reads it.

    Returns the valid items and the key of every item whose key checked (valid values or not).
    """
    items: list[Item] = []
    first_seen: dict[str, int] = {}
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            errors.add(section, index, None, "non_field_errors", f"Each {noun} must be a JSON object.")
            continue
        values = _parse_values(section, index, raw, checkers, errors)
        external_id = key_of(index, raw, values, errors)
        if external_id is NO_KEY:
            continue
        key = _item_key(section, index, external_id, first_seen, errors)
        if key is not None and values is not None:
            items.append(Item(index, key, values))
    return items, set(first_seen)


def parse_assets(raw_items: list[Any], errors: ItemErrors) -> tuple[list[Item], set[str]]:
    """Checked assets, and the key of every asset item (valid or not, so that a flow to an invalid
    asset is not reported a second time); every problem goes into ``errors``."""
    return _parse_items("assets", "asset", raw_items, asset_checkers(), _asset_key, errors)


def _asset_key(index: int, raw: dict[str, Any], values: dict[str, Any] | None, errors: ItemErrors) -> Any:
    """An asset's ``external_id`` is required: a missing one is reported by the key check."""
    return raw.get("external_id")


def derived_flow_key(source: str, target: str) -> str:
    return f"{source}->{target}"


def _flow_key(index: int, raw: dict[str, Any], values: dict[str, Any] | None, errors: ItemErrors) -> Any:
    """The flow's ``external_id``, else ``"<source>-><target>"`` from its checked values."""
    if "external_id" in raw:
        return raw["external_id"]
    if values is None:
        return NO_KEY
    if "source" not in values or "target" not in values:
        errors.add("flows", index, None, "external_id", "Give an external_id, or both source and target.")
        return NO_KEY
    return derived_flow_key(values["source"], values["target"])


def parse_flows(raw_items: list[Any], errors: ItemErrors) -> list[Item]:
    """Checked flows; ``external_id`` defaults to ``"<source>-><target>"`` when omitted."""
    items, _keys = _parse_items("flows", "flow", raw_items, flow_checkers(), _flow_key, errors)
    return items
