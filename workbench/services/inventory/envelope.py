"""The sync request as a whole, read once: its size, its envelope and the full-sync guard.

``read_envelope`` is the only reader of a request's outer shape (the API used to parse it too,
then the service again): it refuses, in this order,

1. more than ``MAX_SYNC_ITEMS`` assets and flows (``workbench.services.limits``), counted before
   anything is parsed (``TooManyItems``);
2. a body that is not a sync request: not an object, unknown keys, wrong envelope types
   (``InvalidRequest``, every problem listed);
3. ``mode: full`` with no assets, which means "the source has no assets any more" and would
   delete all of them with their flows; an empty export from a broken collector says exactly
   that. Refused (``PruneAllRequired``) unless the payload also says ``"prune_all": true``.

Items are checked later, one by one (``workbench.services.inventory.items``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.services.inventory.checks import SOURCE_MAX, Invalid, check_key
from workbench.services.inventory.errors import InvalidRequest, PruneAllRequired, TooManyItems
from workbench.services.limits import max_sync_items

MODES = ("upsert", "full")
PRUNE_ALL = "prune_all"
ENVELOPE_KEYS = frozenset({"source", "mode", "dry_run", "assets", "flows", PRUNE_ALL})
MAX_ITEMS = 300_000


@dataclass(slots=True)
class Envelope:
    """A checked sync request; ``assets`` and ``flows`` are the raw items, checked later."""

    source: str
    mode: str
    dry_run: bool
    assets: list[Any]
    flows: list[Any]
    prune_all: bool = False

    @property
    def item_count(self) -> int:
        return len(self.assets) + len(self.flows)


def _item_count(data: Any) -> int:
    if not isinstance(data, dict):
        return 0
    return sum(len(data[name]) for name in ("assets", "flows") if isinstance(data.get(name), list))


def read_envelope(data: Any) -> Envelope:
    """The request's envelope, or the refusal of the whole request (see the module docstring)."""
    items, cap = _item_count(data), max_sync_items()
    if items > cap:
        raise TooManyItems(
            f"A sync takes at most {cap:,} items (assets and flows); this one has {items:,}. "
            "Send the inventory in several upsert syncs."
        )
    envelope = _parse(data)
    if envelope.mode == "full" and not envelope.assets and not envelope.prune_all:
        raise PruneAllRequired(
            f"A full sync without assets would delete every asset of source {envelope.source!r} and "
            'their flows; nothing was written. Send "prune_all": true if that is what you mean.'
        )
    return envelope


def _parse(data: Any) -> Envelope:
    """Check the outer shape; every problem is listed in one ``InvalidRequest``."""
    if not isinstance(data, dict):
        raise InvalidRequest({"non_field_errors": ["The body must be a JSON object."]})
    errors: dict[str, list[str]] = {key: ["Unknown field."] for key in sorted(set(data) - ENVELOPE_KEYS)}
    source = ""
    if "source" not in data:
        errors["source"] = ["This field is required."]
    else:
        try:
            source = check_key(data["source"], SOURCE_MAX)
        except Invalid as exc:
            errors["source"] = [str(exc)]
    mode = data.get("mode", "upsert")
    if type(mode) is not str or mode not in MODES:
        errors["mode"] = ["Must be 'upsert' or 'full'."]
    dry_run = data.get("dry_run", False)
    if type(dry_run) is not bool:
        errors["dry_run"] = ["Expected true or false."]
    sections: dict[str, list[Any]] = {}
    for name in ("assets", "flows"):
        value = data.get(name, [])
        if type(value) is not list:
            errors[name] = ["Expected a list."]
            value = []
        sections[name] = value
    if len(sections["assets"]) + len(sections["flows"]) > MAX_ITEMS:
        errors["non_field_errors"] = [f"At most {MAX_ITEMS} items (assets and flows) per sync."]
    # prune_all is a boolean and means something only with mode full.
    prune_all = data.get(PRUNE_ALL, False)
    if type(prune_all) is not bool:
        errors[PRUNE_ALL] = ["Expected true or false."]
    elif prune_all and data.get("mode") != "full":
        errors[PRUNE_ALL] = ["Only a sync with mode 'full' prunes; leave prune_all out."]
    if errors:
        raise InvalidRequest(errors)
    return Envelope(source, mode, dry_run, sections["assets"], sections["flows"], prune_all=prune_all)
