"""Reads of a system's risk results for pages and the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from threats.models import Finding, FindingStatus, SystemRisk
from workbench.models import Job, System

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
        "seed": risk.seed if risk else None,
        "draws": risk.draws if risk else None,
    }


def top_risks(*, system: System, limit: int = 10) -> list[Finding]:
    """Applicable findings by current annual loss, highest first."""
    return list(
        Finding.objects.filter(system=system, current_mean__isnull=False)
        .exclude(status=FindingStatus.NOT_APPLICABLE)
        .select_related("template")
        .order_by("-current_mean", "template__code")[:limit]
    )
