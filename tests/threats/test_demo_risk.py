"""The demo's risk figures read the way a security engineer expects (issue 14, acceptance 2).

The demo is a platform with fixable holes: a contractor on a password, a GPU vendor's standing
SSH, a static-key DR replica, unencrypted replication, an anonymous logits API. Its top risks
must be the routes to its weights and adapters and the entry holes on them (not cost harvesting
or reconnaissance), its yearly loss must stay below what its jewels are worth, and the library
must offer what it takes to bring it within its 5 M appetite.
"""

from __future__ import annotations

import pytest

from tests.explained import explained
from tests.threats.loss_check import loss_from_scratch
from threats.engine.actions import hardening_actions
from threats.engine.controls import merge
from threats.models import Finding, FindingStatus, SystemRisk
from threats.services.advice import system_advice
from threats.services.library import installed_library, library_seed
from threats.services.recompute import system_recompute
from threats.services.risk import system_views
from threats.services.snapshot import attackers_snapshot, system_snapshot
from workbench.demo import load_demo
from workbench.models import System

pytestmark = pytest.mark.django_db

WEIGHT_JEWELS = {"Flagship LLM weights", "Fine-tune adapters"}


@pytest.fixture
def demo() -> System:
    library_seed()
    system = load_demo(password="demo-password-for-tests")["system"]
    system_recompute(system_id=system.pk)
    system.refresh_from_db()
    return system


def _top(system: System, n: int) -> list[Finding]:
    return list(
        Finding.objects.filter(system=system, current_mean__isnull=False)
        .exclude(status=FindingStatus.NOT_APPLICABLE)
        .select_related("template")
        .order_by("-current_mean")[:n]
    )


def test_top_five_are_routes_to_the_weights_or_their_entry_holes(demo: System) -> None:
    top = _top(demo, 5)
    assert len(top) == 5
    for finding in top:
        template = finding.template
        assert template.role in ("access", "theft"), template.code
        assert template.loss_form != "compute", template.code
        jewels = {j["name"] for j in explained(finding)["current"]["explanation"]["jewels"]}
        assert jewels & WEIGHT_JEWELS, (template.code, finding.target_repr, jewels)


def test_cost_harvesting_and_recon_rank_below_every_route_to_the_weights(demo: System) -> None:
    ranked = _top(demo, 1000)
    codes = [f.template.code for f in ranked]
    low = [i for i, f in enumerate(ranked) if f.template.loss_form == "compute" or f.template.role == "enabler"]
    assert low and min(low) >= 10, [codes[i] for i in low[:3]]


def test_system_loss_is_below_the_sum_of_its_jewels_expected_values(demo: System) -> None:
    risk = SystemRisk.objects.get(system=demo)
    worth = sum(j["value_mean"] for j in risk.jewels.values())
    compute = risk.totals["current"]["compute"]
    assert risk.totals["current"]["theft"] < worth
    assert risk.totals["current"]["expected"] <= worth + compute
    for jewel in risk.jewels.values():
        assert jewel["views"]["current"]["expected"] <= jewel["value_mean"] * (1 + 1e-9), jewel["name"]


def test_every_control_and_hardening_change_brings_the_demo_within_its_appetite(demo: System) -> None:
    snapshot = system_snapshot(system=demo)
    library = installed_library()
    attackers = attackers_snapshot(system=demo)
    views = system_views(system=demo, snapshot=snapshot, known={c.code for c in library.controls})
    everything = dict(merge(views["projected"], {c.code: None for c in library.controls}))
    loss = loss_from_scratch(snapshot, library, attackers, everything, hardening_actions(library, snapshot))
    assert loss < float(demo.risk_appetite), loss


def test_the_advisor_removes_most_of_the_loss_with_steps_that_pay_for_themselves(demo: System) -> None:
    advice = system_advice(system=demo)["controls"]
    assert advice["loss_after"] < 0.1 * advice["loss_before"]
    for step in advice["steps"]:
        assert step["reduction"] >= step["annual_cost"], step["label"]
    if not advice["reaches_appetite"]:  # the rest costs more than it saves: the page says so
        assert advice["not_worth_it"]
        assert all(s["reduction"] < s["annual_cost"] for s in advice["not_worth_it"])
