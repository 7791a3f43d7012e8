"""Reads of a system's diagrams and attack paths for pages and the API (callers scope the system)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from threats.engine.path_report import best_pairs
from threats.models import DiagramKind, DiagramState, SystemAttackPaths, SystemDiagram
from workbench.choices import JobKind, JobStatus
from workbench.models import Job, System

TABLE_ROWS = 15


@dataclass(frozen=True)
class DiagramView:
    """What the page says about one diagram: which version it shows and whether it is current."""

    kind: str
    label: str
    version: int
    model_version: int
    state: str  # "ready", "failed", or "pending" (never rendered)
    error: str
    dot_hash: str
    capped: bool
    has_picture: bool  # a failed re-render keeps showing the last good picture
    picture_id: int  # changes with the picture: a cache-busting query parameter for <img>
    summary: dict[str, Any]
    svg_url: str
    png_url: str

    @property
    def fresh(self) -> bool:
        return self.version >= self.model_version


def diagram_for_serving(*, system: System, kind: str) -> SystemDiagram | None:
    """The system's diagram of ``kind`` with its SVG loaded (not the PNG or DOT), or None."""
    return (
        SystemDiagram.objects.filter(system=system, kind=kind)
        .select_related("rendered")
        .defer("rendered__png", "rendered__dot")
        .first()
    )


def diagram_views(*, system: System) -> list[DiagramView]:
    """Both diagrams of the system, data-flow first (one query)."""
    stored = {d.kind: d for d in SystemDiagram.objects.filter(system=system)}
    views = []
    for kind, label in DiagramKind.choices:
        row = stored.get(kind)
        views.append(
            DiagramView(
                kind=kind,
                label=str(label),
                version=row.version if row else 0,
                model_version=system.version,
                state=row.state if row else "pending",
                error=row.error if row else "",
                dot_hash=row.dot_hash if row else "",
                capped=row.capped if row else False,
                has_picture=row is not None and row.rendered_id is not None,
                picture_id=(row.rendered_id or 0) if row else 0,
                summary=row.summary if row else {},
                svg_url=reverse("threats:diagram_svg", kwargs={"slug": system.slug, "kind": kind}),
                png_url=reverse("threats:diagram_png", kwargs={"slug": system.slug, "kind": kind}),
            )
        )
    return views


def rendering(*, system: System) -> bool:
    """Whether a render Job of this system is running right now."""
    return Job.objects.filter(system=system, kind=JobKind.RENDER, status=JobStatus.RUNNING).exists()


def diagram_panel(*, system: System) -> dict[str, Any]:
    """Everything the diagrams panel of the system page shows, as plain data."""
    views = diagram_views(system=system)
    paths = SystemAttackPaths.objects.filter(system=system).first()
    fresh = all(v.fresh for v in views) and paths is not None and paths.version >= system.version
    shown = min((v.version for v in views), default=0)
    failed = [v for v in views if v.state == DiagramState.FAILED and v.fresh]
    return {
        "diagrams": views,
        "fresh": fresh,
        "version": system.version,
        "shown_version": shown,
        "state": "fresh" if fresh else ("rendering" if shown else "pending"),
        "failed": failed,
        # Poll while a newer picture is on its way; a failure at the current version stays put.
        "poll": not fresh,
        "paths_version": paths.version if paths else 0,
        "paths_summary": paths.summary if paths else {},
        "top_paths": best_pairs(paths.pairs, TABLE_ROWS) if paths else [],
    }


def attack_paths_payload(*, system: System) -> dict[str, Any]:
    """The attack-paths API body: version, freshness and the paths per profile x target."""
    paths = SystemAttackPaths.objects.filter(system=system).first()
    computed = paths.version if paths else 0
    fresh = computed >= system.version
    state = "fresh" if fresh else ("rendering" if computed or rendering(system=system) else "pending")
    return {
        "version": system.version,
        "computed_version": computed,
        "fresh": fresh,
        "state": state,
        "computed_at": paths.computed_at.isoformat() if paths and paths.computed_at else None,
        "k": paths.k if paths else None,
        "summary": paths.summary if paths else {},
        "pairs": paths.pairs if paths else [],
    }
