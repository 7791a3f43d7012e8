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


def parse_assets(raw_items: list[Any], errors: ItemErrors) -> tuple[list[Item], set[str]]:
    """Checked assets, and the key of every asset item (valid or not, so that a flow to an invalid
    asset is not reported a second time); every problem goes into ``errors``."""
    checkers = asset_checkers()
    items: list[Item] = []
    first_seen: dict[str, int] = {}
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            errors.add("assets", index, None, "non_field_errors", "Each asset must be a JSON object.")
            continue
        values = _parse_values("assets", index, raw, checkers, errors)
        key = _item_key("assets", index, raw.get("external_id"), first_seen, errors)
        if key is not None and values is not None:
            items.append(Item(index, key, values))
    return items, set(first_seen)


def derived_flow_key(source: str, target: str) -> str:
    return f"{source}->{target}"


def parse_flows(raw_items: list[Any], errors: ItemErrors) -> list[Item]:
    """Checked flows; ``external_id`` defaults to ``"<source>-><target>"`` when omitted."""
    checkers = flow_checkers()
    items: list[Item] = []
    first_seen: dict[str, int] = {}
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, dict):
            errors.add("flows", index, None, "non_field_errors", "Each flow must be a JSON object.")
            continue
        values = _parse_values("flows", index, raw, checkers, errors)
        external_id = raw.get("external_id")
        if "external_id" not in raw:
            if values is None or "source" not in values or "target" not in values:
                if values is not None:
                    errors.add("flows", index, None, "external_id", "Give an external_id, or both source and target.")
                continue
            external_id = derived_flow_key(values["source"], values["target"])
        key = _item_key("flows", index, external_id, first_seen, errors)
        if key is not None and values is not None:
            items.append(Item(index, key, values))
    return items
