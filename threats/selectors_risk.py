"""Reads of risk results for pages and the API: one system's (panel) and many systems' (dashboard)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.db.models import Count, OuterRef, QuerySet, Subquery

from threats.models import Finding, FindingStatus, SystemRisk
from threats.ports import mitigations
from workbench.choices import JobKind, JobStatus
from workbench.models import Job, System, Team

LIKELIHOOD_LABELS = ("Very low", "Low", "Moderate", "High", "Very high")
IMPACT_LABELS = ("Very low", "Low", "Moderate", "High", "Very high")


@dataclass(frozen=True)
class Freshness:
    """Whether the shown results match the model: "fresh" or "recomputing" (or never computed)."""

    model_version: int
    results_version: int
    running: bool

    @property
    def fresh(self) -> bool:
        return self.results_version >= self.model_version

    @property
    def state(self) -> str:
        if self.fresh:
            return "fresh"
        return "recomputing" if self.results_version or self.running else "pending"


def risk_freshness(*, system: System, risk: SystemRisk | None | Literal["load"] = "load") -> Freshness:
    """Pass ``risk`` (or None when there is none) when it is already loaded, to save a query."""
    if risk == "load":
        risk = SystemRisk.objects.filter(system=system).first()
    running = Job.objects.filter(system=system, kind="recompute", status="running").exists()
    return Freshness(system.version, risk.computed_version if risk else 0, running)


def risk_summary(*, system: System) -> dict[str, Any]:
    """Totals per view, appetite, heat map with labels and freshness, as plain data."""
    risk = SystemRisk.objects.filter(system=system).first()
    freshness = risk_freshness(system=system, risk=risk)
    totals = risk.totals if risk else {}
    appetite = float(system.risk_appetite)
    current = totals.get("current", {})
    heat = (risk.heatmap.get("current") if risk else None) or [[0] * 5 for _ in range(5)]
    rows = [
        {
            "label": LIKELIHOOD_LABELS[level],
            "cells": [{"count": heat[level][impact], "level": level + impact} for impact in range(5)],
        }
        for level in reversed(range(5))
    ]
    return {
        "version": system.version,
        "computed_version": freshness.results_version,
        "state": freshness.state,
        "fresh": freshness.fresh,
        "computed_at": risk.computed_at.isoformat() if risk and risk.computed_at else None,
        "totals": totals,
        "appetite": appetite,
        "currency": system.currency,
        "over_appetite": bool(current) and current.get("mean", 0) > appetite,
        "appetite_ratio": (current.get("mean", 0) / appetite) if appetite else None,
        "heatmap": (risk.heatmap if risk else {}) or {"current": heat},
        "heatmap_rows": rows,
        "impact_labels": IMPACT_LABELS,
        "extraction": risk.extraction if risk else [],
        "jewels": _jewel_rows(risk),
        "compute": _compute_rows(risk),
        "seed": risk.seed if risk else None,
        "draws": risk.draws if risk else None,
    }


def _jewel_rows(risk: SystemRisk | None) -> list[dict[str, Any]]:
    """Jewels by current expected yearly loss, with their best routes (current view)."""
    if risk is None:
        return []
    routes: dict[str, list[dict[str, Any]]] = {}
    for route in risk.routes or []:
        routes.setdefault(str(route.get("jewel_id")), []).append(route)
    rows = []
    for jewel_id, jewel in (risk.jewels or {}).items():
        views = jewel.get("views", {})
        current = views.get("current", {})
        rows.append(
            {
                "id": jewel_id,
                "name": jewel.get("name", ""),
                "kind": jewel.get("kind", ""),
                "value_mean": jewel.get("value_mean", 0.0),
                "inherent": views.get("inherent", {}).get("expected", 0.0),
                "current": current.get("expected", 0.0),
                "projected": views.get("projected", {}).get("expected", 0.0),
                "probability": current.get("probability", 0.0),
                "p90": current.get("p90", 0.0),
                "routes": sorted(routes.get(jewel_id, []), key=lambda r: -float(r.get("probability", 0.0)))[:5],
            }
        )
    rows.sort(key=lambda r: (-r["current"], r["name"]))
    return rows


def _compute_rows(risk: SystemRisk | None) -> list[dict[str, Any]]:
    if risk is None:
        return []
    rows = [{"name": c.get("name", ""), **c.get("views", {}).get("current", {})} for c in (risk.compute or {}).values()]
    return sorted((r for r in rows if r.get("expected")), key=lambda r: -r["expected"])


def top_risks(*, system: System, limit: int = 10) -> list[Finding]:
    """Applicable findings by current annual loss, highest first."""
    return list(
        Finding.objects.filter(system=system, current_mean__isnull=False)
        .exclude(status=FindingStatus.NOT_APPLICABLE)
        .select_related("template")
        .order_by("-current_mean", "template__code")[:limit]
    )


# --- Team dashboard (issue 8): every visible system's risk against its appetite -------------

RUNNING_JOB_STATES = (JobStatus.QUEUED, JobStatus.RUNNING)


@dataclass(frozen=True)
class DashboardRow:
    """One system's line on the dashboard: figures of its latest results, and how fresh they are.

    Figures come from ``SystemRisk.totals`` as stored (they may be for an older version; ``state``
    says so). ``over_appetite`` compares the current mean with the appetite, as ``risk_summary``
    does, so the dashboard and the system page never disagree.
    """

    system: System
    totals: dict[str, Any]
    computed_version: int
    computed_at: datetime | None
    running: bool
    failed_version: int | None
    open_findings: int
    plans_awaiting: int

    @property
    def appetite(self) -> float:
        return float(self.system.risk_appetite)

    @property
    def currency(self) -> str:
        return self.system.currency

    @property
    def version(self) -> int:
        return self.system.version

    @property
    def has_results(self) -> bool:
        return bool(self.totals.get("current"))

    @property
    def current(self) -> dict[str, float]:
        return dict(self.totals.get("current") or {})

    @property
    def projected(self) -> dict[str, float]:
        return dict(self.totals.get("projected") or {})

    @property
    def ratio(self) -> float | None:
        return _ratio(self.current.get("mean"), self.appetite)

    @property
    def projected_ratio(self) -> float | None:
        return _ratio(self.projected.get("mean"), self.appetite)

    @property
    def over_appetite(self) -> bool:
        return self.has_results and self.current.get("mean", 0) > self.appetite

    @property
    def state(self) -> str:
        """One of "fresh", "recomputing", "pending" (never computed) or "failed": the last run, for
        a version the results lack, failed and no run has started since (the sweep retries it)."""
        base = Freshness(self.version, self.computed_version, self.running).state
        if base != "fresh" and not self.running and self.failed_version is not None:
            return "failed"
        return base


def _ratio(amount: float | None, appetite: float) -> float | None:
    """Share of the appetite; None without results or without an appetite to divide by."""
    if amount is None or not appetite:
        return None
    return amount / appetite


def dashboard_risk(*, systems: Sequence[System]) -> list[DashboardRow]:
    """The dashboard rows of ``systems`` (already scoped to the user), in their order.

    Three queries whatever the number of systems: results with the latest recompute Job (one
    correlated subquery per system, on the Job index), open findings per system, and proposed
    plans per system. The risk row's ``loss_state`` blob and heat maps are never loaded.
    """
    ids = [system.pk for system in systems]
    if not ids:
        return []
    latest_job = Job.objects.filter(system_id=OuterRef("pk"), kind=JobKind.RECOMPUTE).order_by("-created_at", "-pk")
    facts = {
        row["pk"]: row
        for row in System.objects.filter(pk__in=ids)
        .order_by()
        .annotate(
            job_status=Subquery(latest_job.values("status")[:1]),
            job_version=Subquery(latest_job.values("system_version")[:1]),
        )
        .values("pk", "risk__totals", "risk__computed_version", "risk__computed_at", "job_status", "job_version")
    }
    open_findings = _count_by_system(Finding.objects.filter(system_id__in=ids, status=FindingStatus.OPEN))
    awaiting = mitigations().proposed_plan_counts(system_ids=ids)
    rows = []
    for system in systems:
        fact = facts.get(system.pk, {})
        computed_version = fact.get("risk__computed_version") or 0
        job_status, job_version = fact.get("job_status"), fact.get("job_version")
        failed = job_status == JobStatus.FAILED and job_version is not None and job_version > computed_version
        rows.append(
            DashboardRow(
                system=system,
                totals=fact.get("risk__totals") or {},
                computed_version=computed_version,
                computed_at=fact.get("risk__computed_at"),
                running=job_status in RUNNING_JOB_STATES,
                failed_version=job_version if failed else None,
                open_findings=open_findings.get(system.pk, 0),
                plans_awaiting=awaiting.get(system.pk, 0),
            )
        )
    return rows


def _count_by_system(queryset: QuerySet[Any]) -> dict[int, int]:
    """One GROUP BY query: rows per system id (``order_by()`` keeps Meta.ordering out of it)."""
    return dict(queryset.order_by().values("system_id").annotate(n=Count("pk")).values_list("system_id", "n"))


@dataclass(frozen=True)
class DashboardTeam:
    """A team's section of the dashboard: its systems, over-appetite ones first."""

    team: Team
    rows: list[DashboardRow]

    @property
    def over_count(self) -> int:
        return sum(1 for row in self.rows if row.over_appetite)


def dashboard_by_team(rows: Sequence[DashboardRow]) -> list[DashboardTeam]:
    """Group rows by team (in the order teams first appear) and put systems over appetite first,
    the furthest over on top, so what needs attention is read first; the rest keep their order."""
    groups: dict[int, list[DashboardRow]] = {}
    teams: dict[int, Team] = {}
    for row in rows:
        teams.setdefault(row.system.team_id, row.system.team)
        groups.setdefault(row.system.team_id, []).append(row)

    def urgency(row: DashboardRow) -> tuple[int, float]:
        if not row.over_appetite:
            return (1, 0.0)
        return (0, -(row.ratio if row.ratio is not None else float("inf")))

    return [DashboardTeam(teams[team_id], sorted(members, key=urgency)) for team_id, members in groups.items()]
