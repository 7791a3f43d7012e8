"""Per-finding figures with their explanations (docs/risk-method.md §5-6).

The explanation of a figure lists the factors it is computed from, in the form the screen
shows: per profile its attempts, the technique's success at its capability (base probability,
controls and their effectiveness, enabler boost, extraction budget) and its share of the
frequency; per jewel the share of its value at stake, the yearly rate of routes through the
finding (with each profile's part) and the loss, where loss = mean value x share x
(1 - exp(-rate)). The jewels' losses add up to the finding's loss.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from threats.engine.figures import Parts, _exposure, _losses, bands
from threats.engine.finding_sizes import magnitudes, p90s
from threats.engine.library import Match
from threats.engine.results import FindingKey, FindingRisk, FindingView
from threats.engine.simulate import endpoint_expected, jewels_expected
from threats.engine.values import pert_mean

if TYPE_CHECKING:
    from threats.engine.attribution import ViewRun

TOP_JEWELS = 10
# Findings explained in full on every recompute: the current view's largest losses (what the
# system page's top risks open). The others are explained on demand (``explain_keys``): a full
# explanation of every finding was most of a recompute's time and memory on big systems.
EXPLAINED_TOP = 25


def _view_losses(view: ViewRun) -> tuple[np.ndarray, Parts, np.ndarray]:
    """(loss per finding, parts, exposure per finding) of one view."""
    graph, rates = view.graph, view.rates
    t = graph.thefts
    loss, parts = _losses(view)
    jewel_loss = jewels_expected(t.jewels.means, rates.cat_jewel, rates.cat_share, rates.cat_rate)
    endpoint_loss = np.asarray(
        [
            endpoint_expected(t.endpoint_cost[e], float(t.endpoint_days[e]), float(rates.endpoint_rate[e]))
            for e in range(len(t.endpoints))
        ]
    )
    return loss, parts, _exposure(view, jewel_loss, endpoint_loss)


def findings_of(
    runs: Mapping[str, ViewRun],
    views: Sequence[str],
    matches: Sequence[Match],
    savings: Mapping[int, float],
    *,
    top: int = EXPLAINED_TOP,
    explain: Collection[FindingKey] = (),
) -> dict[FindingKey, FindingRisk]:
    """FindingRisk of every match of the system as it is, in every view; the ``top`` largest
    current losses and the keys of ``explain`` carry their explanation, the others ``None``."""
    # Views with the same graph and rates (projected = current unless plans are pending) share.
    by_rates: dict[int, tuple[tuple[np.ndarray, Parts, np.ndarray], np.ndarray]] = {}
    for v in dict.fromkeys(views):
        if id(runs[v].rates) not in by_rates:
            losses = _view_losses(runs[v])
            by_rates[id(runs[v].rates)] = (losses, p90s(runs[v], losses[1]))
    cached = {v: by_rates[id(runs[v].rates)][0] for v in views}
    p90 = {v: by_rates[id(runs[v].rates)][1] for v in views}
    focus = "current" if "current" in runs else views[0]
    sizes = magnitudes(runs[focus], cached[focus][1])
    explained = set(explain) | explained_keys(runs[focus], cached[focus][0], matches, top)
    result: dict[FindingKey, FindingRisk] = {}
    for match in matches:
        key = (match.threat_code, match.target_type, match.target_id)
        view0 = runs[focus]
        f0 = view0.graph.finding_index[key]
        spec0 = view0.graph.findings[f0]
        form = spec0.threat.loss.form if spec0.threat.loss is not None else spec0.threat.role
        size = sizes[f0]
        per_view: dict[str, FindingView] = {}
        for view in views:
            run = runs[view]
            f = run.graph.finding_index.get(key)
            if f is None:
                continue
            loss, parts, exposure = cached[view]
            frequency = float(run.rates.f_frequency[f])
            likelihood, impact, level = bands(frequency, float(exposure[f]), size)
            saving = savings.get(f) if view == "current" else None
            per_view[view] = FindingView(
                frequency=frequency,
                loss=float(loss[f]),
                p90=float(p90[view][f]),
                exposure=float(exposure[f]),
                saving=saving,
                likelihood_band=likelihood,
                impact_band=impact,
                risk_level=level,
                explanation=_explain(run, f, float(loss[f]), parts.get(f, []), float(exposure[f]), saving)
                if key in explained
                else None,
            )
        result[key] = FindingRisk(*key, spec0.threat.role, form, size, per_view)
    return result


def explained_keys(view: ViewRun, loss: np.ndarray, matches: Sequence[Match], top: int) -> set[FindingKey]:
    """The ``top`` matches by loss in ``view`` (ties by key, so the set is stable)."""
    if top <= 0:
        return set()
    index = view.graph.finding_index
    keys = [(m.threat_code, m.target_type, m.target_id) for m in matches]
    ranked = sorted((k for k in keys if k in index), key=lambda k: (-float(loss[index[k]]), k))
    return set(ranked[:top])


def _explain(
    view: ViewRun,
    f: int,
    loss: float,
    parts: list[tuple[int, float, float, float]],
    exposure: float,
    saving: float | None,
) -> dict[str, Any]:
    graph, rates = view.graph, view.rates
    spec = graph.findings[f]
    t = graph.thefts
    budgets = next((t.budgets[i] for i in np.nonzero(t.finding == f)[0] if t.budgets[i] is not None), None)
    profiles = []
    for p, run in enumerate(view.runs):
        oc = run.oc
        profiles.append(
            {
                "attacker_id": run.attacker.id,
                "name": run.attacker.name,
                "capability": run.attacker.capability,
                "actor_type": run.attacker.actor_type,
                "attempts": run.attacker.attempts_per_year,
                "can_realise": bool(run.allowed[f]),
                "base": float(spec.threat.base_probability[run.attacker.capability]),
                "controls": [[code, float(eff[oc])] for code, eff in spec.reductions],
                "boost": float(spec.boost[oc]),
                "budget": _budget(budgets[oc]) if budgets is not None else None,
                "success": float(spec.success[oc]) if run.allowed[f] else 0.0,
                "frequency": float(rates.f_frequency_by_profile[p, f]),
            }
        )
    ordered = sorted(parts, key=lambda p: -p[3])
    jewels = []
    for j, share, rate, value in ordered[:TOP_JEWELS]:
        jewels.append(
            {
                "jewel_id": t.jewels.ids[j],
                "share": share,
                "value_mean": float(t.jewels.means[j]),
                "rate": rate,
                "loss": value,
                "by_profile": _by_profile(view, f, j, share),
            }
        )
    explanation: dict[str, Any] = {
        "role": spec.threat.role,
        "active": spec.active,
        "frequency": float(rates.f_frequency[f]),
        "loss": loss,
        "exposure": exposure,
        "saving": saving,
        "profiles": profiles,
        "jewels": jewels,
        "other_jewels_loss": float(sum(p[3] for p in ordered[TOP_JEWELS:])),
    }
    if spec.threat.role == "enabler":
        from threats.engine.figures import _boosted  # noqa: PLC0415

        explanation["boosts"] = [[graph.findings[g].key[0], share] for g, share in _boosted(view, f)]
    if spec.threat.loss is not None and spec.threat.loss.form == "compute":
        e = next((int(e) for ff, e in zip(t.c_finding, t.c_endpoint, strict=True) if int(ff) == f), None)
        if e is not None:
            explanation["compute"] = {
                "endpoint_id": t.endpoints[e],
                "cost_per_day_mean": pert_mean(*t.endpoint_cost[e]),
                "days_per_incident": float(t.endpoint_days[e]),
                "incidents_per_year": float(rates.c_rate[f]),
            }
    return explanation


def _by_profile(view: ViewRun, f: int, j: int, share: float) -> list[list[Any]]:
    rates = view.rates
    if view.graph.findings[f].threat.role == "theft":
        mask = (rates.tg_finding == f) & (rates.tg_jewel == j) & np.isclose(rates.tg_share, share)
        column = rates.tg_by_profile[:, mask].sum(axis=1)
    else:
        col = int(np.searchsorted(rates.acc_findings, f))
        row = int(np.searchsorted(rates.acc_jewels, j))
        column = rates.acc_by_profile[:, row, col]
    return [[run.attacker.id, float(column[p])] for p, run in enumerate(view.runs)]


def _budget(budget: Any) -> dict[str, Any]:
    return {
        "goal": budget.goal,
        "queries_needed": budget.queries_needed,
        "queries_per_day": budget.queries_per_day,
        "days_to_extract": budget.days_to_extract,
        "days_to_detect": budget.days_to_detect,
        "finish_probability": budget.finish_probability,
    }
