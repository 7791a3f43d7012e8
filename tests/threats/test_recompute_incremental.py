"""The recompute reuses the last run's Monte Carlo state and still equals a clean compute."""

from __future__ import annotations

from typing import Any

import pytest

from threats.models import Finding, SystemRisk
from threats.services.recompute import system_recompute
from workbench.demo import load_demo
from workbench.models import Asset, System
from workbench.services.elements import asset_save

pytestmark = pytest.mark.django_db


def _recompute(system: System, *, cold: bool) -> dict[str, Any]:
    values: dict[str, Any] = {"computed_version": 0, "claimed_version": 0, "claimed_at": None}
    if cold:
        values["loss_state"] = None
    SystemRisk.objects.filter(system=system).update(**values)
    outcome = system_recompute(system_id=system.pk)
    assert outcome.status == "computed"
    risk = SystemRisk.objects.get(system=system)
    figures = dict(Finding.objects.filter(system=system).values_list("pk", "current_mean"))
    return {"totals": risk.totals, "findings": figures, "simulated": outcome.details["findings_simulated"]}


def test_an_edit_resimulates_only_what_changed_and_matches_a_clean_run(library: None) -> None:
    system = load_demo()["system"]
    api = Asset.objects.get(system=system, name="Public inference API")
    _recompute(system, cold=True)  # on_commit hooks do not run inside a test transaction
    priced = Finding.objects.filter(system=system, risk_version__isnull=False).count()
    asset_save(actor=system.owner, system=system, asset=api, rate_limited=True, rate_limit_per_minute=30)
    warm = _recompute(system, cold=False)
    assert 0 < warm["simulated"] < priced  # the edit touched some findings, not all
    cold = _recompute(system, cold=True)
    assert cold["simulated"] >= priced - 5
    assert warm["totals"] == cold["totals"]
    assert warm["findings"] == cold["findings"]


def test_an_unreadable_state_falls_back_to_a_full_simulation(library: None) -> None:
    system = load_demo()["system"]
    clean = _recompute(system, cold=True)
    SystemRisk.objects.filter(system=system).update(loss_state=b"PK\x03\x04 not an archive")
    again = _recompute(system, cold=False)
    assert again["simulated"] == clean["simulated"]
    assert again["totals"] == clean["totals"]
