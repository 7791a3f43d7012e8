"""Draw a system's diagrams and attack paths for one version (the ``threats.render_diagrams`` task).

1. Stop if the system is gone, if its version moved past the one asked for (the recompute of the
   newer version chains its own render), or if both diagrams and the paths already show it.
2. Record a RENDER Job (a redelivered message, same task id, finishes the same Job).
3. Snapshot the system in a fixed number of queries, then re-read its version: a write that
   landed meanwhile makes the snapshot newer than the version asked for, so the run stops as stale.
4. Compute the k best paths under a deadline, build both DOT texts (node and edge caps: above
   them the most important part is drawn plus a summary node), and render each through the
   cache: identical DOT is never laid out twice. Every ``dot`` run has a wall-clock timeout taken
   from what is left of the run's budget, so a huge system ends with a capped or failed diagram,
   never a hung worker.
5. Store paths and diagrams in one transaction unless newer ones were stored meanwhile, prune
   cache rows nothing points at, finish the Job (failed, with the reason, if a render failed).

Results are derived data, like risk: no audit event and no version bump.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from threats.engine.controls import implied_controls, standard_views
from threats.engine.dot import attack_path_dot, dfd_dot, dot_hash
from threats.engine.path_report import PathReport, attack_path_report
from threats.engine.risk import current_paths_view
from threats.engine.snapshot import SystemSnapshot
from threats.models import Control, DiagramKind, DiagramState, RenderedDiagram, SystemAttackPaths, SystemDiagram
from threats.render import RenderError, graph_size, labelled_layout_flags, layout_flags, render, sanitize_svg
from threats.services.library import installed_library
from threats.services.risk import plan_controls
from threats.services.snapshot import attackers_snapshot, system_snapshot
from workbench.background import JobRun, enqueue
from workbench.choices import JobKind, JobStatus
from workbench.models import Job, System

# Caps and budgets; settings may override each. The DFD cap is half the builder's 2,000: 1,000
# nodes already render in seconds (bench/render.py) and more is unreadable anyway.
DFD_MAX_NODES = getattr(settings, "DIAGRAM_DFD_MAX_NODES", 1000)
ATTACK_MAX_NODES = getattr(settings, "DIAGRAM_ATTACK_MAX_NODES", 300)
ATTACK_MAX_EDGES = getattr(settings, "DIAGRAM_ATTACK_MAX_EDGES", 900)  # 300 nodes drew ~570 edges on the bench
PATHS_K = getattr(settings, "ATTACK_PATHS_K", 5)
MAX_TARGETS = getattr(settings, "ATTACK_PATHS_MAX_TARGETS", 25)
RUN_SECONDS = getattr(settings, "DIAGRAM_RUN_SECONDS", 90.0)  # the task's soft limit is 110 s
PATHS_SECONDS = getattr(settings, "ATTACK_PATHS_SECONDS", 20.0)
RENDER_SECONDS = getattr(settings, "DIAGRAM_RENDER_SECONDS", 30.0)
PNG_SECONDS = getattr(settings, "DIAGRAM_PNG_SECONDS", 20.0)
CACHE_SPARE = 50  # unreferenced cache rows kept for a quick undo of a change
CACHE_GRACE = timedelta(minutes=10)  # never prune a row this fresh: a concurrent run may be about to use it
RUN_LEASE = timedelta(minutes=5)  # a RUNNING render Job older than this is presumed dead (sweep)
_SUMMARY_NODE = re.compile(r"^\s*more \[", re.MULTILINE)
FLAGS: dict[str, Callable[[int, int], list[str]]] = {
    DiagramKind.DFD: layout_flags,
    DiagramKind.ATTACK_PATHS: labelled_layout_flags,
}


@dataclass(frozen=True)
class RenderOutcome:
    status: str  # "rendered", "fresh", "stale", "gone"
    version: int | None = None
    job_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Drawn:
    """One diagram's outcome before it is stored."""

    dot_hash: str
    rendered: RenderedDiagram | None
    error: str
    summary: dict[str, Any]

    @property
    def state(self) -> str:
        return DiagramState.READY if self.rendered is not None else DiagramState.FAILED


def system_render_diagrams(*, system_id: int, version: int, token: str | None = None) -> RenderOutcome:
    """Bring a system's diagrams and attack paths to ``version`` (idempotent, see module doc)."""
    started = time.monotonic()
    token = token or uuid.uuid4().hex
    system = System.objects.select_related("team").filter(pk=system_id).first()
    if system is None:
        return RenderOutcome("gone")
    if system.version != version:  # moved on (or a bogus version): never store under a wrong number
        return RenderOutcome("stale", version)
    if _shown(system, version):
        return RenderOutcome("fresh", version)
    run = JobRun.resumed_or_new(system=system, kind=JobKind.RENDER, version=version, token=token)
    with run.running(task_id=token):
        details = _draw_and_store(system, version, started)
    if details is None:
        run.finish({"stale": True, "version": version})
        return RenderOutcome("stale", version, run.job.pk)
    errors = [f"{kind}: {d['error']}" for kind, d in details["diagrams"].items() if d["state"] == DiagramState.FAILED]
    if errors:
        run.fail("; ".join(errors))
    else:
        run.finish(details)
    return RenderOutcome("rendered", version, run.job.pk, details)


def _shown(system: System, version: int) -> bool:
    """Whether paths and both diagrams already show ``version`` (a failed diagram does not count)."""
    paths = SystemAttackPaths.objects.filter(system=system, version__gte=version).exists()
    ready = SystemDiagram.objects.filter(system=system, version__gte=version, state=DiagramState.READY).count()
    return paths and ready == len(DiagramKind.values)


def _draw_and_store(system: System, version: int, started: float) -> dict[str, Any] | None:
    snapshot = system_snapshot(system=system)
    attackers = attackers_snapshot(system=system)
    implemented, planned = plan_controls(system=system)
    known = set(Control.objects.filter(active=True).values_list("code", flat=True))
    views = standard_views(implied=implied_controls(snapshot, known=known), implemented=implemented, planned=planned)
    if System.objects.filter(pk=system.pk, version__gt=version).exists():
        return None
    graph, runs, jewels = current_paths_view(snapshot, installed_library(), attackers, views["current"])
    report = attack_path_report(
        snapshot,
        graph,
        runs,
        jewels,
        current=views["current"],
        projected=views["projected"],
        k=PATHS_K,
        max_targets=MAX_TARGETS,
        deadline=started + PATHS_SECONDS,
    )
    texts: dict[str, str] = {
        DiagramKind.DFD: dfd_dot(snapshot, title=f"{system.name}: data flows", max_nodes=DFD_MAX_NODES),
        DiagramKind.ATTACK_PATHS: _attack_dot(snapshot, report, title=f"{system.name}: attack paths"),
    }
    drawn = {kind: _render_cached(kind, text, started) for kind, text in texts.items()}
    _store(system, version, report, drawn)
    prune_render_cache()
    return {
        "version": version,
        "paths": report.summary,
        "diagrams": {kind: {"state": d.state, "error": d.error, **d.summary} for kind, d in drawn.items()},
        "seconds": round(time.monotonic() - started, 3),
    }


def _attack_dot(snapshot: SystemSnapshot, report: PathReport, *, title: str) -> str:
    """The attack-path DOT within both caps: the builder caps nodes; when the paths kept are so
    intertwined that the edges still exceed theirs, fewer nodes (so fewer paths) are drawn."""
    cap = ATTACK_MAX_NODES
    while True:
        text = attack_path_dot(snapshot, report.drawn, title=title, max_nodes=cap)
        if graph_size(text)[1] <= ATTACK_MAX_EDGES or cap <= 20:
            return text
        cap //= 2


def _render_cached(kind: str, text: str, started: float) -> _Drawn:
    """The cached render of ``text``, or a fresh one within what is left of the run's budget."""
    digest = dot_hash(text)
    nodes, edges = graph_size(text)
    summary: dict[str, Any] = {"nodes": nodes, "edges": edges, "capped": bool(_SUMMARY_NODE.search(text))}
    cached = RenderedDiagram.objects.filter(dot_hash=digest).only("pk", "dot_hash").first()
    if cached is not None:
        RenderedDiagram.objects.filter(pk=cached.pk).update(used_at=timezone.now())
        return _Drawn(digest, cached, "", {**summary, "cache_hit": True})
    left = RUN_SECONDS - (time.monotonic() - started)
    if left < 1:
        return _Drawn(digest, None, f"the {RUN_SECONDS:g} s budget of the run was used up before this diagram", summary)
    begun = time.perf_counter()
    try:
        svg = sanitize_svg(render(text, "svg", timeout=min(RENDER_SECONDS, left), flags=FLAGS[kind](nodes, edges)))
    except RenderError as exc:
        return _Drawn(digest, None, str(exc), {**summary, "cache_hit": False})
    seconds = round(time.perf_counter() - begun, 3)
    try:
        with transaction.atomic():
            row = RenderedDiagram.objects.create(
                dot_hash=digest, dot=text, svg=svg, nodes=nodes, edges=edges, render_seconds=seconds
            )
    except IntegrityError:  # a concurrent run rendered the same text first: use its row
        row = RenderedDiagram.objects.get(dot_hash=digest)
    return _Drawn(digest, row, "", {**summary, "cache_hit": False, "render_seconds": seconds})


@transaction.atomic
def _store(system: System, version: int, report: PathReport, drawn: dict[str, _Drawn]) -> None:
    """Write paths and diagrams for ``version`` unless a newer version was stored meanwhile."""
    System.objects.select_for_update().filter(pk=system.pk).first()  # serialises runs of this system
    paths = SystemAttackPaths.objects.filter(system=system).first()
    if paths is None or paths.version <= version:
        SystemAttackPaths.objects.update_or_create(
            system=system,
            defaults={
                "version": version,
                "computed_at": timezone.now(),
                "k": PATHS_K,
                "pairs": report.pairs,
                "summary": report.summary,
            },
        )
    for kind, outcome in drawn.items():
        current = SystemDiagram.objects.filter(system=system, kind=kind).first()
        if current is not None and current.version > version:
            continue
        values = {
            "version": version,
            "state": outcome.state,
            "error": outcome.error[:2000],
            "dot_hash": outcome.dot_hash,
            "rendered": outcome.rendered,
            "capped": bool(outcome.summary.get("capped")),
            "summary": outcome.summary,
        }
        if current is not None and outcome.rendered is None and current.rendered is not None:
            values["rendered"] = current.rendered  # keep showing the last good picture, marked failed
        SystemDiagram.objects.update_or_create(system=system, kind=kind, defaults=values)


def prune_render_cache(*, keep: int = CACHE_SPARE, grace: timedelta = CACHE_GRACE) -> int:
    """Delete cache rows no diagram points at, except the ``keep`` most recently used and any used
    within ``grace``: the cache stays bounded and a change undone soon is still a hit."""
    unreferenced = RenderedDiagram.objects.filter(diagrams__isnull=True)
    spare = list(unreferenced.order_by("-used_at", "-pk").values_list("pk", flat=True)[:keep])
    doomed = unreferenced.filter(used_at__lt=timezone.now() - grace).exclude(pk__in=spare)
    deleted, _ = RenderedDiagram.objects.filter(pk__in=list(doomed.values_list("pk", flat=True))).delete()
    return deleted


def diagram_png(*, diagram: SystemDiagram) -> bytes:
    """The PNG of a rendered diagram, drawn on first request and cached with its SVG.

    A failure is stored and not retried for that DOT text (a PNG that timed out once would time
    out again and tie up a request each time); the next change of the model brings a new text.
    Raises ``RenderError`` when there is no PNG to give.
    """
    row = RenderedDiagram.objects.filter(pk=diagram.rendered_id).defer("svg").first() if diagram.rendered_id else None
    if row is None:
        raise RenderError("the diagram has not been rendered yet")
    if row.png:
        return bytes(row.png)
    if row.png_error:
        raise RenderError(row.png_error)
    try:
        png = render(row.dot, "png", timeout=PNG_SECONDS, flags=FLAGS[diagram.kind](row.nodes, row.edges))
    except RenderError as exc:
        RenderedDiagram.objects.filter(pk=row.pk).update(png_error=str(exc)[:2000])
        raise
    RenderedDiagram.objects.filter(pk=row.pk, png__isnull=True).update(png=png)
    return png


def enqueue_render(system_id: int, version: int) -> None:
    """Queue a render of ``version``; a broker failure is logged, never raised into the caller
    (the recompute that chains it has already succeeded, and the sweep re-enqueues)."""
    enqueue(
        "threats.render_diagrams",
        {"system_id": system_id, "version": version},
        about=f"the diagram render of system {system_id} v{version}; the sweep will retry",
    )


def stale_render_targets(*, limit: int = 200) -> list[tuple[int, int]]:
    """(system id, version) of systems whose risk is current but whose diagrams are behind, and
    that no live render is working on: a lost render message is picked up by the sweep.

    A version whose render already failed outright (it hit the time limit, say) is not retried
    every minute; the next change of the model brings a new version and a new render.
    """
    renders = Job.objects.filter(system=OuterRef("pk"), kind=JobKind.RENDER)
    busy = renders.filter(status=JobStatus.RUNNING, started_at__gte=timezone.now() - RUN_LEASE)
    failed = renders.filter(status=JobStatus.FAILED, system_version=OuterRef("version"))
    behind = (
        System.objects.filter(risk__computed_version__gte=F("version"))
        .filter(Q(attack_paths__isnull=True) | Q(attack_paths__version__lt=F("version")))
        .exclude(Exists(busy))
        .exclude(Exists(failed))
        .order_by("pk")
    )
    return list(behind.values_list("pk", "version")[:limit])
