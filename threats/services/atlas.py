"""Import MITRE ATLAS into the reference tables, and check library references against it.

Two sources feed the tables. ``atlas_import`` loads an upstream export (``dist/ATLAS.yaml``) with
its descriptions. ``atlas_load_shipped`` loads the prose-free names and links shipped in
``threats/library/atlas-derived.json`` (see ``threats.atlas_derived``), so a fresh clone shows
ATLAS names without the upstream file; it writes only names and links, never blanks an imported
description, and does nothing when the database holds a newer release than the shipped one.

The import is a bulk upsert keyed on ``atlas_id`` inside one transaction: the file is parsed and
checked completely before the transaction opens (so a refused file writes nothing), rows are
compared with what is stored and only differences are written (so re-importing the same file
changes nothing), and the number of queries does not grow with the size of the file.

Objects that disappear from a later ATLAS release are reported as ``stale`` and left in place:
the threat library and findings may still point at them, and deleting reference data under
them is a decision for a person, not for an importer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.db import models, transaction

from threats.atlas_derived import version_key
from threats.atlas_parser import (
    CASE_STUDY_ID,
    MITIGATION_ID,
    TACTIC_ID,
    TECHNIQUE_ID,
    AtlasData,
    AtlasFormatError,
    parse_atlas,
)
from threats.models import AtlasCaseStudy, AtlasMitigation, AtlasRelease, AtlasTactic, AtlasTechnique

SHIPPED_FILE = Path(settings.BASE_DIR) / "threats" / "library" / "atlas-derived.json"

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import found in the file and what it had to change in the database."""

    version: str
    tactics: int
    techniques: int
    mitigations: int
    case_studies: int
    created: int
    updated: int
    links_added: int
    links_removed: int
    stale: tuple[str, ...]  # atlas_ids stored earlier but absent from this file
    notes: tuple[str, ...]  # data quirks the parser repaired

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.links_added or self.links_removed)


@dataclass(frozen=True, slots=True)
class _Upserted:
    pks: dict[str, int]  # atlas_id -> primary key, for every row of the table
    created: set[str]
    updated: set[str]
    stale: list[str]


def _upsert(model: type[M], wanted: dict[str, dict[str, Any]]) -> _Upserted:
    """Create missing rows and update the ones whose ``wanted`` fields differ; leave the rest alone."""
    manager = model._default_manager
    fields = sorted({name for values in wanted.values() for name in values})
    existing: dict[str, M] = {getattr(row, "atlas_id"): row for row in manager.all()}  # noqa: B009
    new = [model(atlas_id=atlas_id, **values) for atlas_id, values in wanted.items() if atlas_id not in existing]
    changed: list[M] = []
    for atlas_id, values in wanted.items():
        row = existing.get(atlas_id)
        if row is not None and any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            changed.append(row)
    manager.bulk_create(new, batch_size=500)
    if changed:
        manager.bulk_update(changed, fields, batch_size=500)
    return _Upserted(
        pks=dict(manager.values_list("atlas_id", "pk")),
        created={getattr(row, "atlas_id") for row in new},  # noqa: B009
        updated={getattr(row, "atlas_id") for row in changed},  # noqa: B009
        stale=sorted(set(existing) - set(wanted)),
    )


def _sync_links(field: models.ManyToManyField[Any, Any], wanted: dict[int, set[int]]) -> tuple[int, int]:
    """Make the through table hold exactly ``wanted`` (owner pk -> target pks) for those owners."""
    through = field.remote_field.through
    assert through is not None  # always set once the app registry is ready
    owner = field.m2m_field_name() + "_id"
    target = field.m2m_reverse_field_name() + "_id"
    have = {
        (row_owner, row_target): pk
        for pk, row_owner, row_target in through._default_manager.filter(**{f"{owner}__in": list(wanted)})
        .values_list("pk", owner, target)
        .iterator()
    }
    pairs = {(o, t) for o, targets in wanted.items() for t in targets}
    missing = sorted(pairs - set(have))
    extra = [pk for pair, pk in have.items() if pair not in pairs]
    through._default_manager.bulk_create([through(**{owner: o, target: t}) for o, t in missing], batch_size=500)
    if extra:
        through._default_manager.filter(pk__in=extra).delete()
    return len(missing), len(extra)


def _write(atlas: AtlasData, *, prose: bool) -> ImportReport:
    """Upsert ``atlas``; without ``prose`` only names and links are compared and written.

    The shipped data has no descriptions, maturity or categories, so writing it with ``prose``
    would blank what an upstream import stored; those fields are left out of the comparison
    instead, and rows it creates get empty ones.
    """

    def extra(**fields: str) -> dict[str, str]:
        return fields if prose else {}

    tactics = _upsert(
        AtlasTactic, {t.atlas_id: {"name": t.name, **extra(description=t.description)} for t in atlas.tactics}
    )
    techniques = _upsert(
        AtlasTechnique,
        {
            t.atlas_id: {"name": t.name, **extra(description=t.description, maturity=t.maturity)}
            for t in atlas.techniques
        },
    )
    # Parents need every technique's pk, so they are set in a second pass over the same rows.
    parents = _upsert(
        AtlasTechnique,
        {t.atlas_id: {"parent_id": techniques.pks[t.parent_id] if t.parent_id else None} for t in atlas.techniques},
    )
    mitigations = _upsert(
        AtlasMitigation,
        {
            m.atlas_id: {"name": m.name, **extra(description=m.description, category=m.category)}
            for m in atlas.mitigations
        },
    )
    case_studies = _upsert(AtlasCaseStudy, {c.atlas_id: {"name": c.name} for c in atlas.case_studies})
    added_ta, removed_ta = _sync_links(
        AtlasTechnique.tactics.field,
        {techniques.pks[t.atlas_id]: {tactics.pks[ta] for ta in t.tactic_ids} for t in atlas.techniques},
    )
    added_mi, removed_mi = _sync_links(
        AtlasMitigation.techniques.field,
        {mitigations.pks[m.atlas_id]: {techniques.pks[te] for te in m.technique_ids} for m in atlas.mitigations},
    )
    counts = {
        "tactics": len(atlas.tactics),
        "techniques": len(atlas.techniques),
        "mitigations": len(atlas.mitigations),
        "case_studies": len(atlas.case_studies),
        "technique_tactic_links": sum(len(t.tactic_ids) for t in atlas.techniques),
        "mitigation_technique_links": sum(len(m.technique_ids) for m in atlas.mitigations),
    }
    release, made_release = AtlasRelease.objects.get_or_create(version=atlas.version, defaults={"counts": counts})
    if not made_release and release.counts != counts:
        release.counts = counts
        release.save(update_fields=["counts"])
    return ImportReport(
        version=atlas.version,
        tactics=len(atlas.tactics),
        techniques=len(atlas.techniques),
        mitigations=len(atlas.mitigations),
        case_studies=len(atlas.case_studies),
        created=len(tactics.created) + len(techniques.created) + len(mitigations.created) + len(case_studies.created),
        updated=len(tactics.updated)
        + len((techniques.updated | parents.updated) - techniques.created)
        + len(mitigations.updated)
        + len(case_studies.updated),
        links_added=added_ta + added_mi,
        links_removed=removed_ta + removed_mi,
        # An export without a case-studies section says nothing about them: none is stale then.
        stale=tuple(
            tactics.stale + techniques.stale + mitigations.stale + (case_studies.stale if atlas.case_studies else [])
        ),
        notes=atlas.notes,
    )


def atlas_import(*, data: bytes) -> ImportReport:
    """Parse an ATLAS data file and upsert it; raise AtlasFormatError (writing nothing) on bad input.

    There is no ``actor``: ATLAS is global reference data imported by an operator command, not a
    team's change, so it has no team audit chain to join; the AtlasRelease row records the import.
    """
    atlas = parse_atlas(data)
    with transaction.atomic():
        return _write(atlas, prose=True)


@dataclass(frozen=True, slots=True)
class ShippedLoad:
    """What ``atlas_load_shipped`` did: loaded (``report``) or kept a newer release (``kept``)."""

    version: str  # the shipped data's ATLAS version
    kept: str | None  # the release in the database that was newer, so nothing was written
    report: ImportReport | None

    @property
    def changed(self) -> bool:
        return self.report is not None and self.report.changed

    @property
    def message(self) -> str:
        if self.kept is not None:
            return f"ATLAS {self.kept} in the database is newer than the shipped {self.version}; kept it."
        if self.report is not None and self.report.changed:
            return (
                f"ATLAS {self.version} names loaded from the shipped data "
                f"({self.report.created} created, {self.report.updated} updated)."
            )
        return f"ATLAS {self.version} names are up to date."


def _release_order(version: str) -> tuple[bool, tuple[int, ...]]:
    """Sort key for stored releases; one whose version is not dotted numbers sorts above all others."""
    key = version_key(version)
    return (key is None, key or ())


def _newer_release(shipped: tuple[int, ...]) -> str | None:
    """The stored release the shipped data must not overwrite: the highest newer one, else None.

    A stored version that is not dotted numbers (say ``6.0-rc1`` from a hand-picked export) cannot
    be ordered, so it counts as newer: an operator's explicit import is never undone by a seed.
    """
    versions = AtlasRelease.objects.values_list("version", flat=True)
    newer = [v for v in versions if _release_order(v) > (False, shipped)]
    return max(newer, key=_release_order) if newer else None


def atlas_installed_version() -> str | None:
    """The newest ATLAS release in the database (None before any load), for the attribution line.

    A read, kept here beside ``_release_order`` so that pages and the seed agree on "newest".
    """
    versions = list(AtlasRelease.objects.values_list("version", flat=True))
    return max(versions, key=_release_order) if versions else None


@lru_cache(maxsize=2)
def _parse_shipped(data: bytes) -> AtlasData:
    """Parsed once per content: every seed (and every test fixture that seeds) reads the same file."""
    return parse_atlas(data)


def atlas_load_shipped(*, data: bytes | None = None) -> ShippedLoad:
    """Load the ATLAS names shipped with the product unless the database holds a newer release.

    Decided by version (``threats.atlas_derived.version_key``): with no stored release, or only
    older or equal ones, names and links are upserted (re-running writes nothing, and an equal
    release imported from upstream keeps its descriptions); with a newer one, nothing is written.
    Raises AtlasFormatError (writing nothing) when the shipped file is damaged.
    """
    atlas = _parse_shipped(data if data is not None else SHIPPED_FILE.read_bytes())
    shipped = version_key(atlas.version)
    if shipped is None:
        raise AtlasFormatError(f"The shipped ATLAS data has version {atlas.version[:32]!r}, which cannot be ordered.")
    with transaction.atomic():
        kept = _newer_release(shipped)
        if kept is not None:
            return ShippedLoad(version=atlas.version, kept=kept, report=None)
        return ShippedLoad(version=atlas.version, kept=None, report=_write(atlas, prose=False))


def atlas_unknown_references(ids: Iterable[str]) -> list[str]:
    """The ids (AML.TA…, AML.T…, AML.M…, AML.CS…) that are not in the imported ATLAS data, in first-seen order.

    Anything that is not shaped like an ATLAS id is unknown too, so a typo is reported rather than
    silently ignored.
    """
    wanted = list(dict.fromkeys(ids))
    kinds: Sequence[tuple[re.Pattern[str], type[models.Model]]] = (
        (TACTIC_ID, AtlasTactic),
        (TECHNIQUE_ID, AtlasTechnique),
        (MITIGATION_ID, AtlasMitigation),
        (CASE_STUDY_ID, AtlasCaseStudy),
    )
    known: set[str] = set()
    for pattern, model in kinds:
        candidates = [i for i in wanted if isinstance(i, str) and pattern.fullmatch(i)]
        if candidates:
            known.update(model._default_manager.filter(atlas_id__in=candidates).values_list("atlas_id", flat=True))
    return [i for i in wanted if i not in known]
