"""The ATLAS data the product ships: ids, names and links derived from an upstream export (no ORM).

MITRE publishes ATLAS under Apache-2.0. The workbench needs only the identifiers, the names and
the links between them (technique to tactic, sub-technique to parent, mitigation to technique)
to show names and filter by tactic, so that is all ``threats/library/atlas-derived.json`` holds,
with an attribution block; descriptions, summaries, procedures and references stay upstream.

The file is itself a small ATLAS export (same keys as ``dist/ATLAS.yaml``, and JSON is YAML), so
``threats.atlas_parser.parse_atlas`` reads and checks it with the guards it applies to upstream
files, and ``manage.py import_atlas`` accepts it. Output is canonical: objects sorted by id,
link lists sorted, one object per line, so regenerating from the same export gives the same bytes
and a new ATLAS release shows up as a readable diff.
"""

from __future__ import annotations

import json
import re
from typing import Any

from threats.atlas_parser import AtlasData, AtlasFormatError, parse_atlas

FORMAT = "workbench-atlas-derived/1"

# Apache-2.0 section 4: keep the copyright notice and say that the work was changed.
ATTRIBUTION: dict[str, str] = {
    "work": "MITRE ATLAS (Adversarial Threat Landscape for Artificial-Intelligence Systems)",
    "copyright": "Copyright 2021-2025 MITRE",
    "license": "Apache-2.0",
    "license_url": "https://www.apache.org/licenses/LICENSE-2.0",
    "homepage": "https://atlas.mitre.org",
    "upstream": "https://github.com/mitre-atlas/atlas-data (dist/ATLAS.yaml)",
    "changes": "Derived by `manage.py derive_atlas`: only ids, names and links are kept; "
    "all descriptions and other upstream text are left out.",
}

_VERSION = re.compile(r"\d+(?:\.\d+)*")


def version_key(version: str) -> tuple[int, ...] | None:
    """``"5.10.0"`` -> ``(5, 10, 0)`` for ordering releases; None when the version is not dotted numbers.

    Trailing zero parts are dropped so that ``5.6`` and ``5.6.0`` name the same release.
    """
    if not _VERSION.fullmatch(version):
        return None
    parts = [int(part) for part in version.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def derived_document(atlas: AtlasData) -> dict[str, Any]:
    """The prose-free document for ``atlas``, in the canonical order; refuses an unorderable version."""
    if version_key(atlas.version) is None:
        raise AtlasFormatError(
            f"ATLAS version {atlas.version[:32]!r} is not dotted numbers; shipped data must be orderable by version."
        )
    techniques = []
    for technique in sorted(atlas.techniques, key=lambda t: t.atlas_id):
        row: dict[str, Any] = {"id": technique.atlas_id, "name": technique.name}
        if technique.parent_id:
            row["subtechnique-of"] = technique.parent_id
        row["tactics"] = sorted(technique.tactic_ids)
        techniques.append(row)
    return {
        "id": "ATLAS",
        "version": atlas.version,
        "format": FORMAT,
        "attribution": ATTRIBUTION,
        "matrices": [
            {
                "id": "ATLAS",
                "tactics": [
                    {"id": t.atlas_id, "name": t.name} for t in sorted(atlas.tactics, key=lambda t: t.atlas_id)
                ],
                "techniques": techniques,
                "mitigations": [
                    {"id": m.atlas_id, "name": m.name, "techniques": sorted(m.technique_ids)}
                    for m in sorted(atlas.mitigations, key=lambda m: m.atlas_id)
                ],
            }
        ],
        "case-studies": [
            {"id": c.atlas_id, "name": c.name} for c in sorted(atlas.case_studies, key=lambda c: c.atlas_id)
        ],
    }


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _render(value: Any, indent: str, *, row: bool = False) -> str:
    """JSON spread one key per line, except list items without nesting, which take one line each."""
    inner = indent + "  "
    nested = isinstance(value, dict) and any(isinstance(v, dict) or _is_rows(v) for v in value.values())
    if isinstance(value, dict) and (nested or not row):
        body = ",\n".join(f"{inner}{json.dumps(k)}: {_render(v, inner)}" for k, v in value.items())
        return "{\n" + body + "\n" + indent + "}"
    if _is_rows(value):
        return "[\n" + ",\n".join(inner + _render(v, inner, row=True) for v in value) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False)


def render(document: dict[str, Any]) -> str:
    """The canonical text of a derived document (UTF-8, newline at the end)."""
    return _render(document, "") + "\n"


def derive(data: bytes) -> str:
    """Parse an ATLAS export (upstream or derived) and return the canonical derived text."""
    return render(derived_document(parse_atlas(data)))
