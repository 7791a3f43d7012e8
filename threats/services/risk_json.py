"""The engine's results as the JSON stored on findings and on the system's risk row.

Numbers are rounded to six significant digits, so that an unchanged model writes identical JSON
and no row is rewritten for float noise; ids are resolved to names, so that a page never shows
an internal id and a rename rewrites the explanations that mention the renamed element.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from threats.engine.attackers import AttackerData
from threats.engine.results import FindingRisk, RiskResult, Route
from threats.engine.snapshot import SystemSnapshot

MAX_ROUTES = 200  # best routes kept on the risk row, by value at stake
VIEWS = ("inherent", "current", "projected")


def number(value: float) -> float:
    """Six significant digits: stable JSON and no false 'changes' from float noise."""
    if value == 0 or value != value or value in (math.inf, -math.inf):
        return float(value)
    return float(f"{value:.6g}")


def _plain(value: Any) -> Any:
    """JSON-ready copy with every float at six significant digits (``number``). Dispatch on the
    exact type first: this runs over every explanation of every finding on each recompute."""
    kind = type(value)
    if kind is float:
        return number(value)
    if kind is dict:
        return {k: _plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_plain(v) for v in value]
    if isinstance(value, float):  # numpy floats
        return number(float(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def explanation_json(
    explanation: Mapping[str, Any], names: Mapping[int, str], attackers: Mapping[int, str]
) -> dict[str, Any]:
    """An engine explanation with jewel, endpoint and attacker names, JSON-ready."""
    result = dict(explanation)
    result["jewels"] = [
        {
            **j,
            "name": names.get(j["jewel_id"], f"#{j['jewel_id']}"),
            "by_profile": [[attackers.get(a, f"#{a}"), r] for a, r in j["by_profile"]],
        }
        for j in result.get("jewels", [])
    ]
    if "compute" in result:
        result["compute"] = {**result["compute"], "endpoint": names.get(result["compute"]["endpoint_id"], "")}
    return _plain(result)


def finding_views(risk: FindingRisk, names: Mapping[int, str], attackers: Mapping[int, str]) -> dict[str, Any]:
    """Per view: the figures, and their explanation where this run expanded it (the largest
    findings); the others' explanations are computed when asked (``finding_explanations``)."""
    result: dict[str, Any] = {}
    magnitude = {
        "min": number(risk.magnitude.low),
        "likely": number(risk.magnitude.likely),
        "max": number(risk.magnitude.high),
    }
    for view, figures in risk.views.items():
        # Written out rather than through ``_plain``: this runs for every finding and view.
        result[view] = {
            "frequency": number(figures.frequency),
            "loss": number(figures.loss),
            "p90": number(figures.p90),
            "exposure": number(figures.exposure),
            "saving": None if figures.saving is None else number(figures.saving),
            "likelihood_band": int(figures.likelihood_band),
            "impact_band": int(figures.impact_band),
            "level": str(figures.risk_level),
            "magnitude": dict(magnitude),
        }
        if figures.explanation is not None:
            result[view]["explanation"] = explanation_json(figures.explanation, names, attackers)
    return result


def _label(label: Sequence[Any], names: Mapping[int, str], zones: Mapping[int, str]) -> str:
    kind, ident = label[0], int(label[1])
    if kind == "internet":
        return "Internet"
    if kind == "zone":
        return f"inside {zones.get(ident, '?')}"
    if kind == "query":
        return f"calling {names.get(ident, '?')}"
    if kind == "input":
        return f"input reaching {names.get(ident, '?')}"
    return names.get(ident, f"#{ident}")


def route_json(route: Route, names: Mapping[int, str], zones: Mapping[int, str], attackers: Mapping[int, str]) -> dict:
    return _plain(
        {
            "attacker": attackers.get(route.attacker_id, ""),
            "attacker_id": route.attacker_id,
            "jewel": names.get(route.jewel_id, ""),
            "jewel_id": route.jewel_id,
            "probability": route.probability,
            "share": route.share,
            "steps": [
                {
                    "from": _label(step.source, names, zones),
                    "to": names.get(step.target[1], "")
                    if step.target[0] == "jewel"
                    else _label(step.target, names, zones),
                    "kind": step.kind,
                    "probability": step.probability,
                    "techniques": [[code, ttype, tid, q] for code, ttype, tid, q in step.techniques],
                }
                for step in route.steps
            ],
        }
    )


def system_json(snapshot: SystemSnapshot, attackers: Sequence[AttackerData], result: RiskResult) -> dict[str, Any]:
    """Fields of SystemRisk: totals, heat map, jewels, compute, routes, reach and extraction."""
    names = {a.id: a.name for a in snapshot.assets}
    kinds = {a.id: a.kind for a in snapshot.assets}
    zones = {z.id: z.name for z in snapshot.zones}
    who = {a.id: a.name for a in attackers}
    totals = {
        view: {
            # The expected loss is computed exactly; the simulation's own mean (within about 1 % of
            # it at 10,000 years) is kept as a check. One figure everywhere: page, advisor, plans.
            "mean": s.expected,
            "simulated_mean": s.mean,
            "p90": s.p90,
            "expected": s.expected,
            "theft": s.theft_expected,
            "compute": s.compute_expected,
        }
        for view, s in result.system.items()
    }
    jewels = {
        str(jid): {
            "name": names.get(jid, ""),
            "kind": kinds.get(jid, ""),
            "value": list(j.value),
            "value_mean": j.value_mean,
            "views": {
                view: {
                    "expected": jv.expected,
                    "mean": jv.expected,
                    "simulated_mean": jv.mean,
                    "p90": jv.p90,
                    "probability": jv.probability,
                    "rates": [list(r) for r in jv.rates],
                    "by_profile": {who.get(a, str(a)): r for a, r in jv.by_profile.items()},
                }
                for view, jv in j.views.items()
            },
        }
        for jid, j in result.jewels.items()
    }
    compute = {
        str(eid): {
            "name": names.get(eid, ""),
            "cost": list(c.cost),
            "views": {
                view: {
                    "expected": cv.expected,
                    "mean": cv.expected,
                    "simulated_mean": cv.mean,
                    "rate": cv.rate,
                    "days": cv.days,
                }
                for view, cv in c.views.items()
            },
        }
        for eid, c in result.compute.items()
    }
    means = {jid: j.value_mean for jid, j in result.jewels.items()}
    ranked = sorted(result.routes.values(), key=lambda r: -(r.probability * r.share * means.get(r.jewel_id, 0.0)))
    reach = {
        who.get(a.id, str(a.id)): {
            names.get(j, str(j)): result.routes[(a.id, j)].probability
            for j in result.jewels
            if (a.id, j) in result.routes
        }
        for a in attackers
    }
    return {
        "totals": _plain(totals),
        "heatmap": {view: [list(row) for row in s.heat_map] for view, s in result.system.items()},
        "jewels": _plain(jewels),
        "compute": _plain(compute),
        "routes": [route_json(r, names, zones, who) for r in ranked[:MAX_ROUTES]],
        "reach": _plain(reach),
        "extraction": _extraction(result, names, attackers),
    }


def _extraction(result: RiskResult, names: Mapping[int, str], attackers: Sequence[AttackerData]) -> list[dict]:
    rows = []
    for (code, _, target_id), per_view in result.extraction.items():
        for attacker, budget in zip(attackers, per_view.get("current", ()), strict=False):
            rows.append(
                _plain(
                    {
                        "threat": code,
                        "target": names.get(target_id, str(target_id)),
                        "attacker": attacker.name,
                        "capability": budget.capability,
                        "goal": budget.goal,
                        "model_class": budget.model_class,
                        "output_granularity": budget.output_granularity,
                        "queries_needed": budget.queries_needed,
                        "queries_source": budget.queries_source,
                        "rate_per_minute": budget.rate_per_minute,
                        "accounts": budget.accounts,
                        "queries_per_day": budget.queries_per_day,
                        "days_to_extract": budget.days_to_extract,
                        "days_to_detect": budget.days_to_detect,
                        "finish_probability": budget.finish_probability,
                        "extracted_before_detection": budget.extracted_before_detection,
                    }
                )
            )
    return sorted(rows, key=lambda e: (e["target"], e["threat"], e["attacker"]))
