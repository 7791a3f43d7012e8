"""Seeding the threat and control library into the database, and reading it back for the engines.

The YAML files in the repository are the source; the rows are the installed copy. Each row keeps
its entry verbatim (``definition``) and a hash of it, so re-seeding an unchanged library writes
nothing, a changed entry is upgraded in place, and an entry dropped by a new version is
deactivated rather than deleted (findings keep pointing at it). The seed also loads the ATLAS
names shipped beside the library, unless a newer ATLAS release was imported (``atlas_load_shipped``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction

from threats.engine.library import SAFE_LOADER, ControlDef, Library, LibraryError, ThreatDef, load_library
from threats.models import Control, LibraryState, ThreatControl, ThreatTemplate
from threats.services.atlas import ShippedLoad, atlas_load_shipped

THREATS_FILE = Path(settings.BASE_DIR) / "threats" / "library" / "threats.yaml"
CONTROLS_FILE = Path(settings.BASE_DIR) / "threats" / "library" / "controls.yaml"


@dataclass
class SeedReport:
    """What a seed run changed; all zeros on a re-run of the same library."""

    version: str
    created: dict[str, int] = field(default_factory=lambda: {"threats": 0, "controls": 0, "links": 0})
    updated: dict[str, int] = field(default_factory=lambda: {"threats": 0, "controls": 0, "links": 0})
    deactivated: dict[str, int] = field(default_factory=lambda: {"threats": 0, "controls": 0, "links": 0})
    atlas: ShippedLoad | None = None

    @property
    def library_changed(self) -> bool:
        return any(sum(d.values()) for d in (self.created, self.updated, self.deactivated))

    @property
    def changed(self) -> bool:
        return self.library_changed or (self.atlas is not None and self.atlas.changed)


def _hash(entry: Any) -> str:
    return hashlib.sha256(json.dumps(entry, sort_keys=True, default=str).encode()).hexdigest()


def _threat_fields(entry: dict[str, Any], threat: ThreatDef, version: str) -> dict[str, Any]:
    """The row of one threat: the entry verbatim, plus the v2 fields as columns (from the parsed
    record, so defaults such as a loss's value are filled in the same way the engines see them)."""
    loss = threat.loss
    return {
        "name": threat.name,
        "description": threat.description,
        "stride": "".join(threat.stride),
        "atlas_ids": list(threat.atlas),
        "owasp_ids": list(threat.owasp),
        "rand_category": threat.rand_category,
        "rand_vector": threat.rand_vector,
        "rand_vectors": [{"category": category, "vector": vector} for category, vector in threat.rand],
        "role": threat.role,
        "actors": sorted(threat.actors),
        "position": threat.position,
        "positions": list(threat.positions),
        "loss_form": loss.form if loss else "",
        "loss_yields": loss.yields if loss else "",
        "loss_value": loss.value if loss and loss.form == "theft" else "",
        "loss_fraction": loss.fraction if loss and loss.value == "fraction" else None,
        "query_goal": threat.query_goal,
        "boosts": list(threat.boosts),
        "boost": threat.boost,
        "target": threat.target,
        "asset_kinds": list(entry.get("asset_kinds") or []),
        "rule": entry["rule"],
        "base_probability": dict(threat.base_probability),
        "definition": entry,
        "library_version": version,
        "content_hash": _hash(entry),
        "active": True,
    }


def _control_fields(entry: dict[str, Any], control: ControlDef, version: str) -> dict[str, Any]:
    return {
        "name": control.name,
        "description": control.description,
        "type": control.type,
        "cost_one_off_min": Decimal(str(control.cost_one_off[0])),
        "cost_one_off_max": Decimal(str(control.cost_one_off[1])),
        "cost_yearly_min": Decimal(str(control.cost_yearly[0])),
        "cost_yearly_max": Decimal(str(control.cost_yearly[1])),
        "atlas_mitigation_ids": list(control.atlas_mitigations),
        "rand_sl": control.rand_sl,
        "asset_kinds": list(entry.get("asset_kinds") or []),
        "pricing": control.pricing,
        "capability_decay": Decimal(str(control.capability_decay)).quantize(Decimal("0.001")),
        "flows": control.flows,
        "definition": entry,
        "library_version": version,
        "content_hash": _hash(entry),
        "active": True,
    }


def _nominal(raw: Any) -> Decimal:
    """The effectiveness as the library states it: the number, or the largest per-OC figure."""
    value = max(raw.values()) if isinstance(raw, dict) else raw
    return Decimal(str(value)).quantize(Decimal("0.001"))


def _upsert(model: type[Any], rows: dict[str, dict[str, Any]], report: SeedReport, key: str) -> dict[str, Any]:
    existing = {obj.code: obj for obj in model.objects.all()}
    for code, values in rows.items():
        obj = existing.get(code)
        if obj is None:
            existing[code] = model.objects.create(code=code, **values)
            report.created[key] += 1
        elif (
            obj.content_hash != values["content_hash"]
            or not obj.active
            or obj.library_version != values["library_version"]
        ):
            for name, value in values.items():
                setattr(obj, name, value)
            obj.save()
            report.updated[key] += 1
    gone = [obj.pk for code, obj in existing.items() if code not in rows and obj.active]
    report.deactivated[key] += model.objects.filter(pk__in=gone).update(active=False)
    return existing


def _sync_links(
    threat_entries: list[dict[str, Any]],
    library: Library,
    threats: dict[str, Any],
    controls: dict[str, Any],
    report: SeedReport,
) -> None:
    existing = {(link.threat_id, link.control_id): link for link in ThreatControl.objects.all()}
    parsed = {t.code: {tc.control: tc for tc in t.controls} for t in library.threats}
    wanted: set[tuple[int, int]] = set()
    for entry in threat_entries:
        threat = threats[entry["code"]]
        for ref in entry.get("controls") or []:
            control = controls[ref["control"]]
            link_def = parsed[entry["code"]][ref["control"]]
            pair = (threat.pk, control.pk)
            wanted.add(pair)
            values = {
                "effectiveness": _nominal(ref["effectiveness"]),
                "effectiveness_by_oc": [round(e, 6) for e in link_def.effectiveness],
                "on": link_def.on,
                "evidence_source": link_def.evidence_source[:300],
                "evidence_figure": link_def.evidence_figure,
            }
            link = existing.get(pair)
            if link is None:
                ThreatControl.objects.create(threat=threat, control=control, **values)
                report.created["links"] += 1
            elif any(getattr(link, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(link, k, v)
                link.save()
                report.updated["links"] += 1
    stale = [link.pk for pair, link in existing.items() if pair not in wanted]
    report.deactivated["links"] += ThreatControl.objects.filter(pk__in=stale).delete()[0]


@transaction.atomic
def library_seed(*, threats_text: bytes | str | None = None, controls_text: bytes | str | None = None) -> SeedReport:
    """Validate both files completely, then install them in one transaction (all or nothing).

    The shipped ATLAS names are loaded in the same transaction, so a fresh database shows names and
    the tactic filter after one seed; a damaged shipped file raises AtlasFormatError, writing nothing.
    """
    threats_text = threats_text if threats_text is not None else THREATS_FILE.read_bytes()
    controls_text = controls_text if controls_text is not None else CONTROLS_FILE.read_bytes()
    library = load_library(threats_text, controls_text)  # raises LibraryError before any write
    threat_doc = yaml.load(threats_text, Loader=SAFE_LOADER)  # noqa: S506 - validated, safe loader
    control_doc = yaml.load(controls_text, Loader=SAFE_LOADER)  # noqa: S506
    report = SeedReport(version=library.version)
    control_defs = {c.code: c for c in library.controls}
    threat_defs = {t.code: t for t in library.threats}
    controls = _upsert(
        Control,
        {e["code"]: _control_fields(e, control_defs[e["code"]], library.version) for e in control_doc["controls"]},
        report,
        "controls",
    )
    threats = _upsert(
        ThreatTemplate,
        {e["code"]: _threat_fields(e, threat_defs[e["code"]], library.version) for e in threat_doc["threats"]},
        report,
        "threats",
    )
    _sync_links(threat_doc["threats"], library, threats, controls, report)
    state, _ = LibraryState.objects.get_or_create(key="default", defaults={"version": library.version})
    counts = {"version": library.version, "threat_count": len(library.threats), "control_count": len(library.controls)}
    if any(getattr(state, k) != v for k, v in counts.items()):
        for k, v in counts.items():
            setattr(state, k, v)
        state.save()
    report.atlas = atlas_load_shipped()
    return report


_cache: dict[str, Library] = {}


def installed_library() -> Library:
    """The active library rows compiled for the engines, cached by their combined content hash."""
    threat_rows = list(
        ThreatTemplate.objects.filter(active=True)
        .order_by("code")
        .values_list("definition", "content_hash", "library_version")
    )
    control_rows = list(Control.objects.filter(active=True).order_by("code").values_list("definition", "content_hash"))
    if not threat_rows:
        return Library(version="empty", threats=(), controls=())
    key = _hash([h for _, h, _ in threat_rows] + [h for _, h in control_rows])
    if key not in _cache:
        version = threat_rows[0][2]
        threats_doc = json.dumps({"version": version, "threats": [d for d, _, _ in threat_rows]})
        controls_doc = json.dumps({"version": version, "controls": [d for d, _ in control_rows]})
        try:
            _cache.clear()
            _cache[key] = load_library(threats_doc, controls_doc)
        except LibraryError as exc:  # rows were validated on seed; this means manual tampering
            raise RuntimeError(f"installed library rows are invalid: {exc}") from exc
    return _cache[key]
